//! One row of a bank's return file, as read, and what became of it.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_return_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub return_id: i64,
    /// Its line number in the file (1-based, header included) or its row in the sheet.
    pub row_no: i64,
    /// The line reference as the file wrote it.
    pub line_ref: String,
    /// The reference read as a line id, when it is a number.
    pub line_id: Option<i64>,
    /// The batch number on the row, when the layout has one there.
    pub batch_no: Option<String>,
    pub account_no: Option<String>,
    pub amount_fen: Option<i64>,
    /// Paid (true) or refused (false); none when the result code was not understood.
    pub paid: Option<bool>,
    pub bank_serial: Option<String>,
    pub settled_on: Option<Date>,
    /// The bank's reason of a refusal; for an unreadable row, the text that could not be read.
    pub reason: Option<String>,
    pub verdict: Option<Verdict>,
    /// For an unreadable row, which field (a layout field's code, `columns` or `encoding`).
    pub problem_field: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}

/// What became of a row: applied to its line, or listed as a problem and applied to nothing.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
#[schema(as = ReturnVerdict)]
pub enum Verdict {
    /// Its line is paid.
    Paid,
    /// Its line failed and its subsidy is payable again.
    Failed,
    /// A row that could not be read (a number, date or result code that is not one).
    Unreadable,
    /// No line of this batch has its reference, or it names another batch.
    Unmatched,
    /// The amount differs from the line's.
    AmountMismatch,
    /// The account differs from the line's.
    AccountMismatch,
    /// The file names the line more than once.
    Duplicate,
    /// The line had the bank's outcome already (an earlier return file).
    AlreadySettled,
    /// The subsidy is no longer approved and unpaid (voided or paid otherwise meanwhile).
    NotPayable,
}

crate::codes! {
    Verdict {
        Paid => "paid",
        Failed => "failed",
        Unreadable => "unreadable",
        Unmatched => "unmatched",
        AmountMismatch => "amount_mismatch",
        AccountMismatch => "account_mismatch",
        Duplicate => "duplicate",
        AlreadySettled => "already_settled",
        NotPayable => "not_payable",
    }
}
