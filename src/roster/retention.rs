//! Retention of an import's personal data: the uploaded file and the raw data of its rejected
//! rows (each row as it was, and the offending cell) are kept for the clerk to fix and retry,
//! and deleted `CANCER_AID_UPLOAD_RETENTION_DAYS` (default 30) after the import finished. The
//! import's counts and each rejected row's sheet, row, column, code and messages stay, so the
//! result and the rejected-rows downloads still say what was wrong, without the data.
//!
//! A background task ([`spawn`]) runs [`purge`] every `CANCER_AID_RETENTION_INTERVAL_MINUTES`.
//! A run works in bounded memory and in short transactions: the imports a hundred at a time,
//! the rejected rows [`ERROR_ROWS_PER_BATCH`] at a time and the file [`PARTS_PER_BATCH`] parts
//! at a time, each batch one statement, so that a purge of a million rejected rows never holds
//! SQLite's write lock for long and logins keep working meanwhile.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;

use entity::roster_import;

use crate::audit::{self, Actor, Change};
use crate::error::{AppError, Msg};
use crate::roster::status::Status;

/// Rejected rows cleared by one statement: a few tens of milliseconds of SQLite's write lock.
pub const ERROR_ROWS_PER_BATCH: u64 = 10_000;

/// File parts (of at most 1 MiB each) deleted by one statement.
pub const PARTS_PER_BATCH: i64 = 16;

/// Imports looked at a time.
const IMPORTS_PER_BATCH: u64 = 100;

/// The pause between two batches on SQLite: a write that is waiting for the lock sleeps up to
/// 100 ms between its tries (SQLite's busy handler), so it gets its turn in this gap instead
/// of the purge taking the lock again at once.
const SQLITE_PAUSE: Duration = Duration::from_millis(100);

/// The statuses of an import that has finished; only those are ever purged.
const FINISHED: [&str; 4] = [
    Status::Succeeded.code(),
    Status::Failed.code(),
    Status::Discarded.code(),
    Status::Expired.code(),
];

/// How a purge cuts its work; [`Batches::default`] is what the service uses, tests use
/// smaller ones to go through the loops with a few rows.
#[derive(Debug, Clone, Copy)]
pub struct Batches {
    /// Rejected rows cleared by one statement.
    pub error_rows: u64,
    /// File parts deleted by one statement.
    pub file_parts: i64,
}

impl Default for Batches {
    fn default() -> Batches {
        Batches {
            error_rows: ERROR_ROWS_PER_BATCH,
            file_parts: PARTS_PER_BATCH,
        }
    }
}

/// What a run of the purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// The imports purged, by id.
    pub imports: Vec<i64>,
    /// File parts deleted.
    pub file_parts: u64,
    /// Rejected rows whose raw data was cleared.
    pub error_rows: u64,
    /// Rows of staged plans deleted.
    pub plan_rows: u64,
}

/// Purges the imports that finished more than `days` days before `now`: deletes their uploaded
/// file, clears the raw data of their rejected rows (`row_data` to NULL, `value` to empty),
/// marks them `purged_at = now`, and records one audit row (`roster_import.purge`) for the
/// run if it purged any. Running it again purges nothing more.
pub async fn purge(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    days: u32,
) -> Result<Purged, DbErr> {
    purge_in(db, now, days, Batches::default()).await
}

/// As [`purge`], in batches of the given sizes.
pub async fn purge_in(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    days: u32,
    batches: Batches,
) -> Result<Purged, DbErr> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let (error_batch, part_batch) = (batches.error_rows.max(1), batches.file_parts.max(1));
    let mut done = Purged::default();
    let mut last_id = 0;
    loop {
        let due = due(db, cutoff, last_id).await?;
        let Some(&(last, _)) = due.last() else {
            break;
        };
        last_id = last;
        for (id, purged_at) in due {
            // A purge stopped half-way (a restart) left its claim: the import is finished
            // again, from where it was.
            if purged_at.is_none() && !claim(db, id, cutoff, now).await? {
                continue;
            }
            done.error_rows += clear_rejected_rows(db, id, error_batch).await?;
            // The staged plan holds the people of the file as well.
            done.plan_rows += delete_plan(db, id, error_batch).await?;
            // The file goes last: an import that still has parts has not been purged fully,
            // which is how `due` finds one that was stopped half-way.
            done.file_parts += delete_file(db, id, part_batch).await?;
            done.imports.push(id);
        }
    }
    if !done.imports.is_empty() {
        audit::record(
            db,
            &Actor::system("retention", now),
            Change {
                action: "roster_import.purge",
                entity_type: "roster_import",
                entity_id: done
                    .imports
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                before: None,
                after: Some(serde_json::json!({
                    "imports": done.imports,
                    "finished_before": cutoff,
                    "retention_days": days,
                    "file_parts_deleted": done.file_parts,
                    "error_rows_cleared": done.error_rows,
                    "plan_rows_deleted": done.plan_rows,
                })),
            },
        )
        .await?;
        tracing::info!(
            imports = ?done.imports,
            file_parts = done.file_parts,
            error_rows = done.error_rows,
            "Purged the uploaded files and rejected rows of imports finished before {cutoff}"
        );
    }
    Ok(done)
}

/// The next imports past their retention after `after`, by id, with their claim if a purge
/// already claimed them: finished before `cutoff` and either not purged yet, or claimed by a
/// purge that stopped before it deleted the file.
async fn due(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    after: i64,
) -> Result<Vec<(i64, Option<DateTime<Utc>>)>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    roster_import::Entity::find()
        .select_only()
        .column(roster_import::Column::Id)
        .column(roster_import::Column::PurgedAt)
        .filter(roster_import::COLUMN.id.gt(after))
        .filter(roster_import::Column::Status.is_in(FINISHED))
        .filter(roster_import::COLUMN.finished_at.lt(cutoff))
        .filter(roster_import::Column::PurgedAt.is_null().or(Expr::cust(
            "EXISTS (SELECT 1 FROM roster_import_file_parts p \
                 WHERE p.import_id = roster_imports.id)",
        )))
        .order_by_asc(roster_import::COLUMN.id)
        .limit(IMPORTS_PER_BATCH)
        .into_tuple()
        .all(db)
        .await
}

/// Marks an import purged before anything of it is deleted, unless it was retried meanwhile
/// (then it is no longer finished before the cutoff): from here on it cannot be retried,
/// whose run would find its file gone.
async fn claim(
    db: &DatabaseConnection,
    id: i64,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = roster_import::Entity::update_many()
        .col_expr(roster_import::Column::PurgedAt, Expr::value(now))
        .filter(roster_import::COLUMN.id.eq(id))
        .filter(roster_import::Column::PurgedAt.is_null())
        .filter(roster_import::Column::Status.is_in(FINISHED))
        .filter(roster_import::COLUMN.finished_at.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    Ok(claimed == 1)
}

/// Clears the raw data of an import's rejected rows, `batch` rows a statement, in id order.
async fn clear_rejected_rows(
    db: &DatabaseConnection,
    import_id: i64,
    batch: u64,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut cleared = 0;
    let mut after: i64 = 0;
    loop {
        // The last id of the next batch: the batch is then a range of ids, which the index
        // on (import_id) reads in order, and the ids themselves never come into memory.
        let last = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "SELECT MAX(id) AS last FROM (SELECT id FROM roster_import_errors \
                     WHERE import_id = ? AND id > ? ORDER BY id LIMIT ?) AS batch",
                ),
                [import_id.into(), after.into(), (batch as i64).into()],
            ))
            .await?
            .map(|r| r.try_get::<Option<i64>>("", "last"))
            .transpose()?
            .flatten();
        let Some(last) = last else {
            break;
        };
        cleared += db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "UPDATE roster_import_errors SET value = '', row_data = NULL \
                     WHERE import_id = ? AND id > ? AND id <= ?",
                ),
                [import_id.into(), after.into(), last.into()],
            ))
            .await?
            .rows_affected();
        after = last;
        pause(backend).await;
    }
    Ok(cleared)
}

/// Deletes an import's staged plan (the rows it added or changed, the entries it ended), `batch`
/// rows a statement.
async fn delete_plan(db: &DatabaseConnection, import_id: i64, batch: u64) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut deleted = 0;
    for (table, key) in super::activate::PLAN_TABLES {
        loop {
            let last = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    crate::db::placeholders(
                        backend,
                        &format!(
                            "SELECT MAX({key}) AS last FROM (SELECT {key} FROM {table} \
                             WHERE import_id = ? ORDER BY {key} LIMIT ?) AS batch"
                        ),
                    ),
                    [import_id.into(), (batch as i64).into()],
                ))
                .await?
                .map(|r| r.try_get::<Option<i64>>("", "last"))
                .transpose()?
                .flatten();
            let Some(last) = last else {
                break;
            };
            deleted += db
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    crate::db::placeholders(
                        backend,
                        &format!("DELETE FROM {table} WHERE import_id = ? AND {key} <= ?"),
                    ),
                    [import_id.into(), last.into()],
                ))
                .await?
                .rows_affected();
            pause(backend).await;
        }
    }
    Ok(deleted)
}

/// Deletes an import's uploaded file, `batch` parts a statement.
async fn delete_file(db: &DatabaseConnection, import_id: i64, batch: i64) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut deleted = 0;
    loop {
        // From the first part still there: a file is its parts 0, 1, 2, ... in order.
        let first = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "SELECT MIN(part) AS first FROM roster_import_file_parts WHERE import_id = ?",
                ),
                [import_id.into()],
            ))
            .await?
            .map(|r| r.try_get::<Option<i32>>("", "first"))
            .transpose()?
            .flatten();
        let Some(first) = first else {
            break;
        };
        deleted += db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "DELETE FROM roster_import_file_parts \
                     WHERE import_id = ? AND part >= ? AND part < ?",
                ),
                [
                    import_id.into(),
                    first.into(),
                    (i64::from(first) + batch).min(i64::from(i32::MAX)).into(),
                ],
            ))
            .await?
            .rows_affected();
        pause(backend).await;
    }
    Ok(deleted)
}

async fn pause(backend: DbBackend) {
    if backend == DbBackend::Sqlite {
        tokio::time::sleep(SQLITE_PAUSE).await;
    }
}

/// The 409 of a retry of a purged import: its file is gone.
pub fn purged_conflict(purged_at: DateTime<Utc>) -> AppError {
    let day = purged_at.format("%Y-%m-%d");
    AppError::conflict(
        "import_purged",
        Msg::new(
            format!(
                "本批次的上传文件已于{day}按保存期限删除，不能重新运行；如需导入，请重新上传名册。"
            ),
            format!(
                "The uploaded file of this import was deleted on {day} at the end of its retention period, so it cannot be run again; upload the roster again instead."
            ),
        ),
    )
}

/// Runs [`purge`] now and then every `interval`, at the clock's time, until aborted. A run
/// that fails (SQLite busy with an import for longer than the wait) is logged and tried again
/// at the next one, which goes on from where it stopped.
pub fn spawn(
    db: DatabaseConnection,
    days: u32,
    access_log_days: u32,
    interval: Duration,
    clock: crate::clock::Clock,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = purge(&db, clock.now(), days).await {
                tracing::warn!(error = %e, "the retention purge of roster imports stopped; it goes on at its next run");
            }
            // The access log's records past their time, by the same task.
            match crate::access_log::purge(&db, access_log_days, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    records = n,
                    "access log records past their retention deleted"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "the access log's retention purge failed; it runs again at the next interval")
                }
            }
        }
    })
}
