//! A hospital visit (就诊) with its costs and subsidy; a reversal is a row of its own.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

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
    pub kind: Kind,
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
    pub status: Status,
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
    /// The budget line the subsidy was committed to when approved, if one covered it.
    pub budget_line_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Inpatient stay or outpatient treatment (`visits.kind`).
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
#[schema(as = VisitKind)]
pub enum Kind {
    /// 住院: admitted and discharged.
    Inpatient,
    /// 门诊: one visit date.
    Outpatient,
}

/// Where a subsidy stands (`visits.status`): `pending` → `approved` → `paid`, or `voided`
/// before it is paid. A reversal entry is written `paid`: it is settled money going back, so
/// any sum over paid rows nets the reversed visit out.
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
#[schema(as = VisitStatus)]
pub enum Status {
    /// Recorded, waiting for an approver.
    Pending,
    /// Approved, waiting for payment.
    Approved,
    /// Paid out.
    Paid,
    /// Cancelled before payment; its amount no longer counts against the cap.
    Voided,
}

crate::codes! {
    Kind { Inpatient => "inpatient", Outpatient => "outpatient" }
    Status {
        Pending => "pending",
        Approved => "approved",
        Paid => "paid",
        Voided => "voided",
    }
}
