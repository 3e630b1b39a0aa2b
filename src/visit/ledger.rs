//! The annual ledger: what a person was granted in a year (`annual_grants`) and what their
//! cap still allows. The cap rule itself is `domain::allowance`; this module reads the facts
//! it needs (the person's groups on a day, the policies in force, the year's grants), so the
//! eligibility check, recording and its preview, the case page and the statement all show
//! the same figure.
//!
//! The annual cap holds under any concurrency because recording computes the subsidy and
//! raises the person's row in one transaction that holds that row (`hold`): on PostgreSQL the
//! row is inserted if missing (`ON CONFLICT DO NOTHING`) and then locked with
//! `SELECT ... FOR UPDATE`, so visits of one person queue on it while other people's visits
//! run side by side; on SQLite the write transaction is `BEGIN IMMEDIATE`, which serialises
//! writers. Voiding and reversing lower the row in their own transaction (`add`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};

use entity::{annual_grant, roster_entry};

use crate::domain::{Allowance, Group, Money, PolicyCap};
use crate::error::AppResult;
use crate::policy::{self, Policy};

/// The groups whose roster entries cover a person on a day, in order, without repeats.
pub async fn groups_on<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    on: NaiveDate,
) -> Result<Vec<Group>, DbErr> {
    let codes: Vec<String> = roster_entry::Entity::find()
        .select_only()
        .column(roster_entry::Column::GroupCode)
        .distinct()
        .filter(roster_entry::COLUMN.person_id.eq(person_id))
        .filter(roster_entry::COLUMN.valid_from.lte(on))
        .filter(
            Condition::any()
                .add(roster_entry::COLUMN.valid_to.is_null())
                .add(roster_entry::COLUMN.valid_to.gte(on)),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let mut groups: Vec<Group> = codes.iter().filter_map(|c| Group::parse(c).ok()).collect();
    groups.sort();
    groups.dedup();
    Ok(groups)
}

/// What a person was granted in a year, without holding anything.
pub async fn granted<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    year: i32,
) -> Result<Money, DbErr> {
    Ok(annual_grant::Entity::find_by_id((person_id, year))
        .one(conn)
        .await?
        .map_or(Money::ZERO, |g| Money::from_fen(g.granted_fen)))
}

/// What a person was granted in a year, with their row held until the transaction ends
/// (created at zero if missing). This is the lock the annual cap rests on.
pub(crate) async fn hold(
    txn: &DatabaseTransaction,
    person_id: i64,
    year: i32,
    at: DateTime<Utc>,
) -> AppResult<Money> {
    annual_grant::Entity::insert(annual_grant::ActiveModel {
        person_id: Set(person_id),
        year: Set(year),
        granted_fen: Set(0),
        updated_at: Set(at),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    let row = annual_grant::Entity::find_by_id((person_id, year))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the annual grant row of {person_id}/{year} vanished"))?;
    Ok(Money::from_fen(row.granted_fen))
}

/// Raises (or, with a negative amount, lowers) what a person was granted in a year.
pub(crate) async fn add<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    year: i32,
    amount: Money,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if amount == Money::ZERO {
        return Ok(());
    }
    annual_grant::Entity::update_many()
        .col_expr(
            annual_grant::Column::GrantedFen,
            Expr::col(annual_grant::Column::GrantedFen).add(amount.fen()),
        )
        .col_expr(annual_grant::Column::UpdatedAt, Expr::value(at))
        .filter(annual_grant::COLUMN.person_id.eq(person_id))
        .filter(annual_grant::COLUMN.year.eq(year))
        .exec(conn)
        .await?;
    Ok(())
}

/// The caps of policies, for the cap rule.
pub fn caps(policies: &[Policy]) -> Vec<PolicyCap> {
    policies.iter().map(Policy::cap).collect()
}

/// A person's allowance on a day: their groups and the policies in force on it, and what
/// they were granted in its year.
pub async fn allowance<C: ConnectionTrait>(
    conn: &C,
    person_id: i64,
    on: NaiveDate,
) -> AppResult<Allowance> {
    let groups = groups_on(conn, person_id, on).await?;
    let policies = policy::in_force(conn, &groups, on).await?;
    let granted = granted(conn, person_id, on.year()).await?;
    Ok(Allowance::new(&groups, &caps(&policies), granted))
}
