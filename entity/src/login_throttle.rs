//! Failed logins counted per kind ("account": the lowercased name tried, "address": the
//! client's address) and key; `last_failure_unix` is in Unix seconds.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub failures: i32,
    pub last_failure_unix: i64,
}

impl ActiveModelBehavior for ActiveModel {}
