//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use crate::domain::RegionPrefix;
use std::time::Duration;

pub use crate::config::DEFAULT_SQLITE_BUSY;
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connects to `url`, creating the SQLite file's folder when needed. SQLite runs in WAL mode
/// with a busy timeout, so readers never block the writer and short write waits queue
/// instead of failing (for [`DEFAULT_SQLITE_BUSY`]; see [`connect_waiting`]).
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, None).await
}

/// As [`connect`], with a PostgreSQL `search_path` (tests isolate themselves in a schema).
pub async fn connect_with(url: &str, schema: Option<&str>) -> anyhow::Result<DatabaseConnection> {
    connect_waiting(url, schema, DEFAULT_SQLITE_BUSY).await
}

/// As [`connect_with`], with how long a SQLite write waits for the write lock
/// (`CANCER_AID_SQLITE_BUSY_SECONDS`). While a roster import holds the lock, a login or any
/// other short write waits that long and then fails with SQLITE_BUSY, which the API answers
/// with 503 and `Retry-After` (`AppError::from`): a bounded wait and a clear answer, rather
/// than half a minute and a 500. The import's own connection waits longer (`roster::import`).
pub async fn connect_waiting(
    url: &str,
    schema: Option<&str>,
    sqlite_busy: Duration,
) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = std::path::Path::new(&path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(sqlite_busy)
                .foreign_keys(true)
                // No memory map: the file grows all the time (the access log writes a record
                // per read), and each time it grows every connection's map is torn down and its
                // pages faulted in again. Reading pages through the kernel's file cache gave
                // eligibility look-ups p99 11-16 ms against 18-26 ms mapped (docs/access-log.md).
                .pragma("mmap_size", "0")
        });
    if url.starts_with("sqlite") {
        opts.max_connections(8).min_connections(1);
    } else {
        opts.max_connections(16);
    }
    if let Some(schema) = schema {
        opts.set_schema_search_path(schema);
    }
    Database::connect(opts)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// Begins a transaction that is going to write. SQLite takes its write lock at `BEGIN`: a
/// deferred transaction that read first and then tries to write after another connection has
/// committed fails at once with SQLITE_BUSY (the busy timeout does not apply to it), so a
/// read-then-write transaction must queue for the lock up front. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Applies every pending migration. A database a newer release has migrated (it holds
/// migrations this binary does not know) is refused: this binary would run on a schema it
/// was not written for.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if let SchemaState::Ahead { unknown } = schema_state(db).await? {
        anyhow::bail!(
            "the database was migrated by a newer release ({}); run that release, or restore a backup made for this one",
            unknown.join(", ")
        );
    }
    Migrator::up(db, None)
        .await
        .context("the database migrations failed")
}

/// Where the database's schema stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// Every migration applied, none unknown.
    Current,
    /// Migrations this binary would apply.
    Behind {
        /// Their names, in order.
        pending: Vec<String>,
    },
    /// Migrations applied that this binary does not know: a newer release ran here.
    Ahead {
        /// Their names.
        unknown: Vec<String>,
    },
}

/// Compares the migrations recorded in the database (`seaql_migrations`) with this binary's.
pub async fn schema_state<C: ConnectionTrait>(db: &C) -> Result<SchemaState, DbErr> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    // A database never migrated has no table yet: everything is pending.
    let applied: Vec<String> = match db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
    {
        Ok(rows) => rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0))
            .collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    let unknown: Vec<String> = applied
        .iter()
        .filter(|a| !known.contains(a))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(SchemaState::Ahead { unknown });
    }
    let pending: Vec<String> = known.into_iter().filter(|k| !applied.contains(k)).collect();
    Ok(if pending.is_empty() {
        SchemaState::Current
    } else {
        SchemaState::Behind { pending }
    })
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The backend's name for logs and the health check.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

/// The file of a `sqlite://` URL (none for PostgreSQL or an in-memory database).
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The SQL condition "this region code lies inside the scope": `SUBSTR(code, 1, n) = prefix`.
///
/// Not `code LIKE '22%'`: SQLite re-prepares a statement whose `LIKE` pattern is a bound
/// parameter every time it runs (in case the pattern allows its LIKE optimisation), which made
/// an eligibility look-up five times slower (170 µs against 31 µs on the million-person
/// benchmark file). The two values are the prefix's length and the prefix.
pub fn region_within(code: Expr, scope: &RegionPrefix) -> Expr {
    Expr::expr(
        Func::cust("SUBSTR")
            .arg(code)
            .arg(Expr::cust("1"))
            .arg(Expr::val(scope_len(scope))),
    )
    .eq(scope.as_str())
}

/// A statement written with `?` placeholders, numbered (`$1`, `$2`, ...) for PostgreSQL.
pub fn placeholders(backend: DbBackend, text: &str) -> String {
    if backend != DbBackend::Postgres {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs a statement written with `?` placeholders on either database; answers the rows it
/// changed.
pub async fn execute<C: sea_orm::ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    Ok(conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            placeholders(backend, sql),
            values,
        ))
        .await?
        .rows_affected())
}

/// Rows written at once from which a table's planner statistics are refreshed in the same
/// transaction.
pub const FRESH_STATISTICS_FROM: u64 = 10_000;

/// After `rows` rows were written into `table` at once, refreshes PostgreSQL's statistics of it
/// (`ANALYZE`, inside the transaction) when they are many: without, the planner still believes
/// the table as it was before (empty, often) and reads the new rows with plans fit for a
/// handful, sorting all of them for each page of 2,000. SQLite's planner keeps no such
/// statistics by default; nothing is done there.
pub async fn fresh_statistics<C: sea_orm::ConnectionTrait>(
    conn: &C,
    table: &'static str,
    rows: u64,
) -> Result<(), DbErr> {
    if rows >= FRESH_STATISTICS_FROM && conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    Ok(())
}

/// The length of a scope prefix, as [`region_within`] binds it (a 32-bit integer, which
/// PostgreSQL's `substr(text, int, int)` takes without a cast).
pub fn scope_len(scope: &RegionPrefix) -> i32 {
    i32::try_from(scope.as_str().len()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let text = "UPDATE t SET a = '' WHERE b = ? AND c > ? AND c <= ?";
        assert_eq!(placeholders(DbBackend::Sqlite, text), text);
        assert_eq!(
            placeholders(DbBackend::Postgres, text),
            "UPDATE t SET a = '' WHERE b = $1 AND c > $2 AND c <= $3"
        );
    }

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_path("sqlite://data/cancer-aid.db?mode=rwc").as_deref(),
            Some("data/cancer-aid.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
