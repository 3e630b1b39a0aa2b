//! A part of an uploaded roster's bytes, kept so any instance can run (or re-run) the import.
//! A file is its parts in order; each is at most [`PART_BYTES`] long.
use sea_orm::entity::prelude::*;

/// The longest part: a copy of one part costs little memory, and a 40 MB file is 40 rows.
pub const PART_BYTES: usize = 1 << 20;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_import_file_parts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub part: i32,
    pub content: Vec<u8>,
}

impl ActiveModelBehavior for ActiveModel {}
