//! Reading cases: a page of the cases in the user's region, one case with its events, and
//! the short account of its visits (count, subsidy, what the annual cap still allows).

use chrono::NaiveDate;

use crate::visit::Status as VisitStatus;
use sea_orm::ColumnTrait;
use sea_orm::Condition;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use entity::{case, case_event, person, user, visit};

use super::view::{CaseDetail, CaseView, EventView, Refs, VisitsSummary, user_ref};
use super::workflow::CaseState;
use crate::auth::CurrentUser;
use crate::domain::allowance::reading_day;
use crate::domain::{IdNumber, Money};
use crate::error::{AppError, AppResult};
use crate::visit::ledger;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One state.
    pub state: Option<CaseState>,
    /// One year.
    pub year: Option<i32>,
    /// One patient.
    pub id_number: Option<IdNumber>,
    /// Text in the applicant's name or the diagnosis.
    pub q: Option<String>,
}

/// A page of the cases in the user's region, newest first, and how many match in all.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<CaseView>, u64)> {
    let mut query = case::Entity::find().filter(user.scope(case::Column::RegionCode));
    if let Some(s) = filter.state {
        query = query.filter(case::COLUMN.state.eq(s));
    }
    if let Some(y) = filter.year {
        query = query.filter(case::COLUMN.year.eq(y));
    }
    if let Some(id) = &filter.id_number {
        let Some(p) = person::Entity::find()
            .filter(person::COLUMN.id_number.eq(id.as_str()))
            .one(db)
            .await?
        else {
            return Ok((vec![], 0));
        };
        query = query.filter(case::COLUMN.person_id.eq(p.id));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(case::COLUMN.applicant_name.contains(q))
                .add(case::COLUMN.diagnosis_code.contains(q.to_uppercase()))
                .add(case::COLUMN.diagnosis_text.contains(q)),
        );
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(case::COLUMN.created_at)
        .order_by_desc(case::COLUMN.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let refs = Refs::load(db, &rows).await?;
    let items = rows
        .iter()
        .map(|m| refs.view(user, m, false))
        .collect::<AppResult<Vec<_>>>()?;
    Ok((items, total))
}

/// The eligibility evidence kept with each of these cases (inside the user's scope), for a
/// queue that shows what each decision rests on.
pub async fn evidence_of(
    db: &DatabaseConnection,
    user: &CurrentUser,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, serde_json::Value>> {
    let rows = case::Entity::find()
        .filter(user.scope(case::Column::RegionCode))
        .filter(case::COLUMN.id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id, m.evidence)).collect())
}

/// One case in the user's region, with its events and visits.
pub async fn get(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> AppResult<CaseDetail> {
    let m = case::Entity::find_by_id(id)
        .filter(user.scope(case::Column::RegionCode))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("case", id))?;
    detail_of(db, user, m).await
}

pub(super) async fn detail_of<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    m: case::Model,
) -> AppResult<CaseDetail> {
    let events = case_event::Entity::find()
        .filter(case_event::COLUMN.case_id.eq(m.id))
        .order_by_asc(case_event::COLUMN.id)
        .all(conn)
        .await?;
    let mut refs = Refs::load(conn, std::slice::from_ref(&m)).await?;
    let actor_ids: Vec<i64> = events
        .iter()
        .map(|e| e.actor_id)
        .filter(|id| !refs.users.contains_key(id))
        .collect();
    if !actor_ids.is_empty() {
        for u in user::Entity::find()
            .filter(user::COLUMN.id.is_in(actor_ids))
            .all(conn)
            .await?
        {
            refs.users.insert(u.id, u);
        }
    }
    let events = events
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            by: refs.users.get(&e.actor_id).map(user_ref),
            action: e.action,
            at: e.at,
            from: e.from_state,
            to: e.to_state,
            reason: e.reason,
        })
        .collect();
    let visits = visits_summary(conn, &m, user.today()).await?;
    Ok(CaseDetail {
        case: refs.view(user, &m, true)?,
        events,
        visits,
    })
}

async fn visits_summary<C: ConnectionTrait>(
    conn: &C,
    m: &case::Model,
    today: NaiveDate,
) -> AppResult<VisitsSummary> {
    // A case has tens of visits at most: summing them here keeps SUM's types (NUMERIC on
    // PostgreSQL, INTEGER on SQLite) out of the way.
    let rows: Vec<(i64, String, Option<i64>)> = visit::Entity::find()
        .select_only()
        .column(visit::Column::SubsidyFen)
        .column(visit::Column::Status)
        .column(visit::Column::ReversesVisitId)
        .filter(visit::COLUMN.case_id.eq(m.id))
        .into_tuple()
        .all(conn)
        .await?;
    let status = |code: &str| VisitStatus::parse(code);
    let count = rows
        .iter()
        .filter(|(_, s, reverses)| status(s) != Some(VisitStatus::Voided) && reverses.is_none())
        .count() as u64;
    let subsidy_total = rows
        .iter()
        .filter(|(_, s, _)| matches!(status(s), Some(VisitStatus::Approved | VisitStatus::Paid)))
        .map(|(fen, _, _)| Money::from_fen(*fen))
        .sum();

    let annual_cap_left = ledger::allowance(conn, m.person_id, reading_day(m.year, today))
        .await?
        .cap_left;
    Ok(VisitsSummary {
        count,
        subsidy_total,
        annual_cap_left,
    })
}
