//! Backups of the embedded database, and putting one back. A live SQLite database in WAL mode
//! is never copied as files (the copy could hold half a transaction); `VACUUM INTO` writes a
//! consistent copy of one moment while the service keeps running, and a SHA-256 beside it
//! (`FILE.sha256`) tells later whether the file is still what was written. A restore checks
//! the checksum, SQLite's own integrity check and the schema version before it replaces
//! anything. PostgreSQL is backed up with its own tools (`pg_dump` / `pg_restore`,
//! docs/operations.md); `migrate --check` then tells whether the restored schema fits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};

use crate::db::{self, SchemaState};

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The copy.
    pub path: PathBuf,
    /// Its SHA-256, in hex (also in `path.sha256`).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Writes a consistent copy of the running SQLite database to `to` (which must not exist),
/// with its checksum beside it.
pub async fn backup(db: &DatabaseConnection, to: &Path) -> anyhow::Result<Written> {
    if db.get_database_backend() != DbBackend::Sqlite {
        bail!(
            "backup copies the embedded SQLite database; back PostgreSQL up with pg_dump (docs/operations.md)"
        );
    }
    if to.exists() {
        bail!(
            "{} exists already: a backup never overwrites a file",
            to.display()
        );
    }
    let target = to
        .to_str()
        .context("the backup's path is not valid UTF-8")?
        .replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await
        .with_context(|| format!("cannot write the backup to {}", to.display()))?;
    let sha256 = file_sha256(to)?;
    std::fs::write(checksum_path(to), format!("{sha256}  {}\n", file_name(to)))?;
    Ok(Written {
        path: to.to_owned(),
        bytes: std::fs::metadata(to)?.len(),
        sha256,
    })
}

/// What a restore found in a backup before using it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The checksum agreed with the file beside it (none: there was no checksum file).
    pub checksum: Option<bool>,
    /// Where its schema stands against this release.
    pub schema: SchemaState,
}

/// Checks a backup file: its checksum (when `FILE.sha256` is there), SQLite's integrity check,
/// and its schema version. An error says what is wrong.
pub async fn check(file: &Path) -> anyhow::Result<Checked> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let checksum = match std::fs::read_to_string(checksum_path(file)) {
        Ok(text) => {
            let expected = text.split_whitespace().next().unwrap_or("").to_lowercase();
            let ok = expected == file_sha256(file)?;
            if !ok {
                bail!(
                    "{} does not match its checksum: the file changed or was damaged after the backup",
                    file.display()
                );
            }
            Some(true)
        }
        Err(_) => None,
    };
    // Read-only and without the service's pragmas: checking a backup must not change it.
    let url = format!("sqlite://{}?mode=ro", file.display());
    let conn = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    let verdict: String = row
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or_default();
    if verdict != "ok" {
        bail!(
            "{} fails SQLite's integrity check: {verdict}",
            file.display()
        );
    }
    let schema = db::schema_state(&conn).await?;
    conn.close().await?;
    if let SchemaState::Ahead { unknown } = &schema {
        bail!(
            "{} was made by a newer release ({}): restore it with that release",
            file.display(),
            unknown.join(", ")
        );
    }
    Ok(Checked { checksum, schema })
}

/// Puts a checked backup in place of the SQLite database at `url`: the copy is written beside
/// the target and renamed over it, and the target's old WAL files are removed, so a crash
/// leaves either the old database or the new one. The service must be stopped.
pub async fn restore(file: &Path, url: &str) -> anyhow::Result<Checked> {
    let checked = check(file).await?;
    let target = PathBuf::from(
        db::sqlite_path(url)
            .context("restore puts back the embedded SQLite database; for PostgreSQL use pg_restore (docs/operations.md)")?,
    );
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(file, &staging).with_context(|| format!("cannot write {}", staging.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("cannot put the backup at {}", target.display()))?;
    Ok(checked)
}

/// The scheduled backups of `serve`: every `every`, a copy named by its time in `dir`; only
/// the newest `keep` are kept. A failed backup is logged and tried again next time.
pub fn spawn_schedule(
    db: DatabaseConnection,
    dir: PathBuf,
    every: Duration,
    keep: usize,
    clock: crate::clock::Clock,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match scheduled(&db, &dir, keep, &clock).await {
                Ok(w) => tracing::info!(
                    path = %w.path.display(),
                    bytes = w.bytes,
                    sha256 = %w.sha256,
                    "scheduled backup written"
                ),
                Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
            }
        }
    })
}

/// One scheduled backup, then the oldest beyond `keep` removed.
pub async fn scheduled(
    db: &DatabaseConnection,
    dir: &Path,
    keep: usize,
    clock: &crate::clock::Clock,
) -> anyhow::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "cancer-aid-{}.db",
        crate::clock::local(clock.now()).format("%Y%m%d-%H%M%S")
    );
    let written = backup(db, &dir.join(name)).await?;
    let mut copies: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = file_name(p);
            n.starts_with("cancer-aid-") && n.ends_with(".db")
        })
        .collect();
    copies.sort();
    let surplus = copies.len().saturating_sub(keep.max(1));
    for old in copies.into_iter().take(surplus) {
        std::fs::remove_file(&old)?;
        let _ = std::fs::remove_file(checksum_path(&old));
    }
    Ok(written)
}

fn checksum_path(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sha256", file.display()))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
