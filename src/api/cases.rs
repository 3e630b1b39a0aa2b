//! `/api/v1/cases`: opening cases, moving them through their states, reading them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Datelike;
use serde::Deserialize;
use validator::Validate;

use super::extract::{AppPath, AppQuery, ValidatedJson};
use super::{PageOf, input, paging};
use crate::access_log::{self, Read, Source};
use crate::auth::CurrentUser;
use crate::case::workflow::{Action, CaseState};
use crate::case::{self, CaseDetail, CaseView, Corrections, Filter, Move, NewCase};
use crate::domain::{Diagnosis, IdNumber};
use crate::eligibility;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::state::AppState;

/// `POST /api/v1/cases`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct OpenCaseRequest {
    /// The patient's ID number.
    pub id_number: String,
    /// The patient's name, as on the roster.
    #[validate(length(min = 1, max = 64))]
    pub name: String,
    /// ICD-10 code (C34, C34.1, ...).
    pub diagnosis_code: String,
    /// The diagnosis in words.
    #[serde(default)]
    #[validate(length(max = 200))]
    pub diagnosis_text: String,
    /// The treating hospital (a designated one).
    pub hospital_id: Option<i64>,
    /// Contact phone.
    #[serde(default)]
    #[validate(length(max = 32))]
    pub phone: String,
    /// Address.
    #[serde(default)]
    #[validate(length(max = 200))]
    pub address: String,
    /// The year applied for (default this year).
    pub year: Option<i32>,
    /// Note.
    #[serde(default)]
    #[validate(length(max = 1000))]
    pub note: String,
}

/// The body of approve, reject, withdraw and close.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct TransitionRequest {
    /// The version the client read.
    pub version: i32,
    /// Why (required to reject and to close).
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// The body of resubmit: the version, and corrections that are the new evidence.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct ResubmitRequest {
    /// The version the client read.
    pub version: i32,
    /// What changed.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    /// A corrected ICD-10 code.
    pub diagnosis_code: Option<String>,
    /// A corrected diagnosis text.
    #[validate(length(max = 200))]
    pub diagnosis_text: Option<String>,
    /// Another hospital.
    pub hospital_id: Option<i64>,
    /// Another phone.
    #[validate(length(max = 32))]
    pub phone: Option<String>,
    /// Another address.
    #[validate(length(max = 200))]
    pub address: Option<String>,
    /// Another note.
    #[validate(length(max = 1000))]
    pub note: Option<String>,
}

fn check_phone(phone: &str) -> AppResult<()> {
    let p = phone.trim();
    let ok = p.is_empty()
        || (p.chars().filter(char::is_ascii_digit).count() >= 5
            && p.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')')));
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(vec![FieldError::new(
            "phone",
            Msg::new(
                format!("电话号码“{p}”无效：只能包含数字、空格、-、+ 和括号。"),
                format!("phone '{p}' is not a phone number: use digits, spaces, -, + and ()."),
            ),
        )]))
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    request_body = OpenCaseRequest,
    responses(
        (status = 201, description = "The case, submitted, with its evidence", body = CaseView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "The person is outside your region", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Refused, with the reasons", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// Opens a case for an eligible patient: 201 with the case, or 422 with every reason.
pub async fn open_case(
    State(state): State<AppState>,
    user: CurrentUser,
    ValidatedJson(req): ValidatedJson<OpenCaseRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let id_number =
        IdNumber::parse(&req.id_number).map_err(|e| eligibility::invalid_id_number(&e))?;
    let diagnosis =
        Diagnosis::parse(&req.diagnosis_code).map_err(|e| AppError::field("diagnosis_code", &e))?;
    check_phone(&req.phone)?;
    let new = NewCase {
        id_number,
        name: req.name,
        diagnosis,
        diagnosis_text: req.diagnosis_text,
        hospital_id: req.hospital_id,
        phone: req.phone,
        address: req.address,
        year: req.year.unwrap_or_else(|| user.today().year()),
        note: req.note,
    };
    let view = case::open(&state.db, &state.settings, &user, new, user.today()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn take(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    action: Action,
    req: TransitionRequest,
) -> AppResult<Json<CaseDetail>> {
    let reason = req
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if action.needs_reason() && reason.is_none() {
        return Err(AppError::validation(vec![FieldError::new(
            "reason",
            Msg::new(
                format!("{}须填写原因。", action.label(crate::domain::Lang::Zh)),
                format!("Say why the case is {}d.", action.code()),
            ),
        )]));
    }
    let mv = Move {
        action,
        version: req.version,
        reason,
        corrections: Corrections::default(),
    };
    Ok(Json(
        case::transition(&state.db, &state.settings, user, id, mv, user.today()).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/approve",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The approved case", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Stale version or not allowed from the current state", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No longer eligible", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/approve` (an approver who did not submit it).
pub async fn approve_case(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<TransitionRequest>,
) -> AppResult<Json<CaseDetail>> {
    take(&state, &user, id, Action::Approve, req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/reject",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The rejected case", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Stale version or not allowed from the current state", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A reason is required", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/reject` (an approver who did not submit it; reason required).
pub async fn reject_case(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<TransitionRequest>,
) -> AppResult<Json<CaseDetail>> {
    take(&state, &user, id, Action::Reject, req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/withdraw",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The withdrawn case", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Stale version or not allowed from the current state", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/withdraw` (its opener, or an approver).
pub async fn withdraw_case(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<TransitionRequest>,
) -> AppResult<Json<CaseDetail>> {
    take(&state, &user, id, Action::Withdraw, req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/close",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The closed case", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Stale version or not allowed from the current state", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A reason is required", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/close` (an approver or a manager; reason required).
pub async fn close_case(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<TransitionRequest>,
) -> AppResult<Json<CaseDetail>> {
    take(&state, &user, id, Action::Close, req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/resubmit",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    request_body = ResubmitRequest,
    responses(
        (status = 200, description = "The case, submitted again", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Stale version or not allowed from the current state", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No longer eligible", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/resubmit` (a caseworker, from rejected; eligibility re-checked).
pub async fn resubmit_case(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<ResubmitRequest>,
) -> AppResult<Json<CaseDetail>> {
    let diagnosis = match req.diagnosis_code.as_deref() {
        Some(d) => Some(Diagnosis::parse(d).map_err(|e| AppError::field("diagnosis_code", &e))?),
        None => None,
    };
    if let Some(p) = &req.phone {
        check_phone(p)?;
    }
    let mv = Move {
        action: Action::Resubmit,
        version: req.version,
        reason: req.reason,
        corrections: Corrections {
            diagnosis,
            diagnosis_text: req.diagnosis_text,
            hospital_id: req.hospital_id,
            phone: req.phone,
            address: req.address,
            note: req.note,
        },
    };
    Ok(Json(
        case::transition(&state.db, &state.settings, &user, id, mv, user.today()).await?,
    ))
}

/// `?state=&year=&id_number=&q=&page=&per_page=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// submitted | approved | rejected | withdrawn | closed.
    pub state: Option<String>,
    /// Case year.
    pub year: Option<i32>,
    /// One patient.
    pub id_number: Option<String>,
    /// Text in the applicant's name or the diagnosis.
    pub q: Option<String>,
    /// Page from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of cases, newest first", body = PageOf<CaseView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad filter or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/cases`: the cases of the user's region, newest first.
pub async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<ListQuery>,
) -> AppResult<Json<PageOf<CaseView>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let case_state = input::coded::<CaseState>("状态", q.state.as_deref())
        .map_err(|m| AppError::validation(vec![FieldError::new("state", m)]))?;
    let id_number = match q.id_number.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(raw) => Some(IdNumber::parse(raw).map_err(|e| eligibility::invalid_id_number(&e))?),
    };
    let filter = Filter {
        state: case_state,
        year: q.year,
        id_number,
        q: q.q,
    };
    let (items, total) = case::list(&state.db, &user, &filter, page, per_page).await?;
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "Id")),
    responses(
        (status = 200, description = "The case with its events and visits summary", body = CaseDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/cases/{id}`: the case with its events and its visits in short.
pub async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<CaseDetail>> {
    let detail = case::get(&state.db, &user, id).await?;
    let read = Read::new(&user, &source, access_log::Action::CaseRead);
    state
        .access_log
        .record(
            read.person(detail.case.person.id)
                .resource(format!("case:{id}")),
        )
        .await;
    Ok(Json(detail))
}
