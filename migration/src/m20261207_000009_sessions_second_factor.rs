//! Sessions a user can see and end, an idle timeout, and a second factor (TOTP).
//!
//! - `sessions.last_seen_at`: when the session last made a request, to within a minute, for the
//!   idle timeout (`CANCER_AID_SESSION_IDLE_MINUTES`); null on sessions older than this
//!   migration, which count from `created_at`.
//! - `sessions.client` and `sessions.user_agent`: where a session was opened, shown to its user
//!   so that they can recognise a session that is not theirs.
//! - `sessions.stage`: `full`, or a session that has passed the password but still owes its
//!   second factor (`second_factor`) or its enrolment (`enrol`).
//! - `users.totp_secret`, `users.totp_enabled_at`, `users.totp_last_step`: the TOTP secret
//!   (base32), when it was confirmed (null while enrolment is pending), and the last time step
//!   accepted, so that a code is never accepted twice.
//! - `recovery_codes`: one-time codes for a lost phone, stored as SHA-256.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    LastSeenAt,
    Client,
    UserAgent,
    Stage,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TotpSecret,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            (
                Sessions::Table.into_iden(),
                timestamp_with_time_zone_null(Sessions::LastSeenAt),
            ),
            (Sessions::Table.into_iden(), string_null(Sessions::Client)),
            (
                Sessions::Table.into_iden(),
                string_null(Sessions::UserAgent),
            ),
            (
                Sessions::Table.into_iden(),
                string(Sessions::Stage).default("full").to_owned(),
            ),
            (Users::Table.into_iden(), string_null(Users::TotpSecret)),
            (
                Users::Table.into_iden(),
                timestamp_with_time_zone_null(Users::TotpEnabledAt),
            ),
            (
                Users::Table.into_iden(),
                big_integer_null(Users::TotpLastStep),
            ),
        ];
        for (table, mut column) in columns {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(big_pk_auto(RecoveryCodes::Id))
                .col(big_integer(RecoveryCodes::UserId))
                .col(string(RecoveryCodes::CodeHash))
                .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        let columns = [
            (
                Sessions::Table.into_iden(),
                Sessions::LastSeenAt.into_iden(),
            ),
            (Sessions::Table.into_iden(), Sessions::Client.into_iden()),
            (Sessions::Table.into_iden(), Sessions::UserAgent.into_iden()),
            (Sessions::Table.into_iden(), Sessions::Stage.into_iden()),
            (Users::Table.into_iden(), Users::TotpSecret.into_iden()),
            (Users::Table.into_iden(), Users::TotpEnabledAt.into_iden()),
            (Users::Table.into_iden(), Users::TotpLastStep.into_iden()),
        ];
        for (table, column) in columns {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
