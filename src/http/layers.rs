//! What wraps every request, the API's and the pages' alike: its time limit, its language,
//! its log span, and the answers to a route or method that does not exist and to a panic.

use std::any::Any;
use std::time::Duration;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::Lang;
use crate::error::{AppError, LANG, Msg};

/// How long a request may take (`CANCER_AID_REQUEST_TIMEOUT_SECONDS`), and an upload or a
/// download (`CANCER_AID_TRANSFER_TIMEOUT_SECONDS`).
#[derive(Debug, Clone, Copy)]
pub struct TimeLimits {
    /// Any request.
    pub request: Duration,
    /// An upload or a download.
    pub transfer: Duration,
}

/// Every route has a time limit: a request still running when it is reached is dropped, which
/// rolls back a transaction not yet committed (and frees its connection once the statement in
/// flight returns: on SQLite, after at most `CANCER_AID_SQLITE_BUSY_SECONDS`), and the client
/// hears 503 `request_timeout` rather than waiting without end.
pub async fn time_limit(State(limits): State<TimeLimits>, req: Request, next: Next) -> Response {
    let limit = if is_transfer(req.method(), req.headers(), req.uri()) {
        limits.transfer
    } else {
        limits.request
    };
    let (method, route) = (req.method().clone(), route_of(&req).to_owned());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%method, route, seconds = limit.as_secs(), "request stopped at its time limit");
            timed_out(limit).into_response()
        }
    }
}

/// Whether a request moves a file, and so gets the longer limit: an upload (a multipart body,
/// as the API's upload and the upload page send) or a download (`format=xlsx` or `format=csv`,
/// as every download of the API and the pages' download links ask).
pub fn is_transfer(method: &Method, headers: &HeaderMap, uri: &Uri) -> bool {
    let multipart = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    let download = *method == Method::GET
        && form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .any(|(k, v)| k == "format" && (v == "xlsx" || v == "csv"));
    multipart || download
}

/// The answer to a request stopped at its time limit.
fn timed_out(limit: Duration) -> AppError {
    let secs = limit.as_secs();
    AppError::Unavailable {
        code: "request_timeout",
        message: Msg::new(
            format!(
                "请求处理超过{secs}秒，已中止。如是查询，请缩小范围后重试；如是修改，请先查看是否已保存，再决定是否重试。"
            ),
            format!(
                "The request took longer than {secs} seconds and was stopped. For a query, narrow it and try again; for a change, check whether it was saved before repeating it."
            ),
        ),
        retry_after: None,
    }
}

/// The route a request matched, as the route table writes it (`/api/v1/cases/{id}`), never
/// the address itself: addresses can hold ID numbers (`?id_number=`, a statement's path),
/// which must not reach the logs.
fn route_of(req: &Request) -> &str {
    req.extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", |m| m.as_str())
}

/// The span every request's log lines carry: method and matched route, no address, no query.
pub fn request_span(req: &Request) -> tracing::Span {
    tracing::info_span!("request", method = %req.method(), route = route_of(req))
}

/// Runs the request in its language: a `lang` cookie (the UI's switch) wins, then
/// `Accept-Language`, then Chinese.
pub async fn language(req: Request, next: Next) -> Response {
    let lang = cookie_lang(req.headers()).unwrap_or_else(|| {
        req.headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    });
    LANG.scope(lang, next.run(req)).await
}

/// The language the UI's switch chose, if it did.
pub fn cookie_lang(headers: &axum::http::HeaderMap) -> Option<Lang> {
    crate::security::cookie(headers, "lang").map(|v| if v == "en" { Lang::En } else { Lang::Zh })
}

pub async fn not_found(req: Request) -> AppError {
    AppError::not_found("route", req.uri().path())
}

pub async fn method_not_allowed(req: Request) -> Response {
    let body = serde_json::json!({"error": {
        "code": "method_not_allowed",
        "message": Msg::new(
            format!("{} 不支持 {} 方法。", req.uri().path(), req.method()),
            format!("{} does not accept {}.", req.uri().path(), req.method()),
        ).get(crate::error::current_lang()),
    }});
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
}
