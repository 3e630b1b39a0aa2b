//! Login throttles: failed logins counted per account name and per client address, so that
//! guessing slows down without any account being locked.
//!
//! The old per-user counter (`users.failed_logins`, `users.locked_until`) is no longer read
//! or written; the columns stay so that older rows and tools keep working.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Kind,
    Key,
    Failures,
    LastFailureUnix,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginThrottles::Table)
                .col(string(LoginThrottles::Kind))
                .col(string(LoginThrottles::Key))
                .col(integer(LoginThrottles::Failures))
                // Unix seconds: compared in SQL the same way on both databases.
                .col(big_integer(LoginThrottles::LastFailureUnix))
                .primary_key(
                    Index::create()
                        .col(LoginThrottles::Kind)
                        .col(LoginThrottles::Key),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }
}
