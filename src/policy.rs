//! Subsidy policies as data: per group, a rate, a deductible, a per-visit cap and an annual
//! cap over a period. The periods of one group never overlap, so on any date at most one
//! policy of a group is in force; a policy a visit used is never edited, only followed.
//!
//! A policy change and a visit that reads policies must not interleave (the visit could use a
//! policy that the change has just ended). On SQLite every write transaction is serialised
//! anyway; on PostgreSQL a policy change holds an exclusive transaction-level advisory lock and
//! a visit a shared one, so visits still run side by side.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde::Serialize;

use entity::{subsidy_policy, visit};

use crate::audit::{self, Actor, Change};
use crate::domain::subsidy::Terms;
use crate::domain::{Amount, Group, Lang, Money, PolicyCap, Rate};
use crate::error::{AppError, AppResult, FieldError, Msg, Problems, current_lang};

/// The advisory lock that orders policy changes against visits on PostgreSQL.
const POLICY_LOCK_KEY: i64 = 0x4341_5F50_4F4C_4943; // "CA_POLIC"

/// Holds the policies still for the rest of the transaction, against changes (PostgreSQL;
/// on SQLite the write transaction already excludes them).
pub async fn hold_shared<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    advisory_lock(conn, "pg_advisory_xact_lock_shared").await
}

async fn hold_exclusive<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    advisory_lock(conn, "pg_advisory_xact_lock").await
}

async fn advisory_lock<C: ConnectionTrait>(conn: &C, function: &str) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {function}($1)"),
            [POLICY_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A stored policy, read back into domain types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Id.
    pub id: i64,
    /// The group it is for.
    pub group: Group,
    /// Its numbers.
    pub terms: Terms,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// Last day in force (none: until followed).
    pub effective_to: Option<NaiveDate>,
}

impl Policy {
    /// Its annual cap, as the cap rule (`domain::allowance`) sees it.
    pub fn cap(&self) -> PolicyCap {
        PolicyCap {
            group: self.group,
            annual_cap: self.terms.annual_cap.money(),
            effective_from: self.effective_from,
        }
    }
}

impl TryFrom<&subsidy_policy::Model> for Policy {
    type Error = AppError;
    fn try_from(m: &subsidy_policy::Model) -> AppResult<Policy> {
        let corrupt =
            |what: &str| AppError::Internal(anyhow::anyhow!("policy {} has a bad {what}", m.id));
        Ok(Policy {
            id: m.id,
            group: Group::parse(&m.group_code).map_err(|_| corrupt("group"))?,
            terms: Terms {
                rate: Rate::parse(&m.rate).map_err(|_| corrupt("rate"))?,
                deductible: Amount::from_fen(m.deductible_fen)
                    .map_err(|_| corrupt("deductible"))?,
                per_visit_cap: Amount::from_fen(m.per_visit_cap_fen)
                    .map_err(|_| corrupt("per-visit cap"))?,
                annual_cap: Amount::from_fen(m.annual_cap_fen)
                    .map_err(|_| corrupt("annual cap"))?,
            },
            effective_from: m.effective_from,
            effective_to: m.effective_to,
        })
    }
}

/// A policy as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    /// Id.
    pub id: i64,
    /// Group code.
    pub group: Group,
    /// Group label in the request's language.
    pub group_label: &'static str,
    /// Rate, such as "0.60".
    pub rate: Rate,
    /// 起付线.
    pub deductible: Money,
    /// 单次封顶.
    pub per_visit_cap: Money,
    /// 年度封顶.
    pub annual_cap: Money,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// Last day in force (null: until followed by another).
    pub effective_to: Option<NaiveDate>,
    /// Whether a visit has used it (then it can no longer be edited).
    pub in_use: bool,
    /// Who created it (null for the system).
    pub created_by: Option<i64>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

impl PolicyView {
    fn of(m: &subsidy_policy::Model, in_use: bool) -> AppResult<PolicyView> {
        let p = Policy::try_from(m)?;
        Ok(PolicyView {
            id: p.id,
            group: p.group,
            group_label: p.group.label(current_lang()),
            rate: p.terms.rate,
            deductible: p.terms.deductible.money(),
            per_visit_cap: p.terms.per_visit_cap.money(),
            annual_cap: p.terms.annual_cap.money(),
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            in_use,
            created_by: m.created_by,
            created_at: m.created_at,
        })
    }
}

fn snapshot(v: &PolicyView) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.remove("group_label");
    }
    j
}

/// A policy to create, already parsed.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    /// The group.
    pub group: Group,
    /// Its numbers.
    pub terms: Terms,
    /// First day in force.
    pub effective_from: NaiveDate,
    /// Last day in force, if known.
    pub effective_to: Option<NaiveDate>,
}

/// Changes to a policy no visit has used; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct PolicyPatch {
    /// New rate.
    pub rate: Option<Rate>,
    /// New deductible.
    pub deductible: Option<Amount>,
    /// New per-visit cap.
    pub per_visit_cap: Option<Amount>,
    /// New annual cap.
    pub annual_cap: Option<Amount>,
    /// New first day.
    pub effective_from: Option<NaiveDate>,
    /// New last day (`Some(None)` makes it open-ended).
    pub effective_to: Option<Option<NaiveDate>>,
}

/// The checks on the numbers and dates of a policy that need nothing else, each naming its
/// field; empty when all hold.
pub fn check_terms(terms: &Terms, from: NaiveDate, to: Option<NaiveDate>, problems: &mut Problems) {
    if terms.per_visit_cap == Amount::ZERO {
        problems.push(
            "cap_not_positive",
            "per_visit_cap",
            Msg::new("单次封顶须大于0。", "per_visit_cap must be more than 0."),
        );
    }
    if terms.annual_cap == Amount::ZERO {
        problems.push(
            "cap_not_positive",
            "annual_cap",
            Msg::new("年度封顶须大于0。", "annual_cap must be more than 0."),
        );
    }
    if terms.per_visit_cap > terms.annual_cap {
        problems.push(
            "per_visit_cap_above_annual_cap",
            "per_visit_cap",
            Msg::new(
                format!(
                    "单次封顶 {} 元高于年度封顶 {} 元：请核对这两个金额。",
                    terms.per_visit_cap, terms.annual_cap
                ),
                format!(
                    "per_visit_cap {} is above annual_cap {}: check the two amounts.",
                    terms.per_visit_cap, terms.annual_cap
                ),
            ),
        );
    }
    if let Some(to) = to
        && to < from
    {
        problems.push(
            "effective_to_before_from",
            "effective_to",
            Msg::new(
                format!("终止日期 {to} 早于起始日期 {from}。"),
                format!("effective_to {to} is before effective_from {from}."),
            ),
        );
    }
}

fn overlaps(
    a_from: NaiveDate,
    a_to: Option<NaiveDate>,
    b_from: NaiveDate,
    b_to: Option<NaiveDate>,
) -> bool {
    a_from <= b_to.unwrap_or(NaiveDate::MAX) && b_from <= a_to.unwrap_or(NaiveDate::MAX)
}

fn span(from: NaiveDate, to: Option<NaiveDate>, lang: Lang) -> String {
    match (to, lang) {
        (Some(to), Lang::Zh) => format!("{from} 至 {to}"),
        (Some(to), Lang::En) => format!("{from} to {to}"),
        (None, Lang::Zh) => format!("{from} 起长期有效"),
        (None, Lang::En) => format!("{from} onwards"),
    }
}

fn overlap_error(
    other: &subsidy_policy::Model,
    other_to: Option<NaiveDate>,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> AppError {
    let msg = Msg::new(
        format!(
            "有效期（{}）与同一类别的救助政策 #{}（{}）重叠：同一类别的政策有效期不能重叠，请调整日期。",
            span(from, to, Lang::Zh),
            other.id,
            span(other.effective_from, other_to, Lang::Zh)
        ),
        format!(
            "The period ({}) overlaps policy #{} of the same group ({}): policies of one group never overlap; change the dates.",
            span(from, to, Lang::En),
            other.id,
            span(other.effective_from, other_to, Lang::En)
        ),
    );
    AppError::Unprocessable {
        code: "policy_overlap",
        message: msg.clone(),
        details: vec![FieldError::new("effective_from", msg)],
    }
}

fn in_use_error(policy_id: i64, used: u64, after: NaiveDate) -> AppError {
    AppError::conflict(
        "policy_in_use",
        Msg::new(
            format!(
                "救助政策 #{policy_id} 已被 {after} 之后的 {used} 条就诊记录使用，不能在此之前终止：请让新政策从更晚的日期起生效。"
            ),
            format!(
                "Policy #{policy_id} is used by {used} visit(s) after {after}, so it cannot end before them: start the new policy later."
            ),
        ),
    )
}

/// The ids of the policies a visit has used.
async fn used_ids<C: ConnectionTrait>(conn: &C) -> Result<HashSet<i64>, DbErr> {
    let ids: Vec<Option<i64>> = visit::Entity::find()
        .select_only()
        .column(visit::Column::PolicyId)
        .distinct()
        .filter(visit::COLUMN.policy_id.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// Visits that used `policy_id` on or after `day`.
async fn uses_from<C: ConnectionTrait>(
    conn: &C,
    policy_id: i64,
    day: Option<NaiveDate>,
) -> Result<u64, DbErr> {
    let mut q = visit::Entity::find().filter(visit::COLUMN.policy_id.eq(policy_id));
    if let Some(day) = day {
        q = q.filter(visit::COLUMN.counted_on.gte(day));
    }
    q.count(conn).await
}

/// Policies by group and start, optionally of one group or in force on one date.
pub async fn list(
    db: &DatabaseConnection,
    group: Option<Group>,
    on: Option<NaiveDate>,
) -> AppResult<Vec<PolicyView>> {
    let mut q = subsidy_policy::Entity::find()
        .order_by_asc(subsidy_policy::COLUMN.group_code)
        .order_by_asc(subsidy_policy::COLUMN.effective_from);
    if let Some(g) = group {
        q = q.filter(subsidy_policy::COLUMN.group_code.eq(g.code()));
    }
    if let Some(d) = on {
        q = q
            .filter(subsidy_policy::COLUMN.effective_from.lte(d))
            .filter(
                sea_orm::Condition::any()
                    .add(subsidy_policy::COLUMN.effective_to.is_null())
                    .add(subsidy_policy::COLUMN.effective_to.gte(d)),
            );
    }
    let rows = q.all(db).await?;
    let used = used_ids(db).await?;
    rows.iter()
        .map(|m| PolicyView::of(m, used.contains(&m.id)))
        .collect()
}

/// One policy.
pub async fn get(db: &DatabaseConnection, id: i64) -> AppResult<PolicyView> {
    let m = subsidy_policy::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("policy", id))?;
    let in_use = uses_from(db, id, None).await? > 0;
    PolicyView::of(&m, in_use)
}

/// The policies of these groups in force on a date: at most one per group.
pub async fn in_force<C: ConnectionTrait>(
    conn: &C,
    groups: &[Group],
    on: NaiveDate,
) -> AppResult<Vec<Policy>> {
    if groups.is_empty() {
        return Ok(vec![]);
    }
    let rows = subsidy_policy::Entity::find()
        .filter(
            subsidy_policy::COLUMN
                .group_code
                .is_in(groups.iter().map(|g| g.code())),
        )
        .filter(subsidy_policy::COLUMN.effective_from.lte(on))
        .filter(
            sea_orm::Condition::any()
                .add(subsidy_policy::COLUMN.effective_to.is_null())
                .add(subsidy_policy::COLUMN.effective_to.gte(on)),
        )
        .order_by_asc(subsidy_policy::COLUMN.id)
        .all(conn)
        .await?;
    rows.iter().map(Policy::try_from).collect()
}

/// What creating a policy did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PolicyCreated)]
pub struct Created {
    /// The new policy.
    pub policy: PolicyView,
    /// The open-ended policy it ended the day before it starts, if any.
    pub ended: Option<PolicyView>,
}

/// Creates a policy. One that starts inside the group's open-ended policy ends that one the
/// day before (refused while visits after that day used it); any other overlap is refused.
pub async fn create(db: &DatabaseConnection, actor: &Actor, new: NewPolicy) -> AppResult<Created> {
    let txn = crate::db::begin_write(db).await?;
    hold_exclusive(&txn).await?;
    let existing = subsidy_policy::Entity::find()
        .filter(subsidy_policy::COLUMN.group_code.eq(new.group.code()))
        .order_by_asc(subsidy_policy::COLUMN.effective_from)
        .all(&txn)
        .await?;
    let mut ended: Option<(subsidy_policy::Model, NaiveDate)> = None;
    if let Some(open) = existing
        .iter()
        .find(|p| p.effective_to.is_none() && p.effective_from < new.effective_from)
    {
        let last_day = new
            .effective_from
            .pred_opt()
            .ok_or_else(|| anyhow::anyhow!("a start date with no day before it"))?;
        let used = uses_from(&txn, open.id, Some(new.effective_from)).await?;
        if used > 0 {
            return Err(in_use_error(open.id, used, last_day));
        }
        ended = Some((open.clone(), last_day));
    }
    for p in &existing {
        let p_to = match &ended {
            Some((open, last_day)) if open.id == p.id => Some(*last_day),
            _ => p.effective_to,
        };
        if overlaps(p.effective_from, p_to, new.effective_from, new.effective_to) {
            return Err(overlap_error(p, p_to, new.effective_from, new.effective_to));
        }
    }

    let now = actor.at;
    let ended_view = match ended {
        Some((open, last_day)) => {
            let in_use = uses_from(&txn, open.id, None).await? > 0;
            let before = PolicyView::of(&open, in_use)?;
            let mut am: subsidy_policy::ActiveModel = open.into();
            am.effective_to = Set(Some(last_day));
            let after = am.update(&txn).await?;
            let view = PolicyView::of(&after, in_use)?;
            audit::record(
                &txn,
                actor,
                Change {
                    action: "policy.end",
                    entity_type: "policy",
                    entity_id: after.id.to_string(),
                    before: Some(snapshot(&before)),
                    after: Some(snapshot(&view)),
                },
            )
            .await?;
            Some(view)
        }
        None => None,
    };
    let m = subsidy_policy::ActiveModel {
        group_code: Set(new.group.code().to_owned()),
        rate: Set(new.terms.rate.to_string()),
        deductible_fen: Set(new.terms.deductible.fen()),
        per_visit_cap_fen: Set(new.terms.per_visit_cap.fen()),
        annual_cap_fen: Set(new.terms.annual_cap.fen()),
        effective_from: Set(new.effective_from),
        effective_to: Set(new.effective_to),
        created_by: Set(actor.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let view = PolicyView::of(&m, false)?;
    audit::record(
        &txn,
        actor,
        Change {
            action: "policy.create",
            entity_type: "policy",
            entity_id: m.id.to_string(),
            before: None,
            after: Some(snapshot(&view)),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        policy.id = m.id,
        "Created policy {} for {} from {}",
        m.id,
        new.group,
        new.effective_from
    );
    Ok(Created {
        policy: view,
        ended: ended_view,
    })
}

/// Changes a policy that no visit has used yet; a used one is a 409 (create a new policy that
/// follows it instead). The changed period may not overlap another of the group.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    patch: PolicyPatch,
) -> AppResult<PolicyView> {
    let txn = crate::db::begin_write(db).await?;
    hold_exclusive(&txn).await?;
    let current = subsidy_policy::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("policy", id))?;
    let used = uses_from(&txn, id, None).await?;
    if used > 0 {
        return Err(AppError::conflict(
            "policy_in_use",
            Msg::new(
                format!(
                    "救助政策 #{id} 已被 {used} 条就诊记录使用，不能修改：请新建一条从某日起生效的政策来接替它。"
                ),
                format!(
                    "Policy #{id} is used by {used} visit(s) and cannot be edited: create a new policy that follows it from a date."
                ),
            ),
        ));
    }
    let before = Policy::try_from(&current)?;
    let terms = Terms {
        rate: patch.rate.unwrap_or(before.terms.rate),
        deductible: patch.deductible.unwrap_or(before.terms.deductible),
        per_visit_cap: patch.per_visit_cap.unwrap_or(before.terms.per_visit_cap),
        annual_cap: patch.annual_cap.unwrap_or(before.terms.annual_cap),
    };
    let from = patch.effective_from.unwrap_or(before.effective_from);
    let to = patch.effective_to.unwrap_or(before.effective_to);
    let mut problems = Problems::new();
    check_terms(&terms, from, to, &mut problems);
    problems.check()?;
    let others = subsidy_policy::Entity::find()
        .filter(
            subsidy_policy::COLUMN
                .group_code
                .eq(current.group_code.as_str()),
        )
        .filter(subsidy_policy::COLUMN.id.ne(id))
        .all(&txn)
        .await?;
    if let Some(p) = others
        .iter()
        .find(|p| overlaps(p.effective_from, p.effective_to, from, to))
    {
        return Err(overlap_error(p, p.effective_to, from, to));
    }
    let before_view = PolicyView::of(&current, false)?;
    let mut am: subsidy_policy::ActiveModel = current.into();
    am.rate = Set(terms.rate.to_string());
    am.deductible_fen = Set(terms.deductible.fen());
    am.per_visit_cap_fen = Set(terms.per_visit_cap.fen());
    am.annual_cap_fen = Set(terms.annual_cap.fen());
    am.effective_from = Set(from);
    am.effective_to = Set(to);
    let after = am.update(&txn).await?;
    let view = PolicyView::of(&after, false)?;
    audit::record(
        &txn,
        actor,
        Change {
            action: "policy.update",
            entity_type: "policy",
            entity_id: id.to_string(),
            before: Some(snapshot(&before_view)),
            after: Some(snapshot(&view)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_overlap_when_they_share_a_day() {
        assert!(overlaps(d("2020-01-01"), None, d("2024-01-01"), None));
        assert!(overlaps(
            d("2020-01-01"),
            Some(d("2020-12-31")),
            d("2020-12-31"),
            None
        ));
        assert!(!overlaps(
            d("2020-01-01"),
            Some(d("2020-12-30")),
            d("2020-12-31"),
            None
        ));
        assert!(!overlaps(
            d("2021-01-01"),
            None,
            d("2020-01-01"),
            Some(d("2020-12-31"))
        ));
    }

    #[test]
    fn caps_must_be_positive_ordered_and_dates_in_order() {
        let terms = Terms {
            rate: Rate::parse("0.6").unwrap(),
            deductible: Amount::ZERO,
            per_visit_cap: Amount::parse("5000").unwrap(),
            annual_cap: Amount::parse("3000").unwrap(),
        };
        let mut problems = Problems::new();
        check_terms(
            &terms,
            d("2024-01-01"),
            Some(d("2023-12-31")),
            &mut problems,
        );
        assert_eq!(
            problems.codes(),
            ["per_visit_cap_above_annual_cap", "effective_to_before_from"]
        );
        let zero = Terms {
            per_visit_cap: Amount::ZERO,
            annual_cap: Amount::ZERO,
            ..terms
        };
        let mut problems = Problems::new();
        check_terms(&zero, d("2024-01-01"), None, &mut problems);
        assert_eq!(problems.codes(), ["cap_not_positive", "cap_not_positive"]);
    }
}
