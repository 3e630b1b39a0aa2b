//! Slowing down password guessing without a lock-out button.
//!
//! Failed logins are counted per account name (lowercased, whether or not such an account
//! exists, so the answer never tells which names are real) and per client address. From the
//! `login_max_failures`-th failure of a name (the `login_address_max_failures`-th of an
//! address) each further attempt must wait: 30 seconds, doubling with every failure, at most
//! 15 minutes. A wait is not a lock: the owner can log in as soon as it is over, and a
//! successful login clears the name's count. A count is forgotten a day after its last failure.
//!
//! The count is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement, so parallel
//! guesses cannot overwrite each other's increments (SQLite 3.35+ and PostgreSQL).

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QuerySelect, Statement,
};

use entity::login_throttle;

use crate::config::Settings;
use crate::error::{AppError, AppResult, Msg};

/// The first wait, in seconds.
const FIRST_WAIT_SECONDS: i64 = 30;
/// The longest wait, in seconds.
const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// A count whose last failure is older than this starts again from one.
const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An account name, as typed (lowercased).
    Account,
    /// A client address.
    Address,
}

impl Kind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Address => "address",
        }
    }
}

/// The key an account name is counted under: the same for every spelling of the name.
pub fn account_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// How long to wait after `failures` failures when waiting starts at `threshold`.
pub fn wait_seconds(failures: i32, threshold: i32) -> i64 {
    if threshold <= 0 || failures < threshold {
        return 0;
    }
    let doublings = (failures - threshold).min(16) as u32;
    (FIRST_WAIT_SECONDS << doublings).min(MAX_WAIT_SECONDS)
}

fn threshold(settings: &Settings, kind: Kind) -> i32 {
    match kind {
        Kind::Account => settings.login_max_failures,
        Kind::Address => settings.login_address_max_failures,
    }
}

/// The same answer for a name and an address, a real account or none, so the answer reveals
/// nothing but "wait".
fn too_many(seconds: i64) -> AppError {
    let seconds = seconds.max(1);
    AppError::TooManyRequests {
        code: "too_many_login_attempts",
        message: Msg::new(
            format!("登录失败次数过多，请{seconds}秒后再试。"),
            format!("Too many failed logins: try again in {seconds} seconds."),
        ),
        retry_after: Some(u32::try_from(seconds).unwrap_or(u32::MAX)),
    }
}

/// Refuses the attempt (429 with `Retry-After`) while the name or the address must wait.
pub async fn check(
    db: &DatabaseConnection,
    settings: &Settings,
    account: &str,
    address: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = now.timestamp();
    let mut longest = 0;
    for (kind, key) in [(Kind::Account, account), (Kind::Address, address)] {
        let Some(row) =
            login_throttle::Entity::find_by_id((kind.as_str().to_owned(), key.to_owned()))
                .one(db)
                .await?
        else {
            continue;
        };
        let until = row.last_failure_unix + wait_seconds(row.failures, threshold(settings, kind));
        longest = longest.max(until - now);
    }
    if longest > 0 {
        Err(too_many(longest))
    } else {
        Ok(())
    }
}

/// Counts one failure and returns the new count. One statement, so that parallel failures
/// all count.
pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    let now = now.timestamp();
    let backend = db.get_database_backend();
    let sql = r#"INSERT INTO login_throttles (kind, "key", failures, last_failure_unix)
        VALUES ($1, $2, 1, $3)
        ON CONFLICT (kind, "key") DO UPDATE SET
            failures = CASE WHEN login_throttles.last_failure_unix < $4 THEN 1
                            ELSE login_throttles.failures + 1 END,
            last_failure_unix = excluded.last_failure_unix
        RETURNING failures"#;
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        // SQLite numbers `?` parameters in order; none is used twice above.
        _ => ["$1", "$2", "$3", "$4"]
            .iter()
            .fold(sql.to_owned(), |s, p| s.replace(p, "?")),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                kind.as_str().into(),
                key.into(),
                now.into(),
                (now - FORGET_AFTER_SECONDS).into(),
            ],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the failure count returned no row"))?;
    Ok(row.try_get::<i32>("", "failures")?)
}

/// Takes one attempt of a cheap check (a second-factor code) from a name's allowance, before the
/// check runs: refused (429) while the name must wait, otherwise counted as a failure at once
/// and cleared by [`reset`] when the code is right.
///
/// Counting first, inside one write transaction that locks the count (`FOR UPDATE` on
/// PostgreSQL, the write lock on SQLite), means parallel requests cannot all slip through
/// before the first failure is written: a code is checked in microseconds, so unlike a
/// password (an Argon2 hash and a pause) a burst would otherwise try thousands at once.
pub async fn take_attempt(
    db: &DatabaseConnection,
    settings: &Settings,
    kind: Kind,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = now.timestamp();
    let backend = db.get_database_backend();
    let txn = crate::db::begin_write(db).await?;
    // The row exists before it is locked, so that first attempts in parallel queue on it too.
    let ensure = r#"INSERT INTO login_throttles (kind, "key", failures, last_failure_unix)
        VALUES ($1, $2, 0, 0) ON CONFLICT (kind, "key") DO NOTHING"#;
    let ensure = match backend {
        DbBackend::Postgres => ensure.to_owned(),
        _ => ensure.replace("$1", "?").replace("$2", "?"),
    };
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        ensure,
        [kind.as_str().into(), key.into()],
    ))
    .await?;
    let mut find = login_throttle::Entity::find_by_id((kind.as_str().to_owned(), key.to_owned()));
    if backend == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let row = find
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the attempt count vanished"))?;
    let failures = if row.last_failure_unix < now - FORGET_AFTER_SECONDS {
        0
    } else {
        row.failures
    };
    let until = row.last_failure_unix + wait_seconds(failures, threshold(settings, kind));
    if until > now {
        return Err(too_many(until - now));
    }
    let mut m: login_throttle::ActiveModel = row.into();
    m.failures = sea_orm::Set(failures + 1);
    m.last_failure_unix = sea_orm::Set(now);
    sea_orm::ActiveModelTrait::update(m, &txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Clears a count (after a successful login).
pub async fn reset<C: ConnectionTrait>(db: &C, kind: Kind, key: &str) -> AppResult<()> {
    login_throttle::Entity::delete_by_id((kind.as_str().to_owned(), key.to_owned()))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_starts_at_the_threshold_doubles_and_is_capped() {
        assert_eq!(wait_seconds(4, 5), 0);
        assert_eq!(wait_seconds(5, 5), 30);
        assert_eq!(wait_seconds(6, 5), 60);
        assert_eq!(wait_seconds(7, 5), 120);
        assert_eq!(wait_seconds(10, 5), 900);
        assert_eq!(wait_seconds(1000, 5), 900);
    }
}
