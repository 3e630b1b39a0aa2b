//! `/api/v1/persons/{person}/roster-history`: a person's roster entries over time, with the
//! imports behind each (`crate::roster::person_history`).

use axum::Json;
use axum::extract::State;

use super::extract::AppPath;
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::error::{AppResult, current_lang};
use crate::person::PersonKey;
use crate::roster::person_history::{self, RosterHistory};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/persons/{person}/roster-history",
    tag = "roster",
    params(("person" = String, Path, description = "The person's record id (as eligibility answers, cases and visits give it; recommended) or ID number")),
    responses(
        (status = 200, description = "The person (ID number masked) and every roster entry inside your scope, newest first, each with the imports that added, last changed and ended it", body = RosterHistory),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not read roster entries", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such person in your region", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a record id or a valid ID number", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/persons/{person}/roster-history`: every roster entry of every group for the
/// person, over time, each with the import that added it, the one that changed it last and the
/// one that ended it (file, effective date, mode, uploader, upload time). An import changes an
/// entry in place, so only the latest change is named, not each change or the values before it.
pub async fn roster_history(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(raw): AppPath<String>,
) -> AppResult<Json<RosterHistory>> {
    let key = PersonKey::parse(&raw)?;
    let history = person_history::of(&state.db, &user, &key, current_lang()).await?;
    // Recorded once the person is found, as the statement is: a "not found" showed nothing.
    let read = Read::new(&user, &source, Action::RosterHistory);
    state
        .access_log
        .record(read.person(history.person.id))
        .await;
    Ok(Json(history))
}
