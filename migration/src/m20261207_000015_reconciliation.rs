//! The bank's return file (回盘) and the public notice (公示) of payment batches.
//!
//! A line gets the bank's outcome (`outcome`: paid or failed, with the bank's serial, the date
//! and the reason); a failed line is released so that its subsidy is payable again. Every
//! return file is kept (`payment_returns`) with each of its rows (`payment_return_rows`) and
//! what became of the row (`verdict`): applied, or listed as a problem (no such line, another
//! amount or account, twice in the file, settled already, unreadable).
//!
//! A batch's notice has its period (`notice_from` .. `notice_until`); objections raised
//! during it (`payment_objections`) hold their line out of the batch (`held`) until resolved.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentBatches {
    Table,
    ReconciledAt,
    NoticeFrom,
    NoticeUntil,
    NoticedBy,
}

#[derive(DeriveIden)]
enum PaymentLines {
    Table,
    Outcome,
    BankSerial,
    SettledOn,
    FailReason,
    ReturnId,
    Held,
}

#[derive(DeriveIden)]
enum PaymentReturns {
    Table,
    Id,
    BatchId,
    FileName,
    Sha256,
    Layout,
    UploadedBy,
    UploadedAt,
    Rows,
    Paid,
    PaidFen,
    Failed,
    FailedFen,
    Problems,
}

#[derive(DeriveIden)]
enum PaymentReturnRows {
    Table,
    Id,
    ReturnId,
    RowNo,
    LineRef,
    LineId,
    BatchNo,
    AccountNo,
    AmountFen,
    Paid,
    BankSerial,
    SettledOn,
    Reason,
    Verdict,
    ProblemField,
}

#[derive(DeriveIden)]
enum PaymentObjections {
    Table,
    Id,
    BatchId,
    LineId,
    State,
    Reason,
    RaisedBy,
    RaisedAt,
    ResolvedBy,
    ResolvedAt,
    Resolution,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let batch_cols = [
            timestamp_with_time_zone_null(PaymentBatches::ReconciledAt),
            date_null(PaymentBatches::NoticeFrom),
            date_null(PaymentBatches::NoticeUntil),
            big_integer_null(PaymentBatches::NoticedBy),
        ];
        for col in batch_cols {
            m.alter_table(
                Table::alter()
                    .table(PaymentBatches::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        let line_cols = [
            string_null(PaymentLines::Outcome),
            string_null(PaymentLines::BankSerial),
            date_null(PaymentLines::SettledOn),
            string_null(PaymentLines::FailReason),
            big_integer_null(PaymentLines::ReturnId),
            boolean(PaymentLines::Held).default(false).to_owned(),
        ];
        for col in line_cols {
            m.alter_table(
                Table::alter()
                    .table(PaymentLines::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_payment_lines_return")
                .table(PaymentLines::Table)
                .col(PaymentLines::ReturnId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PaymentReturns::Table)
                .col(big_pk_auto(PaymentReturns::Id))
                .col(big_integer(PaymentReturns::BatchId))
                .col(string(PaymentReturns::FileName))
                .col(string(PaymentReturns::Sha256))
                .col(string(PaymentReturns::Layout))
                .col(big_integer(PaymentReturns::UploadedBy))
                .col(timestamp_with_time_zone(PaymentReturns::UploadedAt))
                .col(big_integer(PaymentReturns::Rows))
                .col(big_integer(PaymentReturns::Paid))
                .col(big_integer(PaymentReturns::PaidFen))
                .col(big_integer(PaymentReturns::Failed))
                .col(big_integer(PaymentReturns::FailedFen))
                .col(big_integer(PaymentReturns::Problems))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payment_returns_batch")
                .table(PaymentReturns::Table)
                .col(PaymentReturns::BatchId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PaymentReturnRows::Table)
                .col(big_pk_auto(PaymentReturnRows::Id))
                .col(big_integer(PaymentReturnRows::ReturnId))
                .col(big_integer(PaymentReturnRows::RowNo))
                .col(string(PaymentReturnRows::LineRef))
                .col(big_integer_null(PaymentReturnRows::LineId))
                .col(string_null(PaymentReturnRows::BatchNo))
                .col(string_null(PaymentReturnRows::AccountNo))
                .col(big_integer_null(PaymentReturnRows::AmountFen))
                .col(boolean_null(PaymentReturnRows::Paid))
                .col(string_null(PaymentReturnRows::BankSerial))
                .col(date_null(PaymentReturnRows::SettledOn))
                .col(string_null(PaymentReturnRows::Reason))
                .col(string_null(PaymentReturnRows::Verdict))
                .col(string_null(PaymentReturnRows::ProblemField))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payment_return_rows_line")
                .table(PaymentReturnRows::Table)
                .col(PaymentReturnRows::ReturnId)
                .col(PaymentReturnRows::LineId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PaymentObjections::Table)
                .col(big_pk_auto(PaymentObjections::Id))
                .col(big_integer(PaymentObjections::BatchId))
                .col(big_integer(PaymentObjections::LineId))
                .col(string(PaymentObjections::State))
                .col(string(PaymentObjections::Reason))
                .col(big_integer(PaymentObjections::RaisedBy))
                .col(timestamp_with_time_zone(PaymentObjections::RaisedAt))
                .col(big_integer_null(PaymentObjections::ResolvedBy))
                .col(timestamp_with_time_zone_null(PaymentObjections::ResolvedAt))
                .col(string_null(PaymentObjections::Resolution))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payment_objections_batch")
                .table(PaymentObjections::Table)
                .col(PaymentObjections::BatchId)
                .col(PaymentObjections::State)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "payment_objections",
            "payment_return_rows",
            "payment_returns",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_payment_lines_return")
                .table(PaymentLines::Table)
                .to_owned(),
        )
        .await?;
        for c in [
            "outcome",
            "bank_serial",
            "settled_on",
            "fail_reason",
            "return_id",
            "held",
        ] {
            m.alter_table(
                Table::alter()
                    .table(PaymentLines::Table)
                    .drop_column(Alias::new(c))
                    .to_owned(),
            )
            .await?;
        }
        for c in ["reconciled_at", "notice_from", "notice_until", "noticed_by"] {
            m.alter_table(
                Table::alter()
                    .table(PaymentBatches::Table)
                    .drop_column(Alias::new(c))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
