//! The HTTP layer: thin handlers under `/api/v1`, the error envelope, and the middleware
//! every request passes through.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod cases;
pub mod eligibility;
pub mod health;
pub mod hospitals;
pub mod input;
pub mod openapi;
pub mod payment_notice;
pub mod payment_returns;
pub mod payments;
pub mod persons;
pub mod policies;
pub mod reports;
pub mod roster;
pub mod roster_activation;
mod schema;
pub mod sessions;
pub mod users;
pub mod visits;

// The handlers read these as `super::extract` and `super::paging`: shared with the pages,
// they live in `crate::http`.
pub use crate::http::extract;
pub use crate::http::paging::{PageOf, paging};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::access::{self, Access};
use crate::auth::CurrentUser;
use crate::state::AppState;

/// One route of the service, as the route table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// GET, POST, PATCH, ...
    pub method: Method,
    /// The path as axum matches it, which is also how OpenAPI writes it: `/api/v1/users/{id}`.
    pub path: String,
    /// Whether the OpenAPI description must describe it (false only for HTML pages).
    pub documented: bool,
    /// Who may use it (see [`crate::access`]); enforced before the handler runs.
    pub access: Access,
}

/// Mounts handlers and records each route it mounts, so that the list of routes the router
/// serves, the API description and the access table are one and the same. The method and
/// path of a route are read from its handler's `#[utoipa::path]`, the only place they are
/// written.
struct Routes {
    mounted: Vec<(Access, UtoipaMethodRouter<AppState>)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            mounted: Vec::new(),
        }
    }

    /// An API route under an access rule: `routes!(handler)`.
    fn api(self, access: Access, route: UtoipaMethodRouter<AppState>) -> Routes {
        self.api_with(access, route, |r| r)
    }

    /// An API route with layers of its own (such as a larger body limit).
    fn api_with(
        mut self,
        access: Access,
        (schemas, paths, route): UtoipaMethodRouter<AppState>,
        wrap: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Routes {
        self.mounted.push((access, (schemas, paths, wrap(route))));
        self
    }

    /// What the table holds: each route's method, path and access rule.
    fn specs(&self) -> Vec<RouteSpec> {
        let mut specs = Vec::new();
        for (access, (_, paths, _)) in &self.mounted {
            for (path, item) in &paths.paths {
                let operations = [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ];
                for (method, op) in operations {
                    if op.is_some() {
                        specs.push(RouteSpec {
                            method,
                            path: path.clone(),
                            documented: true,
                            access: *access,
                        });
                    }
                }
            }
        }
        specs
    }

    /// The routes with their descriptions, each behind its access rule when `state` is given.
    fn into_openapi_router(self, state: Option<&AppState>) -> OpenApiRouter<AppState> {
        let mut router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi());
        for (access, (schemas, paths, route)) in self.mounted {
            let route = match state {
                Some(state) if access.needs_login() => route.route_layer(
                    middleware::from_fn_with_state((state.clone(), access), admit),
                ),
                _ => route,
            };
            // axum merges the methods of a path that is mounted more than once.
            router = router.routes((schemas, paths, route));
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
/// To add an endpoint: write the handler with a `#[utoipa::path(...)]` annotation (its method,
/// path, parameters and answers) and add one line here, `routes!(handler)` under its access
/// rule from [`crate::access`]: the router and the description are both built from this
/// table. `every_route_is_described` (tests/api/openapi.rs) checks what each operation says;
/// `every_route_admits_exactly_its_rule` (tests/api/access.rs) walks every route for every
/// role in two scopes, and `docs/access.md` is generated from it.
fn routes(max_upload_bytes: usize) -> Routes {
    Routes::new()
        .api(access::PUBLIC, routes!(health::health))
        .api(access::PUBLIC, routes!(health::live))
        .api(access::PUBLIC, routes!(health::ready))
        .api(access::PUBLIC, routes!(openapi::openapi_json))
        .api(access::PUBLIC, routes!(auth::login))
        .api(access::LOGGING_IN, routes!(auth::logout))
        .api(access::SIGNED_IN, routes!(auth::me))
        .api(access::LOGGING_IN, routes!(auth::second_factor))
        .api(access::LOGGING_IN, routes!(auth::start_totp))
        .api(access::LOGGING_IN, routes!(auth::confirm_totp))
        .api(access::SIGNED_IN, routes!(sessions::list_own))
        .api(access::SIGNED_IN, routes!(sessions::end_own))
        .api(access::ADMIN, routes!(users::list_users))
        .api(access::ADMIN, routes!(users::create_user))
        .api(access::ADMIN, routes!(users::get_user))
        .api(access::ADMIN, routes!(users::update_user))
        .api(access::ADMIN, routes!(sessions::end_users))
        .api(access::ADMIN, routes!(sessions::remove_second_factor))
        .api(access::AUDIT_READER, routes!(audit::list_audit))
        .api(access::ACCESS_LOG_READER, routes!(access_log::list))
        .api(access::ACCESS_LOG_READER, routes!(access_log::search))
        .api(access::ROSTER_IMPORTER, routes!(roster::list_imports))
        .api_with(
            access::ROSTER_IMPORTER,
            routes!(roster::upload_roster),
            |r| r.layer(DefaultBodyLimit::max(max_upload_bytes)),
        )
        .api(access::ROSTER_IMPORTER, routes!(roster::template))
        .api(access::ROSTER_IMPORTER, routes!(roster::get_import))
        .api(access::ROSTER_IMPORTER, routes!(roster::import_errors))
        .api(access::ROSTER_IMPORTER, routes!(roster::retry_import))
        .api(access::ROSTER_IMPORTER, routes!(roster::revert_import))
        .api(
            access::ROSTER_IMPORTER,
            routes!(roster_activation::activate_import),
        )
        .api(
            access::ROSTER_IMPORTER,
            routes!(roster_activation::discard_import),
        )
        .api(
            access::ROSTER_IMPORTER,
            routes!(roster_activation::remap_column),
        )
        .api(
            access::ROSTER_IMPORTER,
            routes!(roster_activation::import_changes),
        )
        .api(access::ROSTER_READER, routes!(roster::person_entries))
        .api(access::ROSTER_READER, routes!(roster::search_entries))
        .api(access::MANAGER, routes!(reports::spending))
        .api(access::MANAGER, routes!(reports::summary))
        .api(
            access::ELIGIBILITY_READER,
            routes!(eligibility::check_eligibility),
        )
        .api(
            access::ELIGIBILITY_READER,
            routes!(eligibility::check_eligibility_posted),
        )
        .api(access::CASE_READER, routes!(cases::list_cases))
        .api(access::CASEWORKER, routes!(cases::open_case))
        .api(access::CASE_READER, routes!(cases::get_case))
        .api(access::APPROVER, routes!(cases::approve_case))
        .api(access::APPROVER, routes!(cases::reject_case))
        .api(access::CASE_WITHDRAWER, routes!(cases::withdraw_case))
        .api(access::CASEWORKER, routes!(cases::resubmit_case))
        .api(access::CASE_CLOSER, routes!(cases::close_case))
        .api(access::CASEWORKER, routes!(visits::record_visit))
        .api(access::CASEWORKER, routes!(visits::preview_visit))
        .api(access::REFERENCE_READER, routes!(hospitals::list_hospitals))
        .api(access::PROVINCE_ADMIN, routes!(hospitals::create_hospital))
        .api(access::REFERENCE_READER, routes!(policies::list_policies))
        .api(access::PROVINCE_ADMIN, routes!(policies::create_policy))
        .api(access::REFERENCE_READER, routes!(policies::get_policy))
        .api(access::PROVINCE_ADMIN, routes!(policies::update_policy))
        .api(access::VISIT_READER, routes!(visits::list_visits))
        .api(access::VISIT_READER, routes!(visits::get_visit))
        .api(access::APPROVER, routes!(visits::approve_visit))
        .api(access::MANAGER, routes!(visits::pay_visit))
        .api(access::APPROVER, routes!(visits::void_visit))
        .api(access::SUBSIDY_REVERSER, routes!(visits::reverse_visit))
        .api(access::VISIT_READER, routes!(visits::person_statement))
        .api(access::ROSTER_READER, routes!(persons::roster_history))
        .api(access::PAYEE_EDITOR, routes!(payments::set_payee))
        .api(access::CASE_READER, routes!(payments::get_payee))
        .api(access::PAYMENT_MANAGER, routes!(payments::draft_batch))
        .api(access::PAYMENT_MANAGER, routes!(payments::list_batches))
        .api(access::PAYMENT_MANAGER, routes!(payments::get_batch))
        .api(access::PAYMENT_MANAGER, routes!(payments::approve_batch))
        .api(access::PAYMENT_MANAGER, routes!(payments::cancel_batch))
        .api(access::PAYMENT_MANAGER, routes!(payment_notice::get_notice))
        .api(
            access::PAYMENT_MANAGER,
            routes!(payment_notice::raise_objection),
        )
        .api(
            access::PAYMENT_MANAGER,
            routes!(payment_notice::list_objections),
        )
        .api(
            access::PAYMENT_MANAGER,
            routes!(payment_notice::resolve_objection),
        )
        .api(access::PAYMENT_MANAGER, routes!(payments::export_batch))
        .api(access::BUDGET_READER, routes!(budget::list_lines))
        .api(access::BUDGET_SETTER, routes!(budget::create_line))
        .api(access::BUDGET_SETTER, routes!(budget::update_line))
        .api_with(
            access::PAYMENT_MANAGER,
            routes!(payment_returns::upload_return),
            |r| r.layer(DefaultBodyLimit::max(max_upload_bytes)),
        )
        .api(
            access::PAYMENT_MANAGER,
            routes!(payment_returns::get_return),
        )
}

/// Every route the router serves, as built by the route table (the Swagger UI's own files
/// under `/api/docs/` aside).
pub fn route_table() -> Vec<RouteSpec> {
    let mut table = routes(0).specs();
    table.push(RouteSpec {
        method: Method::GET,
        path: "/api/docs".to_owned(),
        documented: false,
        access: access::PUBLIC,
    });
    table
}

/// The API's description: the handlers' annotations of every route in the table, with the
/// error answers every operation shares.
pub fn description() -> utoipa::openapi::OpenApi {
    let mut api = routes(0).into_openapi_router(None).into_openapi();
    openapi::add_shared_errors(&mut api);
    api
}

/// The API's routes (each behind its access rule), without the middleware every request
/// passes through: `startup::router` joins them with the pages.
pub fn router(state: &AppState) -> Router<AppState> {
    let router: Router<AppState> = routes(state.settings.max_upload_bytes)
        .into_openapi_router(Some(state))
        .into();
    router.merge(openapi::docs_page())
}
