//! An import as the API and the pages show it, its progress and counts, and its stored errors.

use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use entity::{roster_import, roster_import_error};

use crate::domain::Lang;
use crate::roster::status::Status;

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
    /// Where the import stands.
    pub status: Status,
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
            status: m.status,
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
