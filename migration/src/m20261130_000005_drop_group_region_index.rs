//! Roster entries lose their (group, region) index.
//!
//! Only a full import read through it, once, to find the entries of its scope; every imported
//! entry paid for it with one more B-tree insert, a fifth of the index work of an import.
//! A full import now reads the entries of its group in one pass over the table instead.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    GroupCode,
    RegionCode,
}

const NAME: &str = "idx_roster_entries_group_region";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(NAME)
                .table(RosterEntries::Table)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(RosterEntries::Table)
                .col(RosterEntries::GroupCode)
                .col(RosterEntries::RegionCode)
                .to_owned(),
        )
        .await
    }
}
