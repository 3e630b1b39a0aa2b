//! What each import changed in an entry, so that an import can be reverted and a person's
//! roster history shows before and after.
//!
//! `roster_entry_changes` keeps an entry's values as they were just before an import (or a
//! revert) changed or ended it, with the import that did. Entries are still changed in place
//! (eligibility reads them as they are now); this table is their past. Roster imports record
//! when and by whom they were reverted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterEntryChanges {
    Table,
    Id,
    EntryId,
    ImportId,
    Kind,
    ValidFrom,
    ValidTo,
    RegionCode,
    NameOnRoster,
    Extra,
    UpdatedByImportId,
    EndedByImportId,
    ChangedAt,
}

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    RevertedAt,
    RevertedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RosterEntryChanges::Table)
                .col(big_pk_auto(RosterEntryChanges::Id))
                .col(big_integer(RosterEntryChanges::EntryId))
                .col(big_integer(RosterEntryChanges::ImportId))
                .col(string(RosterEntryChanges::Kind))
                .col(date(RosterEntryChanges::ValidFrom))
                .col(date_null(RosterEntryChanges::ValidTo))
                .col(string(RosterEntryChanges::RegionCode))
                .col(string(RosterEntryChanges::NameOnRoster))
                .col(json_null(RosterEntryChanges::Extra))
                .col(big_integer_null(RosterEntryChanges::UpdatedByImportId))
                .col(big_integer_null(RosterEntryChanges::EndedByImportId))
                .col(timestamp_with_time_zone(RosterEntryChanges::ChangedAt))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_entry_changes_import",
                [RosterEntryChanges::ImportId, RosterEntryChanges::EntryId],
            ),
            (
                "ix_entry_changes_entry",
                [RosterEntryChanges::EntryId, RosterEntryChanges::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(RosterEntryChanges::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(timestamp_with_time_zone_null(RosterImports::RevertedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RosterImports::Table)
                .add_column(big_integer_null(RosterImports::RevertedBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [RosterImports::RevertedAt, RosterImports::RevertedBy] {
            m.alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(RosterEntryChanges::Table).to_owned())
            .await
    }
}
