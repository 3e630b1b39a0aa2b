//! Visits (就诊) and their subsidies: recording a visit against an approved case, the
//! subsidy's states, reversals, lists and a patient's yearly statement.
//!
//! The annual cap and the lock it rests on are in `ledger`.
//!
//! Every date rule (the case's year, the roster, the policy, the annual cap) uses the date a
//! visit counts on: the discharge date of a stay, the date of an outpatient visit.

pub mod export;
pub mod ledger;

pub use ledger::groups_on;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use entity::{case, hospital, person, visit};

use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::allowance::reading_day;
use crate::domain::subsidy::{self, CapReason, Costs};
use crate::domain::{Allowance, Group, IdNumber, Lang, Money, Rate, RegionCode};
use crate::error::{AppError, AppResult, FieldError, Msg, Problems, current_lang};
use crate::policy::{self, Policy};

/// The case state that allows visits (set by the case workflow).
pub const CASE_APPROVED: &str = "approved";

/// Inpatient stay or outpatient treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 住院: admitted and discharged.
    Inpatient,
    /// 门诊: one visit date.
    Outpatient,
}

impl Kind {
    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Inpatient => "inpatient",
            Kind::Outpatient => "outpatient",
        }
    }

    /// Parses the code.
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "inpatient" => Some(Kind::Inpatient),
            "outpatient" => Some(Kind::Outpatient),
            _ => None,
        }
    }

    /// The label.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Kind::Inpatient => lang.pick("住院", "inpatient"),
            Kind::Outpatient => lang.pick("门诊", "outpatient"),
        }
    }
}

/// Where a subsidy stands: `pending` → `approved` → `paid`, or `voided` before it is paid.
/// A reversal entry is written `paid`: it is settled money going back, so any sum over paid
/// rows nets the reversed visit out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Approved,
        Status::Paid,
        Status::Voided,
    ];

    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Paid => "paid",
            Status::Voided => "voided",
        }
    }

    /// Parses the code.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.code() == s.trim())
    }

    /// The label.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Pending => lang.pick("待审核", "pending"),
            Status::Approved => lang.pick("已审核", "approved"),
            Status::Paid => lang.pick("已支付", "paid"),
            Status::Voided => lang.pick("已作废", "voided"),
        }
    }
}

/// The dates of a visit, checked: a stay has both dates in order, an outpatient visit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitDates {
    /// A hospital stay.
    Inpatient {
        /// 入院日期.
        admitted_on: NaiveDate,
        /// 出院日期.
        discharged_on: NaiveDate,
    },
    /// An outpatient visit.
    Outpatient {
        /// 就诊日期.
        visit_date: NaiveDate,
    },
}

impl VisitDates {
    /// Checks the dates of a visit of `kind` as entered: the ones of the other kind must be
    /// absent, discharge is not before admission, and nothing is after `today`. Each problem
    /// is added with its field.
    pub fn check(
        kind: Kind,
        admitted_on: Option<NaiveDate>,
        discharged_on: Option<NaiveDate>,
        visit_date: Option<NaiveDate>,
        today: NaiveDate,
        problems: &mut Problems,
    ) -> Option<VisitDates> {
        let required = |problems: &mut Problems, field: &str, zh: &str| {
            problems.push(
                "required",
                field,
                Msg::new(
                    format!("{}须填写{zh}（YYYY-MM-DD）。", kind.label(Lang::Zh)),
                    format!(
                        "An {} visit needs {field} (YYYY-MM-DD).",
                        kind.label(Lang::En)
                    ),
                ),
            )
        };
        let not_for = |problems: &mut Problems, field: &str| {
            problems.push(
                "field_not_for_kind",
                field,
                Msg::new(
                    format!(
                        "{}不填{field}：住院填 admitted_on 和 discharged_on，门诊填 visit_date。",
                        kind.label(Lang::Zh)
                    ),
                    format!(
                        "{field} is not for an {} visit: a stay has admitted_on and discharged_on, an outpatient visit visit_date.",
                        kind.label(Lang::En)
                    ),
                ),
            )
        };
        let before = problems.codes().len();
        let dates = match kind {
            Kind::Inpatient => {
                if visit_date.is_some() {
                    not_for(problems, "visit_date");
                }
                if admitted_on.is_none() {
                    required(problems, "admitted_on", "入院日期 admitted_on");
                }
                if discharged_on.is_none() {
                    required(problems, "discharged_on", "出院日期 discharged_on");
                }
                match (admitted_on, discharged_on) {
                    (Some(a), Some(d)) => {
                        if d < a {
                            problems.push(
                                "discharge_before_admission",
                                "discharged_on",
                                Msg::new(
                                    format!("出院日期 {d} 早于入院日期 {a}：请核对。"),
                                    format!(
                                        "discharged_on {d} is before admitted_on {a}: check the dates."
                                    ),
                                ),
                            );
                        }
                        Some(VisitDates::Inpatient {
                            admitted_on: a,
                            discharged_on: d,
                        })
                    }
                    _ => None,
                }
            }
            Kind::Outpatient => {
                if admitted_on.is_some() {
                    not_for(problems, "admitted_on");
                }
                if discharged_on.is_some() {
                    not_for(problems, "discharged_on");
                }
                if visit_date.is_none() {
                    required(problems, "visit_date", "就诊日期 visit_date");
                }
                visit_date.map(|v| VisitDates::Outpatient { visit_date: v })
            }
        };
        for (field, date) in [
            ("admitted_on", admitted_on),
            ("discharged_on", discharged_on),
            ("visit_date", visit_date),
        ] {
            if let Some(d) = date
                && d > today
            {
                problems.push(
                    "future_date",
                    field,
                    Msg::new(
                        format!("{field} {d} 晚于今天（{today}）：只能登记已发生的就诊。"),
                        format!(
                            "{field} {d} is after today ({today}): only visits that have happened can be recorded."
                        ),
                    ),
                );
            }
        }
        if problems.codes().len() > before {
            None
        } else {
            dates
        }
    }

    /// Inpatient or outpatient.
    pub fn kind(&self) -> Kind {
        match self {
            VisitDates::Inpatient { .. } => Kind::Inpatient,
            VisitDates::Outpatient { .. } => Kind::Outpatient,
        }
    }

    /// The date the visit counts on: discharge, or the visit date.
    pub fn counted_on(&self) -> NaiveDate {
        match *self {
            VisitDates::Inpatient { discharged_on, .. } => discharged_on,
            VisitDates::Outpatient { visit_date } => visit_date,
        }
    }

    /// The field that holds the counted date, for messages.
    fn counted_field(&self) -> &'static str {
        match self {
            VisitDates::Inpatient { .. } => "discharged_on",
            VisitDates::Outpatient { .. } => "visit_date",
        }
    }
}

/// An invoice number as it is compared: NFKC (full-width digits become ASCII), no spaces,
/// upper case, 1 to 64 characters.
pub fn normalise_invoice(raw: &str) -> Result<String, Msg> {
    let s: String = raw
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if (1..=64).contains(&s.chars().count()) {
        Ok(s)
    } else {
        Err(Msg::new(
            "请填写发票号（最多64个字符）。",
            "Give the invoice number (at most 64 characters).",
        ))
    }
}

/// A visit to record, already checked on its own.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The hospital.
    pub hospital_id: i64,
    /// Its dates.
    pub dates: VisitDates,
    /// Normalised invoice number.
    pub invoice_no: String,
    /// The bill and its reimbursements.
    pub costs: Costs,
}

/// A visit as the API shows it.
#[derive(Debug, Clone, Serialize)]
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
    /// inpatient | outpatient.
    pub kind: String,
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
    /// pending | approved | paid | voided.
    pub status: String,
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
            kind: v.kind.clone(),
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
            status: v.status.clone(),
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
        }
    }
}

/// The audit form of a visit row: every stored field, the ID number left out.
fn snapshot(v: &visit::Model) -> serde_json::Value {
    let mut j = serde_json::to_value(VisitView::of(v, None, None, None, true)).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        for k in ["id_number", "person_name", "hospital_name", "reversed_by"] {
            o.remove(k);
        }
    }
    j
}

/// Views of visit rows, with their people, hospitals and reversal entries looked up at once.
async fn views<C: ConnectionTrait>(
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
    Ok(rows
        .iter()
        .map(|v| {
            VisitView::of(
                v,
                people.get(&v.person_id),
                hospitals.get(&v.hospital_id),
                reversed_by.get(&v.id).copied(),
                mask,
            )
        })
        .collect())
}

async fn view<C: ConnectionTrait>(conn: &C, v: &visit::Model) -> Result<VisitView, DbErr> {
    Ok(views(conn, std::slice::from_ref(v), true)
        .await?
        .pop()
        .expect("one view per row"))
}

/// The policy a visit used, as the recording answer shows it.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Copy, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

fn rule(code: &'static str, field: &str, message: Msg) -> AppError {
    AppError::Unprocessable {
        code,
        message: message.clone(),
        details: vec![FieldError::new(field, message)],
    }
}

/// The refusal of an invoice already recorded: with the visit that holds it when the user may
/// see that visit, and without a word of whose it is when it lies outside the user's scope.
async fn refuse_duplicate<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    existing: &visit::Model,
) -> AppResult<AppError> {
    let visible = RegionCode::parse(&existing.region_code).is_ok_and(|r| user.region.contains(&r));
    if visible {
        Ok(duplicate_invoice(view(conn, existing).await?))
    } else {
        Ok(duplicate_invoice_elsewhere(
            existing.invoice_no.as_deref().unwrap_or_default(),
        ))
    }
}

fn duplicate_invoice_elsewhere(invoice: &str) -> AppError {
    let message = Msg::new(
        format!(
            "该医院的发票号“{invoice}”已登记过：同一张发票不能重复登记。请核对发票号；如确认无误，请联系省级管理员核实。"
        ),
        format!(
            "Invoice '{invoice}' of this hospital is already recorded: an invoice is recorded once. Check the number; if it is right, ask a province administrator to look into it."
        ),
    );
    AppError::Duplicate {
        code: "duplicate_invoice",
        message: message.clone(),
        details: vec![FieldError::new("invoice_no", message)],
        existing: serde_json::Value::Null,
    }
}

fn duplicate_invoice(existing: VisitView) -> AppError {
    let invoice = existing.invoice_no.clone().unwrap_or_default();
    let message = Msg::new(
        format!(
            "该医院的发票号“{invoice}”已登记为就诊记录 #{}（{}，{}）：同一张发票不能重复登记。",
            existing.id, existing.person_name, existing.counted_on
        ),
        format!(
            "Invoice '{invoice}' of this hospital is already recorded as visit #{} ({}): an invoice is recorded once.",
            existing.id, existing.counted_on
        ),
    );
    AppError::Duplicate {
        code: "duplicate_invoice",
        message: message.clone(),
        details: vec![FieldError::new("invoice_no", message)],
        existing: serde_json::to_value(existing).unwrap_or_default(),
    }
}

async fn find_invoice<C: ConnectionTrait>(
    conn: &C,
    hospital_id: i64,
    invoice_no: &str,
) -> Result<Option<visit::Model>, DbErr> {
    visit::Entity::find()
        .filter(visit::COLUMN.hospital_id.eq(hospital_id))
        .filter(visit::COLUMN.invoice_no.eq(invoice_no))
        .one(conn)
        .await
}

/// What a visit would grant, computed before it is saved so the caseworker sees the subsidy.
#[derive(Debug, Clone, Serialize)]
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

/// Records a visit of an approved case and grants its subsidy in the same transaction.
pub async fn record(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    new: NewVisit,
) -> AppResult<Recorded> {
    write_visit(db, user, case_id, new, true).await
}

/// What recording the visit would grant, without recording it: the very same checks and
/// computation (and locks) as [`record`], in a transaction that is rolled back, so the preview
/// cannot disagree with what saving then grants (unless another visit lands in between).
pub async fn preview(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    new: NewVisit,
) -> AppResult<Preview> {
    let r = write_visit(db, user, case_id, new, false).await?;
    Ok(Preview {
        out_of_pocket: r.visit.out_of_pocket,
        subsidy_by_rate: r.subsidy_by_rate,
        subsidy: r.visit.subsidy,
        cap_reason_label: cap_reason_label(r.visit.cap_reason.as_deref(), current_lang()),
        cap_reason: r.visit.cap_reason,
        policy: r.policy,
        annual: r.annual,
    })
}

async fn write_visit(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    new: NewVisit,
    keep: bool,
) -> AppResult<Recorded> {
    let on = new.dates.counted_on();
    let txn = crate::db::begin_write(db).await?;
    policy::hold_shared(&txn).await?;
    // FOR SHARE: the case cannot leave `approved` until this visit is in.
    let case = case::Entity::find_by_id(case_id)
        .lock_shared()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("case", case_id))?;
    let region = RegionCode::parse(&case.region_code)
        .map_err(|_| anyhow::anyhow!("case {case_id} has a bad region"))?;
    user.ensure_in_scope(&region, "case", case_id)?;
    if case.state != CASE_APPROVED {
        return Err(AppError::conflict(
            "case_not_approved",
            Msg::new(
                format!(
                    "案件 #{case_id} 的状态为“{}”，只有已批准的案件才能登记就诊。",
                    case.state
                ),
                format!(
                    "Case #{case_id} is {}; visits are recorded only on approved cases.",
                    case.state
                ),
            ),
        ));
    }
    if on.year() != case.year {
        return Err(rule(
            "visit_outside_case_year",
            new.dates.counted_field(),
            Msg::new(
                format!(
                    "就诊计入日期 {on} 不在案件 #{case_id} 的救助年度 {} 内。",
                    case.year
                ),
                format!(
                    "The visit counts on {on}, outside case #{case_id}'s year {}.",
                    case.year
                ),
            ),
        ));
    }
    let Some(h) = hospital::Entity::find_by_id(new.hospital_id)
        .one(&txn)
        .await?
    else {
        return Err(rule(
            "unknown_hospital",
            "hospital_id",
            Msg::new(
                format!(
                    "没有编号为 {} 的医院：请从医院列表中选择。",
                    new.hospital_id
                ),
                format!(
                    "There is no hospital {}: pick one from the hospital list.",
                    new.hospital_id
                ),
            ),
        ));
    };
    if !h.designated {
        return Err(rule(
            "hospital_not_designated",
            "hospital_id",
            Msg::new(
                format!("{}不是定点医院，在此就诊不能获得救助。", h.name),
                format!(
                    "{} ({}) is not a designated hospital; visits there get no subsidy.",
                    h.name, h.code
                ),
            ),
        ));
    }
    if let Some(existing) = find_invoice(&txn, h.id, &new.invoice_no).await? {
        return Err(refuse_duplicate(&txn, user, &existing).await?);
    }
    let groups = groups_on(&txn, case.person_id, on).await?;
    if groups.is_empty() {
        return Err(rule(
            "not_on_roster",
            new.dates.counted_field(),
            Msg::new(
                format!("患者在 {on} 不在任何救助名册上，不能获得救助。"),
                format!("On {on} the patient is on no assistance roster, so no subsidy applies."),
            ),
        ));
    }
    let policies = policy::in_force(&txn, &groups, on).await?;
    if policies.is_empty() {
        let labels: Vec<&str> = groups.iter().map(|g| g.label_zh()).collect();
        let codes: Vec<&str> = groups.iter().map(|g| g.code()).collect();
        return Err(rule(
            "no_policy",
            new.dates.counted_field(),
            Msg::new(
                format!(
                    "{on} 没有适用于{}的救助政策：请管理员先设置政策。",
                    labels.join("、")
                ),
                format!(
                    "No subsidy policy for {} is in force on {on}: an administrator must set one first.",
                    codes.join(", ")
                ),
            ),
        ));
    }

    let year = on.year();
    let granted_before = ledger::hold(&txn, case.person_id, year).await?;
    // With two groups on the roster, the policy that pays more; on a tie, the first group.
    let (chosen, s) = policies
        .iter()
        .map(|p| (p, subsidy::compute(&new.costs, &p.terms, granted_before)))
        .max_by(|(pa, a), (pb, b)| a.amount.cmp(&b.amount).then(pb.group.cmp(&pa.group)))
        .expect("at least one policy");
    let now = Utc::now();
    let (admitted_on, discharged_on, visit_date) = match new.dates {
        VisitDates::Inpatient {
            admitted_on,
            discharged_on,
        } => (Some(admitted_on), Some(discharged_on), None),
        VisitDates::Outpatient { visit_date } => (None, None, Some(visit_date)),
    };
    let inserted = visit::ActiveModel {
        case_id: Set(case.id),
        person_id: Set(case.person_id),
        hospital_id: Set(h.id),
        policy_id: Set(Some(chosen.id)),
        group_code: Set(chosen.group.code().to_owned()),
        region_code: Set(case.region_code.clone()),
        kind: Set(new.dates.kind().code().to_owned()),
        admitted_on: Set(admitted_on),
        discharged_on: Set(discharged_on),
        visit_date: Set(visit_date),
        counted_on: Set(on),
        year: Set(year),
        invoice_no: Set(Some(new.invoice_no.clone())),
        total_cost_fen: Set(new.costs.total().fen()),
        insurance_paid_fen: Set(new.costs.insurance().fen()),
        critical_illness_paid_fen: Set(new.costs.critical_illness().fen()),
        medical_assistance_paid_fen: Set(new.costs.medical_assistance().fen()),
        out_of_pocket_fen: Set(s.out_of_pocket.fen()),
        subsidy_fen: Set(s.amount.fen()),
        cap_reason: Set(s.cap_reason.map(|r| r.code().to_owned())),
        status: Set(Status::Pending.code().to_owned()),
        reverses_visit_id: Set(None),
        recorded_by: Set(user.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let v = match inserted {
        Ok(v) => v,
        // Another request recorded the same invoice between the check and the insert
        // (PostgreSQL: the unique index waited for it to commit).
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            return match find_invoice(db, h.id, &new.invoice_no).await? {
                Some(existing) => Err(refuse_duplicate(db, user, &existing).await?),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    ledger::add(&txn, v.person_id, year, s.amount.money()).await?;
    let granted_with_this = granted_before
        .checked_add(s.amount.money())
        .ok_or_else(|| anyhow::anyhow!("granted total overflow"))?;
    let after = Allowance::new(&groups, &ledger::caps(&policies), granted_with_this);
    let annual = AnnualFigures {
        year,
        // Never the fallback: a policy of the person's groups is in force, so there is a cap.
        annual_cap: after.annual_cap.unwrap_or(chosen.terms.annual_cap.money()),
        granted_before,
        granted_with_this,
        cap_left: after.cap_left.unwrap_or(Money::ZERO),
    };
    let mut after = snapshot(&v);
    after["annual"] = serde_json::to_value(annual).unwrap_or_default();
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "visit.record",
            entity_type: "visit",
            entity_id: v.id.to_string(),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    let visit_view = view(&txn, &v).await?;
    if !keep {
        txn.rollback().await?;
        return Ok(Recorded {
            visit: visit_view,
            subsidy_by_rate: s.by_rate.money(),
            policy: UsedPolicy::from(chosen),
            annual,
        });
    }
    txn.commit().await?;
    tracing::info!(
        visit.id = v.id,
        case.id = case_id,
        subsidy = %s.amount,
        "Recorded visit {} with subsidy {}",
        v.id,
        s.amount
    );
    Ok(Recorded {
        visit: visit_view,
        subsidy_by_rate: s.by_rate.money(),
        policy: UsedPolicy::from(chosen),
        annual,
    })
}

/// A change of a subsidy's state.
#[derive(Debug, Clone)]
pub enum Transition {
    /// pending → approved, by an approver who did not record it.
    Approve,
    /// approved → paid.
    Pay {
        /// Bank or voucher reference.
        payment_ref: String,
        /// Date paid.
        paid_on: NaiveDate,
    },
    /// pending or approved → voided; frees the amount of the annual cap.
    Void {
        /// Why.
        reason: String,
    },
}

impl Transition {
    fn action(&self) -> &'static str {
        match self {
            Transition::Approve => "visit.approve",
            Transition::Pay { .. } => "visit.pay",
            Transition::Void { .. } => "visit.void",
        }
    }

    fn allowed_from(&self) -> &'static [Status] {
        match self {
            Transition::Approve => &[Status::Pending],
            Transition::Pay { .. } => &[Status::Approved],
            Transition::Void { .. } => &[Status::Pending, Status::Approved],
        }
    }

    fn verb(&self, lang: Lang) -> &'static str {
        match self {
            Transition::Approve => lang.pick("审核", "approved"),
            Transition::Pay { .. } => lang.pick("支付", "paid"),
            Transition::Void { .. } => lang.pick("作废", "voided"),
        }
    }
}

/// The visit row, held until the transaction ends, if the user may see it.
async fn hold_visit(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    id: i64,
) -> AppResult<visit::Model> {
    let v = visit::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("visit", id))?;
    let region = RegionCode::parse(&v.region_code)
        .map_err(|_| anyhow::anyhow!("visit {id} has a bad region"))?;
    user.ensure_in_scope(&region, "visit", id)?;
    if v.reverses_visit_id.is_some() {
        return Err(AppError::conflict(
            "reversal_entry",
            Msg::new(
                format!("#{id} 是冲销记录，不能再审核、支付、作废或冲销。"),
                format!(
                    "#{id} is a reversal entry: it cannot be approved, paid, voided or reversed."
                ),
            ),
        ));
    }
    Ok(v)
}

fn status_of(v: &visit::Model) -> AppResult<Status> {
    Status::parse(&v.status)
        .ok_or_else(|| anyhow::anyhow!("visit {} has status {}", v.id, v.status).into())
}

/// Approves, pays or voids a visit's subsidy, with an audit row.
pub async fn transition(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    t: Transition,
) -> AppResult<VisitView> {
    let txn = crate::db::begin_write(db).await?;
    let v = hold_visit(&txn, user, id).await?;
    let status = status_of(&v)?;
    if !t.allowed_from().contains(&status) {
        let hint = match (&t, status) {
            (Transition::Void { .. }, Status::Paid) => Msg::new(
                "已支付的救助金不能作废，请由管理人员冲销。",
                "A paid subsidy cannot be voided; a manager reverses it instead.",
            ),
            _ => Msg::new("", ""),
        };
        return Err(AppError::conflict(
            "invalid_transition",
            Msg::new(
                format!(
                    "就诊记录 #{id} 的状态为“{}”，不能{}。{}",
                    status.label(Lang::Zh),
                    t.verb(Lang::Zh),
                    hint.zh
                ),
                format!(
                    "Visit #{id} is {} and cannot be {}. {}",
                    status.code(),
                    t.verb(Lang::En),
                    hint.en
                )
                .trim_end()
                .to_owned(),
            ),
        ));
    }
    if matches!(t, Transition::Approve) && v.recorded_by == user.id {
        return Err(AppError::Forbidden {
            code: "own_visit",
            message: Msg::new(
                "不能审核自己登记的就诊记录，请由其他审核人审核。",
                "You recorded this visit, so another approver must approve it.",
            ),
        });
    }
    if let Transition::Pay { paid_on, .. } = &t
        && *paid_on < v.counted_on
    {
        return Err(rule(
            "paid_before_visit",
            "paid_on",
            Msg::new(
                format!("支付日期 {paid_on} 早于就诊计入日期 {}。", v.counted_on),
                format!(
                    "paid_on {paid_on} is before the visit's date {}.",
                    v.counted_on
                ),
            ),
        ));
    }
    let now = Utc::now();
    let before = snapshot(&v);
    let mut am: visit::ActiveModel = v.clone().into();
    match &t {
        Transition::Approve => {
            am.status = Set(Status::Approved.code().to_owned());
            am.approved_by = Set(Some(user.id));
            am.approved_at = Set(Some(now));
        }
        Transition::Pay {
            payment_ref,
            paid_on,
        } => {
            am.status = Set(Status::Paid.code().to_owned());
            am.paid_by = Set(Some(user.id));
            am.paid_at = Set(Some(now));
            am.payment_ref = Set(Some(payment_ref.clone()));
            am.paid_on = Set(Some(*paid_on));
        }
        Transition::Void { reason } => {
            am.status = Set(Status::Voided.code().to_owned());
            am.voided_by = Set(Some(user.id));
            am.voided_at = Set(Some(now));
            am.void_reason = Set(Some(reason.clone()));
        }
    }
    am.updated_at = Set(now);
    let after = am.update(&txn).await?;
    let mut after_json = snapshot(&after);
    if matches!(t, Transition::Void { .. }) {
        ledger::add(
            &txn,
            v.person_id,
            v.year,
            Money::from_fen(v.subsidy_fen).negated(),
        )
        .await?;
        after_json["freed"] =
            serde_json::to_value(Money::from_fen(v.subsidy_fen)).unwrap_or_default();
    }
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: t.action(),
            entity_type: "visit",
            entity_id: id.to_string(),
            before: Some(before),
            after: Some(after_json),
        },
    )
    .await?;
    let out = view(&txn, &after).await?;
    txn.commit().await?;
    tracing::info!(visit.id = id, "Visit {id}: {}", t.action());
    Ok(out)
}

/// Reverses a paid subsidy with a negative entry linked to it; the paid row stays as it was.
/// Frees the amount of the annual cap of the visit's year.
pub async fn reverse(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    reason: String,
    reversed_on: NaiveDate,
) -> AppResult<VisitView> {
    let txn = crate::db::begin_write(db).await?;
    let v = hold_visit(&txn, user, id).await?;
    let status = status_of(&v)?;
    if status != Status::Paid {
        return Err(AppError::conflict(
            "invalid_transition",
            Msg::new(
                format!(
                    "就诊记录 #{id} 的状态为“{}”，只有已支付的救助金才能冲销（未支付的请作废）。",
                    status.label(Lang::Zh)
                ),
                format!(
                    "Visit #{id} is {}: only a paid subsidy is reversed (void an unpaid one).",
                    status.code()
                ),
            ),
        ));
    }
    if let Some(r) = visit::Entity::find()
        .filter(visit::COLUMN.reverses_visit_id.eq(id))
        .one(&txn)
        .await?
    {
        return Err(AppError::conflict(
            "already_reversed",
            Msg::new(
                format!("就诊记录 #{id} 已由冲销记录 #{} 冲销。", r.id),
                format!("Visit #{id} is already reversed by entry #{}.", r.id),
            ),
        ));
    }
    let now = Utc::now();
    let neg = |fen: i64| -fen;
    let entry = visit::ActiveModel {
        case_id: Set(v.case_id),
        person_id: Set(v.person_id),
        hospital_id: Set(v.hospital_id),
        policy_id: Set(v.policy_id),
        group_code: Set(v.group_code.clone()),
        region_code: Set(v.region_code.clone()),
        kind: Set(v.kind.clone()),
        admitted_on: Set(v.admitted_on),
        discharged_on: Set(v.discharged_on),
        visit_date: Set(v.visit_date),
        // The same day and year as the visit: the cap it frees is that year's.
        counted_on: Set(v.counted_on),
        year: Set(v.year),
        invoice_no: Set(None),
        total_cost_fen: Set(neg(v.total_cost_fen)),
        insurance_paid_fen: Set(neg(v.insurance_paid_fen)),
        critical_illness_paid_fen: Set(neg(v.critical_illness_paid_fen)),
        medical_assistance_paid_fen: Set(neg(v.medical_assistance_paid_fen)),
        out_of_pocket_fen: Set(neg(v.out_of_pocket_fen)),
        subsidy_fen: Set(neg(v.subsidy_fen)),
        cap_reason: Set(None),
        status: Set(Status::Paid.code().to_owned()),
        reverses_visit_id: Set(Some(v.id)),
        recorded_by: Set(user.id),
        paid_by: Set(Some(user.id)),
        paid_at: Set(Some(now)),
        paid_on: Set(Some(reversed_on)),
        reversal_reason: Set(Some(reason)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let entry = match entry {
        Ok(e) => e,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::conflict(
                "already_reversed",
                Msg::new(
                    format!("就诊记录 #{id} 已被冲销。"),
                    format!("Visit #{id} is already reversed."),
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    ledger::add(
        &txn,
        v.person_id,
        v.year,
        Money::from_fen(v.subsidy_fen).negated(),
    )
    .await?;
    let mut after = snapshot(&entry);
    after["freed"] = serde_json::to_value(Money::from_fen(v.subsidy_fen)).unwrap_or_default();
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "visit.reverse",
            entity_type: "visit",
            entity_id: entry.id.to_string(),
            before: Some(snapshot(&v)),
            after: Some(after),
        },
    )
    .await?;
    let out = view(&txn, &entry).await?;
    txn.commit().await?;
    tracing::info!(visit.id = id, "Reversed visit {id} with entry {}", entry.id);
    Ok(out)
}

/// One visit the user may see.
pub async fn get(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> AppResult<VisitView> {
    let v = visit::Entity::find_by_id(id)
        .filter(user.scope(visit::Column::RegionCode))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("visit", id))?;
    Ok(view(db, &v).await?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// One case.
    pub case_id: Option<i64>,
    /// One person.
    pub id_number: Option<IdNumber>,
    /// Counted on or after.
    pub from: Option<NaiveDate>,
    /// Counted on or before.
    pub to: Option<NaiveDate>,
    /// One status.
    pub status: Option<Status>,
}

/// A page of the visits the user may see, newest first, with the total that match.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    f: &ListFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<VisitView>, u64)> {
    let mut q = visit::Entity::find().filter(user.scope(visit::Column::RegionCode));
    if let Some(c) = f.case_id {
        q = q.filter(visit::COLUMN.case_id.eq(c));
    }
    if let Some(idn) = &f.id_number {
        let Some(p) = person::Entity::find()
            .filter(person::COLUMN.id_number.eq(idn.as_str()))
            .one(db)
            .await?
        else {
            return Ok((vec![], 0));
        };
        q = q.filter(visit::COLUMN.person_id.eq(p.id));
    }
    if let Some(d) = f.from {
        q = q.filter(visit::COLUMN.counted_on.gte(d));
    }
    if let Some(d) = f.to {
        q = q.filter(visit::COLUMN.counted_on.lte(d));
    }
    if let Some(s) = f.status {
        q = q.filter(visit::COLUMN.status.eq(s.code()));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(visit::COLUMN.id)
        .offset((page.saturating_sub(1)) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((views(db, &rows, true).await?, total))
}

/// Sums over a year's visits.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StatementTotals {
    /// Visits recorded (not voided, reversal entries not counted).
    pub visits: u64,
    /// 总费用 of those visits.
    pub total_cost: Money,
    /// 个人自付 of those visits.
    pub out_of_pocket: Money,
    /// Subsidy granted: not voided, net of reversals.
    pub subsidy: Money,
    /// Of which paid, net of reversals.
    pub paid: Money,
}

/// A patient's visits, subsidies and cap in one year.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// The person's record id: ask for the statement again by it, not by the ID number.
    pub person_id: i64,
    /// The ID number in full: the statement is about this one person.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region_code: String,
    /// Calendar year.
    pub year: i32,
    /// The annual cap on the year's reading day (`domain::allowance`: today within the year,
    /// its last day for a past year); null when no policy is in force for the groups.
    pub annual_cap: Option<Money>,
    /// Granted in the year (the figure the cap is checked against).
    pub granted: Money,
    /// What is left of the cap.
    pub cap_left: Option<Money>,
    /// Sums.
    pub totals: StatementTotals,
    /// Every visit and reversal entry of the year, by date.
    pub visits: Vec<VisitView>,
}

/// The statement of a person for a year, from the visits the user may see.
pub async fn statement(
    db: &DatabaseConnection,
    user: &CurrentUser,
    key: &crate::person::PersonKey,
    year: i32,
    today: NaiveDate,
) -> AppResult<Statement> {
    let p = key
        .find(db)
        .await?
        .ok_or_else(|| AppError::not_found("person", key.shown()))?;
    let rows = visit::Entity::find()
        .filter(visit::COLUMN.person_id.eq(p.id))
        .filter(visit::COLUMN.year.eq(year))
        .filter(user.scope(visit::Column::RegionCode))
        .order_by_asc(visit::COLUMN.counted_on)
        .order_by_asc(visit::COLUMN.id)
        .all(db)
        .await?;
    if rows.is_empty() {
        let home = RegionCode::parse(&p.region_code)
            .map_err(|_| anyhow::anyhow!("person {} has a bad region", p.id))?;
        user.ensure_in_scope(&home, "person", key.shown())?;
    }
    let annual = ledger::allowance(db, p.id, reading_day(year, today)).await?;
    let mut totals = StatementTotals::default();
    for v in &rows {
        let voided = v.status == Status::Voided.code();
        if voided {
            continue;
        }
        let subsidy = Money::from_fen(v.subsidy_fen);
        if v.reverses_visit_id.is_none() {
            totals.visits += 1;
            totals.total_cost = totals
                .total_cost
                .checked_add(Money::from_fen(v.total_cost_fen))
                .unwrap_or(totals.total_cost);
            totals.out_of_pocket = totals
                .out_of_pocket
                .checked_add(Money::from_fen(v.out_of_pocket_fen))
                .unwrap_or(totals.out_of_pocket);
        }
        totals.subsidy = totals
            .subsidy
            .checked_add(subsidy)
            .unwrap_or(totals.subsidy);
        if v.status == Status::Paid.code() {
            totals.paid = totals.paid.checked_add(subsidy).unwrap_or(totals.paid);
        }
    }
    Ok(Statement {
        person_id: p.id,
        id_number: p.id_number.clone(),
        name: p.name.clone(),
        region_code: p.region_code.clone(),
        year,
        annual_cap: annual.annual_cap,
        granted: annual.granted,
        cap_left: annual.cap_left,
        totals,
        visits: views(db, &rows, false).await?,
    })
}

/// The cap reason's label for a stored code.
pub fn cap_reason_label(code: Option<&str>, lang: Lang) -> &'static str {
    code.and_then(CapReason::parse)
        .map(|r| r.label(lang))
        .unwrap_or("")
}

/// Today in the service's time zone: the day clerks live in.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn check(
        kind: Kind,
        a: Option<&str>,
        dis: Option<&str>,
        v: Option<&str>,
    ) -> (Option<VisitDates>, Vec<&'static str>) {
        let mut p = Problems::new();
        let dates = VisitDates::check(
            kind,
            a.map(d),
            dis.map(d),
            v.map(d),
            d("2025-06-30"),
            &mut p,
        );
        (dates, p.codes())
    }

    #[test]
    fn a_stay_counts_on_its_discharge_and_an_outpatient_visit_on_its_day() {
        let (dates, problems) = check(
            Kind::Inpatient,
            Some("2025-05-28"),
            Some("2025-06-03"),
            None,
        );
        assert!(problems.is_empty());
        assert_eq!(dates.unwrap().counted_on(), d("2025-06-03"));
        let (dates, _) = check(Kind::Outpatient, None, None, Some("2025-06-30"));
        assert_eq!(dates.unwrap().counted_on(), d("2025-06-30"));
    }

    #[test]
    fn bad_dates_are_each_named() {
        assert_eq!(
            check(
                Kind::Inpatient,
                Some("2025-06-03"),
                Some("2025-06-02"),
                None
            )
            .1,
            ["discharge_before_admission"]
        );
        assert_eq!(
            check(
                Kind::Inpatient,
                Some("2025-06-03"),
                Some("2025-07-01"),
                None
            )
            .1,
            ["future_date"]
        );
        assert_eq!(
            check(Kind::Inpatient, None, None, Some("2025-06-01")).1,
            ["field_not_for_kind", "required", "required"]
        );
        assert_eq!(
            check(Kind::Outpatient, Some("2025-06-01"), None, None).1,
            ["field_not_for_kind", "required"]
        );
        let (dates, problems) = check(Kind::Outpatient, None, None, Some("2025-07-01"));
        assert_eq!((dates, problems), (None, vec!["future_date"]));
    }

    #[test]
    fn invoice_numbers_compare_without_width_case_or_spaces() {
        assert_eq!(normalise_invoice(" ｎｏ ２２０１-7 ").unwrap(), "NO2201-7");
        assert!(normalise_invoice("   ").is_err());
        assert!(normalise_invoice(&"1".repeat(65)).is_err());
    }

    #[test]
    fn statuses_and_kinds_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        assert_eq!(Kind::parse("inpatient"), Some(Kind::Inpatient));
        assert_eq!(Kind::parse("ward"), None);
    }
}
