//! The browser front end: server-rendered pages in Simplified Chinese (English by a switch that
//! a cookie remembers), on the same domain code and sessions as the API. No build step and no
//! script framework: templates compiled into the binary, one stylesheet, a little JavaScript.

mod account;
mod admin;
mod case_form;
mod cases;
mod evidence;
pub mod fmt;
pub mod i18n;
mod payments;
mod persons;
pub mod region_picker;
mod reports;
mod roster;
mod roster_plan;
mod visits;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub use i18n::Tr;

use std::sync::Arc;

use crate::regions::Regions;

use crate::access::{self, Access};
use crate::auth::{CurrentUser, session};
use crate::domain::{Lang, RegionPrefix, Role};
use crate::error::{AppError, current_lang};
use crate::http::extract::token_of;
use crate::security::Transport;
use crate::state::AppState;
use crate::todo::Todo;

/// The pages and their assets, for the programme of `state`.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_language))
        .route("/static/app.css", get(stylesheet))
        .route(
            "/static/app.js",
            get(|| async { javascript(include_str!("../../static/app.js")) }),
        )
        .merge(roster::routes())
        .merge(cases::routes())
        .merge(case_form::routes())
        .merge(persons::routes())
        .merge(reports::routes())
        .merge(payments::routes())
        .merge(visits::routes())
        .merge(admin::routes())
        .merge(account::routes())
        .layer(middleware::from_fn(page_language))
        .layer(middleware::from_fn_with_state(
            state.settings.province.clone(),
            with_province,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), with_regions))
}

/// Pages are in Chinese unless the switch chose English: an office PC set up in English still
/// gets the clerks' language (the API, for programs, follows Accept-Language).
async fn page_language(req: Request, next: Next) -> Response {
    let lang = crate::http::layers::cookie_lang(req.headers()).unwrap_or(Lang::Zh);
    crate::error::LANG.scope(lang, next.run(req)).await
}

/// What every page shows around its content.
pub struct Page {
    /// The page's own title (the browser tab adds the application's name).
    pub title: &'static str,
    /// The texts of the page's language.
    pub t: Tr,
    /// Who is logged in.
    pub user: Option<CurrentUser>,
    /// The menu of the user's roles.
    pub nav: Vec<NavItem>,
    /// Where the language switch comes back to.
    pub here: String,
}

/// One menu entry.
pub struct NavItem {
    /// Link.
    pub href: &'static str,
    /// Text.
    pub label: &'static str,
    /// The page shown now.
    pub current: bool,
}

/// Menu entries and the rule of the page each opens: a user sees exactly the pages their roles
/// and scope admit (`crate::access`), the same rules the pages enforce.
const MENU: &[(&str, &str, Access)] = &[
    ("/", "nav.home", access::SIGNED_IN),
    (
        "/roster/upload",
        "nav.roster_upload",
        access::ROSTER_IMPORTER,
    ),
    (
        "/roster/imports",
        "nav.roster_imports",
        access::ROSTER_IMPORTER,
    ),
    (
        "/roster/approvals",
        "nav.roster_approvals",
        access::ROSTER_IMPORTER,
    ),
    (
        "/eligibility",
        "nav.eligibility",
        access::pages::ELIGIBILITY,
    ),
    ("/cases", "nav.cases", access::pages::CASES),
    ("/approvals", "nav.approvals", access::pages::APPROVALS),
    ("/visits", "nav.visits", access::VISIT_READER),
    ("/dashboard", "nav.dashboard", access::MANAGER),
    ("/reports/spending", "nav.spending", access::MANAGER),
    ("/payments", "nav.payments", access::PAYMENT_MANAGER),
    ("/budget", "nav.budget", access::BUDGET_READER),
    ("/admin/users", "nav.users", access::pages::ADMIN),
    ("/admin/hospitals", "nav.hospitals", access::pages::ADMIN),
    ("/admin/policies", "nav.policies", access::pages::ADMIN),
    ("/admin/audit", "nav.audit", access::AUDIT_READER),
    (
        "/admin/access-log",
        "nav.access_log",
        access::ACCESS_LOG_READER,
    ),
];

impl Page {
    /// A page titled by the text `key`, for `user`, at the path `here` (which marks the menu).
    pub fn new(key: &'static str, user: Option<CurrentUser>, here: &str) -> Page {
        let t = Tr(current_lang());
        let province = province();
        let nav = match &user {
            Some(u) => MENU
                .iter()
                .filter(|(_, _, rule)| rule.admits(&u.roles, &u.region, &province))
                .map(|(href, label, _)| NavItem {
                    href,
                    label: t.get(label),
                    current: *href == here,
                })
                .collect(),
            None => Vec::new(),
        };
        Page {
            title: t.get(key),
            t,
            user,
            nav,
            here: here.to_owned(),
        }
    }

    /// A region's name (长春市 南关区) for a code; the code itself if the list does not know it.
    pub fn region(&self, code: &str) -> String {
        regions().name(code)
    }

    /// The user's scope (the province for a page without a user).
    pub fn scope(&self) -> RegionPrefix {
        self.user
            .as_ref()
            .map_or_else(province, |u| u.region.clone())
    }

    /// The user's scope in words (吉林省（全省）), for the header.
    pub fn scope_name(&self) -> String {
        self.user
            .as_ref()
            .map(|u| regions().scope_name(u.region.as_str(), self.t.0))
            .unwrap_or_default()
    }

    /// The user's role names in the page's language.
    pub fn role_labels(&self) -> String {
        let Some(u) = &self.user else {
            return String::new();
        };
        u.roles
            .iter()
            .map(|r| self.t.0.pick(r.label_zh(), r.label_en()))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// The page as HTML, or a 500 if the template failed.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            AppError::Internal(anyhow::anyhow!("a page failed to render: {e}")).into_response()
        }
    }
}

/// The page as HTML with a status other than 200 (a form sent back with its error).
pub fn render_status(t: &impl Template, status: StatusCode) -> Response {
    let mut res = render(t);
    *res.status_mut() = status;
    res
}

tokio::task_local! {
    /// The programme's province while a page request runs: the pages' rules and the menu
    /// compare the user's scope with it.
    static PROVINCE: RegionPrefix;
}

/// The province of the request running now (the default one outside a request).
fn province() -> RegionPrefix {
    PROVINCE
        .try_with(Clone::clone)
        .unwrap_or_else(|_| crate::config::Settings::default().province)
}

async fn with_province(State(province): State<RegionPrefix>, req: Request, next: Next) -> Response {
    PROVINCE.scope(province, next.run(req)).await
}

tokio::task_local! {
    /// The region list while a page request runs: pages name regions instead of showing codes.
    static REGIONS: Arc<Regions>;
}

/// The region list of the request running now (an empty one outside a request, which names
/// every region by its code).
pub fn regions() -> Arc<Regions> {
    REGIONS.try_with(Clone::clone).unwrap_or_default()
}

async fn with_regions(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.regions().await {
        Ok(list) => REGIONS.scope(list, next.run(req)).await,
        Err(e) => AppError::from(e).into_response(),
    }
}

/// A logged-in user of a page; anyone else is sent to the login page and brought back after.
pub struct WebUser(pub CurrentUser);

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(u) => Ok(WebUser(u)),
            Err(e) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                // A login half done goes on where it stopped; anything else logs in afresh.
                let step = match e.code() {
                    "second_factor_required" => "/login/second-factor",
                    "second_factor_enrolment_required" => "/account/second-factor",
                    _ => "/login",
                };
                let to = format!("{step}?next={}", url_escape(&next));
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

impl WebUser {
    /// The user, if the page's rule admits them; otherwise the page refuses with 403, so a
    /// page typed into the address bar is refused just as the menu does not offer it.
    #[allow(clippy::result_large_err)]
    pub fn require(self, rule: Access) -> Result<CurrentUser, Response> {
        let province = province();
        match rule.check(&self.0, &province) {
            Ok(()) => Ok(self.0),
            Err(e) => {
                // A missing role reads better as the page's own words; a scope too narrow
                // says which scope the page needs.
                let message = if e.code() == "role_required" {
                    Tr(current_lang()).get("error.forbidden").to_owned()
                } else {
                    e.message().get(current_lang()).to_owned()
                };
                Err(error_page(Some(self.0), StatusCode::FORBIDDEN, message))
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    message: String,
}

/// A page that says what went wrong, with the status code.
pub fn error_page(user: Option<CurrentUser>, status: StatusCode, message: String) -> Response {
    let mut res = render(&ErrorPage {
        page: Page::new("error.title", user, ""),
        message,
    });
    *res.status_mut() = status;
    res
}

/// An error of the domain as a page: its status and its message in the page's language.
pub fn app_error_page(user: Option<CurrentUser>, e: AppError) -> Response {
    let status = e.status();
    if status.is_server_error() {
        return e.into_response();
    }
    error_page(user, status, e.message().get(current_lang()).to_owned())
}

/// Paging of a list: which page, how many a page, how many in all, and the link of each page.
pub struct Pager {
    /// This page, from 1.
    pub page: u64,
    /// How many pages.
    pub pages: u64,
    /// How many items in all.
    pub total: u64,
    /// The link of the previous page, if any.
    pub prev: Option<String>,
    /// The link of the next page, if any.
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the path with the filters' query (without `page`); `page` starts at 1.
    pub fn new(base: &str, page: u64, per_page: u64, total: u64) -> Pager {
        let pages = total.div_ceil(per_page.max(1)).max(1);
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |p: u64| format!("{base}{sep}page={p}");
        Pager {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// The page asked for, from 1 to the API's [`crate::http::MAX_PAGE`] (why that bound: see
/// there). A page is for people following links: one out of range shows the nearest page
/// instead of an error.
pub fn page_number(asked: Option<u64>) -> u64 {
    asked.unwrap_or(1).clamp(1, crate::http::MAX_PAGE)
}

/// A query string of the non-empty filters, escaped, for links that keep them.
pub fn query_of(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only a path of this site: never another site, so a crafted link cannot send a clerk away.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        // Browsers drop tabs and newlines from a Location, so `/\t/evil` would become `//evil`:
        // any control character or space refuses the path.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.bytes().any(|b| b <= b' ' || b == 0x7f) =>
        {
            n
        }
        _ => "/",
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    tasks: Vec<&'static str>,
    todo: Vec<TodoLine>,
}

/// A line of the to-do list as the home page shows it.
struct TodoLine {
    label: &'static str,
    count: String,
    amount: Option<String>,
    href: &'static str,
    /// Something waits: the line stands out.
    waiting: bool,
    /// The element's id, for tests and links.
    id: &'static str,
}

/// Where each kind of work is done, and its words.
fn todo_place(todo: Todo) -> (&'static str, &'static str, &'static str) {
    match todo {
        Todo::ImportsToActivate => (
            "todo.imports_to_activate",
            "/roster/approvals",
            "todo-imports-to-activate",
        ),
        Todo::OwnImportsWaiting => (
            "todo.own_imports_waiting",
            "/roster/imports?status=validated",
            "todo-own-imports",
        ),
        Todo::ImportsFailed => (
            "todo.imports_failed",
            "/roster/imports?status=failed",
            "todo-imports-failed",
        ),
        Todo::CasesRejected => (
            "todo.cases_rejected",
            "/cases?state=rejected",
            "todo-cases-rejected",
        ),
        Todo::CasesWithoutVisits => (
            "todo.cases_without_visits",
            "/cases?state=approved",
            "todo-cases-without-visits",
        ),
        Todo::CasesToDecide => ("todo.cases_to_decide", "/approvals", "todo-cases-to-decide"),
        Todo::SubsidiesToDecide => (
            "todo.subsidies_to_decide",
            "/approvals",
            "todo-subsidies-to-decide",
        ),
        Todo::SubsidiesToPay => (
            "todo.subsidies_to_pay",
            "/payments",
            "todo-subsidies-to-pay",
        ),
        Todo::BatchesToApprove => (
            "todo.batches_to_approve",
            "/payments",
            "todo-batches-to-approve",
        ),
        Todo::BatchesToExport => (
            "todo.batches_to_export",
            "/payments",
            "todo-batches-to-export",
        ),
        Todo::BatchesToReconcile => (
            "todo.batches_to_reconcile",
            "/payments",
            "todo-batches-to-reconcile",
        ),
        Todo::BudgetWarnings => ("todo.budget_warnings", "/budget", "todo-budget-warnings"),
    }
}

async fn home(State(state): State<AppState>, WebUser(user): WebUser) -> Response {
    let today = user.today();
    let todo = match crate::todo::for_user(&state.db, &user, today).await {
        Ok(items) => items,
        Err(e) => return app_error_page(Some(user), e),
    };
    let t = Tr(current_lang());
    let todo = todo
        .into_iter()
        .map(|i| {
            let (key, href, id) = todo_place(i.todo);
            TodoLine {
                label: t.get(key),
                count: fmt::count(i.count as i64),
                amount: i.amount.filter(|_| i.count > 0).map(fmt::money),
                href,
                waiting: i.count > 0,
                id,
            }
        })
        .collect();
    let tasks = [
        (Role::RosterImporter, "task.roster_importer"),
        (Role::Caseworker, "task.caseworker"),
        (Role::Approver, "task.approver"),
        (Role::Manager, "task.manager"),
        (Role::Admin, "task.admin"),
    ];
    let page = Page::new("home.title", Some(user), "/");
    let t = page.t;
    let held = page
        .user
        .as_ref()
        .map(|u| u.roles.clone())
        .unwrap_or_default();
    let tasks = tasks
        .iter()
        .filter(|(r, _)| held.contains(r))
        .map(|(_, k)| t.get(k))
        .collect();
    render(&HomePage { page, tasks, todo })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage {
        page: Page::new("login.title", None, "/login"),
        username: String::new(),
        next: safe_next(q.next.as_deref()).to_owned(),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    transport: Transport,
    source: crate::access_log::Source,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    let out = crate::auth::login(
        &state.db,
        &state.settings,
        &crate::http::extract::client_info(&source, &headers),
        &f.username,
        &f.password,
        state.clock.now(),
    )
    .await;
    match out {
        Ok(out) => {
            let cookie =
                transport.session_set_cookie(&out.token, state.settings.session_ttl.as_secs());
            let to = match out.stage {
                session::Stage::Full => next,
                session::Stage::SecondFactor => {
                    format!("/login/second-factor?next={}", url_escape(&next))
                }
                session::Stage::Enrol => {
                    format!("/account/second-factor?next={}", url_escape(&next))
                }
            };
            let mut res = Redirect::to(&to).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            let status = e.status();
            let mut res = render(&LoginPage {
                page: Page::new("login.title", None, "/login"),
                // What was typed stays; the password never comes back.
                username: f.username,
                next,
                error: Some(e.message().get(current_lang()).to_owned()),
            });
            *res.status_mut() = status;
            // The page says how long to wait; a script hears it as the API would.
            if let AppError::TooManyRequests {
                retry_after: Some(secs),
                ..
            } = &e
            {
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, (*secs).into());
            }
            res
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    transport: Transport,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(token) = token_of(&headers, transport) {
        let _ = session::logout(&state.db, &state.sessions, &token).await;
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&transport.session_set_cookie("", 0)) {
        res.headers_mut().insert(SET_COOKIE, v);
    }
    res
}

async fn switch_language(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = if code == "en" { Lang::En } else { Lang::Zh };
    let value = match lang {
        Lang::En => "lang=en; Path=/; Max-Age=31536000; SameSite=Lax",
        Lang::Zh => "lang=zh; Path=/; Max-Age=31536000; SameSite=Lax",
    };
    let mut res = Redirect::to(safe_next(q.next.as_deref())).into_response();
    res.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static(value));
    res
}

/// A script of `static/`, compiled into the binary, as the pages load it.
pub fn javascript(body: &'static str) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/roster")), "/roster");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn pager_links_keep_the_filters() {
        let p = Pager::new("/cases?state=submitted", 2, 20, 45);
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev.as_deref(), Some("/cases?state=submitted&page=1"));
        assert_eq!(p.next.as_deref(), Some("/cases?state=submitted&page=3"));
        let one = Pager::new("/cases", 1, 20, 0);
        assert_eq!((one.pages, one.prev, one.next), (1, None, None));
        assert_eq!(
            query_of(&[("q", "张 三"), ("state", "")]),
            "q=%E5%BC%A0%20%E4%B8%89"
        );
    }

    #[test]
    fn templates_use_only_known_texts() {
        let keys: Vec<&str> = Tr::keys().collect();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates"
        ))];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(
                    keys.contains(&key),
                    "{}: unknown text key {key}",
                    path.display()
                );
            }
        }
        for (_, key, _) in MENU {
            assert!(keys.contains(key), "menu: unknown text key {key}");
        }
    }
}
