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

use serde::Serialize;

use crate::domain::Lang;
use crate::domain::subsidy::CapReason;

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

    /// The field that holds the date a visit of this kind counts on, for messages.
    pub fn counted_field(self) -> &'static str {
        match self {
            Kind::Inpatient => "discharged_on",
            Kind::Outpatient => "visit_date",
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

/// The cap reason's label for a stored code.
pub fn cap_reason_label(code: Option<&str>, lang: Lang) -> &'static str {
    code.and_then(CapReason::parse)
        .map(|r| r.label(lang))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_kinds_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        assert_eq!(Kind::parse("inpatient"), Some(Kind::Inpatient));
        assert_eq!(Kind::parse("ward"), None);
    }
}
