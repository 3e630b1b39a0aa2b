//! One read of personal data: who, when, which route, which person or resource, from where.
//! Append-only (a trigger refuses updates).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub user_id: Option<i64>,
    pub username: String,
    pub route: String,
    pub action: String,
    pub person_id: Option<i64>,
    pub resource: Option<String>,
    pub client: String,
}

impl ActiveModelBehavior for ActiveModel {}
