//! A patient's application to the programme (救助案件) for one year.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub year: i32,
    pub state: String,
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
