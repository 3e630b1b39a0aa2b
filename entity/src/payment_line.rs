//! One subsidy in a payment batch, with the payee as it stood when the batch was drafted.
use sea_orm::entity::prelude::*;

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
    /// When the line stopped holding its subsidy (its batch was cancelled).
    pub released_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
