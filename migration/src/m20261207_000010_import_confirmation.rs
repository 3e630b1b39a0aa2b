//! A full import that would end most of its scope, or accepts no row at all, runs only with an
//! explicit confirmation and a reason; the reason is kept with the import (`confirmed_reason`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    ConfirmedReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(text_null(RosterImports::ConfirmedReason))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .drop_column(RosterImports::ConfirmedReason)
                .to_owned(),
        )
        .await
    }
}
