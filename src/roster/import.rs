//! Validating a roster import, the first of its two steps: one transaction, written while the
//! file is still being parsed.
//!
//! A blocking thread parses and validates the sheets and hands batches of outcomes through a
//! bounded channel to the writer, which looks up people and their entries batch by batch and
//! stages what activation would do (`roster_import_rows`, `roster_import_ends`) with the
//! rejected rows, in a single transaction: the roster itself is only read. The plan lands whole
//! or not at all; `roster::activate` applies it.

// The writer's maps take a few look-ups for each of a million rows, keyed by values from the
// uploader's own file: foldhash, randomly seeded per process like SipHash, at a fraction of its cost.
use foldhash::{HashMap, HashMapExt};
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set, Statement, TryIntoModel, Value,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use entity::roster_import_file_part::{self as file_part, PART_BYTES};
use entity::{roster_import, roster_import_error};

use super::guard::Reason;
use super::jobs::Progress;
use super::parser::Parser;
use super::read::{self, FileError};
use super::rows::{Outcome, Params, RosterRow, SheetReport, Validator};
use super::status::Status;
use super::store::{Existing, PgStore, SqliteStore, Store};
use super::tally::{StopReason, Tally};
use super::upload::{UploadWriter, UploadedFile};
use crate::audit::{self, Actor, Change};
use crate::domain::{Group, Lang, RegionPrefix};
use crate::error::{AppError, AppResult, Msg};

/// SQLite page cache of the importing connection, in KiB.
const IMPORT_CACHE_KIB: u32 = 32 * 1024;

/// Rows handed from the parser to the writer at a time. A PostgreSQL batch costs a few
/// statements and round trips whatever its size (a million rows: 25 s in batches of 5,000,
/// 28 s in batches of 2,000, before the import took its current shape; then 8.5–8.7 s in
/// batches of 5,000 or of 16,000, when validation still wrote people by `COPY` a batch at a
/// time). SQLite runs in-process, where smaller batches let the writer start sooner and keep
/// pace with the parser.
pub fn batch_rows(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Sqlite => 2000,
        _ => 16_000,
    }
}

/// Rows of people already there that the writer looks up and compares at a time.
const LOOKUP_ROWS: usize = 5000;

/// Batches that may wait for the writer: about as many rows in flight on either database
/// (peak memory of a million-row import on PostgreSQL: 130 MiB with four batches of 5,000
/// waiting, 195 MiB with four of 16,000, 160 MiB with two).
fn queued_batches(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Sqlite => 4,
        _ => 2,
    }
}

/// Incremental imports add and update; full imports make the file the whole roster of its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Add and update entries (the default).
    #[default]
    Incremental,
    /// Also end the entries of the scope that the file no longer lists.
    Full,
}

impl Mode {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Mode::Incremental => "incremental",
            Mode::Full => "full",
        }
    }

    /// Parses the stored or submitted code.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "incremental" | "" => Some(Mode::Incremental),
            "full" => Some(Mode::Full),
            _ => None,
        }
    }
}

/// What an upload asks for.
#[derive(Debug)]
pub struct Upload {
    /// The file's name as uploaded.
    pub file_name: String,
    /// Its bytes, in a temporary file.
    pub file: UploadedFile,
    /// The group of a one-group file.
    pub group: Option<Group>,
    /// The region (prefix) of the file.
    pub region: Option<RegionPrefix>,
    /// Incremental or full.
    pub mode: Mode,
    /// The date the roster takes effect.
    pub effective_date: NaiveDate,
    /// The uploader's confirmation, with a reason, that a full import may end most of its
    /// scope or accept no row (`roster::guard`); without it such an import is refused.
    pub confirmation: Option<Reason>,
    /// Activate as soon as it is validated, when the uploader alone may (`roster::activate`).
    pub activate: bool,
}

/// An import as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportView {
    /// Id.
    pub id: i64,
    /// Uploaded name.
    pub file_name: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Detected format.
    pub format: String,
    /// Group parameter.
    pub group: Option<String>,
    /// Region parameter.
    pub region_code: Option<String>,
    /// incremental | full.
    pub mode: String,
    /// Effective date.
    pub effective_date: NaiveDate,
    /// queued | running (validating) | validated | succeeded (activated) | failed | discarded |
    /// expired.
    pub status: String,
    /// Raised by every change of state; an activation names the version it saw.
    pub version: i32,
    /// Rows read so far and in all.
    pub progress: ProgressView,
    /// What became of the rows.
    pub counts: Counts,
    /// How each sheet was read.
    pub sheets: Option<serde_json::Value>,
    /// Why a failed import failed.
    pub error: Option<String>,
    /// The earlier import of the same file and parameters, for a duplicate.
    pub duplicate_of: Option<i64>,
    /// Uploader (None for the command line).
    pub created_by: Option<i64>,
    /// When uploaded.
    pub created_at: chrono::DateTime<Utc>,
    /// When finished.
    pub finished_at: Option<chrono::DateTime<Utc>>,
    /// When the uploaded file and the raw data of the rejected rows were deleted (their codes
    /// and messages stay); a purged import cannot be retried.
    pub purged_at: Option<chrono::DateTime<Utc>>,
    /// When the import's changes to the roster were undone (`roster::revert`).
    pub reverted_at: Option<chrono::DateTime<Utc>>,
    /// Who undid them.
    pub reverted_by: Option<i64>,
    /// People covered in the import's scope when it was validated.
    pub covered: i64,
    /// When the plan was made (status validated).
    pub validated_at: Option<chrono::DateTime<Utc>>,
    /// When the roster changed.
    pub activated_at: Option<chrono::DateTime<Utc>>,
    /// Who activated it (the uploader, on the one-step path; None from the command line).
    pub activated_by: Option<i64>,
    /// The clerk's corrections of how columns are read: per sheet, column letter → field
    /// (null: none).
    pub column_mapping: Option<serde_json::Value>,
}

/// Rows done and rows in all.
#[derive(Debug, Clone, Copy, Serialize, Default, utoipa::ToSchema)]
pub struct ProgressView {
    /// Rows read.
    pub rows_done: i64,
    /// Rows the sheets declare (known once parsing starts).
    pub rows_total: i64,
}

/// What became of the rows.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq, utoipa::ToSchema)]
pub struct Counts {
    /// Data rows (after the header).
    pub rows: i64,
    /// Accepted rows.
    pub accepted: i64,
    /// Rejected rows.
    pub rejected: i64,
    /// Blank, title and footer rows.
    pub skipped: i64,
    /// New entries.
    pub added: i64,
    /// Changed entries.
    pub updated: i64,
    /// Rows that change nothing.
    pub unchanged: i64,
    /// Entries ended by a full import.
    pub ended: i64,
}

impl ImportView {
    /// The view of a stored import, with live progress when it is running here.
    pub fn from_model(m: &roster_import::Model, live: Option<(i64, i64)>) -> ImportView {
        let (rows_done, rows_total) = live.unwrap_or((m.rows_done, m.rows_total));
        ImportView {
            id: m.id,
            file_name: m.file_name.clone(),
            sha256: m.sha256.clone(),
            format: m.format.clone(),
            group: m.group_code.clone(),
            region_code: m.region_code.clone(),
            mode: m.mode.clone(),
            effective_date: m.effective_date,
            status: m.status.clone(),
            version: m.version,
            progress: ProgressView {
                rows_done,
                rows_total,
            },
            counts: Counts {
                rows: m.accepted + m.rejected + m.skipped,
                accepted: m.accepted,
                rejected: m.rejected,
                skipped: m.skipped,
                added: m.added,
                updated: m.updated,
                unchanged: m.unchanged,
                ended: m.ended,
            },
            sheets: m.sheets.clone(),
            error: m.error.clone(),
            duplicate_of: m.duplicate_of,
            created_by: m.created_by,
            created_at: m.created_at,
            finished_at: m.finished_at,
            purged_at: m.purged_at,
            reverted_at: m.reverted_at,
            reverted_by: m.reverted_by,
            covered: m.covered,
            validated_at: m.validated_at,
            activated_at: m.activated_at,
            activated_by: m.activated_by,
            column_mapping: m.column_mapping.clone(),
        }
    }
}

fn file_error(e: &FileError) -> AppError {
    AppError::field("file", e)
}

fn fingerprint(sha: &str, u: &Upload) -> String {
    let key = format!(
        "{sha}|{}|{}|{}|{}",
        u.group.map(|g| g.code()).unwrap_or(""),
        u.region.as_ref().map(|r| r.as_str()).unwrap_or(""),
        u.mode.code(),
        u.effective_date
    );
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Stores an upload and queues it; the same file with the same parameters as an earlier
/// successful import is recorded as a duplicate that changes nothing. Returns the import and
/// whether it was queued. The file's format and what it declares are checked first, by a
/// parser process (`roster::parser`), so a hostile file is refused at the door when it can be.
pub async fn submit(
    db: &DatabaseConnection,
    parser: &Parser,
    actor: &Actor,
    scope: &RegionPrefix,
    upload: Upload,
) -> AppResult<(ImportView, bool)> {
    if upload.file.is_empty() {
        return Err(file_error(&FileError::Empty));
    }
    let format = parser
        .inspect(upload.file.path(), &upload.file_name)
        .await
        .map_err(|e| match e {
            // Not the clerk's file: an opaque 500, logged where the parser failed to start.
            FileError::ParserUnavailable(why) => AppError::Internal(anyhow::anyhow!(why)),
            e => file_error(&e),
        })?;
    if upload.mode == Mode::Full && upload.group.is_none() {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "group",
            Msg::new(
                "全量导入须选择救助类别：文件将成为该类别在所选地区的完整名册。",
                "A full import needs a group: the file becomes the whole roster of that group in the region.",
            ),
        )]));
    }
    if let Some(r) = &upload.region
        && !scope.covers(r)
    {
        return Err(AppError::forbidden(Msg::new(
            format!("地区{r}不在您的数据范围{scope}内。"),
            format!("Region {r} is outside your scope {scope}."),
        )));
    }
    let sha = upload.file.sha256().to_owned();
    let fp = fingerprint(&sha, &upload);
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let earlier = roster_import::Entity::find()
        .filter(roster_import::COLUMN.fingerprint.eq(fp.as_str()))
        .filter(roster_import::COLUMN.status.eq("succeeded"))
        .filter(roster_import::COLUMN.duplicate_of.is_null())
        .one(&txn)
        .await?;
    let model = roster_import::ActiveModel {
        file_name: Set(upload.file_name.clone()),
        sha256: Set(sha),
        file_size: Set(upload.file.len() as i64),
        format: Set(format.code().to_owned()),
        group_code: Set(upload.group.map(|g| g.code().to_owned())),
        region_code: Set(upload.region.as_ref().map(|r| r.as_str().to_owned())),
        mode: Set(upload.mode.code().to_owned()),
        effective_date: Set(upload.effective_date),
        confirmed_reason: Set(upload
            .confirmation
            .as_ref()
            .filter(|_| upload.mode == Mode::Full)
            .map(|r| r.as_str().to_owned())),
        fingerprint: Set(fp),
        auto_activate: Set(upload.activate),
        status: Set(if earlier.is_some() {
            "succeeded"
        } else {
            "queued"
        }
        .to_owned()),
        duplicate_of: Set(earlier.as_ref().map(|e| e.id)),
        rows_total: Set(earlier.as_ref().map_or(0, |e| e.rows_total)),
        rows_done: Set(earlier.as_ref().map_or(0, |e| e.rows_total)),
        created_by: Set(actor.id),
        created_at: Set(now),
        finished_at: Set(earlier.as_ref().map(|_| now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if earlier.is_none() {
        // A part at a time, without RETURNING: the statement, the driver and the database
        // each copy what they are given, and the driver would hand it all back.
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(upload.file.path())
            .await
            .map_err(anyhow::Error::from)?;
        for part in 0.. {
            let mut content = Vec::with_capacity(PART_BYTES);
            (&mut file)
                .take(PART_BYTES as u64)
                .read_to_end(&mut content)
                .await
                .map_err(anyhow::Error::from)?;
            if content.is_empty() {
                break;
            }
            file_part::Entity::insert(file_part::ActiveModel {
                import_id: Set(model.id),
                part: Set(part),
                content: Set(content),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    let view = ImportView::from_model(&model, None);
    audit::record(
        &txn,
        actor,
        Change {
            action: if earlier.is_some() {
                "roster_import.duplicate"
            } else {
                "roster_import.submit"
            },
            entity_type: "roster_import",
            entity_id: model.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&view).unwrap_or_default()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((view, earlier.is_none()))
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file cannot be read as a roster.
    #[error("{}", .0.en)]
    File(Msg),
    /// Two columns of a sheet claim one field; the sheets as read, for the clerk to correct.
    #[error("{}", .0.en)]
    Header(Msg, serde_json::Value),
    /// The file is not what the clerk meant (`roster::tally`).
    #[error("{}", .0.reason.message().en)]
    Stopped(Box<Stopped>),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Something else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// This instance no longer holds the import's claim (see `jobs`): another instance swept
    /// or took it over, so this run is rolled back and records nothing.
    #[error("the claim on the import was lost")]
    LostClaim,
}

/// An import stopped early, with the rejected rows read until then: they are kept for the
/// clerk to download although nothing else of the import lands.
#[derive(Debug)]
pub struct Stopped {
    reason: StopReason,
    rows: i64,
    rejected: i64,
    /// Error rows as the writer would have stored them.
    errors: Vec<Vec<Value>>,
}

impl Stopped {
    /// The reason, then the first few errors.
    fn message(&self) -> Msg {
        let mut m = self.reason.message();
        let first: Vec<(String, String)> = self
            .errors
            .iter()
            .take(3)
            .map(|row| {
                // The row's values are in the order of `cols::ERROR`: found by name.
                let get = |name: &str| {
                    cols::ERROR
                        .iter()
                        .position(|c| c.name() == name)
                        .and_then(|i| row.get(i))
                };
                let text = |name: &str| match get(name) {
                    Some(Value::String(Some(s))) => s.to_string(),
                    _ => String::new(),
                };
                let at = match get("row_number") {
                    Some(Value::BigInt(Some(n))) => *n,
                    _ => 0,
                };
                let sheet = text("sheet");
                (
                    format!("“{sheet}”第{at}行：{}", text("message_zh")),
                    format!("'{sheet}' row {at}: {}", text("message_en")),
                )
            })
            .collect();
        if !first.is_empty() {
            let zh: Vec<&str> = first.iter().map(|(z, _)| z.as_str()).collect();
            let en: Vec<&str> = first.iter().map(|(_, e)| e.as_str()).collect();
            m = Msg::new(
                format!("{} 前几个错误：{}", m.zh, zh.join("；")),
                format!("{} The first errors: {}", m.en, en.join("; ")),
            );
        }
        m
    }
}

impl RunError {
    fn message(&self) -> Msg {
        match self {
            RunError::File(m) | RunError::Header(m, _) => m.clone(),
            RunError::Stopped(s) => s.message(),
            RunError::Db(e) => Msg::new(
                format!("数据库出错，本次导入未生效，可重新运行：{e}"),
                format!(
                    "A database error stopped the import; nothing was changed and it can be run again: {e}"
                ),
            ),
            RunError::Other(e) => Msg::new(
                format!("导入出错，本次导入未生效，可重新运行：{e}"),
                format!("The import failed; nothing was changed and it can be run again: {e}"),
            ),
            RunError::LostClaim => Msg::new(
                "本实例已失去该导入的处理权，本次运行未生效。",
                "This instance lost its claim on the import; this run changed nothing.",
            ),
        }
    }
}

/// Runs a claimed import to the end and records the result; never leaves half a roster.
pub async fn run(
    db: &DatabaseConnection,
    import_id: i64,
    progress: Progress,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let outcome = run_inner(db, import_id, progress.clone()).await;
    progress.finish(import_id);
    match outcome {
        Ok(counts) => {
            tracing::info!(
                import.id = import_id,
                ?counts,
                seconds = started.elapsed().as_secs_f64(),
                "Roster import {import_id} validated"
            );
            let wanted = roster_import::Entity::find_by_id(import_id)
                .one(db)
                .await?
                .is_some_and(|m| m.auto_activate && m.status == Status::Validated.code());
            if wanted {
                let done = super::activate::auto(db, progress.settings(), import_id)
                    .await
                    .map_err(|e| anyhow::anyhow!("activating import {import_id}: {e}"))?;
                tracing::info!(import.id = import_id, activated = done, "one-step import");
            }
            Ok(())
        }
        Err(RunError::LostClaim) => {
            tracing::warn!(
                import.id = import_id,
                "Roster import {import_id}: the claim was lost (swept or taken over); rolled back"
            );
            Ok(())
        }
        Err(e) => {
            let msg = e.message();
            tracing::warn!(import.id = import_id, error = %msg.en, "Roster import {import_id} failed");
            // The transaction is gone: record the failure on its own, with the rejected rows
            // of an import that stopped early.
            let txn = crate::db::begin_write(db).await?;
            let mut update = roster_import::Entity::update_many()
                .col_expr(roster_import::Column::Status, Expr::value("failed"))
                .col_expr(
                    roster_import::Column::Error,
                    Expr::value(format!("{} / {}", msg.zh, msg.en)),
                )
                .col_expr(roster_import::Column::FinishedAt, Expr::value(Utc::now()));
            if let RunError::Header(_, sheets) = &e {
                update =
                    update.col_expr(roster_import::Column::Sheets, Expr::value(sheets.clone()));
            }
            if let RunError::Stopped(stopped) = e {
                let Stopped {
                    rows,
                    rejected,
                    errors,
                    ..
                } = *stopped;
                update = update
                    .col_expr(
                        roster_import::Column::Accepted,
                        Expr::value(rows - rejected),
                    )
                    .col_expr(roster_import::Column::Rejected, Expr::value(rejected))
                    .col_expr(roster_import::Column::RowsDone, Expr::value(rows));
                keep_errors(&txn, errors).await?;
            }
            // Only while this instance still holds the claim: a run whose claim was swept
            // leaves the import as the sweep (or its new holder) left it.
            let held = update
                .filter(roster_import::COLUMN.id.eq(import_id))
                .filter(roster_import::COLUMN.status.eq("running"))
                .filter(roster_import::COLUMN.claimed_by.eq(progress.instance()))
                .exec(&txn)
                .await?
                .rows_affected;
            if held == 0 {
                tracing::warn!(import.id = import_id, "the failed import's claim was lost");
                return Ok(());
            }
            txn.commit().await?;
            Ok(())
        }
    }
}

/// Stores the error rows of an import that stopped early, a few hundred at a time.
async fn keep_errors(
    txn: &sea_orm::DatabaseTransaction,
    errors: Vec<Vec<Value>>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    for chunk in errors.chunks(500) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("roster_import_errors"))
            .columns(cols::ERROR.iter().map(|c| Alias::new(c.name())));
        for row in chunk {
            insert
                .values(row.iter().cloned().map(Into::into))
                .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

struct ParseResult {
    sheets: Vec<SheetReport>,
    error: Option<FileError>,
    /// The file was not what the clerk meant: reading stopped early.
    stopped: Option<StopReason>,
    /// Data rows read and rejected until then.
    tally: Tally,
}

/// The uploaded file of an import, put together from its parts one part at a time into a
/// temporary file for the parser process.
async fn load_file(
    db: &DatabaseConnection,
    import: &roster_import::Model,
) -> Result<UploadedFile, RunError> {
    let mut out = UploadWriter::new().await.map_err(anyhow::Error::from)?;
    for part in 0.. {
        match file_part::Entity::find_by_id((import.id, part))
            .one(db)
            .await?
        {
            Some(p) => out.write(&p.content).await.map_err(anyhow::Error::from)?,
            None => break,
        }
    }
    if out.len() as i64 != import.file_size {
        return Err(anyhow::anyhow!(
            "the file of import {} is missing or incomplete: {} of {} bytes",
            import.id,
            out.len(),
            import.file_size
        )
        .into());
    }
    Ok(out.finish().await.map_err(anyhow::Error::from)?)
}

async fn run_inner(
    db: &DatabaseConnection,
    import_id: i64,
    progress: Progress,
) -> Result<Counts, RunError> {
    let import = roster_import::Entity::find_by_id(import_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("import {import_id} vanished"))?;
    // Two identical uploads may both have been queued before either finished: the later one
    // changes nothing and points to the earlier. Not when the clerk corrected how the file is
    // read: then it is not the same import.
    let remapped = import.column_mapping.is_some();
    let earlier = roster_import::Entity::find()
        .filter(
            roster_import::COLUMN
                .fingerprint
                .eq(import.fingerprint.as_str()),
        )
        .filter(roster_import::COLUMN.status.eq("succeeded"))
        .filter(roster_import::COLUMN.duplicate_of.is_null())
        .filter(roster_import::COLUMN.id.ne(import_id))
        .one(db)
        .await?
        .filter(|_| !remapped);
    if let Some(first) = earlier {
        // A plan of an earlier validation (one sent back when the other was activated) goes:
        // a duplicate changes nothing and counts nothing.
        let txn = crate::db::begin_write(db).await?;
        let mut update = roster_import::Entity::update_many()
            .col_expr(roster_import::Column::Status, Expr::value("succeeded"))
            .col_expr(roster_import::Column::DuplicateOf, Expr::value(first.id))
            .col_expr(roster_import::Column::FinishedAt, Expr::value(Utc::now()))
            .col_expr(
                roster_import::Column::Version,
                Expr::value(import.version + 1),
            );
        for c in [
            roster_import::Column::Added,
            roster_import::Column::Updated,
            roster_import::Column::Unchanged,
            roster_import::Column::Ended,
        ] {
            update = update.col_expr(c, Expr::value(0));
        }
        let held = update
            .filter(roster_import::COLUMN.id.eq(import_id))
            .filter(roster_import::COLUMN.status.eq("running"))
            .filter(roster_import::COLUMN.claimed_by.eq(progress.instance()))
            .exec(&txn)
            .await?
            .rows_affected;
        if held != 1 {
            return Err(RunError::LostClaim);
        }
        super::activate::drop_plan(&txn, import_id).await?;
        txn.commit().await?;
        return Ok(Counts::default());
    }
    let content = load_file(db, &import).await?;
    let group = import
        .group_code
        .as_deref()
        .map(Group::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let region = import
        .region_code
        .as_deref()
        .map(RegionPrefix::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let scope = match import.created_by {
        Some(uid) => {
            let u = entity::user::Entity::find_by_id(uid)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the uploader {uid} is gone"))?;
            RegionPrefix::parse(&u.region_prefix).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => region
            .clone()
            .unwrap_or_else(|| progress.province().clone()),
    };
    // A full import without a region parameter covers the uploader's own scope, never more.
    let full_scope = region.clone().unwrap_or_else(|| scope.clone());
    let params = Params {
        group,
        region: region.clone(),
        scope,
        mapping: super::mapping::Mapping::from_json(import.column_mapping.as_ref()),
    };
    let mode = Mode::parse(&import.mode).unwrap_or_default();
    let effective = import.effective_date;
    // Read before anything of the roster: an activation that lands during the validation
    // raises it, and the plan is then made again before it can be activated.
    let roster_version = super::activate::roster_version(db).await?;

    let (tx, rx) =
        tokio::sync::mpsc::channel::<Vec<Outcome>>(queued_batches(db.get_database_backend()));
    let batch_size = batch_rows(db.get_database_backend());
    let file_name = import.file_name.clone();
    let parse_progress = progress.clone();
    let file_parser = progress.parser().clone();
    let mut tally = Tally::new(progress.max_rejected_rows());
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(batch_size);
        let mut done: i64 = 0;
        let mut stopped = None;
        let mut sink = TotalingSink {
            inner: Validator::new(params, |o| {
                let stop = match &o {
                    Outcome::Skipped => None,
                    o => tally.observe(matches!(o, Outcome::Rejected(..))),
                };
                batch.push(o);
                done += 1;
                if stop.is_some() {
                    // What was read goes to the writer, which keeps the rejected rows.
                    stopped = stop;
                    return ControlFlow::Break(());
                }
                if batch.len() >= batch_size {
                    parse_progress.set_done(import_id, done);
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if tx.blocking_send(full).is_err() {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            }),
            progress: parse_progress.clone(),
            import_id,
            total: 0,
        };
        let error = file_parser
            .parse(content.path(), &file_name, &mut sink)
            .err();
        let sheets = std::mem::take(&mut sink.inner.sheets);
        drop(sink);
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        parse_progress.set_done(import_id, done);
        ParseResult {
            sheets,
            error,
            stopped,
            tally,
        }
    });

    let job = Job {
        owner: progress.instance().to_owned(),
        import,
        writer: Writer::new(import_id, effective, mode, progress.max_rejected_rows() + 1),
        rx,
        parser,
        full_group: if mode == Mode::Full { group } else { None },
        group,
        full_scope,
        roster_version,
    };
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => run_on_sqlite(db, job).await,
        _ => {
            let pg_err = |e: sea_orm::sqlx::Error| {
                RunError::Db(sea_orm::DbErr::Custom(format!("PostgreSQL: {e}")))
            };
            let mut txn = db
                .get_postgres_connection_pool()
                .begin()
                .await
                .map_err(pg_err)?;
            // The import's statements are short and many, and some are planned as costly
            // enough for PostgreSQL to compile them to machine code with LLVM, every time:
            // that compiling was 63 % of the server's work importing a known roster again.
            sea_orm::sqlx::raw_sql("SET LOCAL jit = off")
                .execute(&mut *txn)
                .await
                .map_err(pg_err)?;
            let counts = job.run(&mut PgStore::new(&mut txn)).await?;
            txn.commit().await.map_err(pg_err)?;
            Ok(counts)
        }
    }
}

/// How long the import waits for SQLite's write lock. The service's other writes hold it for a
/// short transaction and give up after `CANCER_AID_SQLITE_BUSY_SECONDS`; only another import
/// (the command line's, in another process) holds it longer, a few seconds to a minute.
const IMPORT_BUSY: std::time::Duration = std::time::Duration::from_secs(600);

/// The import's SQLite transaction, on a thread of its own: its statements are blocking
/// calls, which must not hold up the runtime's workers and the requests they serve.
async fn run_on_sqlite(db: &DatabaseConnection, job: Job) -> Result<Counts, RunError> {
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

/// An import between its parser and its transaction.
struct Job {
    /// The instance whose claim this run holds.
    owner: String,
    import: roster_import::Model,
    writer: Writer,
    rx: tokio::sync::mpsc::Receiver<Vec<Outcome>>,
    parser: tokio::task::JoinHandle<ParseResult>,
    /// The group whose scope a full import replaces.
    full_group: Option<Group>,
    /// The import's group, if it names one.
    group: Option<Group>,
    full_scope: RegionPrefix,
    /// The roster's version before the validation read anything (`roster::activate`).
    roster_version: i64,
}

impl Job {
    /// Writes what the parser sends, then the import's result, inside the caller's transaction.
    async fn run<S: Store>(self, store: &mut S) -> Result<Counts, RunError> {
        let Job {
            owner,
            import,
            mut writer,
            mut rx,
            parser,
            full_group,
            group,
            full_scope,
            roster_version,
        } = self;
        let import_id = import.id;
        // What an earlier validation of the same import staged and rejected is planned anew.
        let plan = super::activate::PLAN_TABLES.map(|(t, _)| t);
        for table in plan.into_iter().chain(["roster_import_errors"]) {
            store
                .execute(Statement::from_sql_and_values(
                    store.backend(),
                    super::retention::sql(
                        store.backend(),
                        &format!("DELETE FROM {table} WHERE import_id = ?"),
                    ),
                    [import_id.into()],
                ))
                .await?;
        }
        let mut write_error = None;
        while let Some(batch) = rx.recv().await {
            if let Err(e) = writer.write(store, batch).await {
                write_error = Some(e);
                break;
            }
        }
        drop(rx);
        let parsed = parser
            .await
            .map_err(|e| anyhow::anyhow!("the parser stopped: {e}"))?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        if let Some(e) = parsed.error {
            return Err(RunError::File(Msg::of(&e)));
        }
        if let Some(reason) = parsed.stopped {
            return Err(RunError::Stopped(Box::new(Stopped {
                reason,
                rows: parsed.tally.rows() as i64,
                rejected: parsed.tally.rejected() as i64,
                errors: std::mem::take(&mut writer.kept_errors),
            })));
        }
        // Two columns claiming one field: which one is meant is for the clerk to say, on the
        // failed import's result (`POST .../columns`), which keeps the sheets for it.
        if let Some(m) = super::rows::header_problems(&parsed.sheets) {
            return Err(RunError::Header(
                m,
                serde_json::to_value(&parsed.sheets).unwrap_or_default(),
            ));
        }
        if !parsed.sheets.iter().any(|s| s.has_roster) {
            let notes = parsed
                .sheets
                .iter()
                .map(|s| format!("“{}”：{}", s.name, s.note.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("；");
            return Err(RunError::File(Msg::new(
                format!("文件中没有找到名册。{notes}"),
                format!(
                    "No roster was found in the file: a header row with an ID-number column (身份证号码 / 身份证号 / 公民身份号码 / 证件号码 / id_number) and a name column (姓名 / 救助对象姓名 / 成员姓名 / name) is needed. {notes}"
                ),
            )));
        }
        let covered = match full_group {
            Some(g) => writer.end_missing(store, g, full_scope.as_str()).await?,
            None => {
                store
                    .covered(group, full_scope.as_str(), import.effective_date)
                    .await?
            }
        };
        let counts = writer.counts(&parsed.sheets);
        let total: i64 = parsed.sheets.iter().map(|s| s.rows as i64).sum();
        let now = Utc::now();
        let mut m: roster_import::ActiveModel = import.clone().into();
        m.status = Set(Status::Validated.code().to_owned());
        m.version = Set(import.version + 1);
        m.roster_version = Set(Some(roster_version));
        m.validated_at = Set(Some(now));
        m.rows_total = Set(total);
        m.rows_done = Set(total);
        m.accepted = Set(counts.accepted);
        m.rejected = Set(counts.rejected);
        m.skipped = Set(counts.skipped);
        m.added = Set(counts.added);
        m.updated = Set(counts.updated);
        m.unchanged = Set(counts.unchanged);
        m.ended = Set(counts.ended);
        m.covered = Set(covered);
        m.sheets = Set(Some(
            serde_json::to_value(&parsed.sheets).unwrap_or_default(),
        ));
        m.error = Set(None);
        let after = m.clone().try_into_model()?;
        let backend = store.backend();
        // The claim is a lease: an instance whose heartbeat stopped long enough for the import
        // to be swept as interrupted (and perhaps claimed again by another) must not finish it
        // too. Only the holder of the claim marks it done; anyone else rolls back.
        let finished = store
            .execute(
                roster_import::Entity::update_many()
                    .set(m)
                    .filter(roster_import::COLUMN.id.eq(import_id))
                    .filter(roster_import::COLUMN.status.eq("running"))
                    .filter(roster_import::COLUMN.claimed_by.eq(owner.as_str()))
                    .build(backend),
            )
            .await?;
        if finished != 1 {
            return Err(RunError::LostClaim);
        }
        let actor = Actor::uploader(import.created_by, now);
        let change = Change {
            action: "roster_import.validate",
            entity_type: "roster_import",
            entity_id: import_id.to_string(),
            before: None,
            after: Some(
                serde_json::to_value(ImportView::from_model(&after, None)).unwrap_or_default(),
            ),
        };
        store
            .execute(audit::insert_statement(backend, &actor, change))
            .await?;
        Ok(counts)
    }
}

/// Passes rows on and tells the progress registry how many rows the sheets declare.
struct TotalingSink<V> {
    inner: V,
    progress: Progress,
    import_id: i64,
    total: i64,
}

impl<V: read::RowSink> read::RowSink for TotalingSink<V> {
    fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
        self.total += approx_rows as i64;
        self.progress.set_total(self.import_id, self.total);
        self.inner.begin_sheet(name, approx_rows);
    }
    fn row(&mut self, index: u32, cells: &[read::Cell]) -> ControlFlow<()> {
        self.inner.row(index, cells)
    }
    fn end_sheet(&mut self) {
        self.inner.end_sheet();
    }
}

/// Columns of the statements the writer sends.
mod cols {
    use super::super::bulk::{Col, col};

    pub const ERROR: &[Col] = &[
        col("import_id", "bigint"),
        col("sheet", "text"),
        col("row_number", "bigint"),
        col("column_name", "text"),
        col("value", "text"),
        col("code", "text"),
        col("message_zh", "text"),
        col("message_en", "text"),
        col("row_data", "json"),
    ];
    pub const STAGE: &[Col] = &[
        col("import_id", "bigint"),
        col("seq", "bigint"),
        col("sheet", "text"),
        col("row_number", "bigint"),
        col("id_number", "text"),
        col("name", "text"),
        col("sex", "text"),
        col("birth_date", "date"),
        col("region_code", "text"),
        col("group_code", "text"),
        col("valid_from", "date"),
        col("valid_to", "date"),
        col("extra", "json"),
        col("person_id", "bigint"),
        col("new_person", "bigint"),
        col("person_row", "bool"),
        col("entry_id", "bigint"),
        col("action", "text"),
        col("person_changed", "bool"),
        col("before_valid_from", "date"),
        col("before_valid_to", "date"),
        col("before_region_code", "text"),
        col("before_name", "text"),
    ];
    pub const END: &[Col] = &[
        col("import_id", "bigint"),
        col("entry_id", "bigint"),
        col("person_id", "bigint"),
    ];
}

/// Plans batches inside the validation's transaction and keeps the counts: what activation
/// would do goes to the staging tables (`roster::activate`), the roster itself is only read.
struct Writer {
    import_id: i64,
    effective: NaiveDate,
    /// Staged rows so far: the next row's place in the file.
    seq: i64,
    /// People not on file, by the 17 digits of their ID number: their number among the new
    /// people, so that each of a person's rows names the same one (a person may be listed in
    /// two groups, in different batches).
    new_people: HashMap<u64, i64>,
    /// People on file whose new name or region an earlier chunk staged: a later row of theirs
    /// is staged as a change too, so that the latest row wins even when it matches the file.
    changed_people: foldhash::HashSet<i64>,
    added: i64,
    updated: i64,
    unchanged: i64,
    ended: i64,
    /// People listed (accepted) by a full import, by database id; unsorted until the end.
    listed: Option<Vec<i64>>,
    /// ID numbers of rows a full import rejected: nobody's coverage ends over a typo.
    protected: Vec<String>,
    /// Copies of the error rows written so far, while they are few enough to be worth keeping:
    /// an import that stops early rolls back, and stores these on their own.
    kept_errors: Vec<Vec<Value>>,
    /// Rejected rows whose errors may be kept.
    keep_rows: u64,
}

fn text(s: impl Into<String>) -> Value {
    Value::String(Some(s.into()))
}

fn extra_json(extra: &[(Arc<str>, String)]) -> Option<serde_json::Value> {
    (!extra.is_empty()).then(|| {
        serde_json::Value::Object(
            extra
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    })
}

/// What a row does to its entry, as staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new entry.
    Added,
    /// The entry it continues changes (or is reopened).
    Updated,
    /// Nothing changes (staged only when the person's name or region does).
    Unchanged,
}

impl Action {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

impl Writer {
    fn new(import_id: i64, effective: NaiveDate, mode: Mode, keep_rows: u64) -> Writer {
        Writer {
            import_id,
            effective,
            seq: 0,
            new_people: HashMap::new(),
            changed_people: Default::default(),
            added: 0,
            updated: 0,
            unchanged: 0,
            ended: 0,
            listed: (mode == Mode::Full).then(Vec::new),
            protected: Vec::new(),
            kept_errors: Vec::new(),
            keep_rows,
        }
    }

    fn counts(&self, sheets: &[SheetReport]) -> Counts {
        let sum = |f: fn(&SheetReport) -> u64| sheets.iter().map(f).sum::<u64>() as i64;
        Counts {
            rows: sum(|s| s.rows),
            accepted: sum(|s| s.accepted),
            rejected: sum(|s| s.rejected),
            skipped: sum(|s| s.skipped),
            added: self.added,
            updated: self.updated,
            unchanged: self.unchanged,
            ended: self.ended,
        }
    }

    async fn write<S: Store>(
        &mut self,
        store: &mut S,
        batch: Vec<Outcome>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut rows: Vec<RosterRow> = Vec::with_capacity(batch.len());
        let mut errors = Vec::new();
        for o in batch {
            match o {
                Outcome::Accepted(r) => rows.push(r),
                Outcome::Rejected(errs, id, data) => {
                    if let (Some(id), Some(_)) = (id, &self.listed) {
                        self.protected.push(id.as_str().to_owned());
                    }
                    let data = serde_json::to_value(&data).ok();
                    let first = errors.len();
                    errors.extend(errs.into_iter().map(|e| {
                        vec![
                            Value::BigInt(Some(self.import_id)),
                            text(e.sheet),
                            Value::BigInt(Some(i64::from(e.row))),
                            text(e.column),
                            text(e.value),
                            text(e.code),
                            text(e.message_zh),
                            text(e.message_en),
                            Value::Json(data.clone().map(Box::new)),
                        ]
                    }));
                    if self.keep_rows > 0 {
                        self.keep_rows -= 1;
                        self.kept_errors.extend(errors[first..].iter().cloned());
                    }
                }
                Outcome::Skipped => {}
            }
        }
        store
            .insert("roster_import_errors", cols::ERROR, errors)
            .await?;
        for part in rows.chunks_mut(LOOKUP_ROWS) {
            self.plan(store, part).await?;
        }
        Ok(())
    }

    /// Looks up the people of a chunk and their entries, and stages what each row would do.
    async fn plan<S: Store>(
        &mut self,
        store: &mut S,
        rows: &mut [RosterRow],
    ) -> Result<(), sea_orm::DbErr> {
        // The latest row of a person is the best source for the name and where they live.
        let mut latest: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            latest.insert(r.id_number.as_str(), i);
        }
        let keys = latest.keys().map(|k| (*k).to_owned()).collect();
        // id_number -> (person id, whose latest row here changes the name or region)
        let mut known: HashMap<String, (i64, bool)> = HashMap::with_capacity(latest.len());
        for (id, id_number, name, region) in store.persons(keys).await? {
            let changed = self.changed_people.contains(&id)
                || latest.get(id_number.as_str()).is_some_and(|&i| {
                    rows[i].name != name || rows[i].region.as_str() != region.as_str()
                });
            known.insert(id_number, (id, changed));
        }
        // Only the person's latest row here carries the change.
        let last: Vec<bool> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| latest.get(r.id_number.as_str()) == Some(&i))
            .collect();
        drop(latest);
        let before: Vec<i64> = known.values().map(|(id, _)| *id).collect();
        // By person: a person has a handful of entries, so the group is matched by a scan.
        let mut by_person: HashMap<i64, Vec<Existing>> = HashMap::new();
        for e in store.entries_of(before).await? {
            by_person.entry(e.person_id).or_default().push(e);
        }
        let mut staged = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            let person = known.get(r.id_number.as_str()).copied();
            let mut person_changed = last[i] && person.is_some_and(|p| p.1);
            // A new person is created from their first row; a later row of theirs brings its
            // name and region as a change, as for anyone on file.
            let (new_person, person_row) = match person {
                Some(_) => (None, false),
                None => {
                    let key: u64 = r.id_number.as_str()[..17].parse().unwrap_or_default();
                    let next = self.new_people.len() as i64 + 1;
                    match self.new_people.entry(key) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            person_changed = true;
                            (Some(*e.get()), false)
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(next);
                            (Some(next), true)
                        }
                    }
                }
            };
            let pid = person.map(|p| p.0);
            if let (true, Some(pid)) = (person_changed, pid) {
                self.changed_people.insert(pid);
            }
            if let (Some(listed), Some(pid)) = (&mut self.listed, pid) {
                listed.push(pid);
            }
            let extra = r.extra_json.take();
            let entries: Vec<&Existing> = pid
                .and_then(|pid| by_person.get(&pid))
                .map(|es| {
                    es.iter()
                        .filter(|e| e.group_code == r.group.code())
                        .collect()
                })
                .unwrap_or_default();
            let (action, entry, from) =
                match match_entry(&entries, r.valid_from, r.valid_to, self.effective) {
                    Some(e) => {
                        let from = r.valid_from.unwrap_or(e.valid_from);
                        let changed = e.valid_from != from
                            || e.valid_to != r.valid_to
                            || e.region_code != r.region.as_str()
                            || e.name_on_roster != r.name
                            || e.extra != extra_json(&r.extra)
                            || e.ended_by_import_id.is_some();
                        if changed {
                            (Action::Updated, Some(e), from)
                        } else {
                            (Action::Unchanged, Some(e), from)
                        }
                    }
                    None => (Action::Added, None, r.valid_from.unwrap_or(self.effective)),
                };
            match action {
                Action::Added => self.added += 1,
                Action::Updated => self.updated += 1,
                Action::Unchanged => self.unchanged += 1,
            }
            self.seq += 1;
            // A row that changes nothing is not staged: activation has nothing to do for it.
            if action == Action::Unchanged && !person_changed {
                continue;
            }
            let before = entry.filter(|_| action == Action::Updated);
            staged.push(vec![
                Value::BigInt(Some(self.import_id)),
                Value::BigInt(Some(self.seq)),
                text(&*r.sheet),
                Value::BigInt(Some(i64::from(r.row))),
                text(r.id_number.as_str()),
                text(r.name.as_str()),
                text(r.id_number.sex().code()),
                Value::ChronoDate(Some(r.id_number.birth_date())),
                text(r.region.as_str()),
                text(r.group.code()),
                Value::ChronoDate(Some(from)),
                Value::ChronoDate(r.valid_to),
                Value::String(extra),
                Value::BigInt(pid),
                Value::BigInt(new_person),
                Value::Bool(Some(person_row)),
                Value::BigInt(entry.map(|e| e.id)),
                text(action.code()),
                Value::Bool(Some(person_changed)),
                Value::ChronoDate(before.map(|e| e.valid_from)),
                Value::ChronoDate(before.and_then(|e| e.valid_to)),
                Value::String(before.map(|e| e.region_code.clone())),
                Value::String(before.map(|e| e.name_on_roster.clone())),
            ]);
        }
        store
            .insert("roster_import_rows", cols::STAGE, staged)
            .await
    }

    /// Full import: entries of the scope still covering the effective date whose person the
    /// file no longer lists would end the day before; staged in `roster_import_ends`. Answers
    /// the people covered in the scope.
    async fn end_missing<S: Store>(
        &mut self,
        store: &mut S,
        group: Group,
        prefix: &str,
    ) -> Result<i64, sea_orm::DbErr> {
        let mut listed = self.listed.take().unwrap_or_default();
        // Someone whose row merely had an error stays covered until the clerk fixes it.
        let protected = std::mem::take(&mut self.protected);
        for (id, ..) in store.persons(protected).await? {
            listed.push(id);
        }
        listed.sort_unstable();
        listed.dedup();
        let current = store.current_entries(group, prefix, self.effective).await?;
        let covered = people(&current);
        let to_end: Vec<(i64, i64)> = current
            .into_iter()
            .filter(|(_, pid)| listed.binary_search(pid).is_err())
            .collect();
        drop(listed);
        for chunk in to_end.chunks(10_000) {
            let rows: Vec<Vec<Value>> = chunk
                .iter()
                .map(|(entry, person)| {
                    vec![
                        Value::BigInt(Some(self.import_id)),
                        Value::BigInt(Some(*entry)),
                        Value::BigInt(Some(*person)),
                    ]
                })
                .collect();
            self.ended += rows.len() as i64;
            store.insert("roster_import_ends", cols::END, rows).await?;
        }
        Ok(covered)
    }
}

/// Distinct people of (entry id, person id) pairs: a person may hold two entries.
fn people(entries: &[(i64, i64)]) -> i64 {
    let mut people: Vec<i64> = entries.iter().map(|(_, pid)| *pid).collect();
    people.sort_unstable();
    people.dedup();
    people.len() as i64
}

/// Which existing entry a row continues, if any: the one with the same start; else, for a row
/// without a start, the one covering the effective date or still open; else one the row's
/// period overlaps.
fn match_entry<'e>(
    entries: &[&'e Existing],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    effective: NaiveDate,
) -> Option<&'e Existing> {
    let covers =
        |e: &Existing, d: NaiveDate| e.valid_from <= d && e.valid_to.is_none_or(|t| d <= t);
    match from {
        Some(f) => entries
            .iter()
            .copied()
            .find(|e| e.valid_from == f)
            .or_else(|| {
                let end = to.unwrap_or(NaiveDate::MAX);
                entries
                    .iter()
                    .copied()
                    .filter(|e| e.valid_from <= end && e.valid_to.is_none_or(|t| t >= f))
                    .max_by_key(|e| e.valid_from)
            }),
        None => entries
            .iter()
            .copied()
            .filter(|e| covers(e, effective) || e.valid_to.is_none() || e.valid_from > effective)
            .max_by_key(|e| e.valid_from),
    }
}

/// The language-specific message of a stored error row.
pub fn error_message(e: &roster_import_error::Model, lang: Lang) -> &str {
    lang.pick(&e.message_zh, &e.message_en)
}

/// One page of the errors, in order, and how many there are in all.
pub async fn errors_page<C: ConnectionTrait>(
    db: &C,
    import_id: i64,
    page: u64,
    per_page: u64,
) -> Result<(Vec<roster_import_error::Model>, u64), sea_orm::DbErr> {
    use sea_orm::{PaginatorTrait, QueryOrder};
    let q = roster_import_error::Entity::find()
        .filter(roster_import_error::COLUMN.import_id.eq(import_id))
        .order_by_asc(roster_import_error::COLUMN.id);
    let total = q.clone().count(db).await?;
    let rows = q
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Errors as stored, in order.
pub async fn errors_of<C: ConnectionTrait>(
    db: &C,
    import_id: i64,
) -> Result<Vec<roster_import_error::Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    roster_import_error::Entity::find()
        .filter(roster_import_error::COLUMN.import_id.eq(import_id))
        .order_by_asc(roster_import_error::COLUMN.id)
        .all(db)
        .await
}

/// Makes a failed import runnable again.
pub async fn requeue(
    db: &DatabaseConnection,
    actor: &Actor,
    import_id: i64,
) -> AppResult<roster_import::Model> {
    let txn = crate::db::begin_write(db).await?;
    // Locked, so that the retention purge cannot claim it between this check and the update.
    let m = roster_import::Entity::find_by_id(import_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("roster_import", import_id))?;
    if let Some(purged) = m.purged_at {
        return Err(crate::roster::retention::purged_conflict(purged));
    }
    if m.status != "failed" {
        return Err(AppError::conflict(
            "import_not_failed",
            Msg::new(
                format!("只有失败的导入可以重新运行，本批次状态为 {}。", m.status),
                format!(
                    "Only a failed import can be run again; this one is {}.",
                    m.status
                ),
            ),
        ));
    }
    let mut a: roster_import::ActiveModel = m.clone().into();
    a.status = Set("queued".to_owned());
    a.error = Set(None);
    a.claimed_by = Set(None);
    a.claimed_at = Set(None);
    a.started_at = Set(None);
    a.finished_at = Set(None);
    a.rows_done = Set(0);
    let after = a.update(&txn).await?;
    // Error rows of an earlier attempt never exist: a failed run rolled them back.
    audit::record(
        &txn,
        actor,
        Change {
            action: "roster_import.retry",
            entity_type: "roster_import",
            entity_id: import_id.to_string(),
            before: Some(serde_json::json!({"status": m.status, "error": m.error})),
            after: Some(serde_json::json!({"status": "queued"})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
