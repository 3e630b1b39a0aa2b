//! The payment service's refusals, each with its code and its messages.

use crate::domain::{Label, Lang, Localized};
use crate::error::{AppError, Msg};

use super::BatchState;

/// Why a batch is not drafted or not moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRefusal {
    /// No approved, unpaid subsidy with payee details matches the filters.
    NothingToPay {
        /// Matching subsidies whose case has no payee details yet.
        without_payee: u64,
    },
    /// The person who drafted a batch does not approve it.
    OwnBatch,
    /// The batch's state does not allow the action.
    NotAllowed {
        /// The batch.
        id: i64,
        /// Its state.
        state: BatchState,
        /// Its version.
        version: i32,
        /// What was asked, as a verb.
        action: &'static str,
    },
    /// The batch changed since the client read it.
    Stale {
        /// Its state.
        state: BatchState,
        /// Its version now.
        version: i32,
    },
    /// The payee details changed since the client read them.
    PayeeStale {
        /// Their version now.
        version: i32,
    },
}

impl Localized for PaymentRefusal {
    fn code(&self) -> &'static str {
        match self {
            PaymentRefusal::NothingToPay { .. } => "nothing_to_pay",
            PaymentRefusal::OwnBatch => "own_batch",
            PaymentRefusal::NotAllowed { .. } => "batch_transition_not_allowed",
            PaymentRefusal::Stale { .. } => "batch_stale",
            PaymentRefusal::PayeeStale { .. } => "payee_stale",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            PaymentRefusal::NothingToPay { without_payee: 0 } if zh => {
                "没有符合条件的已审核、未支付的救助金：请调整期间、地区、类别或医院。".to_owned()
            }
            PaymentRefusal::NothingToPay { without_payee: 0 } => {
                "No approved, unpaid subsidy matches: change the period, region, group or hospital."
                    .to_owned()
            }
            PaymentRefusal::NothingToPay { without_payee } if zh => format!(
                "没有可以发放的救助金：符合条件的 {without_payee} 笔所属案件尚未填写收款信息，请先在案件页填写。"
            ),
            PaymentRefusal::NothingToPay { without_payee } => format!(
                "Nothing can be paid: the {without_payee} matching subsidies belong to cases without payee details; add them on the case page first."
            ),
            PaymentRefusal::OwnBatch if zh => {
                "发放批次须由起草人以外的另一位管理人员审批。".to_owned()
            }
            PaymentRefusal::OwnBatch => {
                "A batch is approved by a second person, not the one who drafted it.".to_owned()
            }
            PaymentRefusal::NotAllowed {
                id, state, action, ..
            } if zh => format!(
                "批次 #{id} 当前为“{}”，不能{action}。",
                state.label(Lang::Zh)
            ),
            PaymentRefusal::NotAllowed {
                id, state, action, ..
            } => format!(
                "Batch #{id} is {}; it cannot be {action}.",
                state.label(Lang::En).to_lowercase()
            ),
            PaymentRefusal::Stale { version, .. } if zh => {
                format!("批次已被他人修改（当前版本 {version}）：请刷新后再操作。")
            }
            PaymentRefusal::Stale { version, .. } => format!(
                "The batch changed since you read it (now version {version}): reload it and try again."
            ),
            PaymentRefusal::PayeeStale { version } if zh => {
                format!("收款信息已被他人修改（当前版本 {version}）：请刷新后再保存。")
            }
            PaymentRefusal::PayeeStale { version } => format!(
                "The payee details changed since you read them (now version {version}): reload and save again."
            ),
        }
    }
}

impl From<PaymentRefusal> for AppError {
    fn from(r: PaymentRefusal) -> AppError {
        let msg = Msg::new(r.message(Lang::Zh), r.message(Lang::En));
        let code = r.code();
        match r {
            PaymentRefusal::NothingToPay { .. } => AppError::Unprocessable {
                code,
                message: msg,
                details: vec![],
            },
            PaymentRefusal::OwnBatch => AppError::Forbidden { code, message: msg },
            PaymentRefusal::NotAllowed { state, version, .. }
            | PaymentRefusal::Stale { state, version } => AppError::StateConflict {
                code,
                message: msg,
                state: state.code().to_owned(),
                version,
                allowed: super::allowed(state)
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
            },
            PaymentRefusal::PayeeStale { version } => AppError::StateConflict {
                code,
                message: msg,
                state: String::new(),
                version,
                allowed: vec![],
            },
        }
    }
}
