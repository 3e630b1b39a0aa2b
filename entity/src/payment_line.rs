//! One subsidy in a payment batch, with the payee as it stood when the batch was drafted.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use super::case_payee::AccountKind;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    /// The subsidy (an approved visit); in at most one line that is not released.
    pub visit_id: i64,
    pub case_id: i64,
    pub person_id: i64,
    pub amount_fen: i64,
    pub payee_name: String,
    pub account_kind: AccountKind,
    pub bank_name: String,
    pub account_no: String,
    /// The payee was changed after an earlier batch of the case was exported: check it.
    pub payee_changed: bool,
    /// When the line stopped holding its subsidy: its batch was cancelled, an objection
    /// against it was upheld, or the bank returned it as failed.
    pub released_at: Option<DateTimeUtc>,
    /// What the bank's return file said; none until then.
    pub outcome: Option<Outcome>,
    /// The bank's serial of the payment (paid lines).
    pub bank_serial: Option<String>,
    /// The day the bank paid or refused it.
    pub settled_on: Option<Date>,
    /// Why the bank refused it (failed lines).
    pub fail_reason: Option<String>,
    /// The return file that settled it.
    pub return_id: Option<i64>,
    /// Held out of the batch while an objection to it is open.
    pub held: bool,
}

impl ActiveModelBehavior for ActiveModel {}

/// What the bank did with a line.
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
#[schema(as = LineOutcome)]
pub enum Outcome {
    /// The money reached the account.
    Paid,
    /// The bank refused it; the subsidy is payable again.
    Failed,
}

crate::codes! {
    Outcome {
        Paid => "paid",
        Failed => "failed",
    }
}

impl Model {
    /// Whether the line still holds its subsidy: not taken out of its batch and not yet settled
    /// by the bank. While it does, the subsidy is paid, voided or batched only through it.
    pub fn holds_subsidy(&self) -> bool {
        self.released_at.is_none() && self.outcome.is_none()
    }
}
