//! A hospital visit (就诊) with its costs and subsidy; a reversal is a row of its own.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub person_id: i64,
    pub hospital_id: i64,
    pub policy_id: Option<i64>,
    pub group_code: String,
    pub region_code: String,
    pub kind: String,
    pub admitted_on: Option<Date>,
    pub discharged_on: Option<Date>,
    pub visit_date: Option<Date>,
    pub counted_on: Date,
    pub year: i32,
    pub invoice_no: Option<String>,
    pub total_cost_fen: i64,
    pub insurance_paid_fen: i64,
    pub critical_illness_paid_fen: i64,
    pub medical_assistance_paid_fen: i64,
    pub out_of_pocket_fen: i64,
    pub subsidy_fen: i64,
    pub cap_reason: Option<String>,
    pub status: String,
    pub reverses_visit_id: Option<i64>,
    pub recorded_by: i64,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub paid_by: Option<i64>,
    pub paid_at: Option<DateTimeUtc>,
    pub payment_ref: Option<String>,
    pub paid_on: Option<Date>,
    pub voided_by: Option<i64>,
    pub voided_at: Option<DateTimeUtc>,
    pub void_reason: Option<String>,
    /// Why a reversal entry (the row with `reverses_visit_id`) was written.
    pub reversal_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
