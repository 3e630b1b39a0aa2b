//! What the API shows of a visit (`VisitView`, and the answers of recording and of the
//! preview), and the audit form of a visit row.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use entity::{budget_line, hospital, person, visit};

use super::{Kind, Status};

use crate::domain::{BudgetLevel, BudgetUse, Group, IdNumber, Label, Money, Rate};
use crate::policy::Policy;

/// A visit as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    /// Id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The patient.
    pub person_id: i64,
    /// The patient's ID number, masked.
    pub id_number: String,
    /// The patient's name.
    pub person_name: String,
    /// The hospital.
    pub hospital_id: i64,
    /// Its name.
    pub hospital_name: String,
    /// Inpatient stay or outpatient visit.
    pub kind: Kind,
    /// 入院日期.
    pub admitted_on: Option<NaiveDate>,
    /// 出院日期.
    pub discharged_on: Option<NaiveDate>,
    /// 门诊就诊日期.
    pub visit_date: Option<NaiveDate>,
    /// The date the visit counts on (caps, reports).
    pub counted_on: NaiveDate,
    /// Calendar year of `counted_on`.
    pub year: i32,
    /// Invoice number (none on a reversal entry).
    pub invoice_no: Option<String>,
    /// The group whose policy was used.
    pub group: String,
    /// The policy used.
    pub policy_id: Option<i64>,
    /// 总费用.
    pub total_cost: Money,
    /// 基本医保.
    pub insurance_paid: Money,
    /// 大病保险.
    pub critical_illness_paid: Money,
    /// 医疗救助.
    pub medical_assistance_paid: Money,
    /// 个人自付.
    pub out_of_pocket: Money,
    /// 救助金 (negative on a reversal entry).
    pub subsidy: Money,
    /// Why the subsidy is less than the rate alone gives.
    pub cap_reason: Option<String>,
    /// Where the subsidy stands.
    pub status: Status,
    /// On a reversal entry: the visit it reverses.
    pub reverses_visit_id: Option<i64>,
    /// On a reversed visit: its reversal entry.
    pub reversed_by: Option<i64>,
    /// Who recorded it.
    pub recorded_by: i64,
    /// Who approved it.
    pub approved_by: Option<i64>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// Who paid it.
    pub paid_by: Option<i64>,
    /// When recorded as paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// Payment reference (bank transfer number).
    pub payment_ref: Option<String>,
    /// Payment date.
    pub paid_on: Option<NaiveDate>,
    /// Who voided it.
    pub voided_by: Option<i64>,
    /// When.
    pub voided_at: Option<DateTime<Utc>>,
    /// Why.
    pub void_reason: Option<String>,
    /// On a reversal entry: why.
    pub reversal_reason: Option<String>,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// For a pending subsidy in a list: how full its budget line would be once it is approved
    /// (`warning` from 80 %, `critical` from 95 %, `exhausted` when it does not fit and its
    /// approval would be refused); none when no line covers it.
    #[schema(value_type = Option<String>, example = "warning")]
    pub budget_level: Option<BudgetLevel>,
    /// Its label.
    pub budget_level_label: Option<&'static str>,
}

impl VisitView {
    fn of(
        v: &visit::Model,
        person: Option<&person::Model>,
        hospital: Option<&hospital::Model>,
        reversed_by: Option<i64>,
        mask: bool,
    ) -> VisitView {
        let id_number = person
            .map(|p| match IdNumber::parse(&p.id_number) {
                Ok(id) if mask => id.masked(),
                _ => p.id_number.clone(),
            })
            .unwrap_or_default();
        VisitView {
            id: v.id,
            case_id: v.case_id,
            person_id: v.person_id,
            id_number,
            person_name: person.map(|p| p.name.clone()).unwrap_or_default(),
            hospital_id: v.hospital_id,
            hospital_name: hospital.map(|h| h.name.clone()).unwrap_or_default(),
            kind: v.kind,
            admitted_on: v.admitted_on,
            discharged_on: v.discharged_on,
            visit_date: v.visit_date,
            counted_on: v.counted_on,
            year: v.year,
            invoice_no: v.invoice_no.clone(),
            group: v.group_code.clone(),
            policy_id: v.policy_id,
            total_cost: Money::from_fen(v.total_cost_fen),
            insurance_paid: Money::from_fen(v.insurance_paid_fen),
            critical_illness_paid: Money::from_fen(v.critical_illness_paid_fen),
            medical_assistance_paid: Money::from_fen(v.medical_assistance_paid_fen),
            out_of_pocket: Money::from_fen(v.out_of_pocket_fen),
            subsidy: Money::from_fen(v.subsidy_fen),
            cap_reason: v.cap_reason.clone(),
            status: v.status,
            reverses_visit_id: v.reverses_visit_id,
            reversed_by,
            recorded_by: v.recorded_by,
            approved_by: v.approved_by,
            approved_at: v.approved_at,
            paid_by: v.paid_by,
            paid_at: v.paid_at,
            payment_ref: v.payment_ref.clone(),
            paid_on: v.paid_on,
            voided_by: v.voided_by,
            voided_at: v.voided_at,
            void_reason: v.void_reason.clone(),
            reversal_reason: v.reversal_reason.clone(),
            created_at: v.created_at,
            budget_level: None,
            budget_level_label: None,
        }
    }
}

/// The audit form of a visit row: every stored field, the ID number left out.
pub(super) fn snapshot(v: &visit::Model) -> serde_json::Value {
    let mut j = serde_json::to_value(VisitView::of(v, None, None, None, true)).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        for k in ["id_number", "person_name", "hospital_name", "reversed_by"] {
            o.remove(k);
        }
    }
    j
}

/// Views of visit rows, with their people, hospitals and reversal entries looked up at once.
pub(super) async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: &[visit::Model],
    mask: bool,
) -> Result<Vec<VisitView>, DbErr> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let person_ids: HashSet<i64> = rows.iter().map(|v| v.person_id).collect();
    let hospital_ids: HashSet<i64> = rows.iter().map(|v| v.hospital_id).collect();
    let ids: Vec<i64> = rows.iter().map(|v| v.id).collect();
    let people: HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::COLUMN.id.is_in(person_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let hospitals: HashMap<i64, hospital::Model> = hospital::Entity::find()
        .filter(hospital::COLUMN.id.is_in(hospital_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let reversals: Vec<(i64, Option<i64>)> = visit::Entity::find()
        .select_only()
        .column(visit::Column::Id)
        .column(visit::Column::ReversesVisitId)
        .filter(visit::COLUMN.reverses_visit_id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    let reversed_by: HashMap<i64, i64> = reversals
        .into_iter()
        .filter_map(|(id, of)| of.map(|of| (of, id)))
        .collect();
    let levels = budget_levels(conn, rows).await?;
    let lang = crate::error::current_lang();
    Ok(rows
        .iter()
        .map(|v| {
            let mut view = VisitView::of(
                v,
                people.get(&v.person_id),
                hospitals.get(&v.hospital_id),
                reversed_by.get(&v.id).copied(),
                mask,
            );
            view.budget_level = levels.get(&v.id).copied();
            view.budget_level_label = view.budget_level.map(|l| l.label(lang));
            view
        })
        .collect())
}

/// How full the budget line of each pending subsidy would be once it is approved, in one
/// query for the page (the line is chosen as approval chooses it: the county's, else the
/// city's).
async fn budget_levels<C: ConnectionTrait>(
    conn: &C,
    rows: &[visit::Model],
) -> Result<HashMap<i64, BudgetLevel>, DbErr> {
    let pending: Vec<&visit::Model> = rows
        .iter()
        .filter(|v| v.status == Status::Pending)
        .collect();
    if pending.is_empty() {
        return Ok(HashMap::new());
    }
    let prefix = |v: &visit::Model, n: usize| v.region_code.chars().take(n).collect::<String>();
    let codes: HashSet<String> = pending
        .iter()
        .flat_map(|v| [prefix(v, 6), prefix(v, 4)])
        .collect();
    let lines = budget_line::Entity::find()
        .filter(budget_line::COLUMN.region_code.is_in(codes))
        .filter(
            budget_line::COLUMN
                .year
                .is_in(pending.iter().map(|v| v.year)),
        )
        .all(conn)
        .await?;
    let find = |v: &visit::Model, code: String| {
        lines
            .iter()
            .find(|l| l.year == v.year && l.group_code == v.group_code && l.region_code == code)
    };
    Ok(pending
        .iter()
        .filter_map(|v| {
            let line = find(v, prefix(v, 6)).or_else(|| find(v, prefix(v, 4)))?;
            let after = BudgetUse {
                amount: Money::from_fen(line.amount_fen),
                committed: Money::from_fen(line.committed_fen),
            };
            let fits = after.fits(Money::from_fen(v.subsidy_fen));
            let with = BudgetUse {
                committed: Money::from_fen(line.committed_fen.saturating_add(v.subsidy_fen)),
                ..after
            };
            Some((
                v.id,
                // One that fits can be approved, even if it fills the line.
                if fits {
                    with.level().min(BudgetLevel::Critical)
                } else {
                    BudgetLevel::Exhausted
                },
            ))
        })
        .collect())
}

pub(super) async fn view<C: ConnectionTrait>(
    conn: &C,
    v: &visit::Model,
) -> Result<VisitView, DbErr> {
    Ok(views(conn, std::slice::from_ref(v), true)
        .await?
        .pop()
        .expect("one view per row"))
}

/// The policy a visit used, as the recording answer shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UsedPolicy {
    /// Id.
    pub id: i64,
    /// Group.
    pub group: Group,
    /// Rate.
    pub rate: Rate,
    /// 起付线.
    pub deductible: Money,
    /// 单次封顶.
    pub per_visit_cap: Money,
    /// 年度封顶.
    pub annual_cap: Money,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// Last day in force.
    pub effective_to: Option<NaiveDate>,
}

impl From<&Policy> for UsedPolicy {
    fn from(p: &Policy) -> UsedPolicy {
        UsedPolicy {
            id: p.id,
            group: p.group,
            rate: p.terms.rate,
            deductible: p.terms.deductible.money(),
            per_visit_cap: p.terms.per_visit_cap.money(),
            annual_cap: p.terms.annual_cap.money(),
            effective_from: p.effective_from,
            effective_to: p.effective_to,
        }
    }
}

/// The person's figures for the visit's year, as they stood when it was recorded.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct AnnualFigures {
    /// Calendar year.
    pub year: i32,
    /// The person's annual cap (`domain::allowance`).
    pub annual_cap: Money,
    /// Granted in the year before this visit.
    pub granted_before: Money,
    /// Granted in the year with this visit.
    pub granted_with_this: Money,
    /// What is left of the cap.
    pub cap_left: Money,
}

/// What recording a visit answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The visit.
    #[serde(flatten)]
    pub visit: VisitView,
    /// The subsidy the rate alone gives, before the caps.
    pub subsidy_by_rate: Money,
    /// The policy used.
    pub policy: UsedPolicy,
    /// The person's annual figures.
    pub annual: AnnualFigures,
}

/// What a visit would grant, computed before it is saved so the caseworker sees the subsidy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// What the patient paid themselves.
    pub out_of_pocket: Money,
    /// The subsidy the rate alone gives, before the caps.
    pub subsidy_by_rate: Money,
    /// The subsidy after the caps.
    pub subsidy: Money,
    /// Which cap cut it, if one did.
    pub cap_reason: Option<String>,
    /// That cap in words (empty when none did).
    pub cap_reason_label: &'static str,
    /// The policy that would be used.
    pub policy: UsedPolicy,
    /// The person's annual figures with this visit.
    pub annual: AnnualFigures,
}
