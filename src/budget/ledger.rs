//! Moving budget lines with the subsidies, inside the subsidy's own transaction. Each move is
//! one `UPDATE` of the line's row: on PostgreSQL the row is locked and the condition read
//! again after a concurrent change, on SQLite writers take turns, so a line never commits more
//! than its amount however many approvals run at once.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Value,
};

use entity::{budget_line, region};

use super::refusal::BudgetRefusal;
use crate::error::AppResult;

async fn exec(txn: &DatabaseTransaction, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(crate::db::execute(txn, sql, values).await?)
}

/// The line that covers a subsidy: its county's for the year and group, else its city's.
///
/// The city's region row is held shared until the approval ends; creating a line in the city
/// holds it exclusively (`lines::create`), so that an approval never slips between a line's
/// creation and its commit uncounted (on PostgreSQL; SQLite's writers take turns anyway).
pub async fn line_for(
    txn: &DatabaseTransaction,
    year: i32,
    group_code: &str,
    region_code: &str,
) -> AppResult<Option<budget_line::Model>> {
    let county: String = region_code.chars().take(6).collect();
    let city: String = region_code.chars().take(4).collect();
    region::Entity::find_by_id(city.clone())
        .lock_shared()
        .one(txn)
        .await?;
    let lines = budget_line::Entity::find()
        .filter(budget_line::COLUMN.year.eq(year))
        .filter(budget_line::COLUMN.group_code.eq(group_code))
        .filter(budget_line::COLUMN.region_code.is_in([county, city]))
        .order_by_desc(budget_line::COLUMN.region_code)
        .all(txn)
        .await?;
    Ok(lines.into_iter().next())
}

/// Commits `fen` against a line; refused, changing nothing, when it does not fit. The refusal
/// gives the line's figures only to a user whose scope covers the line's region.
pub async fn commit(
    txn: &DatabaseTransaction,
    line: &budget_line::Model,
    fen: i64,
    at: DateTime<Utc>,
    show_figures: bool,
) -> AppResult<()> {
    let moved = exec(
        txn,
        "UPDATE budget_lines SET committed_fen = committed_fen + ?, updated_at = ? \
         WHERE id = ? AND committed_fen + ? <= amount_fen",
        vec![fen.into(), at.into(), line.id.into(), fen.into()],
    )
    .await?;
    if moved == 1 {
        return Ok(());
    }
    let now = budget_line::Entity::find_by_id(line.id)
        .one(txn)
        .await?
        .unwrap_or_else(|| line.clone());
    Err(BudgetRefusal::Exhausted {
        line: Box::new(now),
        asked_fen: fen,
        show_figures,
    }
    .into())
}

/// Releases what a voided or reversed subsidy committed (and, when it was paid, what it
/// consumed).
pub async fn release(
    txn: &DatabaseTransaction,
    line_id: i64,
    fen: i64,
    was_paid: bool,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let paid = if was_paid { fen } else { 0 };
    exec(
        txn,
        "UPDATE budget_lines SET committed_fen = committed_fen - ?, paid_fen = paid_fen - ?, \
         updated_at = ? WHERE id = ?",
        vec![fen.into(), paid.into(), at.into(), line_id.into()],
    )
    .await?;
    Ok(())
}

/// Records that a committed subsidy was paid.
pub async fn pay(
    txn: &DatabaseTransaction,
    line_id: i64,
    fen: i64,
    at: DateTime<Utc>,
) -> AppResult<()> {
    exec(
        txn,
        "UPDATE budget_lines SET paid_fen = paid_fen + ?, updated_at = ? WHERE id = ?",
        vec![fen.into(), at.into(), line_id.into()],
    )
    .await?;
    Ok(())
}

/// Records the subsidies a bank return file paid, line by line, in one statement.
pub async fn pay_returned(
    txn: &DatabaseTransaction,
    return_id: i64,
    at: DateTime<Utc>,
) -> AppResult<()> {
    // The lines are held in id order first: two return files touching the same lines queue
    // instead of each holding one and waiting for the other.
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(
                backend,
                "SELECT DISTINCT v.budget_line_id FROM visits v \
                 JOIN payment_lines l ON l.visit_id = v.id \
                 WHERE l.return_id = ? AND l.outcome = 'paid' AND v.budget_line_id IS NOT NULL",
            ),
            [return_id.into()],
        ))
        .await?;
    let mut ids = Vec::with_capacity(rows.len());
    for r in rows {
        ids.push(r.try_get_by_index::<i64>(0)?);
    }
    if ids.is_empty() {
        return Ok(());
    }
    budget_line::Entity::find()
        .filter(budget_line::COLUMN.id.is_in(ids))
        .order_by_asc(budget_line::COLUMN.id)
        .lock_exclusive()
        .all(txn)
        .await?;
    exec(
        txn,
        "UPDATE budget_lines SET paid_fen = budget_lines.paid_fen + p.fen, updated_at = ? \
         FROM (SELECT v.budget_line_id AS line, CAST(SUM(v.subsidy_fen) AS BIGINT) AS fen \
               FROM visits v JOIN payment_lines l ON l.visit_id = v.id \
               WHERE l.return_id = ? AND l.outcome = 'paid' AND v.budget_line_id IS NOT NULL \
               GROUP BY v.budget_line_id) p \
         WHERE p.line = budget_lines.id",
        vec![at.into(), return_id.into()],
    )
    .await?;
    Ok(())
}
