//! The public notice (公示) of a batch and the objections raised during it: thin handlers over
//! `crate::payment::notice`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::extract::{AppJson, AppPath, AppQuery};
use super::input;
use super::roster::{XLSX, download_file};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, FieldError, Msg, Problems};
use crate::payment::{self, Notice, ObjectionView};
use crate::state::AppState;

/// `?format=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// html (default: a page to print and post), xlsx, or json.
    pub format: Option<String>,
}

#[derive(Template)]
#[template(path = "payments/notice.html")]
struct NoticePage<'a> {
    title: &'a str,
    n: &'a Notice,
}

const TITLE: &str = "肿瘤患者救助金发放公示";

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches/{id}/notice",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id"), NoticeQuery),
    responses(
        (status = 200, description = "The notice: masked name and ID number, county, group, amount, batch number, \
            period and complaint telephone (never the diagnosis). Produced the first time for an approved batch, \
            which starts its period",
            content(
                (String = "text/html"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Notice = "application/json"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "A draft or cancelled batch has no notice", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "An unknown format", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches/{id}/notice?format=html|xlsx|json`.
pub async fn get_notice(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<NoticeQuery>,
) -> AppResult<Response> {
    let format = q.format.as_deref().map(str::trim).unwrap_or("html");
    if !matches!(format, "html" | "xlsx" | "json") {
        return Err(AppError::validation(vec![FieldError::new(
            "format",
            Msg::new(
                "公示格式须为 html（网页，可打印）、xlsx（表格）或 json。".to_owned(),
                "format is html (a page to print), xlsx or json.".to_owned(),
            ),
        )]));
    }
    let read = Read::new(&user, &source, Action::Export);
    if format == "xlsx" {
        let (file, batch_no) =
            payment::notice_file(&state.db, &user, &state.settings.notice, id, TITLE).await?;
        state
            .access_log
            .record(read.resource(format!("payment_batch:{id}:notice")))
            .await;
        return Ok(download_file(file, XLSX, &format!("{batch_no}_公示.xlsx")));
    }
    let n = payment::notice(&state.db, &user, &state.settings.notice, id).await?;
    state
        .access_log
        .record(read.resource(format!("payment_batch:{id}:notice")))
        .await;
    Ok(match format {
        "json" => Json(n).into_response(),
        _ => Html(
            NoticePage {
                title: TITLE,
                n: &n,
            }
            .render()
            .map_err(|e| anyhow::anyhow!("notice page: {e}"))?,
        )
        .into_response(),
    })
}

/// The body of an objection.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ObjectionRequest {
    /// The line objected to (its reference on the notice).
    pub line_id: Option<i64>,
    /// What was objected, as told (4 to 500 characters).
    pub reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches/{id}/objections",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = ObjectionRequest,
    responses(
        (status = 201, description = "Recorded; the line is held out of the batch until it is resolved", body = ObjectionView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region, or no such line in it", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The notice is not running (`notice_not_running`)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No line or no reason", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches/{id}/objections`.
pub async fn raise_objection(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ObjectionRequest>,
) -> AppResult<(axum::http::StatusCode, Json<ObjectionView>)> {
    let mut p = Problems::new();
    if req.line_id.is_none() {
        input::missing("line_id", "付款参考号", &mut p);
    }
    let reason = input::text("reason", "异议内容", req.reason.as_deref(), 500, &mut p);
    p.check()?;
    let (Some(line_id), Some(reason)) = (req.line_id, reason) else {
        return Err(anyhow::anyhow!("objection checked but missing").into());
    };
    let o = payment::object(&state.db, &user, id, line_id, reason).await?;
    Ok((axum::http::StatusCode::CREATED, Json(o)))
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches/{id}/objections",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch's objections, oldest first", body = Vec<ObjectionView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches/{id}/objections`.
pub async fn list_objections(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<Vec<ObjectionView>>> {
    Ok(Json(payment::objections(&state.db, &user, id).await?))
}

/// The body of a resolution.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveRequest {
    /// upheld (the line leaves the batch) or dismissed (it is back).
    pub decision: Option<String>,
    /// Why (4 to 500 characters).
    pub reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches/{id}/objections/{objection_id}/resolve",
    tag = "payments",
    params(
        ("id" = i64, Path, description = "Batch id"),
        ("objection_id" = i64, Path, description = "Objection id"),
    ),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "Resolved", body = ObjectionView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region, or no such objection of it", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Resolved already (`objection_resolved`)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No decision or no reason", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches/{id}/objections/{objection_id}/resolve`.
pub async fn resolve_objection(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, objection_id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<ResolveRequest>,
) -> AppResult<Json<ObjectionView>> {
    let mut p = Problems::new();
    let upheld = match req.decision.as_deref().map(str::trim) {
        Some("upheld") => Some(true),
        Some("dismissed") => Some(false),
        None | Some("") => {
            input::missing("decision", "处理结论", &mut p);
            None
        }
        Some(_) => {
            p.push(
                "invalid_choice",
                "decision",
                Msg::new(
                    "处理结论须为 upheld（异议成立）或 dismissed（异议不成立）。".to_owned(),
                    "decision is upheld or dismissed.".to_owned(),
                ),
            );
            None
        }
    };
    let reason = input::text("reason", "处理理由", req.reason.as_deref(), 500, &mut p);
    p.check()?;
    let (Some(upheld), Some(reason)) = (upheld, reason) else {
        return Err(anyhow::anyhow!("resolution checked but missing").into());
    };
    Ok(Json(
        payment::resolve(&state.db, &user, id, objection_id, upheld, reason).await?,
    ))
}
