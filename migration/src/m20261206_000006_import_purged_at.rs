//! Roster imports record when their uploaded file and the raw data of their rejected rows were
//! deleted (`purged_at`), `CANCER_AID_UPLOAD_RETENTION_DAYS` after they finished.
//!
//! Those are personal data kept only for the clerk to fix and retry; the counts and each
//! rejected row's code and message stay. A purged import cannot be run again: its file is gone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    PurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(timestamp_with_time_zone_null(RosterImports::PurgedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .drop_column(RosterImports::PurgedAt)
                .to_owned(),
        )
        .await
    }
}
