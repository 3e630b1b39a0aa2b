//! The access log: who read which person's data, when, through which route and from which
//! address (PIPL expects a record of access to sensitive personal information).
//!
//! Append-only: a trigger refuses every UPDATE on both databases. Rows leave only by age,
//! deleted by the retention task after `CANCER_AID_ACCESS_LOG_RETENTION_DAYS`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Id,
    At,
    UserId,
    Username,
    Route,
    Action,
    PersonId,
    Resource,
    Client,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccessLog::Table)
                .col(big_pk_auto(AccessLog::Id))
                .col(timestamp_with_time_zone(AccessLog::At))
                .col(big_integer_null(AccessLog::UserId))
                .col(string(AccessLog::Username))
                .col(string(AccessLog::Route))
                .col(string(AccessLog::Action))
                .col(big_integer_null(AccessLog::PersonId))
                .col(string_null(AccessLog::Resource))
                .col(string(AccessLog::Client))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_access_log_person",
                vec![AccessLog::PersonId, AccessLog::Id],
            ),
            ("ix_access_log_user", vec![AccessLog::UserId, AccessLog::Id]),
            ("ix_access_log_at", vec![AccessLog::At]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AccessLog::Table);
            for c in cols {
                index.col(c);
            }
            m.create_index(index.to_owned()).await?;
        }
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION access_log_append_only() RETURNS trigger AS $$
                     BEGIN RAISE EXCEPTION 'the access log is append-only'; END;
                     $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
                     FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
                     BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AccessLog::Table).to_owned())
            .await?;
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS access_log_append_only()")
                .await?;
        }
        Ok(())
    }
}
