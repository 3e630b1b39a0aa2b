//! `GET /api/v1/access-log` and `POST /api/v1/access-log/search`: who read whose data, for
//! province-scoped administrators. By person (the record id, or the ID number in a POST body,
//! never in the address) and by user.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::audit::instant;
use super::extract::{AppJson, AppQuery};
use super::{PageOf, paging};
use crate::access_log::{self, Entry, Filter};
use crate::auth::CurrentUser;
use crate::domain::IdNumber;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::person::PersonKey;
use crate::state::AppState;

/// What to look for in the access log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// Reads of this person's data (their record id).
    pub person_id: Option<i64>,
    /// Reads of this person's data, by ID number: in the body of the POST form only.
    #[param(ignore)]
    pub id_number: Option<String>,
    /// Reads by this user (their id).
    pub user_id: Option<i64>,
    /// From: a date (YYYY-MM-DD) or an RFC 3339 instant.
    pub from: Option<String>,
    /// To (inclusive for a date).
    pub to: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/access-log",
    tag = "audit",
    params(AccessLogQuery),
    responses(
        (status = 200, description = "A page of the access log, newest first", body = PageOf<Entry>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a province-scoped administrator", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad date or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// Who read whose data: by person id and by user.
pub async fn list(
    State(state): State<AppState>,
    _reader: CurrentUser,
    AppQuery(q): AppQuery<AccessLogQuery>,
) -> AppResult<Json<PageOf<Entry>>> {
    if q.id_number.is_some() {
        return Err(AppError::validation(vec![FieldError::new(
            "id_number",
            Msg::new(
                "身份证号码不能放在网址中：请用 POST /api/v1/access-log/search 在请求正文中查询。",
                "An ID number does not go in the address: send it in the body of POST /api/v1/access-log/search.",
            ),
        )]));
    }
    answer(&state, q).await
}

#[utoipa::path(
    post,
    path = "/api/v1/access-log/search",
    tag = "audit",
    request_body = AccessLogQuery,
    responses(
        (status = 200, description = "A page of the access log, newest first", body = PageOf<Entry>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a province-scoped administrator", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad ID number, date or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// "Who looked at this patient?", with the ID number in the body.
pub async fn search(
    State(state): State<AppState>,
    _reader: CurrentUser,
    AppJson(q): AppJson<AccessLogQuery>,
) -> AppResult<Json<PageOf<Entry>>> {
    answer(&state, q).await
}

async fn answer(state: &AppState, q: AccessLogQuery) -> AppResult<Json<PageOf<Entry>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let mut problems = Vec::new();
    let mut when = |field: &str, raw: Option<&str>, end: bool| {
        raw.map(|r| instant(field, r.trim(), end))
            .transpose()
            .map_err(|e| problems.push(e))
            .ok()
            .flatten()
    };
    let from = when("from", q.from.as_deref(), false);
    let to = when("to", q.to.as_deref(), true);
    let mut person_id = q.person_id;
    if let Some(raw) = q.id_number.as_deref().filter(|r| !r.trim().is_empty()) {
        match IdNumber::parse(raw) {
            // Someone never on a roster has no record: nobody can have read their data.
            Ok(n) => {
                person_id = Some(
                    PersonKey::IdNumber(n)
                        .find(&state.db)
                        .await?
                        .map_or(0, |p| p.id),
                )
            }
            Err(e) => problems.push(FieldError::new("id_number", Msg::of(&e))),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    // Every read made before the question is in the answer.
    state.access_log.flush().await;
    let filter = Filter {
        person_id,
        user_id: q.user_id,
        from,
        to,
    };
    let (items, total) = access_log::list(&state.db, &filter, page, per_page).await?;
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}
