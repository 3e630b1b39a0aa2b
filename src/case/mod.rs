//! Cases (救助案件): opening one for an eligible patient, moving it through its states, and
//! reading cases with their events and visits. Every change runs in one transaction with its
//! case event and audit row.
//!
//! The module's files, by responsibility:
//!
//! - `open`: opening a case, eligibility decided in the transaction that writes it;
//! - `decide`: approving, rejecting, withdrawing, resubmitting and closing a case;
//! - `workflow`: the state machine and who may take each action (pure);
//! - `queries`: lists, one case with its events, the short account of its visits;
//! - `view`: what the API shows of a case, and the audit form of a row;
//! - `refusal`: the refusals of this module, with their codes and messages.
//!
//! Concurrency: a change names the version it read, and the row is updated only `WHERE id = ?
//! AND version = ?`, so of two approvers racing on one case exactly one wins. On PostgreSQL the
//! case (or, when opening, the person) is read `FOR UPDATE`, so a racing request waits and then
//! sees the winner's version; on SQLite the transaction begins `IMMEDIATE`, which takes the
//! write lock up front (a deferred one that read first could not upgrade after another
//! writer committed, and would fail instead of reporting the conflict).

mod decide;
mod open;
mod queries;
mod refusal;
mod view;
pub mod workflow;

pub use decide::transition;
pub use open::open;
pub use queries::{Filter, evidence_of, get, list};
pub use refusal::CaseRefusal;
pub use view::{
    CaseDetail, CaseView, DiagnosisView, EventView, HospitalRef, PersonView, UserRef,
    VisitsSummary, shown_id,
};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value;

use entity::{case_event, hospital};

use crate::domain::{Diagnosis, IdNumber};
use crate::error::AppResult;
use workflow::{Action, CaseState};

/// The earliest case year accepted: the programme keeps no older records.
pub const FIRST_YEAR: i32 = 2000;

/// A case to open, already parsed.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The patient.
    pub id_number: IdNumber,
    /// The name the patient gave; must agree with the roster's.
    pub name: String,
    /// Normalised ICD-10 code.
    pub diagnosis: Diagnosis,
    /// The diagnosis in words.
    pub diagnosis_text: String,
    /// The treating hospital, a designated one.
    pub hospital_id: Option<i64>,
    /// Contact phone.
    pub phone: String,
    /// Address.
    pub address: String,
    /// The calendar year applied for.
    pub year: i32,
    /// Free note.
    pub note: String,
}

/// Corrections sent with a resubmission ("with new evidence"); absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct Corrections {
    /// A corrected diagnosis.
    pub diagnosis: Option<Diagnosis>,
    /// A corrected diagnosis text.
    pub diagnosis_text: Option<String>,
    /// Another hospital.
    pub hospital_id: Option<i64>,
    /// Another phone.
    pub phone: Option<String>,
    /// Another address.
    pub address: Option<String>,
    /// Another note.
    pub note: Option<String>,
}

/// A requested transition.
#[derive(Debug, Clone)]
pub struct Move {
    /// What to do.
    pub action: Action,
    /// The version the client read.
    pub version: i32,
    /// Why (required to reject and to close).
    pub reason: Option<String>,
    /// Corrections, for a resubmission.
    pub corrections: Corrections,
}

/// The day eligibility is decided on for a case year: today for this year, the last day of a
/// past year (was the patient covered in it). A future year is refused.
pub fn decision_date(year: i32, today: NaiveDate) -> AppResult<NaiveDate> {
    if year == today.year() {
        return Ok(today);
    }
    if (FIRST_YEAR..today.year()).contains(&year) {
        return NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or_else(|| anyhow::anyhow!("no 31 December in {year}").into());
    }
    Err(CaseRefusal::YearOutOfRange { last: today.year() }.into())
}

/// Begins a transaction that writes: `IMMEDIATE` on SQLite (see the module's notes).
async fn begin_write(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
}

/// Refuses a hospital that does not exist or is not designated.
async fn check_hospital<C: ConnectionTrait>(conn: &C, id: Option<i64>) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    match hospital::Entity::find_by_id(id).one(conn).await? {
        None => Err(CaseRefusal::UnknownHospital { id }.into()),
        Some(h) if !h.designated => Err(CaseRefusal::HospitalNotDesignated { name: h.name }.into()),
        Some(_) => Ok(()),
    }
}

fn event(
    case_id: i64,
    actor: i64,
    action: &str,
    from: Option<CaseState>,
    to: CaseState,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> case_event::ActiveModel {
    case_event::ActiveModel {
        case_id: Set(case_id),
        actor_id: Set(actor),
        action: Set(action.to_owned()),
        from_state: Set(from),
        to_state: Set(to),
        reason: Set(reason),
        at: Set(at),
        ..Default::default()
    }
}

fn to_json<T: Serialize>(v: &T) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| anyhow::anyhow!("cannot serialise: {e}").into())
}
