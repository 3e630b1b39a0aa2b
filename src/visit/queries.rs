//! Reading visits: one visit, a page of a list, and a person's yearly statement, each
//! limited to the visits the user may see.

use chrono::NaiveDate;
use sea_orm::ColumnTrait;
use sea_orm::{
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use entity::{person, visit};

use super::view::{VisitView, view, views};
use super::{Status, ledger};
use crate::auth::CurrentUser;
use crate::domain::allowance::reading_day;
use crate::domain::{IdNumber, Money, RegionCode};
use crate::error::{AppError, AppResult};

/// One visit the user may see.
pub async fn get(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> AppResult<VisitView> {
    let v = visit::Entity::find_by_id(id)
        .filter(user.scope(visit::Column::RegionCode))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("visit", id))?;
    Ok(view(db, &v).await?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// One case.
    pub case_id: Option<i64>,
    /// One person.
    pub id_number: Option<IdNumber>,
    /// Counted on or after.
    pub from: Option<NaiveDate>,
    /// Counted on or before.
    pub to: Option<NaiveDate>,
    /// One status.
    pub status: Option<Status>,
}

/// A page of the visits the user may see, newest first, with the total that match.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    f: &ListFilter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<VisitView>, u64)> {
    let mut q = visit::Entity::find().filter(user.scope(visit::Column::RegionCode));
    if let Some(c) = f.case_id {
        q = q.filter(visit::COLUMN.case_id.eq(c));
    }
    if let Some(idn) = &f.id_number {
        let Some(p) = person::Entity::find()
            .filter(person::COLUMN.id_number.eq(idn.as_str()))
            .one(db)
            .await?
        else {
            return Ok((vec![], 0));
        };
        q = q.filter(visit::COLUMN.person_id.eq(p.id));
    }
    if let Some(d) = f.from {
        q = q.filter(visit::COLUMN.counted_on.gte(d));
    }
    if let Some(d) = f.to {
        q = q.filter(visit::COLUMN.counted_on.lte(d));
    }
    if let Some(s) = f.status {
        q = q.filter(visit::COLUMN.status.eq(s));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(visit::COLUMN.id)
        .offset((page.saturating_sub(1)) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((views(db, &rows, true).await?, total))
}

/// Sums over a year's visits.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct StatementTotals {
    /// Visits recorded (not voided, reversal entries not counted).
    pub visits: u64,
    /// 总费用 of those visits.
    pub total_cost: Money,
    /// 个人自付 of those visits.
    pub out_of_pocket: Money,
    /// Subsidy granted: not voided, net of reversals.
    pub subsidy: Money,
    /// Of which paid, net of reversals.
    pub paid: Money,
}

/// A patient's visits, subsidies and cap in one year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PersonStatement)]
pub struct Statement {
    /// The person's record id: ask for the statement again by it, not by the ID number.
    pub person_id: i64,
    /// The ID number in full: the statement is about this one person.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region_code: String,
    /// Calendar year.
    pub year: i32,
    /// The annual cap on the year's reading day (`domain::allowance`: today within the year,
    /// its last day for a past year); null when no policy is in force for the groups.
    pub annual_cap: Option<Money>,
    /// Granted in the year (the figure the cap is checked against).
    pub granted: Money,
    /// What is left of the cap.
    pub cap_left: Option<Money>,
    /// Sums.
    pub totals: StatementTotals,
    /// Every visit and reversal entry of the year, by date.
    pub visits: Vec<VisitView>,
}

/// The statement of a person for a year, from the visits the user may see.
pub async fn statement(
    db: &DatabaseConnection,
    user: &CurrentUser,
    key: &crate::person::PersonKey,
    year: i32,
    today: NaiveDate,
) -> AppResult<Statement> {
    let p = key
        .find(db)
        .await?
        .ok_or_else(|| AppError::not_found("person", key.shown()))?;
    let rows = visit::Entity::find()
        .filter(visit::COLUMN.person_id.eq(p.id))
        .filter(visit::COLUMN.year.eq(year))
        .filter(user.scope(visit::Column::RegionCode))
        .order_by_asc(visit::COLUMN.counted_on)
        .order_by_asc(visit::COLUMN.id)
        .all(db)
        .await?;
    if rows.is_empty() {
        let home = RegionCode::parse(&p.region_code)
            .map_err(|_| anyhow::anyhow!("person {} has a bad region", p.id))?;
        user.ensure_in_scope(&home, "person", key.shown())?;
    }
    let annual = ledger::allowance(db, p.id, reading_day(year, today)).await?;
    let mut totals = StatementTotals::default();
    for v in &rows {
        let voided = v.status == Status::Voided;
        if voided {
            continue;
        }
        let subsidy = Money::from_fen(v.subsidy_fen);
        if v.reverses_visit_id.is_none() {
            totals.visits += 1;
            totals.total_cost = totals
                .total_cost
                .checked_add(Money::from_fen(v.total_cost_fen))
                .unwrap_or(totals.total_cost);
            totals.out_of_pocket = totals
                .out_of_pocket
                .checked_add(Money::from_fen(v.out_of_pocket_fen))
                .unwrap_or(totals.out_of_pocket);
        }
        totals.subsidy = totals
            .subsidy
            .checked_add(subsidy)
            .unwrap_or(totals.subsidy);
        if v.status == Status::Paid {
            totals.paid = totals.paid.checked_add(subsidy).unwrap_or(totals.paid);
        }
    }
    Ok(Statement {
        person_id: p.id,
        id_number: p.id_number.clone(),
        name: p.name.clone(),
        region_code: p.region_code.clone(),
        year,
        annual_cap: annual.annual_cap,
        granted: annual.granted,
        cap_left: annual.cap_left,
        totals,
        visits: views(db, &rows, false).await?,
    })
}
