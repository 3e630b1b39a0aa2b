//! Every refusal of the visit module, typed, each with its stable code and its messages in
//! both languages: the checks name what failed, this file says it (the pattern of
//! `eligibility::rules::Reason`). `From<Refusal> for AppError` gives each its HTTP answer.

use chrono::NaiveDate;

use super::view::VisitView;
use super::{Kind, Status};
use crate::case::workflow::CaseState;
use crate::domain::Label;
use crate::domain::{Group, Lang, Localized};
use crate::error::{AppError, FieldError, Msg};

/// A problem with a visit as entered, found before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProblem {
    /// A date the kind of visit needs is missing.
    Required {
        /// Inpatient or outpatient.
        kind: Kind,
        /// `admitted_on`, `discharged_on` or `visit_date`.
        field: &'static str,
    },
    /// A date of the other kind of visit was given.
    FieldNotForKind {
        /// Inpatient or outpatient.
        kind: Kind,
        /// The date given.
        field: &'static str,
    },
    /// Discharged before admitted.
    DischargeBeforeAdmission {
        /// 入院日期.
        admitted_on: NaiveDate,
        /// 出院日期.
        discharged_on: NaiveDate,
    },
    /// A date after today.
    FutureDate {
        /// The field.
        field: &'static str,
        /// Its date.
        date: NaiveDate,
        /// Today.
        today: NaiveDate,
    },
    /// The invoice number is empty or too long.
    InvoiceNumber,
}

impl InputProblem {
    /// The request field the problem is about.
    pub fn field(&self) -> &'static str {
        match self {
            InputProblem::Required { field, .. }
            | InputProblem::FieldNotForKind { field, .. }
            | InputProblem::FutureDate { field, .. } => field,
            InputProblem::DischargeBeforeAdmission { .. } => "discharged_on",
            InputProblem::InvoiceNumber => "invoice_no",
        }
    }
}

/// A date field's name in Chinese.
fn date_name_zh(field: &str) -> &'static str {
    match field {
        "admitted_on" => "入院日期",
        "discharged_on" => "出院日期",
        _ => "就诊日期",
    }
}

impl Localized for InputProblem {
    fn code(&self) -> &'static str {
        match self {
            InputProblem::Required { .. } => "required",
            InputProblem::FieldNotForKind { .. } => "field_not_for_kind",
            InputProblem::DischargeBeforeAdmission { .. } => "discharge_before_admission",
            InputProblem::FutureDate { .. } => "future_date",
            InputProblem::InvoiceNumber => "invalid_invoice_no",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (InputProblem::Required { kind, field }, Lang::Zh) => format!(
                "{}须填写{} {field}（YYYY-MM-DD）。",
                kind.label(Lang::Zh),
                date_name_zh(field)
            ),
            (InputProblem::Required { kind, field }, Lang::En) => format!(
                "An {} visit needs {field} (YYYY-MM-DD).",
                kind.label(Lang::En)
            ),
            (InputProblem::FieldNotForKind { kind, field }, Lang::Zh) => format!(
                "{}不填{field}：住院填 admitted_on 和 discharged_on，门诊填 visit_date。",
                kind.label(Lang::Zh)
            ),
            (InputProblem::FieldNotForKind { kind, field }, Lang::En) => format!(
                "{field} is not for an {} visit: a stay has admitted_on and discharged_on, an outpatient visit visit_date.",
                kind.label(Lang::En)
            ),
            (
                InputProblem::DischargeBeforeAdmission {
                    admitted_on: a,
                    discharged_on: d,
                },
                Lang::Zh,
            ) => format!("出院日期 {d} 早于入院日期 {a}：请核对。"),
            (
                InputProblem::DischargeBeforeAdmission {
                    admitted_on: a,
                    discharged_on: d,
                },
                Lang::En,
            ) => format!("discharged_on {d} is before admitted_on {a}: check the dates."),
            (
                InputProblem::FutureDate {
                    field,
                    date: d,
                    today,
                },
                Lang::Zh,
            ) => format!("{field} {d} 晚于今天（{today}）：只能登记已发生的就诊。"),
            (
                InputProblem::FutureDate {
                    field,
                    date: d,
                    today,
                },
                Lang::En,
            ) => format!(
                "{field} {d} is after today ({today}): only visits that have happened can be recorded."
            ),
            (InputProblem::InvoiceNumber, _) => lang
                .pick(
                    "请填写发票号（最多64个字符）。",
                    "Give the invoice number (at most 64 characters).",
                )
                .to_owned(),
        }
    }
}

/// A change of a subsidy's state, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// pending → approved.
    Approve,
    /// approved → paid.
    Pay,
    /// → voided.
    Void,
}

impl Step {
    /// The verb, as "cannot be ...".
    pub fn verb(self, lang: Lang) -> &'static str {
        match self {
            Step::Approve => lang.pick("审核", "approved"),
            Step::Pay => lang.pick("支付", "paid"),
            Step::Void => lang.pick("作废", "voided"),
        }
    }
}

/// Why a visit is not recorded, or its subsidy's state not changed.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Visits are recorded only on approved cases.
    CaseNotApproved {
        /// The case.
        case_id: i64,
        /// Its state.
        state: CaseState,
    },
    /// The visit counts on a day outside the case's year.
    OutsideCaseYear {
        /// The case.
        case_id: i64,
        /// Its year.
        case_year: i32,
        /// The day the visit counts on.
        on: NaiveDate,
        /// The visit's kind (which field holds that day).
        kind: Kind,
    },
    /// No such hospital.
    UnknownHospital {
        /// The id given.
        hospital_id: i64,
    },
    /// The hospital is not designated.
    HospitalNotDesignated {
        /// Its name.
        name: String,
        /// Its code.
        code: String,
    },
    /// The invoice is already recorded, as a visit the user may see.
    DuplicateInvoice {
        /// That visit.
        existing: Box<VisitView>,
    },
    /// The invoice is already recorded, outside the user's scope: not a word of whose.
    DuplicateInvoiceElsewhere {
        /// The invoice number.
        invoice: String,
    },
    /// The patient is on no roster on the day the visit counts on.
    NotOnRoster {
        /// That day.
        on: NaiveDate,
        /// The visit's kind.
        kind: Kind,
    },
    /// No policy of the patient's groups is in force on that day.
    NoPolicy {
        /// That day.
        on: NaiveDate,
        /// The patient's groups.
        groups: Vec<Group>,
        /// The visit's kind.
        kind: Kind,
    },
    /// A reversal entry does not change state.
    ReversalEntry {
        /// The entry.
        id: i64,
    },
    /// The subsidy's state does not allow the change.
    InvalidTransition {
        /// The visit.
        id: i64,
        /// Its state.
        status: Status,
        /// The change asked for.
        step: Step,
    },
    /// Only a paid subsidy is reversed.
    NotPaid {
        /// The visit.
        id: i64,
        /// Its state.
        status: Status,
    },
    /// An approver does not approve a visit they recorded.
    OwnVisit,
    /// Paid before the visit's date.
    PaidBeforeVisit {
        /// The payment date.
        paid_on: NaiveDate,
        /// The visit's date.
        counted_on: NaiveDate,
    },
    /// The subsidy is in a payment batch that the bank has not settled: it is paid, or
    /// released, through the batch.
    InPaymentBatch {
        /// The visit.
        id: i64,
        /// The batch's number.
        batch_no: String,
    },
    /// The visit is already reversed.
    AlreadyReversed {
        /// The visit.
        id: i64,
        /// The reversal entry, when it is known.
        entry: Option<i64>,
    },
}

impl Refusal {
    /// The request field the refusal is about, for the refusals answered per field.
    fn field(&self) -> &'static str {
        match self {
            Refusal::OutsideCaseYear { kind, .. }
            | Refusal::NotOnRoster { kind, .. }
            | Refusal::NoPolicy { kind, .. } => super::counted_field(*kind),
            Refusal::UnknownHospital { .. } | Refusal::HospitalNotDesignated { .. } => {
                "hospital_id"
            }
            Refusal::DuplicateInvoice { .. } | Refusal::DuplicateInvoiceElsewhere { .. } => {
                "invoice_no"
            }
            Refusal::PaidBeforeVisit { .. } => "paid_on",
            _ => "",
        }
    }
}

impl Localized for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::CaseNotApproved { .. } => "case_not_approved",
            Refusal::OutsideCaseYear { .. } => "visit_outside_case_year",
            Refusal::UnknownHospital { .. } => "unknown_hospital",
            Refusal::HospitalNotDesignated { .. } => "hospital_not_designated",
            Refusal::DuplicateInvoice { .. } | Refusal::DuplicateInvoiceElsewhere { .. } => {
                "duplicate_invoice"
            }
            Refusal::NotOnRoster { .. } => "not_on_roster",
            Refusal::NoPolicy { .. } => "no_policy",
            Refusal::ReversalEntry { .. } => "reversal_entry",
            Refusal::InvalidTransition { .. } | Refusal::NotPaid { .. } => "invalid_transition",
            Refusal::OwnVisit => "own_visit",
            Refusal::PaidBeforeVisit { .. } => "paid_before_visit",
            Refusal::AlreadyReversed { .. } => "already_reversed",
            Refusal::InPaymentBatch { .. } => "in_payment_batch",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            Refusal::CaseNotApproved { case_id, state } if zh => {
                format!(
                    "案件 #{case_id} 的状态为“{}”，只有已批准的案件才能登记就诊。",
                    state.label(Lang::Zh)
                )
            }
            Refusal::CaseNotApproved { case_id, state } => {
                format!(
                    "Case #{case_id} is {}; visits are recorded only on approved cases.",
                    state.label(Lang::En).to_lowercase()
                )
            }
            Refusal::OutsideCaseYear {
                case_id,
                case_year,
                on,
                ..
            } if zh => format!("就诊计入日期 {on} 不在案件 #{case_id} 的救助年度 {case_year} 内。"),
            Refusal::OutsideCaseYear {
                case_id,
                case_year,
                on,
                ..
            } => format!("The visit counts on {on}, outside case #{case_id}'s year {case_year}."),
            Refusal::UnknownHospital { hospital_id } if zh => {
                format!("没有编号为 {hospital_id} 的医院：请从医院列表中选择。")
            }
            Refusal::UnknownHospital { hospital_id } => {
                format!("There is no hospital {hospital_id}: pick one from the hospital list.")
            }
            Refusal::HospitalNotDesignated { name, .. } if zh => {
                format!("{name}不是定点医院，在此就诊不能获得救助。")
            }
            Refusal::HospitalNotDesignated { name, code } => format!(
                "{name} ({code}) is not a designated hospital; visits there get no subsidy."
            ),
            Refusal::DuplicateInvoice { existing } => {
                let invoice = existing.invoice_no.as_deref().unwrap_or_default();
                if zh {
                    format!(
                        "该医院的发票号“{invoice}”已登记为就诊记录 #{}（{}，{}）：同一张发票不能重复登记。",
                        existing.id, existing.person_name, existing.counted_on
                    )
                } else {
                    format!(
                        "Invoice '{invoice}' of this hospital is already recorded as visit #{} ({}): an invoice is recorded once.",
                        existing.id, existing.counted_on
                    )
                }
            }
            Refusal::DuplicateInvoiceElsewhere { invoice } if zh => format!(
                "该医院的发票号“{invoice}”已登记过：同一张发票不能重复登记。请核对发票号；如确认无误，请联系省级管理员核实。"
            ),
            Refusal::DuplicateInvoiceElsewhere { invoice } => format!(
                "Invoice '{invoice}' of this hospital is already recorded: an invoice is recorded once. Check the number; if it is right, ask a province administrator to look into it."
            ),
            Refusal::NotOnRoster { on, .. } if zh => {
                format!("患者在 {on} 不在任何救助名册上，不能获得救助。")
            }
            Refusal::NotOnRoster { on, .. } => {
                format!("On {on} the patient is on no assistance roster, so no subsidy applies.")
            }
            Refusal::NoPolicy { on, groups, .. } if zh => {
                let labels: Vec<&str> = groups.iter().map(|g| g.label_zh()).collect();
                format!(
                    "{on} 没有适用于{}的救助政策：请管理员先设置政策。",
                    labels.join("、")
                )
            }
            Refusal::NoPolicy { on, groups, .. } => {
                let codes: Vec<&str> = groups.iter().map(|g| g.code()).collect();
                format!(
                    "No subsidy policy for {} is in force on {on}: an administrator must set one first.",
                    codes.join(", ")
                )
            }
            Refusal::ReversalEntry { id } if zh => {
                format!("#{id} 是冲销记录，不能再审核、支付、作废或冲销。")
            }
            Refusal::ReversalEntry { id } => format!(
                "#{id} is a reversal entry: it cannot be approved, paid, voided or reversed."
            ),
            Refusal::InvalidTransition { id, status, step } => {
                let hint = match (step, status) {
                    (Step::Void, Status::Paid) => lang.pick(
                        "已支付的救助金不能作废，请由管理人员冲销。",
                        "A paid subsidy cannot be voided; a manager reverses it instead.",
                    ),
                    _ => "",
                };
                if zh {
                    format!(
                        "就诊记录 #{id} 的状态为“{}”，不能{}。{hint}",
                        status.label(Lang::Zh),
                        step.verb(Lang::Zh),
                    )
                } else {
                    format!(
                        "Visit #{id} is {} and cannot be {}. {hint}",
                        status.code(),
                        step.verb(Lang::En),
                    )
                    .trim_end()
                    .to_owned()
                }
            }
            Refusal::NotPaid { id, status } if zh => format!(
                "就诊记录 #{id} 的状态为“{}”，只有已支付的救助金才能冲销（未支付的请作废）。",
                status.label(Lang::Zh)
            ),
            Refusal::NotPaid { id, status } => format!(
                "Visit #{id} is {}: only a paid subsidy is reversed (void an unpaid one).",
                status.code()
            ),
            Refusal::OwnVisit => lang
                .pick(
                    "不能审核自己登记的就诊记录，请由其他审核人审核。",
                    "You recorded this visit, so another approver must approve it.",
                )
                .to_owned(),
            Refusal::PaidBeforeVisit {
                paid_on,
                counted_on,
            } if zh => format!("支付日期 {paid_on} 早于就诊计入日期 {counted_on}。"),
            Refusal::PaidBeforeVisit {
                paid_on,
                counted_on,
            } => format!("paid_on {paid_on} is before the visit's date {counted_on}."),
            Refusal::InPaymentBatch { id, batch_no } if zh => format!(
                "就诊记录 #{id} 的救助金已列入发放批次 {batch_no}，由银行回盘确认支付；如需作废或另行支付，请先取消该批次或对该笔提出异议。"
            ),
            Refusal::InPaymentBatch { id, batch_no } => format!(
                "Visit #{id}'s subsidy is in payment batch {batch_no} and is paid when the bank's return file confirms it; to void it or pay it otherwise, cancel the batch or raise an objection to the line first."
            ),
            Refusal::AlreadyReversed { id, entry } => match (entry, zh) {
                (Some(e), true) => format!("就诊记录 #{id} 已由冲销记录 #{e} 冲销。"),
                (Some(e), false) => format!("Visit #{id} is already reversed by entry #{e}."),
                (None, true) => format!("就诊记录 #{id} 已被冲销。"),
                (None, false) => format!("Visit #{id} is already reversed."),
            },
        }
    }
}

impl From<Refusal> for AppError {
    /// The HTTP answer of a refusal: 409 when the visit's or the case's state stands in the
    /// way or the invoice exists, 403 for one's own visit, 422 with the field otherwise.
    fn from(r: Refusal) -> AppError {
        let code = r.code();
        let message = Msg::of(&r);
        match r {
            Refusal::CaseNotApproved { .. }
            | Refusal::ReversalEntry { .. }
            | Refusal::InvalidTransition { .. }
            | Refusal::NotPaid { .. }
            | Refusal::InPaymentBatch { .. }
            | Refusal::AlreadyReversed { .. } => AppError::conflict(code, message),
            Refusal::OwnVisit => AppError::Forbidden { code, message },
            Refusal::DuplicateInvoice { ref existing } => AppError::Duplicate {
                code,
                details: vec![FieldError::new(r.field(), message.clone())],
                message,
                existing: serde_json::to_value(existing).unwrap_or_default(),
            },
            Refusal::DuplicateInvoiceElsewhere { .. } => AppError::Duplicate {
                code,
                details: vec![FieldError::new(r.field(), message.clone())],
                message,
                existing: serde_json::Value::Null,
            },
            Refusal::OutsideCaseYear { .. }
            | Refusal::UnknownHospital { .. }
            | Refusal::HospitalNotDesignated { .. }
            | Refusal::NotOnRoster { .. }
            | Refusal::NoPolicy { .. }
            | Refusal::PaidBeforeVisit { .. } => AppError::Unprocessable {
                code,
                details: vec![FieldError::new(r.field(), message.clone())],
                message,
            },
        }
    }
}
