//! Visits (就诊) and their subsidies: recording a visit against an approved case, the
//! subsidy's states, reversals, lists and a patient's yearly statement.
//!
//! The module's files, by responsibility:
//!
//! - `input`: a visit as entered (its dates, its invoice number), checked on its own;
//! - `record`: recording a visit and its preview, one plan (checks and computation, pure)
//!   then the write;
//! - `settle`: approving, paying, voiding and reversing a subsidy;
//! - `queries`: one visit, lists and a person's yearly statement;
//! - `view`: what the API shows of a visit, and the audit form of a row;
//! - `refusal`: every refusal, with its code and its messages in both languages;
//! - `ledger`: the annual grants and the lock the annual cap rests on;
//! - `export`: the yearly statement as .xlsx.
//!
//! Every date rule (the case's year, the roster, the policy, the annual cap) uses the date a
//! visit counts on: the discharge date of a stay, the date of an outpatient visit.

pub mod export;
mod input;
pub mod ledger;
mod queries;
mod record;
mod refusal;
mod settle;
mod view;

pub use input::{NewVisit, VisitDates, normalise_invoice};
pub use ledger::groups_on;
pub use queries::{ListFilter, Statement, StatementTotals, get, list, statement};
pub use record::{preview, record};
pub use refusal::{InputProblem, Refusal, Step};
pub use settle::{Transition, reverse, transition};
pub use view::{AnnualFigures, Preview, Recorded, UsedPolicy, VisitView};

use crate::domain::subsidy::CapReason;
use crate::domain::{Label, Lang};

pub use entity::visit::{Kind, Status};

impl Label for Kind {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Kind::Inpatient => lang.pick("住院", "Inpatient"),
            Kind::Outpatient => lang.pick("门诊", "Outpatient"),
        }
    }
}

impl Label for Status {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Pending => lang.pick("待审核", "Pending"),
            Status::Approved => lang.pick("已审核", "Approved"),
            Status::Paid => lang.pick("已支付", "Paid"),
            Status::Voided => lang.pick("已作废", "Voided"),
        }
    }
}

/// What the totals count unless told otherwise: money granted.
pub const GRANTED: [Status; 2] = [Status::Approved, Status::Paid];

/// The field that holds the date a visit of this kind counts on, for messages.
pub fn counted_field(kind: Kind) -> &'static str {
    match kind {
        Kind::Inpatient => "discharged_on",
        Kind::Outpatient => "visit_date",
    }
}

/// The cap reason's label for a stored code.
pub fn cap_reason_label(code: Option<&str>, lang: Lang) -> &'static str {
    code.and_then(CapReason::parse)
        .map(|r| r.label(lang))
        .unwrap_or("")
}
