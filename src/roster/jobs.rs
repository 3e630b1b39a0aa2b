//! Imports run as background jobs: any instance may claim a queued import in the database and
//! run it; progress is kept in memory by the instance running it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::Notify;

use entity::roster_import;

use super::import;
use super::parser::Parser;
use super::status::Status;

/// A running import that has not touched its row for this long on PostgreSQL is taken as
/// interrupted (its instance died). The claim (`claimed_by`, `claimed_at`) is a lease: the
/// holder renews it every few seconds, and only the holder can finish the import, so a run
/// that was swept while it was still alive (a long pause, a lost connection) rolls back
/// instead of finishing an import twice.
const STALE_AFTER: Duration = Duration::from_secs(120);

/// Live progress of the imports running in this instance, and the bell that wakes the worker.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Mutex<HashMap<i64, (i64, i64)>>>,
    bell: Arc<Notify>,
    instance: Arc<str>,
    /// What a command-line import without a region covers: the programme's province.
    province: crate::domain::RegionPrefix,
    /// How uploaded files are read.
    parser: Parser,
    /// Rejected rows after which an import stops (see `import::EarlyStop`).
    max_rejected_rows: u64,
    /// The rest of the settings: who activates (`roster::approval`), when plans expire.
    settings: Arc<crate::config::Settings>,
    /// The service's clock: claims, heartbeats and the import's own times are read from it.
    clock: crate::clock::Clock,
    /// Whether this instance's worker task is running (readiness reports it).
    worker: Arc<std::sync::atomic::AtomicBool>,
}

/// Marks the worker running while it lives; dropped when the task ends, panics included.
struct WorkerAlive(Arc<std::sync::atomic::AtomicBool>);

impl WorkerAlive {
    fn new(flag: Arc<std::sync::atomic::AtomicBool>) -> WorkerAlive {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        WorkerAlive(flag)
    }
}

impl Drop for WorkerAlive {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::new()
    }
}

impl Progress {
    /// A registry for this process with the default settings, with a random instance name.
    pub fn new() -> Progress {
        Progress::for_settings(&crate::config::Settings::default())
    }

    /// A registry for a service with these settings (its province, its parser and limits).
    pub fn for_settings(settings: &crate::config::Settings) -> Progress {
        let mut bytes = [0u8; 8];
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        OsRng.fill_bytes(&mut bytes);
        Progress {
            inner: Arc::default(),
            bell: Arc::default(),
            instance: Arc::from(hex::encode(bytes)),
            province: settings.province.clone(),
            parser: Parser::new(
                settings.parser_program.clone(),
                settings.file_limits.clone(),
                settings.parser_memory_mib,
                settings.parser_cpu_seconds,
            ),
            max_rejected_rows: settings.import_max_rejected_rows,
            settings: Arc::new(settings.clone()),
            clock: crate::clock::Clock::system(),
            worker: Arc::default(),
        }
    }

    /// Whether this instance's import worker is running.
    pub fn worker_running(&self) -> bool {
        self.worker.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The same registry on another clock.
    pub fn with_clock(self, clock: crate::clock::Clock) -> Progress {
        Progress { clock, ..self }
    }

    /// The service's clock.
    pub fn clock(&self) -> crate::clock::Clock {
        self.clock.clone()
    }

    /// The instant now, by the service's clock.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// How this instance reads uploaded files.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The settings this registry was made for.
    pub fn settings(&self) -> &crate::config::Settings {
        &self.settings
    }

    /// Rejected rows after which an import stops.
    pub fn max_rejected_rows(&self) -> u64 {
        self.max_rejected_rows
    }

    /// Rows done and rows declared for an import running here.
    pub fn get(&self, id: i64) -> Option<(i64, i64)> {
        self.inner.lock().ok()?.get(&id).copied()
    }

    pub(crate) fn set_done(&self, id: i64, done: i64) {
        if let Ok(mut m) = self.inner.lock() {
            m.entry(id).or_default().0 = done;
        }
    }

    pub(crate) fn set_total(&self, id: i64, total: i64) {
        if let Ok(mut m) = self.inner.lock() {
            m.entry(id).or_default().1 = total;
        }
    }

    pub(crate) fn finish(&self, id: i64) {
        if let Ok(mut m) = self.inner.lock() {
            m.remove(&id);
        }
    }

    /// Wakes the worker: a new import is queued.
    /// The name this instance claims imports under.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub(crate) fn province(&self) -> &crate::domain::RegionPrefix {
        &self.province
    }

    pub fn ring(&self) {
        self.bell.notify_one();
    }
}

/// Marks imports whose runner is gone as failed: on SQLite (one process) every running import
/// at start-up; on PostgreSQL those not heard of for a while. Their transaction never
/// committed, so nothing of them landed, and they can be run again.
pub async fn sweep_interrupted(
    db: &DatabaseConnection,
    at_startup: bool,
    now: chrono::DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let mut q = roster_import::Entity::update_many()
        .col_expr(roster_import::Column::Status, Expr::value(Status::Failed.code()))
        .col_expr(
            roster_import::Column::Error,
            Expr::value("导入被服务重启中断，未生效，可重新运行。 / The import was interrupted by a restart; nothing of it landed and it can be run again."),
        )
        .col_expr(roster_import::Column::FinishedAt, Expr::value(now))
        .filter(roster_import::COLUMN.status.eq(Status::Running));
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    if !(sqlite && at_startup) {
        let cutoff = now - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default();
        q = q.filter(roster_import::COLUMN.claimed_at.lt(cutoff));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Claims the oldest queued import for this instance; only one instance can win a row.
pub async fn claim_next(
    db: &DatabaseConnection,
    progress: &Progress,
) -> Result<Option<i64>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    let candidates: Vec<i64> = roster_import::Entity::find()
        .select_only()
        .column(roster_import::Column::Id)
        .filter(roster_import::COLUMN.status.eq(Status::Queued))
        .order_by_asc(roster_import::COLUMN.id)
        .limit(5)
        .into_tuple()
        .all(db)
        .await?;
    for id in candidates {
        if claim(db, progress, id).await? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Claims one queued import; false when another instance was first.
pub async fn claim(
    db: &DatabaseConnection,
    progress: &Progress,
    id: i64,
) -> Result<bool, sea_orm::DbErr> {
    let now = progress.now();
    Ok(roster_import::Entity::update_many()
        .col_expr(
            roster_import::Column::Status,
            Expr::value(Status::Running.code()),
        )
        .col_expr(
            roster_import::Column::ClaimedBy,
            Expr::value(progress.instance.to_string()),
        )
        .col_expr(roster_import::Column::ClaimedAt, Expr::value(now))
        .col_expr(roster_import::Column::StartedAt, Expr::value(now))
        .filter(roster_import::COLUMN.id.eq(id))
        .filter(roster_import::COLUMN.status.eq(Status::Queued))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Keeps a running import's claim fresh and its progress visible on PostgreSQL, where another
/// instance may be watching or answering the clerk's browser. (SQLite runs one process, whose
/// memory has the progress, and the import's own transaction holds the write lock.)
async fn heartbeat(db: DatabaseConnection, progress: Progress, id: i64) {
    if db.get_database_backend() == DbBackend::Sqlite {
        return;
    }
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let (done, total) = progress.get(id).unwrap_or_default();
        let renewed = roster_import::Entity::update_many()
            .col_expr(
                roster_import::Column::ClaimedAt,
                Expr::value(progress.now()),
            )
            .col_expr(roster_import::Column::RowsDone, Expr::value(done))
            .col_expr(roster_import::Column::RowsTotal, Expr::value(total))
            .filter(roster_import::COLUMN.id.eq(id))
            .filter(roster_import::COLUMN.status.eq(Status::Running))
            .filter(roster_import::COLUMN.claimed_by.eq(progress.instance()))
            .exec(&db)
            .await;
        // Renewing only our own lease: once it is lost, the run goes on to its end but cannot
        // finish the import (the final update checks the owner too).
        if matches!(renewed, Ok(r) if r.rows_affected == 0) {
            tracing::warn!(import.id = id, "the claim on this import was lost");
            return;
        }
    }
}

/// Runs every queued import, one at a time, until none is left.
pub async fn drain(db: &DatabaseConnection, progress: &Progress) -> anyhow::Result<()> {
    while let Some(id) = claim_next(db, progress).await? {
        let beat = tokio::spawn(heartbeat(db.clone(), progress.clone(), id));
        let result = import::run(db, id, progress.clone()).await;
        beat.abort();
        result?;
    }
    Ok(())
}

/// The worker of this instance: wakes on a new upload or every few seconds.
pub fn spawn_worker(db: DatabaseConnection, progress: Progress) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _alive = WorkerAlive::new(progress.worker.clone());
        if let Err(e) = sweep_interrupted(&db, true, progress.now()).await {
            tracing::error!(error = %e, "cannot sweep interrupted imports");
        }
        loop {
            if let Err(e) = drain(&db, &progress).await {
                tracing::error!(error = %e, "roster import worker");
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), progress.bell.notified()).await;
            if let Err(e) = sweep_interrupted(&db, false, progress.now()).await {
                tracing::error!(error = %e, "cannot sweep interrupted imports");
            }
            match super::activate::expire_stale(&db, progress.settings(), progress.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "validated imports left alone expired"),
                Err(e) => tracing::error!(error = %e, "cannot expire validated imports"),
            }
        }
    })
}
