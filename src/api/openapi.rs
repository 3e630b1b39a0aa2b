//! The OpenAPI description of the whole API, served at `GET /api/v1/openapi.json`, and a
//! browsable Swagger UI at `/api/docs` (its files are compiled in, so the page works offline).
//!
//! Each handler carries its own `#[utoipa::path]`; [`ApiDoc`] lists them. The route table in
//! `api/mod.rs` is checked against this description by a test, so a route added without
//! documentation, or documentation left behind by a removed route, fails the build's tests.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::extract::SESSION_COOKIE;
use super::{
    access_log, audit, auth, cases, eligibility, health, hospitals, persons, policies, reports,
    roster, roster_activation, sessions, users, visits,
};

/// The API's description, assembled from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "cancer-aid",
        description = "Red Cross cancer-patient assistance programme (肿瘤患者救助): rosters, \
            eligibility, cases, visits, subsidies and spending totals. Messages are in Chinese, \
            or English with `Accept-Language: en`. Errors are \
            `{\"error\": {\"code\", \"message\", \"details\": [{\"field\", \"message\"}]}}`. \
            Money is a string of yuan with two decimals (\"1234.50\"). Lists take `page` \
            (1 to 100000) and `per_page` (1 to 500); any other value is a 422 on that field. \
            Any request may answer 503: `database_busy` (with `Retry-After`) when the database \
            is held by a roster import for longer than a write waits, or `request_timeout` \
            past the request's time limit.",
    ),
    paths(
        health::health,
        openapi_json,
        auth::login,
        auth::logout,
        auth::me,
        auth::second_factor,
        auth::start_totp,
        auth::confirm_totp,
        sessions::list_own,
        sessions::end_own,
        sessions::end_users,
        sessions::remove_second_factor,
        users::list_users,
        users::create_user,
        users::get_user,
        users::update_user,
        audit::list_audit,
        access_log::list,
        access_log::search,
        roster::list_imports,
        roster::upload_roster,
        roster::template,
        roster::get_import,
        roster::import_errors,
        roster::retry_import,
        roster::revert_import,
        roster_activation::activate_import,
        roster_activation::discard_import,
        roster_activation::remap_column,
        roster_activation::import_changes,
        roster::person_entries,
        roster::search_entries,
        persons::roster_history,
        reports::spending,
        reports::summary,
        eligibility::check_eligibility,
        eligibility::check_eligibility_posted,
        cases::open_case,
        cases::approve_case,
        cases::reject_case,
        cases::withdraw_case,
        cases::close_case,
        cases::resubmit_case,
        cases::list_cases,
        cases::get_case,
        hospitals::list_hospitals,
        hospitals::create_hospital,
        policies::list_policies,
        policies::get_policy,
        policies::create_policy,
        policies::update_policy,
        visits::record_visit,
        visits::preview_visit,
        visits::list_visits,
        visits::get_visit,
        visits::approve_visit,
        visits::pay_visit,
        visits::void_visit,
        visits::reverse_visit,
        visits::person_statement,
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&Security, &SharedErrors),
    tags(
        (name = "health", description = "Is the service up"),
        (name = "docs", description = "This description"),
        (name = "auth", description = "Login and sessions"),
        (name = "users", description = "Accounts, for administrators"),
        (name = "audit", description = "The change log"),
        (name = "roster", description = "Roster imports (名册导入) and roster entries"),
        (name = "reports", description = "Spending totals (救助支出统计) for managers"),
        (name = "eligibility", description = "Whether a patient qualifies (资格核查), with reasons"),
        (name = "cases", description = "Cases (救助档案) from opening to closing"),
        (name = "hospitals", description = "Designated hospitals (定点医院)"),
        (name = "policies", description = "Subsidy policies as data"),
        (name = "visits", description = "Visits (就诊) and their subsidies"),
    )
)]
pub struct ApiDoc;

/// Declares the two ways to present a session: the bearer token of `POST /auth/login`, or
/// the browser's cookie.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

/// The error answers any route may give, described once and added to every operation that
/// does not describe them itself: an unreadable request, a body too large or of the wrong
/// type, a broken rule, an internal error, a request stopped at its time limit.
struct SharedErrors;

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        const SHARED: [(&str, &str); 6] = [
            (
                "400",
                "A request the service cannot read: a bad parameter, header or body",
            ),
            ("413", "A body over its size limit"),
            ("415", "A body of a type the route does not take"),
            (
                "422",
                "A value that breaks a rule; each field says what to fix",
            ),
            ("500", "An internal error; nothing was changed"),
            (
                "503",
                "Stopped at its time limit, or the service is busy: try again",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for (status, text) in SHARED {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(text)
                                    .content(
                                        "application/json",
                                        ContentBuilder::new()
                                            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                                            .build(),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
    }
}

/// Every error: a stable code, a message in the request's language and, for a 422, what is
/// wrong with each field.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// The body of an error.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, such as `validation_failed`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// One entry per field (422 and 409 only).
    pub details: Option<Vec<ErrorDetail>>,
}

/// A problem with one request field.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// The field, such as `from` or `group_by`.
    pub field: String,
    /// What to fix.
    pub message: String,
}

/// The description as JSON, built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI description serialises")
    })
}

/// This description, as OpenAPI 3.1 JSON.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI description of every route", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

/// Swagger UI at `/api/docs`, reading [`openapi_json`].
pub fn docs_page<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json"))
        .into()
}
