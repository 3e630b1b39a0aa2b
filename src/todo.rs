//! Each role's to-do list, for its home page: what waits for the user now, counted inside
//! their scope, each with the page where it is done. Work the user may not do themselves (their
//! own import to activate, their own case or subsidy to decide, their own batch to approve) is
//! left out of their list: it waits for someone else.

use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use entity::{budget_line, case, payment_batch, payment_line, roster_import, visit};

use crate::auth::CurrentUser;
use crate::domain::{Money, Role};
use crate::error::AppResult;

/// What waits, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Todo {
    /// Imports validated by someone else, waiting for a second person's activation.
    ImportsToActivate,
    /// The user's own validated imports (waiting for them, or for a second person).
    OwnImportsWaiting,
    /// The user's imports that failed in the last 30 days.
    ImportsFailed,
    /// This year's rejected cases, to correct and resubmit or leave.
    CasesRejected,
    /// This year's approved cases without any visit yet.
    CasesWithoutVisits,
    /// Submitted cases waiting for a decision.
    CasesToDecide,
    /// Recorded subsidies waiting for approval.
    SubsidiesToDecide,
    /// Approved subsidies not in any open payment batch.
    SubsidiesToPay,
    /// Draft batches waiting for a second manager's approval.
    BatchesToApprove,
    /// Approved batches: the notice, then the bank file.
    BatchesToExport,
    /// Exported batches waiting for the bank's return file.
    BatchesToReconcile,
    /// This year's budget lines at 80 % or more.
    BudgetWarnings,
}

/// One line of the list.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// What.
    pub todo: Todo,
    /// How many.
    pub count: u64,
    /// Their money, where it is money.
    pub amount: Option<Money>,
}

/// The user's list: for each role held, its lines (with zero counts, so the list says there
/// is nothing to do rather than leaving it out).
pub async fn for_user<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    today: NaiveDate,
) -> AppResult<Vec<Item>> {
    let mut out = Vec::new();
    let year = today.year();
    if user.has(Role::RosterImporter) {
        let visible = crate::roster::history::visible(user);
        let validated = roster_import::Entity::find()
            .filter(visible.clone())
            .filter(
                roster_import::COLUMN
                    .status
                    .eq(roster_import::Status::Validated),
            );
        let others = validated
            .clone()
            .filter(roster_import::COLUMN.created_by.ne(user.id))
            .count(db)
            .await?;
        let own = validated
            .filter(roster_import::COLUMN.created_by.eq(user.id))
            .count(db)
            .await?;
        let since = user.now - Duration::days(30);
        let failed = roster_import::Entity::find()
            .filter(roster_import::COLUMN.created_by.eq(user.id))
            .filter(
                roster_import::COLUMN
                    .status
                    .eq(roster_import::Status::Failed),
            )
            .filter(roster_import::COLUMN.created_at.gte(since))
            .count(db)
            .await?;
        out.push(item(Todo::ImportsToActivate, others));
        out.push(item(Todo::OwnImportsWaiting, own));
        out.push(item(Todo::ImportsFailed, failed));
    }
    if user.has(Role::Caseworker) {
        let this_year = case::Entity::find()
            .filter(user.scope(case::Column::RegionCode))
            .filter(case::COLUMN.year.eq(year));
        let rejected = this_year
            .clone()
            .filter(case::COLUMN.state.eq(case::State::Rejected))
            .count(db)
            .await?;
        let with_visits = Query::select()
            .column(visit::Column::CaseId)
            .from(visit::Entity)
            .to_owned();
        let idle = this_year
            .filter(case::COLUMN.state.eq(case::State::Approved))
            .filter(case::Column::Id.not_in_subquery(with_visits))
            .count(db)
            .await?;
        out.push(item(Todo::CasesRejected, rejected));
        out.push(item(Todo::CasesWithoutVisits, idle));
    }
    if user.has(Role::Approver) {
        let cases = case::Entity::find()
            .filter(user.scope(case::Column::RegionCode))
            .filter(case::COLUMN.state.eq(case::State::Submitted))
            .filter(case::COLUMN.opened_by.ne(user.id))
            .count(db)
            .await?;
        out.push(item(Todo::CasesToDecide, cases));
        let pending = visit::Entity::find()
            .filter(user.scope(visit::Column::RegionCode))
            .filter(visit::COLUMN.status.eq(visit::Status::Pending))
            .filter(visit::COLUMN.recorded_by.ne(user.id));
        out.push(money_item(db, Todo::SubsidiesToDecide, pending).await?);
    }
    if user.has(Role::Manager) {
        let held = Query::select()
            .column(payment_line::Column::VisitId)
            .from(payment_line::Entity)
            .and_where(payment_line::Column::ReleasedAt.is_null())
            .and_where(payment_line::Column::Outcome.is_null())
            .to_owned();
        let payable = visit::Entity::find()
            .filter(user.scope(visit::Column::RegionCode))
            .filter(visit::COLUMN.status.eq(visit::Status::Approved))
            .filter(visit::Column::Id.not_in_subquery(held));
        out.push(money_item(db, Todo::SubsidiesToPay, payable).await?);
        let batches = |state| {
            payment_batch::Entity::find()
                .filter(user.scope(payment_batch::Column::RegionCode))
                .filter(payment_batch::COLUMN.state.eq(state))
        };
        let to_approve = batches(payment_batch::State::Draft)
            .filter(payment_batch::COLUMN.drafted_by.ne(user.id))
            .count(db)
            .await?;
        let to_export = batches(payment_batch::State::Approved).count(db).await?;
        let to_reconcile = batches(payment_batch::State::Exported).count(db).await?;
        // 80 %: the first warning level of a line (`domain::budget`).
        let warnings = budget_line::Entity::find()
            .filter(user.scope(budget_line::Column::RegionCode))
            .filter(budget_line::COLUMN.year.eq(year))
            .filter(
                Expr::col(budget_line::Column::CommittedFen)
                    .mul(100)
                    .gte(Expr::col(budget_line::Column::AmountFen).mul(80)),
            )
            .count(db)
            .await?;
        out.push(item(Todo::BatchesToApprove, to_approve));
        out.push(item(Todo::BatchesToExport, to_export));
        out.push(item(Todo::BatchesToReconcile, to_reconcile));
        out.push(item(Todo::BudgetWarnings, warnings));
    }
    Ok(out)
}

fn item(todo: Todo, count: u64) -> Item {
    Item {
        todo,
        count,
        amount: None,
    }
}

/// How many subsidies a query finds and their sum.
async fn money_item<C: ConnectionTrait>(
    db: &C,
    todo: Todo,
    q: sea_orm::Select<visit::Entity>,
) -> AppResult<Item> {
    let row: Option<(i64, i64)> = q
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT)"),
            "fen",
        )
        .into_tuple()
        .one(db)
        .await?;
    let (n, fen) = row.unwrap_or((0, 0));
    Ok(Item {
        todo,
        count: u64::try_from(n).unwrap_or(0),
        amount: Some(Money::from_fen(fen)),
    })
}
