//! A budget line (资金额度): what a region may grant a group in a year, what approved
//! subsidies have committed against it, and what the bank has paid of that.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    /// A city (4 digits) or a county (6 digits).
    pub region_code: String,
    pub group_code: String,
    /// The line's amount.
    pub amount_fen: i64,
    /// Approved and paid subsidies, less those voided or reversed.
    pub committed_fen: i64,
    /// Of those, what the bank (or a recorded payment) has paid.
    pub paid_fen: i64,
    /// Optimistic-concurrency version: a change names the version it read.
    pub version: i32,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
