//! A person's membership of one assistance group over a period, as a roster said.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub group_code: String,
    pub region_code: String,
    pub name_on_roster: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub extra: Option<Json>,
    pub created_by_import_id: Option<i64>,
    pub updated_by_import_id: Option<i64>,
    pub ended_by_import_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "person_id", to = "id")]
    pub person: HasOne<super::person::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
