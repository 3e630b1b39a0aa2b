//! The HTTP layer: thin handlers under `/api/v1`, the error envelope, and the middleware
//! every request passes through.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod eligibility;
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

// The handlers read these as `super::extract` and `super::paging`: shared with the pages,
// they live in `crate::http`.
pub use crate::http::extract;
pub use crate::http::paging::{PageOf, paging};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::access::{self, Access};
use crate::auth::CurrentUser;
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

/// The API's routes (each behind its access rule) and its description, without the
/// middleware every request passes through: `startup::router` joins them with the pages.
pub fn router(state: &AppState) -> Router<AppState> {
    routes(state.settings.max_upload_bytes)
        .into_router(state)
        .merge(openapi::docs_page())
}
