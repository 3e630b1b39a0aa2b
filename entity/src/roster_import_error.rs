//! A rejected roster row: where it is in the sheet, what was there and why it was refused.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_import_errors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub import_id: i64,
    pub sheet: String,
    pub row_number: i64,
    pub column_name: String,
    pub value: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// The rejected row as it was: a list of [header, value] pairs in column order.
    pub row_data: Option<Json>,
}

impl ActiveModelBehavior for ActiveModel {}
