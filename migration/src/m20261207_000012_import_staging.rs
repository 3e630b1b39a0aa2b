//! Two-step imports: an upload is validated into a staging area, and the roster changes only
//! when someone activates it.
//!
//! `roster_import_rows` holds the rows an activation would write (added, updated, or a
//! person's new name or region), with the entry each continues and its values before, and for
//! people not on file yet their number among the import's new people (`new_person`, the same
//! on each of a person's rows; `person_row` marks the row that creates the person);
//! `roster_import_ends` the entries a full import would end. `roster_state` holds one number,
//! the roster's version: every activation and revert raises it, and an import validated
//! against an older version is validated again before it can be activated.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImportRows {
    Table,
    ImportId,
    Seq,
    Sheet,
    RowNumber,
    IdNumber,
    Name,
    Sex,
    BirthDate,
    RegionCode,
    GroupCode,
    ValidFrom,
    ValidTo,
    Extra,
    PersonId,
    NewPerson,
    PersonRow,
    EntryId,
    Action,
    PersonChanged,
    BeforeValidFrom,
    BeforeValidTo,
    BeforeRegionCode,
    BeforeName,
}

#[derive(DeriveIden)]
enum RosterImportEnds {
    Table,
    ImportId,
    EntryId,
    PersonId,
}

#[derive(DeriveIden)]
enum RosterState {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    Unchanged,
    Covered,
    Version,
    AutoActivate,
    RosterVersion,
    ValidatedAt,
    ActivatedAt,
    ActivatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RosterImportRows::Table)
                .col(big_integer(RosterImportRows::ImportId))
                .col(big_integer(RosterImportRows::Seq))
                .col(string(RosterImportRows::Sheet))
                .col(big_integer(RosterImportRows::RowNumber))
                .col(string(RosterImportRows::IdNumber))
                .col(string(RosterImportRows::Name))
                .col(string(RosterImportRows::Sex))
                .col(date(RosterImportRows::BirthDate))
                .col(string(RosterImportRows::RegionCode))
                .col(string(RosterImportRows::GroupCode))
                .col(date(RosterImportRows::ValidFrom))
                .col(date_null(RosterImportRows::ValidTo))
                .col(json_null(RosterImportRows::Extra))
                .col(big_integer_null(RosterImportRows::PersonId))
                .col(big_integer_null(RosterImportRows::NewPerson))
                .col(boolean(RosterImportRows::PersonRow))
                .col(big_integer_null(RosterImportRows::EntryId))
                .col(string(RosterImportRows::Action))
                .col(boolean(RosterImportRows::PersonChanged))
                .col(date_null(RosterImportRows::BeforeValidFrom))
                .col(date_null(RosterImportRows::BeforeValidTo))
                .col(string_null(RosterImportRows::BeforeRegionCode))
                .col(string_null(RosterImportRows::BeforeName))
                .primary_key(
                    Index::create()
                        .col(RosterImportRows::ImportId)
                        .col(RosterImportRows::Seq),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_import_rows_action")
                .table(RosterImportRows::Table)
                .col(RosterImportRows::ImportId)
                .col(RosterImportRows::Action)
                .col(RosterImportRows::Seq)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RosterImportEnds::Table)
                .col(big_integer(RosterImportEnds::ImportId))
                .col(big_integer(RosterImportEnds::EntryId))
                .col(big_integer(RosterImportEnds::PersonId))
                .primary_key(
                    Index::create()
                        .col(RosterImportEnds::ImportId)
                        .col(RosterImportEnds::EntryId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RosterState::Table)
                .col(integer(RosterState::Id).primary_key())
                .col(big_integer(RosterState::Version))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(RosterState::Table)
                .columns([RosterState::Id, RosterState::Version])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await?;
        let columns = [
            big_integer(RosterImports::Unchanged).default(0).to_owned(),
            big_integer(RosterImports::Covered).default(0).to_owned(),
            integer(RosterImports::Version).default(1).to_owned(),
            boolean(RosterImports::AutoActivate)
                .default(false)
                .to_owned(),
            big_integer_null(RosterImports::RosterVersion),
            timestamp_with_time_zone_null(RosterImports::ValidatedAt),
            timestamp_with_time_zone_null(RosterImports::ActivatedAt),
            big_integer_null(RosterImports::ActivatedBy),
        ];
        // One column per statement: SQLite adds one at a time.
        for mut c in columns {
            m.alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .add_column(&mut c)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            RosterImports::Unchanged,
            RosterImports::Covered,
            RosterImports::Version,
            RosterImports::AutoActivate,
            RosterImports::RosterVersion,
            RosterImports::ValidatedAt,
            RosterImports::ActivatedAt,
            RosterImports::ActivatedBy,
        ] {
            m.alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for t in [
            RosterState::Table.into_iden(),
            RosterImportEnds::Table.into_iden(),
            RosterImportRows::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
