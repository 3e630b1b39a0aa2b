//! The clerk's corrections to how an import's columns were read: per sheet, a column letter
//! and the field it is read as (or none). Applied when the import is validated again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    ColumnMapping,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(json_null(RosterImports::ColumnMapping))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .drop_column(RosterImports::ColumnMapping)
                .to_owned(),
        )
        .await
    }
}
