//! A subsidy's states: approving, paying and voiding (`transition`), and reversing a paid
//! subsidy with a negative entry (`reverse`). Voiding and reversing free the amount of the
//! annual cap of the visit's year.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, Set, SqlErr,
};

use entity::{payment_batch, payment_line, visit};

use super::refusal::{Refusal, Step};
use super::view::{self, VisitView};
use super::{Status, ledger};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::budget;
use crate::domain::{Money, RegionCode, RegionPrefix};
use crate::error::{AppError, AppResult};

/// A change of a subsidy's state.
#[derive(Debug, Clone)]
pub enum Transition {
    /// pending → approved, by an approver who did not record it.
    Approve,
    /// approved → paid.
    Pay {
        /// Bank or voucher reference.
        payment_ref: String,
        /// Date paid.
        paid_on: NaiveDate,
    },
    /// pending or approved → voided; frees the amount of the annual cap.
    Void {
        /// Why.
        reason: String,
    },
}

impl Transition {
    fn action(&self) -> &'static str {
        match self {
            Transition::Approve => "visit.approve",
            Transition::Pay { .. } => "visit.pay",
            Transition::Void { .. } => "visit.void",
        }
    }

    fn allowed_from(&self) -> &'static [Status] {
        match self {
            Transition::Approve => &[Status::Pending],
            Transition::Pay { .. } => &[Status::Approved],
            Transition::Void { .. } => &[Status::Pending, Status::Approved],
        }
    }

    fn step(&self) -> Step {
        match self {
            Transition::Approve => Step::Approve,
            Transition::Pay { .. } => Step::Pay,
            Transition::Void { .. } => Step::Void,
        }
    }
}

/// The visit row, held until the transaction ends, if the user may see it.
async fn hold_visit(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    id: i64,
) -> AppResult<visit::Model> {
    let v = visit::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("visit", id))?;
    let region = RegionCode::parse(&v.region_code)
        .map_err(|_| anyhow::anyhow!("visit {id} has a bad region"))?;
    user.ensure_in_scope(&region, "visit", id)?;
    if v.reverses_visit_id.is_some() {
        return Err(Refusal::ReversalEntry { id }.into());
    }
    Ok(v)
}

/// The number of the batch whose open line holds the subsidy, not yet settled by the bank.
async fn open_batch_of(txn: &DatabaseTransaction, visit_id: i64) -> AppResult<Option<String>> {
    let line = payment_line::Entity::find()
        .filter(payment_line::COLUMN.visit_id.eq(visit_id))
        .filter(payment_line::COLUMN.released_at.is_null())
        .filter(payment_line::COLUMN.outcome.is_null())
        .one(txn)
        .await?;
    let Some(line) = line else { return Ok(None) };
    Ok(payment_batch::Entity::find_by_id(line.batch_id)
        .one(txn)
        .await?
        .map(|b| b.batch_no))
}

/// Approves, pays or voids a visit's subsidy, with an audit row.
pub async fn transition(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    t: Transition,
) -> AppResult<VisitView> {
    let txn = crate::db::begin_write(db).await?;
    let v = hold_visit(&txn, user, id).await?;
    let status = v.status;
    if !t.allowed_from().contains(&status) {
        return Err(Refusal::InvalidTransition {
            id,
            status,
            step: t.step(),
        }
        .into());
    }
    if matches!(t, Transition::Approve) && v.recorded_by == user.id {
        return Err(Refusal::OwnVisit.into());
    }
    if !matches!(t, Transition::Approve)
        && let Some(batch_no) = open_batch_of(&txn, id).await?
    {
        return Err(Refusal::InPaymentBatch { id, batch_no }.into());
    }
    if let Transition::Pay { paid_on, .. } = &t
        && *paid_on < v.counted_on
    {
        return Err(Refusal::PaidBeforeVisit {
            paid_on: *paid_on,
            counted_on: v.counted_on,
        }
        .into());
    }
    let now = user.now;
    let before = view::snapshot(&v);
    let mut am: visit::ActiveModel = v.clone().into();
    match &t {
        Transition::Approve => {
            // The budget line that covers the subsidy takes it, or the approval is refused.
            if let Some(line) =
                budget::ledger::line_for(&txn, v.year, &v.group_code, &v.region_code).await?
            {
                let shown =
                    RegionPrefix::parse(&line.region_code).is_ok_and(|r| user.region.covers(&r));
                budget::ledger::commit(&txn, &line, v.subsidy_fen, now, shown).await?;
                am.budget_line_id = Set(Some(line.id));
            }
            am.status = Set(Status::Approved);
            am.approved_by = Set(Some(user.id));
            am.approved_at = Set(Some(now));
        }
        Transition::Pay {
            payment_ref,
            paid_on,
        } => {
            if let Some(line) = v.budget_line_id {
                budget::ledger::pay(&txn, line, v.subsidy_fen, now).await?;
            }
            am.status = Set(Status::Paid);
            am.paid_by = Set(Some(user.id));
            am.paid_at = Set(Some(now));
            am.payment_ref = Set(Some(payment_ref.clone()));
            am.paid_on = Set(Some(*paid_on));
        }
        Transition::Void { reason } => {
            if let Some(line) = v.budget_line_id {
                budget::ledger::release(&txn, line, v.subsidy_fen, false, now).await?;
            }
            am.status = Set(Status::Voided);
            am.voided_by = Set(Some(user.id));
            am.voided_at = Set(Some(now));
            am.void_reason = Set(Some(reason.clone()));
        }
    }
    am.updated_at = Set(now);
    let after = am.update(&txn).await?;
    let mut after_json = view::snapshot(&after);
    if matches!(t, Transition::Void { .. }) {
        ledger::add(
            &txn,
            v.person_id,
            v.year,
            Money::from_fen(v.subsidy_fen).negated(),
            user.now,
        )
        .await?;
        after_json["freed"] =
            serde_json::to_value(Money::from_fen(v.subsidy_fen)).unwrap_or_default();
    }
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: t.action(),
            entity_type: "visit",
            entity_id: id.to_string(),
            before: Some(before),
            after: Some(after_json),
        },
    )
    .await?;
    let out = view::view(&txn, &after).await?;
    txn.commit().await?;
    tracing::info!(visit.id = id, "Visit {id}: {}", t.action());
    Ok(out)
}

/// Reverses a paid subsidy with a negative entry linked to it; the paid row stays as it was.
/// Frees the amount of the annual cap of the visit's year.
pub async fn reverse(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    reason: String,
    reversed_on: NaiveDate,
) -> AppResult<VisitView> {
    let txn = crate::db::begin_write(db).await?;
    let v = hold_visit(&txn, user, id).await?;
    let status = v.status;
    if status != Status::Paid {
        return Err(Refusal::NotPaid { id, status }.into());
    }
    if let Some(r) = visit::Entity::find()
        .filter(visit::COLUMN.reverses_visit_id.eq(id))
        .one(&txn)
        .await?
    {
        return Err(Refusal::AlreadyReversed {
            id,
            entry: Some(r.id),
        }
        .into());
    }
    let now = user.now;
    let neg = |fen: i64| -fen;
    let entry = visit::ActiveModel {
        case_id: Set(v.case_id),
        person_id: Set(v.person_id),
        hospital_id: Set(v.hospital_id),
        policy_id: Set(v.policy_id),
        group_code: Set(v.group_code.clone()),
        region_code: Set(v.region_code.clone()),
        kind: Set(v.kind),
        admitted_on: Set(v.admitted_on),
        discharged_on: Set(v.discharged_on),
        visit_date: Set(v.visit_date),
        // The same day and year as the visit: the cap it frees is that year's.
        counted_on: Set(v.counted_on),
        year: Set(v.year),
        invoice_no: Set(None),
        total_cost_fen: Set(neg(v.total_cost_fen)),
        insurance_paid_fen: Set(neg(v.insurance_paid_fen)),
        critical_illness_paid_fen: Set(neg(v.critical_illness_paid_fen)),
        medical_assistance_paid_fen: Set(neg(v.medical_assistance_paid_fen)),
        out_of_pocket_fen: Set(neg(v.out_of_pocket_fen)),
        subsidy_fen: Set(neg(v.subsidy_fen)),
        cap_reason: Set(None),
        status: Set(Status::Paid),
        reverses_visit_id: Set(Some(v.id)),
        recorded_by: Set(user.id),
        paid_by: Set(Some(user.id)),
        paid_at: Set(Some(now)),
        paid_on: Set(Some(reversed_on)),
        reversal_reason: Set(Some(reason)),
        // The entry belongs to the original's line, so that no line created later takes it.
        budget_line_id: Set(v.budget_line_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let entry = match entry {
        Ok(e) => e,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(Refusal::AlreadyReversed { id, entry: None }.into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(line) = v.budget_line_id {
        budget::ledger::release(&txn, line, v.subsidy_fen, true, now).await?;
    }
    ledger::add(
        &txn,
        v.person_id,
        v.year,
        Money::from_fen(v.subsidy_fen).negated(),
        user.now,
    )
    .await?;
    let mut after = view::snapshot(&entry);
    after["freed"] = serde_json::to_value(Money::from_fen(v.subsidy_fen)).unwrap_or_default();
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "visit.reverse",
            entity_type: "visit",
            entity_id: entry.id.to_string(),
            before: Some(view::snapshot(&v)),
            after: Some(after),
        },
    )
    .await?;
    let out = view::view(&txn, &entry).await?;
    txn.commit().await?;
    tracing::info!(visit.id = id, "Reversed visit {id} with entry {}", entry.id);
    Ok(out)
}
