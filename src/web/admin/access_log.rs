//! `/admin/access-log`: who read whose data, for province administrators. Filters by person
//! (record id), by user (login name) and by date as a GET form; "who looked at this patient?"
//! by ID number is a POST form, so that the number never appears in an address.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::audit::{date_range, trimmed};
use crate::access;
use crate::access_log::{self, Entry, Filter};
use crate::domain::IdNumber;
use crate::person::PersonKey;
use crate::state::AppState;
use crate::web::{Page, Pager, WebUser, app_error_page, fmt, query_of, render};

const PER_PAGE: u64 = 50;

/// The kinds of read the log names (`access_log::Action::code`), with their label keys.
const ACTIONS: &[(&str, &str)] = &[
    ("eligibility.check", "access_log.action.eligibility"),
    ("roster.entries", "access_log.action.roster_entries"),
    ("roster.history", "access_log.action.roster_history"),
    ("case.read", "access_log.action.case"),
    ("visit.read", "access_log.action.visit"),
    ("person.statement", "access_log.action.statement"),
    (
        "roster_import.rejected_rows",
        "access_log.action.rejected_rows",
    ),
    ("export", "access_log.action.export"),
];

#[derive(Deserialize, Default)]
pub struct AccessLogForm {
    person_id: Option<String>,
    id_number: Option<String>,
    username: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

/// One record as the page shows it.
pub struct AccessRow {
    at: String,
    username: String,
    action: String,
    person_id: Option<i64>,
    resource: String,
    route: String,
    client: String,
}

#[derive(Template)]
#[template(path = "admin/access_log.html")]
struct AccessLogPage {
    page: Page,
    person_id: String,
    username: String,
    from: String,
    to: String,
    field_errors: Vec<(&'static str, &'static str)>,
    rows: Vec<AccessRow>,
    pager: Pager,
}

impl AccessLogPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| *m)
    }
}

fn row(e: &Entry, t: crate::web::Tr) -> AccessRow {
    let action = ACTIONS
        .iter()
        .find(|(code, _)| *code == e.action)
        .map_or(e.action.as_str(), |(_, key)| t.get(key));
    AccessRow {
        at: fmt::at(&e.at),
        username: e.username.clone(),
        action: action.to_owned(),
        person_id: e.person_id,
        resource: e.resource.clone().unwrap_or_default(),
        route: e.route.clone(),
        client: e.client.clone(),
    }
}

/// `GET /admin/access-log`.
pub async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<AccessLogForm>,
) -> Result<Response, Response> {
    show(state, web, q).await
}

/// `POST /admin/access-log`: the same, with an ID number from the form's body.
pub async fn search(
    State(state): State<AppState>,
    web: WebUser,
    Form(q): Form<AccessLogForm>,
) -> Result<Response, Response> {
    show(state, web, q).await
}

async fn show(state: AppState, web: WebUser, q: AccessLogForm) -> Result<Response, Response> {
    let user = web.require(access::ACCESS_LOG_READER)?;
    let page = Page::new("access_log.title", Some(user.clone()), "/admin/access-log");
    let t = page.t;
    let mut person_id = trimmed(q.person_id);
    let id_number = trimmed(q.id_number);
    let username = trimmed(q.username);
    let from_raw = trimmed(q.from);
    let to_raw = trimmed(q.to);
    let page_no = crate::web::page_number(q.page.and_then(|p| p.trim().parse::<u64>().ok()));
    let mut field_errors = Vec::new();
    let (from, to) = date_range(&from_raw, &to_raw, t, &mut field_errors);
    let mut person = if person_id.is_empty() {
        None
    } else {
        match person_id.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                field_errors.push(("person_id", t.get("access_log.bad_person_id")));
                None
            }
        }
    };
    // An ID number becomes the person's record id, which the page and its pager then carry.
    if !id_number.is_empty() {
        match IdNumber::parse(&id_number) {
            Ok(n) => {
                let found = PersonKey::IdNumber(n)
                    .find(&state.db)
                    .await
                    .map_err(|e| app_error_page(Some(user.clone()), e))?;
                // Someone on no roster has no record: nobody can have read their data.
                let id = found.map_or(0, |p| p.id);
                person = Some(id);
                person_id = id.to_string();
            }
            Err(_) => field_errors.push(("id_number", t.get("access_log.bad_id_number"))),
        }
    }
    let user_id = if username.is_empty() {
        None
    } else {
        let found = crate::users::find_by_username(&state.db, &username)
            .await
            .map_err(|e| app_error_page(Some(user.clone()), e))?;
        Some(found.map_or(0, |u| u.id))
    };
    let base = format!(
        "/admin/access-log?{}",
        query_of(&[
            ("person_id", &person_id),
            ("username", &username),
            ("from", &from_raw),
            ("to", &to_raw),
        ])
    );
    let mut view = AccessLogPage {
        page,
        rows: vec![],
        pager: Pager::new(base.trim_end_matches('?'), 1, PER_PAGE, 0),
        field_errors,
        person_id,
        username,
        from: from_raw,
        to: to_raw,
    };
    if !view.field_errors.is_empty() {
        let mut res = render(&view);
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    // Every read made before the question is in the answer.
    state.access_log.flush().await;
    let filter = Filter {
        person_id: person,
        user_id,
        from,
        to,
    };
    let (entries, total) = access_log::list(&state.db, &filter, page_no, PER_PAGE)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e.into()))?;
    view.rows = entries.iter().map(|e| row(e, t)).collect();
    view.pager = Pager::new(base.trim_end_matches('?'), page_no, PER_PAGE, total);
    Ok(render(&view))
}
