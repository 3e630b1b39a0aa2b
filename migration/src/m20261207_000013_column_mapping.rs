//! The clerk's corrections to how an import's columns were read: per sheet, a column letter
//! and the field it is read as (or none), applied when the import is validated again; and who
//! made the last one, who is then a maker of the plan and cannot be its second person.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    ColumnMapping,
    RemappedBy,
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
        .await?;
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(big_integer_null(RosterImports::RemappedBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [RosterImports::ColumnMapping, RosterImports::RemappedBy] {
            m.alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
