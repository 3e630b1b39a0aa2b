//! The subsidy rules for one group over a period; money in fen, the rate as a decimal string.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subsidy_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_code: String,
    pub rate: String,
    pub deductible_fen: i64,
    pub per_visit_cap_fen: i64,
    pub annual_cap_fen: i64,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
