//! An entry a validated full import would end (staging, `roster::activate`).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_import_ends")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entry_id: i64,
    pub person_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
