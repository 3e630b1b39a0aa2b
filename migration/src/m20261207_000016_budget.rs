//! The programme's budget (资金额度): a line per year × region (a city or a county) × group,
//! with what approved subsidies have committed against it and what the bank has paid. A
//! subsidy remembers the line it was committed to (`visits.budget_line_id`), so that voiding,
//! reversing and paying move the same line.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BudgetLines {
    Table,
    Id,
    Year,
    RegionCode,
    GroupCode,
    AmountFen,
    CommittedFen,
    PaidFen,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Visits {
    Table,
    BudgetLineId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BudgetLines::Table)
                .col(big_pk_auto(BudgetLines::Id))
                .col(integer(BudgetLines::Year))
                .col(string(BudgetLines::RegionCode))
                .col(string(BudgetLines::GroupCode))
                .col(big_integer(BudgetLines::AmountFen))
                .col(big_integer(BudgetLines::CommittedFen))
                .col(big_integer(BudgetLines::PaidFen))
                .col(integer(BudgetLines::Version))
                .col(big_integer(BudgetLines::CreatedBy))
                .col(timestamp_with_time_zone(BudgetLines::CreatedAt))
                .col(big_integer(BudgetLines::UpdatedBy))
                .col(timestamp_with_time_zone(BudgetLines::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_budget_lines_key")
                .table(BudgetLines::Table)
                .col(BudgetLines::Year)
                .col(BudgetLines::RegionCode)
                .col(BudgetLines::GroupCode)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Visits::Table)
                .add_column(big_integer_null(Visits::BudgetLineId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Visits::Table)
                .drop_column(Visits::BudgetLineId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(BudgetLines::Table).to_owned())
            .await?;
        Ok(())
    }
}
