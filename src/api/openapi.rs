//! The OpenAPI description of the whole API, served at `GET /api/v1/openapi.json`, and a
//! browsable Swagger UI at `/api/docs` (its files are compiled in, so the page works offline).
//!
//! Each handler carries its own `#[utoipa::path]` (method, path, parameters, answers); the route
//! table in `api/mod.rs` mounts it with `routes!`, which reads that annotation, so a route is
//! written once. [`ApiDoc`] holds what is not a route's: the title, tags, security schemes.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::SESSION_COOKIE;

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
    components(schemas(ErrorEnvelope)),
    modifiers(&Security),
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
        (name = "payments", description = "Payee details, payment batches (发放批次), their public notice (公示) and the bank's return files (回盘)"),
        (name = "budget", description = "Budget lines (资金额度) by year, region and group"),
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

/// Adds the error answers any route may give, described once, to every operation that does
/// not describe them itself: an unreadable request, a body too large or of the wrong type, a
/// broken rule, an internal error, a request stopped at its time limit.
pub fn add_shared_errors(openapi: &mut utoipa::openapi::OpenApi) {
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

/// Every error answer, as `crate::error` serialises it.
pub type ErrorEnvelope = crate::error::Envelope<'static>;

/// The description as JSON, built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        super::description()
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
