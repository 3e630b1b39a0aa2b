//! An administrative division (GB/T 2260); a retired code names its successor.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub successor_code: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
