//! A resident, keyed by the normalised 18-character ID number.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Date,
    pub region_code: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(has_many)]
    pub roster_entries: HasMany<super::roster_entry::Entity>,
    #[sea_orm(has_many)]
    pub cases: HasMany<super::case::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
