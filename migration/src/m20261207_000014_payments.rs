//! Paying subsidies through the bank: how each case is paid (`case_payees`), payment batches
//! (`payment_batches`) and their lines (`payment_lines`), one line per subsidy.
//!
//! A subsidy is in at most one open line: the partial unique index `ux_payment_lines_open`
//! (on `visit_id` where the line is not released) makes the database refuse a second one, so
//! two batches drafted at the same moment cannot both take it. A line is released when its
//! batch is cancelled (and, later, when the bank returns it as failed), which makes the
//! subsidy payable again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CasePayees {
    Table,
    CaseId,
    PayeeName,
    Relation,
    AccountKind,
    BankName,
    AccountNo,
    Version,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentBatches {
    Table,
    Id,
    BatchNo,
    State,
    Version,
    RegionCode,
    Filters,
    LineCount,
    TotalFen,
    DraftedBy,
    DraftedAt,
    ApprovedBy,
    ApprovedAt,
    CancelledBy,
    CancelledAt,
    CancelReason,
    ExportedAt,
    ExportLayout,
    ExportSha256,
}

#[derive(DeriveIden)]
enum PaymentLines {
    Table,
    Id,
    BatchId,
    VisitId,
    CaseId,
    PersonId,
    AmountFen,
    PayeeName,
    AccountKind,
    BankName,
    AccountNo,
    PayeeChanged,
    ReleasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CasePayees::Table)
                .col(big_integer(CasePayees::CaseId).primary_key())
                .col(string(CasePayees::PayeeName))
                .col(string(CasePayees::Relation))
                .col(string(CasePayees::AccountKind))
                .col(string(CasePayees::BankName))
                .col(string(CasePayees::AccountNo))
                .col(integer(CasePayees::Version))
                .col(big_integer(CasePayees::UpdatedBy))
                .col(timestamp_with_time_zone(CasePayees::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PaymentBatches::Table)
                .col(big_pk_auto(PaymentBatches::Id))
                .col(string_uniq(PaymentBatches::BatchNo))
                .col(string(PaymentBatches::State))
                .col(integer(PaymentBatches::Version))
                .col(string(PaymentBatches::RegionCode))
                .col(json(PaymentBatches::Filters))
                .col(big_integer(PaymentBatches::LineCount))
                .col(big_integer(PaymentBatches::TotalFen))
                .col(big_integer(PaymentBatches::DraftedBy))
                .col(timestamp_with_time_zone(PaymentBatches::DraftedAt))
                .col(big_integer_null(PaymentBatches::ApprovedBy))
                .col(timestamp_with_time_zone_null(PaymentBatches::ApprovedAt))
                .col(big_integer_null(PaymentBatches::CancelledBy))
                .col(timestamp_with_time_zone_null(PaymentBatches::CancelledAt))
                .col(string_null(PaymentBatches::CancelReason))
                .col(timestamp_with_time_zone_null(PaymentBatches::ExportedAt))
                .col(string_null(PaymentBatches::ExportLayout))
                .col(string_null(PaymentBatches::ExportSha256))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PaymentLines::Table)
                .col(big_pk_auto(PaymentLines::Id))
                .col(big_integer(PaymentLines::BatchId))
                .col(big_integer(PaymentLines::VisitId))
                .col(big_integer(PaymentLines::CaseId))
                .col(big_integer(PaymentLines::PersonId))
                .col(big_integer(PaymentLines::AmountFen))
                .col(string(PaymentLines::PayeeName))
                .col(string(PaymentLines::AccountKind))
                .col(string(PaymentLines::BankName))
                .col(string(PaymentLines::AccountNo))
                .col(boolean(PaymentLines::PayeeChanged))
                .col(timestamp_with_time_zone_null(PaymentLines::ReleasedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PaymentLines::Table, PaymentLines::BatchId)
                        .to(PaymentBatches::Table, PaymentBatches::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payment_lines_batch")
                .table(PaymentLines::Table)
                .col(PaymentLines::BatchId)
                .col(PaymentLines::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payment_lines_case")
                .table(PaymentLines::Table)
                .col(PaymentLines::CaseId)
                .to_owned(),
        )
        .await?;
        // Both SQLite and PostgreSQL take a partial index in the same words.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_payment_lines_open ON payment_lines (visit_id) \
                 WHERE released_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["payment_lines", "payment_batches", "case_payees"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
