//! The HTTP layer: thin handlers under `/api/v1`, the error envelope, and the middleware
//! every request passes through.

pub mod audit;
pub mod auth;
pub mod cases;
pub mod eligibility;
pub mod extract;
pub mod health;
pub mod hospitals;
pub mod input;
pub mod policies;
pub mod roster;
pub mod users;
pub mod visits;

use std::any::Any;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::domain::Lang;
use crate::error::{AppError, LANG, Msg};
use crate::state::AppState;

/// Builds the whole application: the API, the health check and their middleware.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/users", get(users::list_users).post(users::create_user))
        .route(
            "/users/{id}",
            get(users::get_user).patch(users::update_user),
        )
        .route("/audit", get(audit::list_audit))
        .route(
            "/roster-imports",
            get(roster::list_imports)
                .post(roster::upload_roster)
                .layer(DefaultBodyLimit::max(state.settings.max_upload_bytes)),
        )
        .route("/roster-imports/template", get(roster::template))
        .route("/roster-imports/{id}", get(roster::get_import))
        .route("/roster-imports/{id}/errors", get(roster::import_errors))
        .route("/roster-imports/{id}/retry", post(roster::retry_import))
        .route("/roster-entries", get(roster::person_entries))
        .route(
            "/hospitals",
            get(hospitals::list_hospitals).post(hospitals::create_hospital),
        )
        .route(
            "/policies",
            get(policies::list_policies).post(policies::create_policy),
        )
        .route(
            "/policies/{id}",
            get(policies::get_policy).patch(policies::update_policy),
        )
        .route("/cases/{id}/visits", post(visits::record_visit))
        .route("/visits", get(visits::list_visits))
        .route("/visits/{id}", get(visits::get_visit))
        .route("/visits/{id}/approve", post(visits::approve_visit))
        .route("/visits/{id}/pay", post(visits::pay_visit))
        .route("/visits/{id}/void", post(visits::void_visit))
        .route("/visits/{id}/reverse", post(visits::reverse_visit))
        .route(
            "/persons/{id_number}/statement",
            get(visits::person_statement),
        )
        .route("/eligibility", get(eligibility::check_eligibility))
        .route("/cases", get(cases::list_cases).post(cases::open_case))
        .route("/cases/{id}", get(cases::get_case))
        .route("/cases/{id}/approve", post(cases::approve_case))
        .route("/cases/{id}/reject", post(cases::reject_case))
        .route("/cases/{id}/withdraw", post(cases::withdraw_case))
        .route("/cases/{id}/resubmit", post(cases::resubmit_case))
        .route("/cases/{id}/close", post(cases::close_case));
    Router::new()
        .merge(crate::web::router())
        .route("/health", get(health::health))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_json_bytes))
        .layer(middleware::from_fn(language))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Runs the request in its language: a `lang` cookie (the UI's switch) wins, then
/// `Accept-Language`, then Chinese.
async fn language(req: Request, next: Next) -> Response {
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
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .map(|(_, v)| if v == "en" { Lang::En } else { Lang::Zh })
}

async fn not_found(req: Request) -> AppError {
    AppError::not_found("route", req.uri().path())
}

async fn method_not_allowed(req: Request) -> Response {
    let body = serde_json::json!({"error": {
        "code": "method_not_allowed",
        "message": Msg::new(
            format!("{} 不支持 {} 方法。", req.uri().path(), req.method()),
            format!("{} does not accept {}.", req.uri().path(), req.method()),
        ).get(crate::error::current_lang()),
    }});
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
}

/// A page of results.
#[derive(Debug, serde::Serialize)]
pub struct PageOf<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows across all pages.
    pub total: u64,
}

/// Page and size from a query string: page 1 and 50 rows by default, at most 500 rows.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64), AppError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(50);
    if page == 0 || !(1..=500).contains(&per_page) {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "page",
            Msg::new(
                "页码从1开始，每页1到500条。",
                "page starts at 1; per_page is 1 to 500.",
            ),
        )]));
    }
    Ok((page, per_page))
}
