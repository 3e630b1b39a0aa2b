//! An objection (异议) raised against a line of a batch during its public notice.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub line_id: i64,
    pub state: State,
    /// What was objected, as recorded.
    pub reason: String,
    pub raised_by: i64,
    pub raised_at: DateTimeUtc,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    /// How it was resolved, and why.
    pub resolution: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}

/// Where an objection stands.
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
#[schema(as = ObjectionState)]
pub enum State {
    /// Raised; its line is held out of the batch.
    Open,
    /// Found right: the line leaves the batch and its subsidy is payable again.
    Upheld,
    /// Found wrong: the line is back in the batch.
    Dismissed,
}

crate::codes! {
    State {
        Open => "open",
        Upheld => "upheld",
        Dismissed => "dismissed",
    }
}
