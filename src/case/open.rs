//! Opening a case for an eligible patient, with its eligibility decided in the transaction that
//! writes it, and its audit row.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

use entity::{case, person};

use super::refusal::CaseRefusal;
use super::view::{CaseView, Refs, snapshot};
use super::workflow::CaseState;
use super::{NewCase, begin_write, check_hospital, decision_date, event, to_json};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::domain::{Localized, RegionCode};
use crate::eligibility::{self, Inquiry};
use crate::error::{AppResult, Msg};

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
        let lead = CaseRefusal::NotEligibleToOpen;
        return Err(decided.refusal(lead.code(), Msg::of(&lead)));
    };
    let evidence = to_json(&decided.evidence(settings, &inquiry, "open", user.now))?;
    let now = user.now;
    let m = case::ActiveModel {
        person_id: Set(p.id),
        year: Set(new.year),
        state: Set(CaseState::Submitted),
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
