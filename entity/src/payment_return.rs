//! A return file (回盘) the bank sent back for a batch, with what it settled.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_returns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The layout it was read with.
    pub layout: String,
    pub uploaded_by: i64,
    pub uploaded_at: DateTimeUtc,
    /// Rows read (header and trailer lines not counted).
    pub rows: i64,
    /// Lines it marked paid, and their sum.
    pub paid: i64,
    pub paid_fen: i64,
    /// Lines it marked failed, and their sum.
    pub failed: i64,
    pub failed_fen: i64,
    /// Rows listed as problems and applied to no line.
    pub problems: i64,
}

impl ActiveModelBehavior for ActiveModel {}
