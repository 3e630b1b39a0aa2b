//! The bytes of an uploaded roster, kept so any instance can run (or re-run) the import.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_import_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: i64,
    pub content: Vec<u8>,
}

impl ActiveModelBehavior for ActiveModel {}
