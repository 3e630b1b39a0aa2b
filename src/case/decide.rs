//! Moving a case (approve, reject, withdraw, resubmit, close): who may, the version read, the
//! state, eligibility re-checked where the action needs it, then the change, its event and
//! its audit row together, or nothing.

use chrono::NaiveDate;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use entity::{case, case_event, person};

use super::queries::detail_of;
use super::refusal::{CaseRefusal, state_conflict};
use super::view::{CaseDetail, snapshot};
use super::workflow::{self, Acting, Action, CaseState};
use super::{Move, begin_write, check_hospital, decision_date, event, to_json};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::domain::{Diagnosis, IdNumber, Localized};
use crate::eligibility::{self, Inquiry};
use crate::error::{AppError, AppResult, Msg};

/// Who submitted a case (opened or resubmitted it): none of them may decide it.
async fn submitters<C: ConnectionTrait>(conn: &C, case_id: i64) -> AppResult<Vec<i64>> {
    Ok(case_event::Entity::find()
        .select_only()
        .column(case_event::Column::ActorId)
        .filter(case_event::COLUMN.case_id.eq(case_id))
        .filter(case_event::COLUMN.action.is_in(["open", "resubmit"]))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

fn stale(m: &case::Model, state: CaseState, version: i32) -> AppError {
    CaseRefusal::VersionConflict {
        read: version,
        current: m.version,
        state,
    }
    .into()
}

/// Takes an action on a case: checks who may, the version read and the state, re-checks
/// eligibility where the action needs it, and writes the change, its event and its audit row
/// together, or nothing.
pub async fn transition(
    db: &DatabaseConnection,
    settings: &Settings,
    user: &CurrentUser,
    id: i64,
    mv: Move,
    today: NaiveDate,
) -> AppResult<CaseDetail> {
    if let Some(h) = mv.corrections.hospital_id {
        check_hospital(db, Some(h)).await?;
    }
    let txn = begin_write(db).await?;
    let current = case::Entity::find_by_id(id)
        .filter(user.scope(case::Column::RegionCode))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("case", id))?;
    let state = current.state;
    let who = Acting {
        user_id: user.id,
        roles: &user.roles,
    };
    let submitted_by = submitters(&txn, id).await?;
    workflow::authorize(mv.action, who, current.opened_by, &submitted_by).map_err(|e| {
        AppError::Forbidden {
            code: e.code(),
            message: Msg::of(&e),
        }
    })?;
    if mv.version != current.version {
        return Err(stale(&current, state, mv.version));
    }
    let to = workflow::transition(state, mv.action)
        .map_err(|e| state_conflict(e.code(), Msg::of(&e), current.version, state))?;

    let c = &mv.corrections;
    let diagnosis = match &c.diagnosis {
        Some(d) => d.clone(),
        None => Diagnosis::parse(&current.diagnosis_code)
            .map_err(|e| anyhow::anyhow!("case {id} has a bad diagnosis code: {e}"))?,
    };
    let evidence = if mv.action.rechecks_eligibility() {
        let p = person::Entity::find_by_id(current.person_id)
            .one(&txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("case {id} has no person"))?;
        let id_number = IdNumber::parse(&p.id_number)
            .map_err(|e| anyhow::anyhow!("person {} has a bad ID number: {e}", p.id))?;
        let inquiry = Inquiry {
            id_number: &id_number,
            date: decision_date(current.year, today).unwrap_or(today),
            year: current.year,
            diagnosis: Some(&diagnosis),
            name: Some(&current.applicant_name),
            exclude_case: Some(id),
            // The case itself was found inside the user's scope; its person is re-read
            // wherever they live now.
            scope: &settings.province,
        };
        let decided = eligibility::check(&txn, settings, &inquiry).await?;
        if !decided.assessment.eligible {
            let lead = match mv.action {
                Action::Approve => CaseRefusal::NoLongerEligible,
                _ => CaseRefusal::NotEligibleToResubmit,
            };
            return Err(decided.refusal(lead.code(), Msg::of(&lead)));
        }
        Some(to_json(&decided.evidence(
            settings,
            &inquiry,
            mv.action.code(),
            user.now,
        ))?)
    } else {
        None
    };

    let now = user.now;
    let mut update = case::Entity::update_many()
        .col_expr(case::Column::State, Expr::value(to.code()))
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .col_expr(case::Column::UpdatedAt, Expr::value(now));
    match mv.action {
        Action::Approve | Action::Reject => {
            update = update.col_expr(case::Column::DecidedBy, Expr::value(Some(user.id)));
        }
        Action::Resubmit => {
            update = update.col_expr(case::Column::DecidedBy, Expr::value(None::<i64>));
        }
        Action::Withdraw | Action::Close => {}
    }
    if let Some(e) = evidence {
        update = update.col_expr(case::Column::Evidence, Expr::value(e));
    }
    if c.diagnosis.is_some() {
        update = update.col_expr(
            case::Column::DiagnosisCode,
            Expr::value(diagnosis.to_string()),
        );
    }
    let text = |s: &Option<String>| s.as_ref().map(|s| s.trim().to_owned());
    for (column, value) in [
        (case::Column::DiagnosisText, text(&c.diagnosis_text)),
        (case::Column::Phone, text(&c.phone)),
        (case::Column::Address, text(&c.address)),
        (case::Column::Note, text(&c.note)),
    ] {
        if let Some(v) = value {
            update = update.col_expr(column, Expr::value(v));
        }
    }
    if let Some(h) = c.hospital_id {
        update = update.col_expr(case::Column::HospitalId, Expr::value(Some(h)));
    }
    // The version read is the condition of the write: if anyone changed the case in between,
    // nothing is updated and the request is a conflict, whatever the backend's locking did.
    let res = update
        .filter(case::COLUMN.id.eq(id))
        .filter(case::COLUMN.version.eq(mv.version))
        .filter(case::COLUMN.state.eq(state))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        drop(txn);
        let now_is = case::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("case", id))?;
        let now_state = now_is.state;
        return Err(stale(&now_is, now_state, mv.version));
    }
    let reason = mv
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    event(id, user.id, mv.action.code(), Some(state), to, reason, now)
        .insert(&txn)
        .await?;
    let after = case::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("case {id} vanished"))?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: match mv.action {
                Action::Approve => "case.approve",
                Action::Reject => "case.reject",
                Action::Withdraw => "case.withdraw",
                Action::Resubmit => "case.resubmit",
                Action::Close => "case.close",
            },
            entity_type: "case",
            entity_id: id.to_string(),
            before: Some(snapshot(&current)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    let detail = detail_of(&txn, user, after).await?;
    txn.commit().await?;
    tracing::info!(case.id = id, "Case {id}: {} → {}", state, to);
    Ok(detail)
}
