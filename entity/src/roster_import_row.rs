//! A row a validated import would write (staging, `roster::activate`): an entry to add, an
//! entry to change with its values before, or a person's new name or region.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_import_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub import_id: i64,
    /// Order in the file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub sheet: String,
    pub row_number: i64,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Date,
    pub region_code: String,
    pub group_code: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub extra: Option<Json>,
    /// The person, when already on file at validation.
    pub person_id: Option<i64>,
    /// Otherwise the person's number among the import's new people (1, 2, ...): activation
    /// gives them the ids after the largest there.
    pub new_person: Option<i64>,
    /// This row creates its new person.
    pub person_row: bool,
    /// The entry the row continues, for `updated` (and `unchanged`).
    pub entry_id: Option<i64>,
    /// `added`, `updated` or `unchanged`.
    pub action: String,
    /// The row brings the person a new name or region.
    pub person_changed: bool,
    pub before_valid_from: Option<Date>,
    pub before_valid_to: Option<Date>,
    pub before_region_code: Option<String>,
    pub before_name: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
