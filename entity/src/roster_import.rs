//! One uploaded roster file (导入批次) and what became of it.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub file_name: String,
    pub sha256: String,
    pub file_size: i64,
    pub format: String,
    pub group_code: Option<String>,
    pub region_code: Option<String>,
    pub mode: String,
    pub effective_date: Date,
    /// SHA-256 of the file's hash with the scope and parameters: the idempotency key.
    pub fingerprint: String,
    pub status: Status,
    pub rows_total: i64,
    pub rows_done: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub skipped: i64,
    pub added: i64,
    pub updated: i64,
    pub ended: i64,
    pub sheets: Option<Json>,
    pub error: Option<String>,
    pub duplicate_of: Option<i64>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTimeUtc>,
    /// None for an import run from the command line.
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// When the uploaded file and the raw data of the rejected rows were deleted, after the
    /// retention period (`roster::retention`); such an import cannot be run again.
    pub purged_at: Option<DateTimeUtc>,
    /// Why the uploader confirmed a full import that ends most of its scope or accepts no
    /// row (`roster::guard`); without it such an import is refused.
    pub confirmed_reason: Option<String>,
    /// When the import's changes to the roster were undone (`roster::revert`), and by whom.
    pub reverted_at: Option<DateTimeUtc>,
    pub reverted_by: Option<i64>,
    /// Rows that would change nothing (two-step imports, `roster::activate`).
    pub unchanged: i64,
    /// People covered in the import's scope when it was validated.
    pub covered: i64,
    /// Raised by every change of state: an activation names the version it saw.
    pub version: i32,
    /// Activate as soon as validated when the uploader alone may (CLI `--activate`, demo).
    pub auto_activate: bool,
    /// The roster's version (`roster_state`) the plan was made against.
    pub roster_version: Option<i64>,
    pub validated_at: Option<DateTimeUtc>,
    pub activated_at: Option<DateTimeUtc>,
    pub activated_by: Option<i64>,
    /// The clerk's corrections to how the columns were read (`roster::mapping`).
    pub column_mapping: Option<Json>,
    /// Who corrected the reading last: like the uploader, not the plan's second person.
    pub remapped_by: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}

/// Where an import stands (`roster_imports.status`).
///
/// queued → running (validating) → validated → succeeded (activated: the roster changed);
/// a validated import can instead be discarded, or expire when left alone; a run that cannot
/// finish ends failed. An activation that finds the roster changed since validation sends the
/// import back to queued, to be validated again.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
#[schema(as = ImportStatus)]
pub enum Status {
    /// Waiting for the worker.
    Queued,
    /// Being read and validated.
    Running,
    /// Validated: the plan is staged, nothing in the roster changed yet.
    Validated,
    /// Activated: the roster holds what the file said (also a duplicate of such an import).
    Succeeded,
    /// The file could not be read or was not what the clerk meant; nothing changed.
    Failed,
    /// Someone decided against activating it.
    Discarded,
    /// Nobody activated it in time.
    Expired,
}

crate::codes! {
    Status {
        Queued => "queued",
        Running => "running",
        Validated => "validated",
        Succeeded => "succeeded",
        Failed => "failed",
        Discarded => "discarded",
        Expired => "expired",
    }
}
