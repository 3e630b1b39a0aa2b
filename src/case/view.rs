//! The views of cases: what the API shows of a case, its patient, its events and its visits,
//! the ID number as each user may see it, and the audit form of a case row.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{Value, json};

use entity::{case, hospital, person, user};

use super::workflow::{self, Action, CaseState};
use crate::auth::CurrentUser;
use crate::domain::Label;
use crate::domain::{IdNumber, Money, Role};
use crate::error::{AppResult, current_lang};

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
}

/// The hospital of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HospitalRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Code.
    pub code: String,
}

/// The diagnosis of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiagnosisView {
    /// ICD-10 code.
    pub code: String,
    /// In words.
    pub text: String,
}

/// A case as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<Value>,
    /// What the state allows next.
    pub allowed_actions: Vec<Action>,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// One transition of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    pub from: Option<CaseState>,
    /// To which state.
    pub to: CaseState,
    /// Why.
    pub reason: Option<String>,
}

/// The visits of a case in short.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: CaseView,
    /// Its transitions, oldest first.
    pub events: Vec<EventView>,
    /// Its visits.
    pub visits: VisitsSummary,
}

pub(super) fn snapshot(m: &case::Model) -> Value {
    json!({
        "id": m.id, "person_id": m.person_id, "year": m.year, "state": m.state,
        "version": m.version, "applicant_name": m.applicant_name,
        "diagnosis_code": m.diagnosis_code, "diagnosis_text": m.diagnosis_text,
        "hospital_id": m.hospital_id, "phone": m.phone, "address": m.address, "note": m.note,
        "region_code": m.region_code, "opened_by": m.opened_by, "decided_by": m.decided_by,
        "evidence": m.evidence,
    })
}

pub(super) fn user_ref(u: &user::Model) -> UserRef {
    UserRef {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
    }
}

/// Everything a set of cases refers to, loaded once for the whole set.
pub(super) struct Refs {
    pub(super) persons: HashMap<i64, person::Model>,
    pub(super) users: HashMap<i64, user::Model>,
    pub(super) hospitals: HashMap<i64, hospital::Model>,
}

impl Refs {
    pub(super) async fn load<C: ConnectionTrait>(
        conn: &C,
        cases: &[case::Model],
    ) -> AppResult<Refs> {
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

    pub(super) fn view(
        &self,
        viewer: &CurrentUser,
        m: &case::Model,
        with_evidence: bool,
    ) -> AppResult<CaseView> {
        let lang = current_lang();
        let state = m.state;
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
            allowed_actions: workflow::allowed(state),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}
