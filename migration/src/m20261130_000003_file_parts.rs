//! Uploaded files are kept in parts of at most 1 MiB instead of one value each.
//!
//! A 40 MB roster written as one value was copied five times on its way into the database
//! (the statement's values, the driver's arguments, SQLite's bound blob, its record), so an
//! upload alone peaked near 200 MB. In parts, each copy is one part at a time. On PostgreSQL
//! the parts are stored uncompressed: spreadsheets are already zip files, and compressing them
//! again cost CPU for nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImportFiles {
    Table,
    ImportId,
    Content,
}

#[derive(DeriveIden)]
enum RosterImportFileParts {
    Table,
    ImportId,
    Part,
    Content,
}

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RosterImportFileParts::Table)
                .col(big_integer(RosterImportFileParts::ImportId))
                .col(integer(RosterImportFileParts::Part))
                .col(blob(RosterImportFileParts::Content))
                .primary_key(
                    Index::create()
                        .col(RosterImportFileParts::ImportId)
                        .col(RosterImportFileParts::Part),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            RosterImportFileParts::Table,
                            RosterImportFileParts::ImportId,
                        )
                        .to(RosterImports::Table, RosterImports::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE roster_import_file_parts ALTER COLUMN content SET STORAGE EXTERNAL",
            )
            .await?;
        }
        // Files uploaded before this migration become files of one part.
        db.execute_unprepared(
            "INSERT INTO roster_import_file_parts (import_id, part, content) \
             SELECT import_id, 0, content FROM roster_import_files",
        )
        .await?;
        m.drop_table(Table::drop().table(RosterImportFiles::Table).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let split = db
            .query_one_raw(sea_orm::Statement::from_string(
                m.get_database_backend(),
                "SELECT COUNT(*) AS n FROM roster_import_file_parts WHERE part > 0",
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if split > 0 {
            return Err(DbErr::Migration(format!(
                "{split} uploaded files are stored in several parts; the old table holds a file \
                 in one value, so going back would lose them"
            )));
        }
        m.create_table(
            Table::create()
                .table(RosterImportFiles::Table)
                .col(big_integer(RosterImportFiles::ImportId).primary_key())
                .col(blob(RosterImportFiles::Content))
                .foreign_key(
                    ForeignKey::create()
                        .from(RosterImportFiles::Table, RosterImportFiles::ImportId)
                        .to(RosterImports::Table, RosterImports::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO roster_import_files (import_id, content) \
             SELECT import_id, content FROM roster_import_file_parts",
        )
        .await?;
        m.drop_table(Table::drop().table(RosterImportFileParts::Table).to_owned())
            .await
    }
}
