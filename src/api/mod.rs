//! The HTTP layer: thin handlers under `/api/v1`, the error envelope, and the middleware
//! every request passes through.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod eligibility;
pub mod extract;
pub mod health;
pub mod hospitals;
pub mod input;
pub mod openapi;
pub mod persons;
pub mod policies;
pub mod reports;
pub mod roster;
pub mod roster_activation;
pub mod sessions;
pub mod users;
pub mod visits;

use std::any::Any;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::access::{self, Access};
use crate::auth::CurrentUser;
use crate::domain::Lang;
use crate::error::{AppError, FieldError, LANG, Msg};
use crate::state::AppState;

/// One route of the service, as the route table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// GET, POST, PATCH, ...
    pub method: Method,
    /// The path as axum matches it, which is also how OpenAPI writes it: `/api/v1/users/{id}`.
    pub path: &'static str,
    /// Whether the OpenAPI description must describe it (false only for HTML pages).
    pub documented: bool,
    /// Who may use it (see [`crate::access`]); enforced before the handler runs.
    pub access: Access,
}

/// Mounts handlers and records each route it mounts, so that the list of routes the router
/// serves, the list the OpenAPI test checks and the access table are one and the same.
struct Routes {
    mounted: Vec<(RouteSpec, MethodRouter<AppState>)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            mounted: Vec::new(),
        }
    }

    /// An API route under an access rule; its handler must carry a `#[utoipa::path]` listed
    /// in `openapi::ApiDoc`.
    fn api<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.api_with(method, path, access, handler, |r| r)
    }

    /// An API route with layers of its own (such as a larger body limit).
    fn api_with<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
        wrap: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // The method the handler is mounted on is the one recorded: they cannot disagree.
        let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
        let route = wrap(on(filter, handler));
        self.mounted.push((
            RouteSpec {
                method,
                path,
                documented: true,
                access,
            },
            route,
        ));
        self
    }

    /// The router: each route behind its access rule.
    fn into_router(self, state: &AppState) -> Router<AppState> {
        let mut router = Router::new();
        for (spec, route) in self.mounted {
            let guarded = if spec.access.needs_login() {
                route.route_layer(middleware::from_fn_with_state(
                    (state.clone(), spec.access),
                    admit,
                ))
            } else {
                route
            };
            // axum merges the methods of a path that is mounted more than once.
            router = router.route(spec.path, guarded);
        }
        router
    }
}

/// Lets a request through only when its user is admitted by the route's rule: 401 without a
/// live session, 403 naming the missing role or scope. The user found is kept for the
/// handler, which reads it without asking the database again.
async fn admit(
    State((state, access)): State<(AppState, Access)>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let user = if access.who == access::Who::LoggingIn {
        extract::LoginSession::from_request_parts(&mut parts, &state)
            .await
            .map(|s| s.0.user)
    } else {
        CurrentUser::from_request_parts(&mut parts, &state).await
    };
    let user = match user {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = access.check(&user, &state.settings.province) {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// THE ROUTE TABLE: every route of the service, and the only place routes are added.
///
/// To add an endpoint: write the handler with a `#[utoipa::path(...)]` annotation (same
/// method and path as here), list it in `paths(...)` of `openapi::ApiDoc`, and add one line
/// here with its access rule from [`crate::access`]. The test `every_route_is_described`
/// (tests/api/openapi.rs) reads this table (through [`route_table`]) and fails when a route is
/// missing from the description; `every_route_admits_exactly_its_rule` (tests/api/access.rs)
/// walks every route for every role in two scopes, and `docs/access.md` is generated from it.
fn routes(max_upload_bytes: usize) -> Routes {
    Routes::new()
        .api(Method::GET, "/health", access::PUBLIC, health::health)
        .api(
            Method::GET,
            "/api/v1/openapi.json",
            access::PUBLIC,
            openapi::openapi_json,
        )
        .api(
            Method::POST,
            "/api/v1/auth/login",
            access::PUBLIC,
            auth::login,
        )
        .api(
            Method::POST,
            "/api/v1/auth/logout",
            access::LOGGING_IN,
            auth::logout,
        )
        .api(Method::GET, "/api/v1/auth/me", access::SIGNED_IN, auth::me)
        .api(
            Method::POST,
            "/api/v1/auth/second-factor",
            access::LOGGING_IN,
            auth::second_factor,
        )
        .api(
            Method::POST,
            "/api/v1/auth/totp",
            access::LOGGING_IN,
            auth::start_totp,
        )
        .api(
            Method::POST,
            "/api/v1/auth/totp/confirm",
            access::LOGGING_IN,
            auth::confirm_totp,
        )
        .api(
            Method::GET,
            "/api/v1/auth/sessions",
            access::SIGNED_IN,
            sessions::list_own,
        )
        .api(
            Method::DELETE,
            "/api/v1/auth/sessions/{id}",
            access::SIGNED_IN,
            sessions::end_own,
        )
        .api(
            Method::GET,
            "/api/v1/users",
            access::ADMIN,
            users::list_users,
        )
        .api(
            Method::POST,
            "/api/v1/users",
            access::ADMIN,
            users::create_user,
        )
        .api(
            Method::GET,
            "/api/v1/users/{id}",
            access::ADMIN,
            users::get_user,
        )
        .api(
            Method::PATCH,
            "/api/v1/users/{id}",
            access::ADMIN,
            users::update_user,
        )
        .api(
            Method::DELETE,
            "/api/v1/users/{id}/sessions",
            access::ADMIN,
            sessions::end_users,
        )
        .api(
            Method::DELETE,
            "/api/v1/users/{id}/second-factor",
            access::ADMIN,
            sessions::remove_second_factor,
        )
        .api(
            Method::GET,
            "/api/v1/audit",
            access::AUDIT_READER,
            audit::list_audit,
        )
        .api(
            Method::GET,
            "/api/v1/access-log",
            access::ACCESS_LOG_READER,
            access_log::list,
        )
        .api(
            Method::POST,
            "/api/v1/access-log/search",
            access::ACCESS_LOG_READER,
            access_log::search,
        )
        .api(
            Method::GET,
            "/api/v1/roster-imports",
            access::ROSTER_IMPORTER,
            roster::list_imports,
        )
        .api_with(
            Method::POST,
            "/api/v1/roster-imports",
            access::ROSTER_IMPORTER,
            roster::upload_roster,
            |r| r.layer(DefaultBodyLimit::max(max_upload_bytes)),
        )
        .api(
            Method::GET,
            "/api/v1/roster-imports/template",
            access::ROSTER_IMPORTER,
            roster::template,
        )
        .api(
            Method::GET,
            "/api/v1/roster-imports/{id}",
            access::ROSTER_IMPORTER,
            roster::get_import,
        )
        .api(
            Method::GET,
            "/api/v1/roster-imports/{id}/errors",
            access::ROSTER_IMPORTER,
            roster::import_errors,
        )
        .api(
            Method::POST,
            "/api/v1/roster-imports/{id}/retry",
            access::ROSTER_IMPORTER,
            roster::retry_import,
        )
        .api(
            Method::POST,
            "/api/v1/roster-imports/{id}/revert",
            access::ROSTER_IMPORTER,
            roster::revert_import,
        )
        .api(
            Method::POST,
            "/api/v1/roster-imports/{id}/activate",
            access::ROSTER_IMPORTER,
            roster_activation::activate_import,
        )
        .api(
            Method::POST,
            "/api/v1/roster-imports/{id}/discard",
            access::ROSTER_IMPORTER,
            roster_activation::discard_import,
        )
        .api(
            Method::POST,
            "/api/v1/roster-imports/{id}/columns",
            access::ROSTER_IMPORTER,
            roster_activation::remap_column,
        )
        .api(
            Method::GET,
            "/api/v1/roster-imports/{id}/changes",
            access::ROSTER_IMPORTER,
            roster_activation::import_changes,
        )
        .api(
            Method::GET,
            "/api/v1/roster-entries",
            access::ROSTER_READER,
            roster::person_entries,
        )
        .api(
            Method::POST,
            "/api/v1/roster-entries/search",
            access::ROSTER_READER,
            roster::search_entries,
        )
        .api(
            Method::GET,
            "/api/v1/reports/spending",
            access::MANAGER,
            reports::spending,
        )
        .api(
            Method::GET,
            "/api/v1/reports/summary",
            access::MANAGER,
            reports::summary,
        )
        .api(
            Method::GET,
            "/api/v1/eligibility",
            access::ELIGIBILITY_READER,
            eligibility::check_eligibility,
        )
        .api(
            Method::POST,
            "/api/v1/eligibility",
            access::ELIGIBILITY_READER,
            eligibility::check_eligibility_posted,
        )
        .api(
            Method::GET,
            "/api/v1/cases",
            access::CASE_READER,
            cases::list_cases,
        )
        .api(
            Method::POST,
            "/api/v1/cases",
            access::CASEWORKER,
            cases::open_case,
        )
        .api(
            Method::GET,
            "/api/v1/cases/{id}",
            access::CASE_READER,
            cases::get_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/approve",
            access::APPROVER,
            cases::approve_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/reject",
            access::APPROVER,
            cases::reject_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/withdraw",
            access::CASE_WITHDRAWER,
            cases::withdraw_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/resubmit",
            access::CASEWORKER,
            cases::resubmit_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/close",
            access::CASE_CLOSER,
            cases::close_case,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/visits",
            access::CASEWORKER,
            visits::record_visit,
        )
        .api(
            Method::POST,
            "/api/v1/cases/{id}/visits/preview",
            access::CASEWORKER,
            visits::preview_visit,
        )
        .api(
            Method::GET,
            "/api/v1/hospitals",
            access::REFERENCE_READER,
            hospitals::list_hospitals,
        )
        .api(
            Method::POST,
            "/api/v1/hospitals",
            access::PROVINCE_ADMIN,
            hospitals::create_hospital,
        )
        .api(
            Method::GET,
            "/api/v1/policies",
            access::REFERENCE_READER,
            policies::list_policies,
        )
        .api(
            Method::POST,
            "/api/v1/policies",
            access::PROVINCE_ADMIN,
            policies::create_policy,
        )
        .api(
            Method::GET,
            "/api/v1/policies/{id}",
            access::REFERENCE_READER,
            policies::get_policy,
        )
        .api(
            Method::PATCH,
            "/api/v1/policies/{id}",
            access::PROVINCE_ADMIN,
            policies::update_policy,
        )
        .api(
            Method::GET,
            "/api/v1/visits",
            access::VISIT_READER,
            visits::list_visits,
        )
        .api(
            Method::GET,
            "/api/v1/visits/{id}",
            access::VISIT_READER,
            visits::get_visit,
        )
        .api(
            Method::POST,
            "/api/v1/visits/{id}/approve",
            access::APPROVER,
            visits::approve_visit,
        )
        .api(
            Method::POST,
            "/api/v1/visits/{id}/pay",
            access::MANAGER,
            visits::pay_visit,
        )
        .api(
            Method::POST,
            "/api/v1/visits/{id}/void",
            access::APPROVER,
            visits::void_visit,
        )
        .api(
            Method::POST,
            "/api/v1/visits/{id}/reverse",
            access::SUBSIDY_REVERSER,
            visits::reverse_visit,
        )
        .api(
            Method::GET,
            "/api/v1/persons/{person}/statement",
            access::VISIT_READER,
            visits::person_statement,
        )
        .api(
            Method::GET,
            "/api/v1/persons/{person}/roster-history",
            access::ROSTER_READER,
            persons::roster_history,
        )
}

/// Every route the router serves, as built by the route table (the Swagger UI's own files
/// under `/api/docs/` aside).
pub fn route_table() -> Vec<RouteSpec> {
    let mut table: Vec<RouteSpec> = routes(0).mounted.into_iter().map(|(s, _)| s).collect();
    table.push(RouteSpec {
        method: Method::GET,
        path: "/api/docs",
        documented: false,
        access: access::PUBLIC,
    });
    table
}

/// Builds the whole application: the API, the health check, the API description and the
/// middleware every request passes through.
pub fn router(state: AppState) -> Router {
    routes(state.settings.max_upload_bytes)
        .into_router(&state)
        .merge(openapi::docs_page())
        // The browser's pages (crate::web) are for people, not programs: not in the description.
        .merge(crate::web::router(&state.settings.province))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_json_bytes))
        // Inside `language`, so that a request stopped for time hears it in its language.
        .layer(middleware::from_fn_with_state(
            TimeLimits {
                request: state.settings.request_timeout,
                transfer: state.settings.transfer_timeout,
            },
            time_limit,
        ))
        // Inside `language`, so that a refusal is worded in the request's language.
        .layer(middleware::from_fn_with_state(
            state.settings.clone(),
            crate::security::csrf::refuse_cross_site,
        ))
        .layer(middleware::from_fn(language))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost: every answer, a panic's included, carries the security headers.
        .layer(middleware::from_fn_with_state(
            state.settings.clone(),
            crate::security::guard,
        ))
        .with_state(state)
}

/// How long a request may take (`CANCER_AID_REQUEST_TIMEOUT_SECONDS`), and an upload or a
/// download (`CANCER_AID_TRANSFER_TIMEOUT_SECONDS`).
#[derive(Debug, Clone, Copy)]
struct TimeLimits {
    request: Duration,
    transfer: Duration,
}

/// Every route has a time limit: a request still running when it is reached is dropped, which
/// rolls back a transaction not yet committed (and frees its connection once the statement in
/// flight returns: on SQLite, after at most `CANCER_AID_SQLITE_BUSY_SECONDS`), and the client
/// hears 503 `request_timeout` rather than waiting without end.
async fn time_limit(State(limits): State<TimeLimits>, req: Request, next: Next) -> Response {
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
fn request_span(req: &Request) -> tracing::Span {
    tracing::info_span!("request", method = %req.method(), route = route_of(req))
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
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
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

/// The highest page a list serves. Its offset is then at most 99,999 × 500, about fifty
/// million rows: far inside an i64 and every database's OFFSET, where an unbounded page
/// overflowed and answered 500. Nobody pages that deep by hand; a database would read and
/// throw away that many rows to answer it. Filters narrow a list, and the downloads hold whole
/// lists.
pub const MAX_PAGE: u64 = 100_000;

/// The most rows a page holds.
pub const MAX_PER_PAGE: u64 = 500;

/// Rows a page holds when the request does not say.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// Page and size from a query string: page 1 and 50 rows by default; page 1 to [`MAX_PAGE`]
/// and 1 to [`MAX_PER_PAGE`] rows, anything else a 422 that names the field and its range.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64), AppError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    let mut bad = Vec::new();
    if !(1..=MAX_PAGE).contains(&page) {
        bad.push("page");
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        bad.push("per_page");
    }
    if bad.is_empty() {
        Ok((page, per_page))
    } else {
        Err(paging_error(&bad))
    }
}

/// The 422 of a bad `page` or `per_page` (out of range, or not a whole number at all: the
/// query extractor sends those here too), with the allowed range of each field.
pub fn paging_error(fields: &[&str]) -> AppError {
    let details: Vec<FieldError> = fields
        .iter()
        .map(|f| {
            let message = if *f == "per_page" {
                Msg::new(
                    format!("每页条数（per_page）须为1到{MAX_PER_PAGE}之间的整数。"),
                    format!("per_page must be a whole number from 1 to {MAX_PER_PAGE}."),
                )
            } else {
                Msg::new(
                    format!("页码（page）须为1到{MAX_PAGE}之间的整数。"),
                    format!("page must be a whole number from 1 to {MAX_PAGE}."),
                )
            };
            FieldError::new(*f, message)
        })
        .collect();
    let message = Msg::new(
        details
            .iter()
            .map(|d| d.message.zh.as_str())
            .collect::<String>(),
        details
            .iter()
            .map(|d| d.message.en.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    AppError::Unprocessable {
        code: "validation_failed",
        message,
        details,
    }
}
