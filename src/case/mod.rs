//! Cases (救助案件): opening one for an eligible patient, moving it through its states, and
//! reading cases with their events and visits. Every change runs in one transaction with its
//! case event and audit row.
//!
//! Concurrency: a change names the version it read, and the row is updated only `WHERE id = ?
//! AND version = ?`, so of two approvers racing on one case exactly one wins. On PostgreSQL the
//! case (or, when opening, the person) is read `FOR UPDATE`, so a racing request waits and then
//! sees the winner's version; on SQLite the transaction begins `IMMEDIATE`, which takes the
//! write lock up front (a deferred one that read first could not upgrade after another
//! writer committed, and would fail instead of reporting the conflict).

pub mod workflow;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Value, json};

use entity::{case, case_event, hospital, person, user, visit};

use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::domain::allowance::reading_day;
use crate::domain::{Diagnosis, IdNumber, Lang, Localized, Money, RegionCode, Role};
use crate::eligibility::{self, Inquiry};
use crate::error::{AppError, AppResult, FieldError, Msg, current_lang};
use crate::visit::ledger;
use workflow::{Acting, Action, CaseState};

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
    Err(AppError::validation(vec![FieldError::new(
        "year",
        Msg::new(
            format!("年度须在{FIRST_YEAR}年到{}年之间。", today.year()),
            format!("year must be from {FIRST_YEAR} to {}.", today.year()),
        ),
    )]))
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

/// The ID number as this user may see it: caseworkers fill in forms with it and see it whole;
/// everyone else sees it masked.
pub fn shown_id(user: &CurrentUser, id_number: &str) -> String {
    match IdNumber::parse(id_number) {
        Ok(id) if user.has(Role::Caseworker) => id.to_string(),
        Ok(id) => id.masked(),
        Err(_) => "*".repeat(id_number.chars().count()),
    }
}

/// The patient of a case.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// The person's record id: look-ups by it keep the ID number out of addresses.
    pub id: i64,
    /// Masked unless the user is a caseworker.
    pub id_number: String,
    /// Name on the roster.
    pub name: String,
    /// male | female.
    pub sex: String,
    /// From the ID number.
    pub birth_date: NaiveDate,
    /// Region.
    pub region_code: String,
}

/// A user as a case names them.
#[derive(Debug, Clone, Serialize)]
pub struct UserRef {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
}

/// The hospital of a case.
#[derive(Debug, Clone, Serialize)]
pub struct HospitalRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Code.
    pub code: String,
}

/// The diagnosis of a case.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosisView {
    /// ICD-10 code.
    pub code: String,
    /// In words.
    pub text: String,
}

/// A case as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// Id.
    pub id: i64,
    /// Where it stands.
    pub state: CaseState,
    /// The state's label.
    pub state_label: &'static str,
    /// Name this version in the next change.
    pub version: i32,
    /// The year applied for.
    pub year: i32,
    /// The patient.
    pub person: PersonView,
    /// The name given when opening (it agreed with the roster's).
    pub applicant_name: String,
    /// Diagnosis.
    pub diagnosis: DiagnosisView,
    /// Treating hospital.
    pub hospital: Option<HospitalRef>,
    /// Contact phone.
    pub phone: String,
    /// Address.
    pub address: String,
    /// Note.
    pub note: String,
    /// The region the case belongs to (the patient's).
    pub region_code: String,
    /// The caseworker who opened it.
    pub opened_by: Option<UserRef>,
    /// The approver who decided it last.
    pub decided_by: Option<UserRef>,
    /// The eligibility decision as made (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Value>,
    /// What the state allows next.
    pub allowed_actions: Vec<Action>,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// One transition of a case.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// Id.
    pub id: i64,
    /// open | approve | reject | withdraw | resubmit | close.
    pub action: String,
    /// Who.
    pub by: Option<UserRef>,
    /// When.
    pub at: DateTime<Utc>,
    /// From which state (none when opened).
    pub from: Option<String>,
    /// To which state.
    pub to: String,
    /// Why.
    pub reason: Option<String>,
}

/// The visits of a case in short.
#[derive(Debug, Clone, Serialize)]
pub struct VisitsSummary {
    /// Visits recorded (not voided, reversals not counted).
    pub count: u64,
    /// Subsidy approved or paid on this case so far (reversals deducted).
    pub subsidy_total: Money,
    /// What the patient's annual cap still allows this year, across all their cases; none
    /// when no policy caps their groups.
    pub annual_cap_left: Option<Money>,
}

/// A case with its history and visits.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: CaseView,
    /// Its transitions, oldest first.
    pub events: Vec<EventView>,
    /// Its visits.
    pub visits: VisitsSummary,
}

fn snapshot(m: &case::Model) -> Value {
    json!({
        "id": m.id, "person_id": m.person_id, "year": m.year, "state": m.state,
        "version": m.version, "applicant_name": m.applicant_name,
        "diagnosis_code": m.diagnosis_code, "diagnosis_text": m.diagnosis_text,
        "hospital_id": m.hospital_id, "phone": m.phone, "address": m.address, "note": m.note,
        "region_code": m.region_code, "opened_by": m.opened_by, "decided_by": m.decided_by,
        "evidence": m.evidence,
    })
}

fn user_ref(u: &user::Model) -> UserRef {
    UserRef {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
    }
}

/// Everything a set of cases refers to, loaded once for the whole set.
struct Refs {
    persons: HashMap<i64, person::Model>,
    users: HashMap<i64, user::Model>,
    hospitals: HashMap<i64, hospital::Model>,
}

impl Refs {
    async fn load<C: ConnectionTrait>(conn: &C, cases: &[case::Model]) -> AppResult<Refs> {
        let mut person_ids: Vec<i64> = cases.iter().map(|c| c.person_id).collect();
        let mut user_ids: Vec<i64> = cases
            .iter()
            .flat_map(|c| [Some(c.opened_by), c.decided_by])
            .flatten()
            .collect();
        let mut hospital_ids: Vec<i64> = cases.iter().filter_map(|c| c.hospital_id).collect();
        for v in [&mut person_ids, &mut user_ids, &mut hospital_ids] {
            v.sort_unstable();
            v.dedup();
        }
        let persons = person::Entity::find()
            .filter(person::COLUMN.id.is_in(person_ids))
            .all(conn)
            .await?;
        let users = user::Entity::find()
            .filter(user::COLUMN.id.is_in(user_ids))
            .all(conn)
            .await?;
        let hospitals = hospital::Entity::find()
            .filter(hospital::COLUMN.id.is_in(hospital_ids))
            .all(conn)
            .await?;
        Ok(Refs {
            persons: persons.into_iter().map(|p| (p.id, p)).collect(),
            users: users.into_iter().map(|u| (u.id, u)).collect(),
            hospitals: hospitals.into_iter().map(|h| (h.id, h)).collect(),
        })
    }

    fn view(
        &self,
        viewer: &CurrentUser,
        m: &case::Model,
        with_evidence: bool,
    ) -> AppResult<CaseView> {
        let lang = current_lang();
        let state = CaseState::parse(&m.state)
            .ok_or_else(|| anyhow::anyhow!("case {} has an unknown state {}", m.id, m.state))?;
        let p = self
            .persons
            .get(&m.person_id)
            .ok_or_else(|| anyhow::anyhow!("case {} has no person", m.id))?;
        Ok(CaseView {
            id: m.id,
            state,
            state_label: state.label(lang),
            version: m.version,
            year: m.year,
            person: PersonView {
                id: p.id,
                id_number: shown_id(viewer, &p.id_number),
                name: p.name.clone(),
                sex: p.sex.clone(),
                birth_date: p.birth_date,
                region_code: p.region_code.clone(),
            },
            applicant_name: m.applicant_name.clone(),
            diagnosis: DiagnosisView {
                code: m.diagnosis_code.clone(),
                text: m.diagnosis_text.clone(),
            },
            hospital: m
                .hospital_id
                .and_then(|id| self.hospitals.get(&id))
                .map(|h| HospitalRef {
                    id: h.id,
                    name: h.name.clone(),
                    code: h.code.clone(),
                }),
            phone: m.phone.clone(),
            address: m.address.clone(),
            note: m.note.clone(),
            region_code: m.region_code.clone(),
            opened_by: self.users.get(&m.opened_by).map(user_ref),
            decided_by: m
                .decided_by
                .and_then(|id| self.users.get(&id))
                .map(user_ref),
            evidence: with_evidence.then(|| m.evidence.clone()),
            allowed_actions: state.allowed(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// Refuses a hospital that does not exist or is not designated.
async fn check_hospital<C: ConnectionTrait>(conn: &C, id: Option<i64>) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found = hospital::Entity::find_by_id(id).one(conn).await?;
    let problem = match found {
        None => Msg::new(
            format!("医院（编号{id}）不存在。"),
            format!("There is no hospital {id}."),
        ),
        Some(h) if !h.designated => Msg::new(
            format!("{}不是定点医院，不能受理救助。", h.name),
            format!("{} is not a designated hospital.", h.name),
        ),
        Some(_) => return Ok(()),
    };
    Err(AppError::validation(vec![FieldError::new(
        "hospital_id",
        problem,
    )]))
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
        from_state: Set(from.map(|s| s.code().to_owned())),
        to_state: Set(to.code().to_owned()),
        reason: Set(reason),
        at: Set(at),
        ..Default::default()
    }
}

fn to_json<T: Serialize>(v: &T) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| anyhow::anyhow!("cannot serialise: {e}").into())
}

/// Opens a case for an eligible patient: eligibility is decided inside the transaction that
/// writes the case, so what is stored is what was checked. A patient who is not eligible is
/// refused with every reason, and nothing is written.
pub async fn open(
    db: &DatabaseConnection,
    settings: &Settings,
    user: &CurrentUser,
    new: NewCase,
    today: NaiveDate,
) -> AppResult<CaseView> {
    let date = decision_date(new.year, today)?;
    check_hospital(db, new.hospital_id).await?;
    let txn = begin_write(db).await?;
    // Two clerks opening a case for the same patient at once must not both pass the
    // open-case rule: the second waits here for the first to commit.
    let p = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(new.id_number.as_str()))
        .lock_exclusive()
        .one(&txn)
        .await?;
    // Someone living outside the caseworker's scope is refused exactly as an ID number no
    // roster lists: the inquiry below does not read them.
    let p = p.filter(|p| in_region(user, &p.region_code));
    let inquiry = Inquiry {
        id_number: &new.id_number,
        date,
        year: new.year,
        diagnosis: Some(&new.diagnosis),
        name: Some(&new.name),
        exclude_case: None,
        scope: &user.region,
    };
    let decided = eligibility::check(&txn, settings, &inquiry).await?;
    let Some(p) = p.filter(|_| decided.assessment.eligible) else {
        return Err(decided.refusal(
            "not_eligible",
            Msg::new(
                "该人员不符合救助条件，未开立案件：",
                "The patient is not eligible; no case was opened:",
            ),
        ));
    };
    let evidence = to_json(&decided.evidence(settings, &inquiry, "open"))?;
    let now = Utc::now();
    let m = case::ActiveModel {
        person_id: Set(p.id),
        year: Set(new.year),
        state: Set(CaseState::Submitted.code().to_owned()),
        version: Set(1),
        applicant_name: Set(new.name.trim().to_owned()),
        diagnosis_code: Set(new.diagnosis.to_string()),
        diagnosis_text: Set(new.diagnosis_text.trim().to_owned()),
        hospital_id: Set(new.hospital_id),
        phone: Set(new.phone.trim().to_owned()),
        address: Set(new.address.trim().to_owned()),
        note: Set(new.note.trim().to_owned()),
        region_code: Set(p.region_code.clone()),
        evidence: Set(evidence),
        opened_by: Set(user.id),
        decided_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    event(m.id, user.id, "open", None, CaseState::Submitted, None, now)
        .insert(&txn)
        .await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "case.open",
            entity_type: "case",
            entity_id: m.id.to_string(),
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    let refs = Refs::load(&txn, std::slice::from_ref(&m)).await?;
    txn.commit().await?;
    tracing::info!(case.id = m.id, "Opened case {}", m.id);
    refs.view(user, &m, true)
}

/// Whether a stored region code lies inside the user's scope (an unreadable one does not).
fn in_region(user: &CurrentUser, region: &str) -> bool {
    RegionCode::parse(region).is_ok_and(|code| user.region.contains(&code))
}

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

fn conflict(code: &'static str, message: Msg, m: &case::Model, state: CaseState) -> AppError {
    AppError::StateConflict {
        code,
        message,
        state: state.code().to_owned(),
        version: m.version,
        allowed: state
            .allowed()
            .iter()
            .map(|a| a.code().to_owned())
            .collect(),
    }
}

fn stale(m: &case::Model, state: CaseState, version: i32) -> AppError {
    conflict(
        "version_conflict",
        Msg::new(
            format!(
                "案件已被他人修改（您看到的是第{version}版，当前为第{}版，状态“{}”），请刷新后再操作。",
                m.version,
                state.label(Lang::Zh)
            ),
            format!(
                "The case changed since you read it (you have version {version}, it is now version {}, {}); reload it and try again.",
                m.version,
                state.code()
            ),
        ),
        m,
        state,
    )
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
    let state = CaseState::parse(&current.state)
        .ok_or_else(|| anyhow::anyhow!("case {id} has an unknown state {}", current.state))?;
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
        .map_err(|e| conflict(e.code(), Msg::of(&e), &current, state))?;

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
            let (code, lead) = match mv.action {
                Action::Approve => (
                    "no_longer_eligible",
                    Msg::new(
                        "该人员已不符合救助条件，不能批准：",
                        "The patient no longer qualifies, so the case cannot be approved:",
                    ),
                ),
                _ => (
                    "not_eligible",
                    Msg::new(
                        "该人员不符合救助条件，不能重新提交：",
                        "The patient is not eligible, so the case cannot be resubmitted:",
                    ),
                ),
            };
            return Err(decided.refusal(code, lead));
        }
        Some(to_json(&decided.evidence(
            settings,
            &inquiry,
            mv.action.code(),
        ))?)
    } else {
        None
    };

    let now = Utc::now();
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
        .filter(case::COLUMN.state.eq(state.code()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        drop(txn);
        let now_is = case::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("case", id))?;
        let now_state = CaseState::parse(&now_is.state).unwrap_or(state);
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
        query = query.filter(case::COLUMN.state.eq(s.code()));
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

/// One case in the user's region, with its events and visits.
pub async fn get(db: &DatabaseConnection, user: &CurrentUser, id: i64) -> AppResult<CaseDetail> {
    let m = case::Entity::find_by_id(id)
        .filter(user.scope(case::Column::RegionCode))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("case", id))?;
    detail_of(db, user, m).await
}

async fn detail_of<C: ConnectionTrait>(
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
    let visits = visits_summary(conn, &m).await?;
    Ok(CaseDetail {
        case: refs.view(user, &m, true)?,
        events,
        visits,
    })
}

async fn visits_summary<C: ConnectionTrait>(conn: &C, m: &case::Model) -> AppResult<VisitsSummary> {
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
    let count = rows
        .iter()
        .filter(|(_, status, reverses)| status != "voided" && reverses.is_none())
        .count() as u64;
    let subsidy_total = rows
        .iter()
        .filter(|(_, status, _)| status == "approved" || status == "paid")
        .map(|(fen, _, _)| Money::from_fen(*fen))
        .sum();

    let today = chrono::Local::now().date_naive();
    let annual_cap_left = ledger::allowance(conn, m.person_id, reading_day(m.year, today))
        .await?
        .cap_left;
    Ok(VisitsSummary {
        count,
        subsidy_total,
        annual_cap_left,
    })
}
