//! The programme's budget (资金额度): lines per year × region (a city or a county) × group, set
//! by managers of the whole province (`lines`), and the ledger that moves them with the
//! subsidies (`ledger`): approving commits against the line that covers the subsidy (its
//! county's, else its city's) and is refused when the line has no room; voiding or reversing
//! releases; paying consumes. The moves are single conditional updates of the line's row, so
//! they hold under concurrency as the annual cap does. The rules in words: docs/budget.md.

pub mod ledger;
mod lines;
mod refusal;
mod view;

pub use lines::{LineInput, create, list, update};
pub use refusal::BudgetRefusal;
pub use view::BudgetLineView;
