//! Paying subsidies through the bank (资金发放): how each case is paid (`payee`), and payment
//! batches (发放批次) of approved subsidies, drafted by a manager and approved by a second
//! person (`batch`), read back with their lines and control totals (`queries`, `view`),
//! exported as the bank's file (`layout`, `bank_file`) and reconciled with the bank's return
//! file (`return_file` reads it, `reconcile` settles the lines).
//!
//! A subsidy is in at most one open line: the database's partial unique index
//! `ux_payment_lines_open` refuses a second, so two batches drafted at the same moment never
//! take the same subsidy. Cancelling a batch releases its lines and the subsidies are payable
//! again. The rules in words: docs/payments.md.

mod bank_file;
mod batch;
pub mod layout;
pub mod layout_check;
mod notice;
mod notice_rules;
mod notice_sheet;
mod payee;
mod queries;
mod reconcile;
mod refusal;
mod return_file;
mod view;

pub use bank_file::{BankFile, export};
pub use batch::{BatchFilter, Move, decide, draft};
pub use notice::{Notice, NoticeEntry, notice, notice_file, object, objections, resolve};
pub use notice_rules::{NameMask, NoticePeriod, NoticeRules};
pub use payee::{PayeeInput, payee_of, set_payee};
pub use queries::{get, lines_of_visit, list, return_of, returns};
pub use reconcile::{ReturnUpload, reconcile};
pub use refusal::PaymentRefusal;
pub use view::{
    BatchDetail, BatchView, Drafted, LineView, ObjectionView, PayeeView, ProblemView, ReturnView,
    Totals,
};

pub use entity::payment_batch::State as BatchState;
pub use entity::payment_line::Outcome;
pub use entity::payment_return_row::Verdict;

use crate::domain::{Label, Lang};

impl Label for BatchState {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            BatchState::Draft => lang.pick("草稿", "Draft"),
            BatchState::Approved => lang.pick("已审批", "Approved"),
            BatchState::Exported => lang.pick("已导出", "Exported"),
            BatchState::Reconciled => lang.pick("已对账", "Reconciled"),
            BatchState::Cancelled => lang.pick("已取消", "Cancelled"),
        }
    }
}

impl Label for entity::payment_objection::State {
    fn label(self, lang: Lang) -> &'static str {
        use entity::payment_objection::State;
        match self {
            State::Open => lang.pick("待处理", "Open"),
            State::Upheld => lang.pick("异议成立", "Upheld"),
            State::Dismissed => lang.pick("异议不成立", "Dismissed"),
        }
    }
}

impl Label for Outcome {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Outcome::Paid => lang.pick("已入账", "Paid"),
            Outcome::Failed => lang.pick("失败", "Failed"),
        }
    }
}

impl Label for Verdict {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Verdict::Paid => lang.pick("已入账", "Paid"),
            Verdict::Failed => lang.pick("失败", "Failed"),
            Verdict::Unreadable => lang.pick("无法读取", "Unreadable"),
            Verdict::Unmatched => lang.pick("无对应付款", "No such line"),
            Verdict::AmountMismatch => lang.pick("金额不符", "Amount differs"),
            Verdict::AccountMismatch => lang.pick("账号不符", "Account differs"),
            Verdict::Duplicate => lang.pick("重复", "Listed twice"),
            Verdict::AlreadySettled => lang.pick("此前已对账", "Settled already"),
            Verdict::NotPayable => lang.pick("救助金已不可支付", "Not payable"),
        }
    }
}

/// What may be done to a batch in a state (the `allowed` of a 409).
pub fn allowed(state: BatchState) -> &'static [&'static str] {
    match state {
        BatchState::Draft => &["approve", "cancel"],
        BatchState::Approved => &["notice", "objections", "export", "cancel"],
        BatchState::Exported => &["return_file"],
        BatchState::Reconciled | BatchState::Cancelled => &[],
    }
}
