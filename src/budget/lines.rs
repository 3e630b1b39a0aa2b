//! Budget lines read and set: listed inside the user's scope with their use, created and
//! changed by managers of the whole province (the route's rule), each change audited. A line
//! created during its year takes the year's approved subsidies that no line holds yet, so its
//! figures start from what was already granted.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, Statement,
};

use entity::{budget_line, region};

use super::refusal::BudgetRefusal;
use super::view::BudgetLineView;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::budget::MAX_LINE;
use crate::domain::{Group, Money, RegionPrefix};
use crate::error::{AppError, AppResult, current_lang};

/// A new line.
#[derive(Debug, Clone)]
pub struct LineInput {
    /// The year.
    pub year: i32,
    /// A city or a county.
    pub region: RegionPrefix,
    /// The group.
    pub group: Group,
    /// The amount.
    pub amount: Money,
}

async fn names<C: ConnectionTrait>(
    conn: &C,
    codes: impl IntoIterator<Item = String>,
) -> AppResult<HashMap<String, String>> {
    Ok(region::Entity::find()
        .filter(region::Column::Code.is_in(codes))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect())
}

async fn view_of<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    l: &budget_line::Model,
) -> AppResult<BudgetLineView> {
    let name = names(conn, [l.region_code.clone()])
        .await?
        .remove(&l.region_code)
        .unwrap_or_default();
    Ok(BudgetLineView::of(l, name, user.today(), current_lang()))
}

/// The lines inside the user's scope, of a year or of all years, newest year first.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    year: Option<i32>,
) -> AppResult<Vec<BudgetLineView>> {
    let mut q = budget_line::Entity::find().filter(user.scope(budget_line::Column::RegionCode));
    if let Some(y) = year {
        q = q.filter(budget_line::COLUMN.year.eq(y));
    }
    let lines = q
        .order_by_desc(budget_line::COLUMN.year)
        .order_by_asc(budget_line::COLUMN.region_code)
        .order_by_asc(budget_line::COLUMN.group_code)
        .limit(5_000)
        .all(db)
        .await?;
    let names = names(db, lines.iter().map(|l| l.region_code.clone())).await?;
    let (today, lang) = (user.today(), current_lang());
    Ok(lines
        .iter()
        .map(|l| {
            let name = names.get(&l.region_code).cloned().unwrap_or_default();
            BudgetLineView::of(l, name, today, lang)
        })
        .collect())
}

/// Creates a line, taking the year's approved subsidies of its region and group that no line
/// holds yet.
pub async fn create(
    db: &DatabaseConnection,
    user: &CurrentUser,
    input: LineInput,
) -> AppResult<BudgetLineView> {
    let code = input.region.as_str().to_owned();
    if !matches!(code.len(), 4 | 6) || !user.region.covers(&input.region) {
        return Err(BudgetRefusal::RegionLevel.into());
    }
    if input.amount > MAX_LINE {
        return Err(BudgetRefusal::TooLarge.into());
    }
    let txn = crate::db::begin_write(db).await?;
    // The city's region row, held until the line is committed: approvals in the city wait
    // (`ledger::line_for`), so none is approved uncounted while the line is made.
    let city: String = code.chars().take(4).collect();
    region::Entity::find_by_id(city)
        .lock_exclusive()
        .one(&txn)
        .await?;
    if region::Entity::find_by_id(code.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(BudgetRefusal::RegionLevel.into());
    }
    let line = budget_line::ActiveModel {
        year: Set(input.year),
        region_code: Set(code.clone()),
        group_code: Set(input.group.code().to_owned()),
        amount_fen: Set(input.amount.fen()),
        committed_fen: Set(0),
        paid_fen: Set(0),
        version: Set(1),
        created_by: Set(user.id),
        created_at: Set(user.now),
        updated_by: Set(user.id),
        updated_at: Set(user.now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let line = match line {
        Ok(l) => l,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let existing = budget_line::Entity::find()
                .filter(budget_line::COLUMN.year.eq(input.year))
                .filter(budget_line::COLUMN.region_code.eq(code.clone()))
                .filter(budget_line::COLUMN.group_code.eq(input.group.code()))
                .one(db)
                .await?
                .map_or(0, |l| l.id);
            return Err(BudgetRefusal::Exists { id: existing }.into());
        }
        Err(e) => return Err(e.into()),
    };
    // The subsidies granted before the line existed, approved or paid, with reversal entries
    // netting out what they reversed: tagged first, then summed by their tag, so the sum is
    // of exactly the rows this transaction holds.
    let backend = txn.get_database_backend();
    crate::db::execute(
        &txn,
        "UPDATE visits SET budget_line_id = ? WHERE year = ? AND group_code = ? \
         AND SUBSTR(region_code, 1, ?) = ? AND budget_line_id IS NULL \
         AND status IN ('approved', 'paid')",
        vec![
            line.id.into(),
            input.year.into(),
            input.group.code().into(),
            (code.len() as i32).into(),
            code.clone().into(),
        ],
    )
    .await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(
                backend,
                "SELECT CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN status = 'paid' THEN subsidy_fen ELSE 0 END), 0) AS BIGINT) \
                 FROM visits WHERE budget_line_id = ?",
            ),
            [line.id.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("a sum answered no row"))?;
    let (committed, paid): (i64, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    let mut am: budget_line::ActiveModel = line.into();
    am.committed_fen = Set(committed);
    am.paid_fen = Set(paid);
    let line = am.update(&txn).await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "budget_line.create",
            entity_type: "budget_line",
            entity_id: line.id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "year": line.year, "region_code": line.region_code, "group": line.group_code,
                "amount_fen": line.amount_fen, "committed_fen": committed, "paid_fen": paid,
            })),
        },
    )
    .await?;
    let view = view_of(&txn, user, &line).await?;
    txn.commit().await?;
    Ok(view)
}

/// Sets a line's amount, naming the version read; never under what is committed.
pub async fn update(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    version: i32,
    amount: Money,
) -> AppResult<BudgetLineView> {
    let txn = crate::db::begin_write(db).await?;
    let line = budget_line::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|l| RegionPrefix::parse(&l.region_code).is_ok_and(|r| user.region.covers(&r)))
        .ok_or_else(|| AppError::not_found("budget_line", id))?;
    if line.version != version {
        return Err(BudgetRefusal::Stale {
            version: line.version,
        }
        .into());
    }
    if amount > MAX_LINE {
        return Err(BudgetRefusal::TooLarge.into());
    }
    if amount.fen() < line.committed_fen {
        return Err(BudgetRefusal::BelowCommitted {
            committed_fen: line.committed_fen,
        }
        .into());
    }
    let before = serde_json::json!({"amount_fen": line.amount_fen, "version": line.version});
    let mut am: budget_line::ActiveModel = line.clone().into();
    am.amount_fen = Set(amount.fen());
    am.version = Set(line.version + 1);
    am.updated_by = Set(user.id);
    am.updated_at = Set(user.now);
    let line = am.update(&txn).await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "budget_line.update",
            entity_type: "budget_line",
            entity_id: id.to_string(),
            before: Some(before),
            after: Some(serde_json::json!({
                "amount_fen": line.amount_fen, "version": line.version,
                "committed_fen": line.committed_fen,
            })),
        },
    )
    .await?;
    let view = view_of(&txn, user, &line).await?;
    txn.commit().await?;
    Ok(view)
}
