//! An entry as it was just before an import (or the revert of one) changed or ended it.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_entry_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry_id: i64,
    /// The import that made the change (for a revert: the import reverted).
    pub import_id: i64,
    /// `updated`, `ended` or `reverted`.
    pub kind: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub region_code: String,
    pub name_on_roster: String,
    pub extra: Option<Json>,
    pub updated_by_import_id: Option<i64>,
    pub ended_by_import_id: Option<i64>,
    pub changed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
