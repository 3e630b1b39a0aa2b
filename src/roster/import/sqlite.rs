//! The import's transaction on SQLite: on a thread of its own, waiting for the write lock,
//! with a larger page cache and the checkpoint after the import.

use sea_orm::DatabaseConnection;

use super::error::RunError;
use super::job::Job;
use super::view::Counts;
use crate::roster::store::SqliteStore;

/// SQLite page cache of the importing connection, in KiB.
const IMPORT_CACHE_KIB: u32 = 32 * 1024;
/// How long the import waits for SQLite's write lock. The service's other writes hold it for a
/// short transaction and give up after `CANCER_AID_SQLITE_BUSY_SECONDS`; only another import
/// (the command line's, in another process) holds it longer, a few seconds to a minute.
const IMPORT_BUSY: std::time::Duration = std::time::Duration::from_secs(600);

/// The import's SQLite transaction, on a thread of its own: its statements are blocking
/// calls, which must not hold up the runtime's workers and the requests they serve.
pub(super) async fn run_on_sqlite(db: &DatabaseConnection, job: Job) -> Result<Counts, RunError> {
    use sea_orm::sqlx::{AssertSqlSafe, Executor};
    let pool = db.get_sqlite_connection_pool().clone();
    let runtime = tokio::runtime::Handle::current();
    let sqlx_err =
        |e: sea_orm::sqlx::Error| RunError::Db(sea_orm::DbErr::Custom(format!("SQLite: {e}")));
    tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let mut pooled = pool.acquire().await.map_err(sqlx_err)?;
            // The pool's connections give up on the write lock after a few seconds
            // (`CANCER_AID_SQLITE_BUSY_SECONDS`), so that a login answers 503 rather than wait
            // behind an import; the import itself waits for the short writes ahead of it for
            // as long as they take. Its connection goes back to the pool with the pool's wait.
            let pool_busy_ms: i64 = sea_orm::sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut *pooled)
                .await
                .map_err(sqlx_err)?;
            pooled
                .execute(AssertSqlSafe(format!(
                    "PRAGMA busy_timeout = {}",
                    IMPORT_BUSY.as_millis()
                )))
                .await
                .map_err(sqlx_err)?;
            // The commit would copy the whole WAL, 400 MB at a million rows, into the
            // database file before it returned; the import is durable without that, so the
            // copy is made after the import has finished (below), as PostgreSQL's
            // checkpointer does for it.
            pooled
                .execute("PRAGMA wal_autocheckpoint = 0")
                .await
                .map_err(sqlx_err)?;
            let result = write_on_sqlite(&mut pooled, job).await;
            tokio::spawn(async move {
                for sql in [
                    "PRAGMA wal_checkpoint(PASSIVE)".to_owned(),
                    "PRAGMA wal_autocheckpoint = 1000".to_owned(),
                    format!("PRAGMA busy_timeout = {pool_busy_ms}"),
                ] {
                    if let Err(e) = pooled.execute(AssertSqlSafe(sql.clone())).await {
                        tracing::warn!(error = %e, sql, "after a roster import");
                    }
                }
            });
            result
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("the import writer stopped: {e}"))?
}

/// The import's transaction on SQLite: the job's statements go straight to the connection's
/// raw handle (see [`SqliteStore`]).
async fn write_on_sqlite(
    pooled: &mut sea_orm::sqlx::SqliteConnection,
    job: Job,
) -> Result<Counts, RunError> {
    use sea_orm::sqlx::Connection;
    let sqlx_err =
        |e: sea_orm::sqlx::Error| RunError::Db(sea_orm::DbErr::Custom(format!("SQLite: {e}")));
    let mut txn = pooled
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(sqlx_err)?;
    let outcome = {
        let mut locked = txn.lock_handle().await.map_err(sqlx_err)?;
        // SAFETY: sqlx's worker thread makes no call on the handle while it is locked, which
        // it is for as long as `conn` lives; `from_handle` leaves it open on drop.
        #[allow(unsafe_code)]
        let conn = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }
            .map_err(|e| RunError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        // The people's ID-number index is read in random order, and the staged rows are
        // written beside it: with SQLite's default 2 MB cache nearly every look-up misses.
        let pragma = |kib: u32| {
            conn.execute_batch(&format!("PRAGMA cache_size = -{kib}"))
                .map_err(|e| RunError::Db(sea_orm::DbErr::Custom(e.to_string())))
        };
        pragma(IMPORT_CACHE_KIB)?;
        let outcome = job.run(&mut SqliteStore::new(&conn)).await;
        // The connection goes back to the pool: it keeps the ordinary cache.
        pragma(2000)?;
        outcome
    };
    match outcome {
        Ok(counts) => {
            txn.commit().await.map_err(sqlx_err)?;
            Ok(counts)
        }
        Err(e) => {
            // Dropping the transaction would roll back too; this says when it failed.
            txn.rollback().await.map_err(sqlx_err)?;
            Err(e)
        }
    }
}
