//! One transition of a case: who, when, from, to, why.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub actor_id: i64,
    pub action: String,
    pub from_state: Option<super::case::State>,
    pub to_state: super::case::State,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "case_id", to = "id")]
    pub case: HasOne<super::case::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
