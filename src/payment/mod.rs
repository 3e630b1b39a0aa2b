//! Paying subsidies through the bank (资金发放): how each case is paid (`payee`), and payment
//! batches (发放批次) of approved subsidies, drafted by a manager and approved by a second
//! person (`batch`), read back with their lines and control totals (`queries`, `view`).
//!
//! A subsidy is in at most one open line: the database's partial unique index
//! `ux_payment_lines_open` refuses a second, so two batches drafted at the same moment never
//! take the same subsidy. Cancelling a batch releases its lines and the subsidies are payable
//! again. The rules in words: docs/payments.md.

mod bank_file;
mod batch;
pub mod layout;
mod payee;
mod queries;
mod refusal;
mod view;

pub use bank_file::{BankFile, export};
pub use batch::{BatchFilter, Move, decide, draft};
pub use payee::{PayeeInput, payee_of, set_payee};
pub use queries::{get, list};
pub use refusal::PaymentRefusal;
pub use view::{BatchDetail, BatchView, Drafted, LineView, PayeeView, Totals};

pub use entity::payment_batch::State as BatchState;

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

/// What may be done to a batch in a state (the `allowed` of a 409).
pub fn allowed(state: BatchState) -> &'static [&'static str] {
    match state {
        BatchState::Draft => &["approve", "cancel"],
        BatchState::Approved => &["cancel"],
        BatchState::Exported | BatchState::Reconciled | BatchState::Cancelled => &[],
    }
}
