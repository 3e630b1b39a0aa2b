//! A payment batch (发放批次): approved subsidies paid through the bank together.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The number the bank file and the notice carry, such as `PB20261207-00012`.
    #[sea_orm(unique)]
    pub batch_no: String,
    pub state: State,
    /// Optimistic-concurrency version: every change names the version it read.
    pub version: i32,
    /// The region it was drafted for (inside the drafter's scope).
    pub region_code: String,
    /// The filters it was drafted from.
    pub filters: Json,
    /// 笔数.
    pub line_count: i64,
    /// 金额, in fen.
    pub total_fen: i64,
    pub drafted_by: i64,
    pub drafted_at: DateTimeUtc,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<i64>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub exported_at: Option<DateTimeUtc>,
    /// The layout of the bank file.
    pub export_layout: Option<String>,
    /// The bank file's SHA-256, hex: a file sent to the bank is identified by it.
    pub export_sha256: Option<String>,
    /// When every exported line had the bank's outcome.
    pub reconciled_at: Option<DateTimeUtc>,
    /// The public notice's (公示) first day; none until the notice is produced.
    pub notice_from: Option<Date>,
    /// Its last day: the bank file is produced after it.
    pub notice_until: Option<Date>,
    /// Who produced the notice.
    pub noticed_by: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}

/// Where a batch stands: draft → approved (by a second person) → exported → reconciled, or
/// cancelled before export.
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
#[schema(as = BatchState)]
pub enum State {
    /// Drafted, its lines held out of other batches.
    Draft,
    /// Approved by a second person; ready for the notice and the bank file.
    Approved,
    /// Its bank file was produced.
    Exported,
    /// The bank's return file was read back.
    Reconciled,
    /// Cancelled before export; its subsidies are payable again.
    Cancelled,
}

crate::codes! {
    State {
        Draft => "draft",
        Approved => "approved",
        Exported => "exported",
        Reconciled => "reconciled",
        Cancelled => "cancelled",
    }
}
