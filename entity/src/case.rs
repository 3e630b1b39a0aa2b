//! A patient's application to the programme (救助案件) for one year.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub year: i32,
    pub state: State,
    /// Optimistic-concurrency version: every change must name the version it read.
    pub version: i32,
    pub applicant_name: String,
    pub diagnosis_code: String,
    pub diagnosis_text: String,
    pub hospital_id: Option<i64>,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub region_code: String,
    /// The eligibility decision as it was made: entries relied on and rules applied.
    pub evidence: Json,
    pub opened_by: i64,
    pub decided_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "person_id", to = "id")]
    pub person: HasOne<super::person::Entity>,
    #[sea_orm(has_many)]
    pub events: HasMany<super::case_event::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

/// Where a case stands (`cases.state`, `case_events.from_state` and `to_state`). Who may move
/// it where is the app's `case::workflow`.
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
#[schema(as = CaseState)]
pub enum State {
    /// Opened (or resubmitted) by a caseworker, waiting for an approver.
    Submitted,
    /// Approved: visits may be recorded against it.
    Approved,
    /// Refused by an approver, with a reason; may be resubmitted.
    Rejected,
    /// Taken back before a decision.
    Withdrawn,
    /// Finished after approval.
    Closed,
}

crate::codes! {
    State {
        Submitted => "submitted",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
        Closed => "closed",
    }
}
