//! The refusals of the case service, typed, each with its code and its messages in both
//! languages (the pattern of `eligibility::rules::Reason`). Who may act and which state allows
//! which action are refused by `workflow` (`workflow::Refusal`, `workflow::NotAllowed`).

use super::FIRST_YEAR;
use super::workflow::{self, CaseState};
use crate::domain::Label;
use crate::domain::{Lang, Localized};
use crate::error::{AppError, FieldError, Msg};

/// Why a case is not opened or not moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRefusal {
    /// The year applied for is before the programme's records or in the future.
    YearOutOfRange {
        /// The current year, the last one accepted.
        last: i32,
    },
    /// No such hospital.
    UnknownHospital {
        /// The id given.
        id: i64,
    },
    /// The hospital is not designated.
    HospitalNotDesignated {
        /// Its name.
        name: String,
    },
    /// The patient is not eligible, so no case is opened (the reasons follow the message).
    NotEligibleToOpen,
    /// The patient no longer qualifies, so the case is not approved.
    NoLongerEligible,
    /// The patient is not eligible, so the case is not resubmitted.
    NotEligibleToResubmit,
    /// The case changed since the client read it.
    VersionConflict {
        /// The version the client read.
        read: i32,
        /// The version now.
        current: i32,
        /// The state now.
        state: CaseState,
    },
}

impl CaseRefusal {
    /// The request field of a refusal answered as a field problem.
    fn field(&self) -> Option<&'static str> {
        match self {
            CaseRefusal::YearOutOfRange { .. } => Some("year"),
            CaseRefusal::UnknownHospital { .. } | CaseRefusal::HospitalNotDesignated { .. } => {
                Some("hospital_id")
            }
            _ => None,
        }
    }
}

impl Localized for CaseRefusal {
    /// The envelope's code; a field problem is answered `validation_failed`, with this
    /// message as its field's.
    fn code(&self) -> &'static str {
        match self {
            CaseRefusal::YearOutOfRange { .. } => "year_out_of_range",
            CaseRefusal::UnknownHospital { .. } => "unknown_hospital",
            CaseRefusal::HospitalNotDesignated { .. } => "hospital_not_designated",
            CaseRefusal::NotEligibleToOpen | CaseRefusal::NotEligibleToResubmit => "not_eligible",
            CaseRefusal::NoLongerEligible => "no_longer_eligible",
            CaseRefusal::VersionConflict { .. } => "version_conflict",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            CaseRefusal::YearOutOfRange { last } if zh => {
                format!("年度须在{FIRST_YEAR}年到{last}年之间。")
            }
            CaseRefusal::YearOutOfRange { last } => {
                format!("year must be from {FIRST_YEAR} to {last}.")
            }
            CaseRefusal::UnknownHospital { id } if zh => format!("医院（编号{id}）不存在。"),
            CaseRefusal::UnknownHospital { id } => format!("There is no hospital {id}."),
            CaseRefusal::HospitalNotDesignated { name } if zh => {
                format!("{name}不是定点医院，不能受理救助。")
            }
            CaseRefusal::HospitalNotDesignated { name } => {
                format!("{name} is not a designated hospital.")
            }
            CaseRefusal::NotEligibleToOpen => lang
                .pick(
                    "该人员不符合救助条件，未开立案件：",
                    "The patient is not eligible; no case was opened:",
                )
                .to_owned(),
            CaseRefusal::NoLongerEligible => lang
                .pick(
                    "该人员已不符合救助条件，不能批准：",
                    "The patient no longer qualifies, so the case cannot be approved:",
                )
                .to_owned(),
            CaseRefusal::NotEligibleToResubmit => lang
                .pick(
                    "该人员不符合救助条件，不能重新提交：",
                    "The patient is not eligible, so the case cannot be resubmitted:",
                )
                .to_owned(),
            CaseRefusal::VersionConflict {
                read,
                current,
                state,
            } if zh => format!(
                "案件已被他人修改（您看到的是第{read}版，当前为第{current}版，状态“{}”），请刷新后再操作。",
                state.label(Lang::Zh)
            ),
            CaseRefusal::VersionConflict {
                read,
                current,
                state,
            } => format!(
                "The case changed since you read it (you have version {read}, it is now version {current}, {}); reload it and try again.",
                state.code()
            ),
        }
    }
}

/// The 409 of a case whose state or version stands in the way, saying where it stands.
pub(super) fn state_conflict(
    code: &'static str,
    message: Msg,
    version: i32,
    state: CaseState,
) -> AppError {
    AppError::StateConflict {
        code,
        message,
        state: state.code().to_owned(),
        version,
        allowed: workflow::allowed(state)
            .iter()
            .map(|a| a.code().to_owned())
            .collect(),
    }
}

impl From<CaseRefusal> for AppError {
    /// A field problem is a 422 `validation_failed` naming the field; a version conflict a
    /// 409 with where the case stands. (The eligibility refusals are answered with their
    /// reasons by `eligibility::Eligibility::refusal`, with these messages as the lead.)
    fn from(r: CaseRefusal) -> AppError {
        if let Some(field) = r.field() {
            return AppError::validation(vec![FieldError::new(field, Msg::of(&r))]);
        }
        match r {
            CaseRefusal::VersionConflict { current, state, .. } => {
                state_conflict(r.code(), Msg::of(&r), current, state)
            }
            _ => AppError::Refused {
                code: r.code(),
                message: Msg::of(&r),
                reasons: vec![],
                details: vec![],
            },
        }
    }
}
