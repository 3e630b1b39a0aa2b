//! `GET /api/v1/eligibility`: may this person be helped on this day, and if not, why not?

use axum::Json;
use axum::extract::State;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::extract::{AppJson, AppQuery};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::case::shown_id;
use crate::domain::{Allowance, Diagnosis, IdNumber};
use crate::eligibility::{self, CheckView, EntryView, GroupView, Inquiry};
use crate::error::{AppError, AppResult, FieldError, Msg, current_lang};
use crate::state::AppState;

/// `?id_number=&date=YYYY-MM-DD&diagnosis=C34.1`, or the same fields as a JSON body of
/// `POST /api/v1/eligibility`, which keeps the ID number out of the address.
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct EligibilityQuery {
    /// The person's ID number, in any accepted form.
    pub id_number: Option<String>,
    /// The day to check (default today).
    pub date: Option<String>,
    /// An ICD-10 code, when known.
    pub diagnosis: Option<String>,
}

/// The person, as the roster knows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = EligibilityPerson)]
pub struct PersonOut {
    /// The person's record id: later look-ups (statement, roster entries) by it keep the ID
    /// number out of addresses.
    pub id: i64,
    /// Name.
    pub name: String,
    /// male | female.
    pub sex: String,
    /// From the ID number.
    pub birth_date: NaiveDate,
    /// Region.
    pub region_code: String,
}

/// One failed rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = EligibilityReason)]
pub struct ReasonOut {
    /// Stable code.
    pub code: &'static str,
    /// In the request's language.
    pub message: String,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EligibilityResponse {
    /// Whether every rule held.
    pub eligible: bool,
    /// Masked unless the user is a caseworker.
    pub id_number: String,
    /// The day checked.
    pub date: NaiveDate,
    /// The normalised diagnosis checked.
    pub diagnosis: Option<Diagnosis>,
    /// The person, or null when no roster ever listed them.
    pub person: Option<PersonOut>,
    /// Groups of the covering entries.
    pub groups: Vec<GroupView>,
    /// The entries that cover the day, with the import each came from.
    pub entries: Vec<EntryView>,
    /// Every failed rule.
    pub reasons: Vec<ReasonOut>,
    /// Every rule and how it came out.
    pub rules: Vec<CheckView>,
    /// The year's annual cap, what was granted and what is left, as recording would apply
    /// them on the day.
    pub annual: Allowance,
}

#[utoipa::path(
    get,
    path = "/api/v1/eligibility",
    tag = "eligibility",
    params(EligibilityQuery),
    responses(
        (status = 200, description = "Whether the person qualifies on the date, with a reason per failed rule", body = EligibilityResponse),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a valid ID number, date or diagnosis", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// Checks a person against every rule; a person outside the user's region is answered as one
/// no roster lists. `POST` with the same fields in the body is preferred: addresses end up in
/// proxies' logs.
pub async fn check_eligibility(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppQuery(q): AppQuery<EligibilityQuery>,
) -> AppResult<Json<EligibilityResponse>> {
    answer(&state, &user, &source, q).await
}

#[utoipa::path(
    post,
    path = "/api/v1/eligibility",
    tag = "eligibility",
    request_body = EligibilityQuery,
    responses(
        (status = 200, description = "Whether the person qualifies on the date, with a reason per failed rule", body = EligibilityResponse),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a valid ID number, date or diagnosis", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// The eligibility check with the ID number in the body: the recommended form.
pub async fn check_eligibility_posted(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppJson(q): AppJson<EligibilityQuery>,
) -> AppResult<Json<EligibilityResponse>> {
    answer(&state, &user, &source, q).await
}

async fn answer(
    state: &AppState,
    user: &CurrentUser,
    source: &Source,
    q: EligibilityQuery,
) -> AppResult<Json<EligibilityResponse>> {
    let id_number = IdNumber::parse(q.id_number.as_deref().unwrap_or_default())
        .map_err(|e| eligibility::invalid_id_number(&e))?;
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => user.today(),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            AppError::validation(vec![FieldError::new(
                "date",
                Msg::new(
                    format!("日期“{d}”无效：请用 YYYY-MM-DD，如 2026-03-01。"),
                    format!("date '{d}' is not a date: use YYYY-MM-DD, such as 2026-03-01."),
                ),
            )])
        })?,
    };
    let diagnosis = match q.diagnosis.as_deref().filter(|d| !d.trim().is_empty()) {
        None => None,
        Some(d) => Some(Diagnosis::parse(d).map_err(|e| AppError::field("diagnosis", &e))?),
    };
    let inquiry = Inquiry {
        id_number: &id_number,
        date,
        year: date.year(),
        diagnosis: diagnosis.as_ref(),
        name: None,
        exclude_case: None,
        scope: &user.region,
    };
    // A person outside the user's scope is not read: the answer is the one for an ID number
    // no roster lists.
    let found = eligibility::check(&state.db, &state.settings, &inquiry).await?;
    let read = Read::new(user, source, Action::EligibilityCheck);
    let read = match &found.facts.person {
        Some(p) => read.person(p.id),
        None => read.resource(id_number.masked()),
    };
    state.access_log.record(read).await;
    let person = found.facts.person.as_ref().map(|p| PersonOut {
        id: p.id,
        name: p.name.clone(),
        sex: p.sex.clone(),
        birth_date: p.birth_date,
        region_code: p.region_code.clone(),
    });
    let lang = current_lang();
    Ok(Json(EligibilityResponse {
        eligible: found.assessment.eligible,
        id_number: shown_id(user, id_number.as_str()),
        date,
        diagnosis,
        person,
        groups: found.groups(lang),
        entries: found.covering(lang),
        reasons: found
            .reasons()
            .into_iter()
            .map(|r| ReasonOut {
                code: r.code,
                message: r.message.get(lang).to_owned(),
            })
            .collect(),
        rules: found.assessment.checks.clone(),
        annual: found.assessment.allowance,
    }))
}
