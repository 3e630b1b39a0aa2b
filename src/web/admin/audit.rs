//! `/admin/audit`: the audit log newest first, paged, with the API's filters as a GET form;
//! each change's record before and after, pretty-printed, with ID numbers masked.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::access;
use crate::audit::{self, Entry, Filter};
use crate::state::AppState;
use crate::web::{Page, Pager, WebUser, app_error_page, fmt, query_of, render};

const PER_PAGE: u64 = 20;

/// The kinds of record the log names, with their label keys.
const ENTITY_TYPES: &[(&str, &str)] = &[
    ("user", "admin.entity.user"),
    ("hospital", "admin.entity.hospital"),
    ("policy", "admin.entity.policy"),
    ("case", "admin.entity.case"),
    ("visit", "admin.entity.visit"),
    ("roster_import", "admin.entity.roster_import"),
];

/// Actions and prefixes offered as suggestions in the action filter.
const ACTIONS: &[&str] = &[
    "user.",
    "user.create",
    "user.update",
    "hospital.create",
    "policy.",
    "policy.create",
    "policy.update",
    "policy.end",
    "case.",
    "visit.",
    "roster_import.",
];

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

/// One row of the log as the page shows it.
pub struct AuditRow {
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    link: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: String,
    from: String,
    to: String,
    entity_types: Vec<(&'static str, &'static str)>,
    actions: &'static [&'static str],
    field_errors: Vec<(&'static str, &'static str)>,
    rows: Vec<AuditRow>,
    pager: Pager,
}

impl AuditPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| *m)
    }
}

pub(super) fn trimmed(v: Option<String>) -> String {
    v.map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// The first instant of a day on the clerks' wall clock (as times are shown), or of the next
/// day for an end date, which the range then excludes.
fn day_start(raw: &str, next_day: bool) -> Option<Option<DateTime<Utc>>> {
    if raw.is_empty() {
        return Some(None);
    }
    let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let d = if next_day { d.succ_opt()? } else { d };
    Some(Some(crate::clock::start_of(d)))
}

/// The `from`/`to` fields of a log's filter form as a range of instants; a field that is not
/// a date gets an error on it.
pub(super) fn date_range(
    from: &str,
    to: &str,
    t: crate::web::Tr,
    field_errors: &mut Vec<(&'static str, &'static str)>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut one = |field: &'static str, raw: &str, next_day: bool| {
        day_start(raw, next_day).unwrap_or_else(|| {
            field_errors.push((field, t.get("admin.audit.bad_date")));
            None
        })
    };
    (one("from", from, false), one("to", to, true))
}

/// Masks the birth date inside anything in a string that looks like an ID number (15 or 18
/// characters: digits, the last of 18 may be X), as lists show them.
fn mask_ids_in(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_alphanumeric()) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j - i == 17 && j < chars.len() && matches!(chars[j], 'X' | 'x') {
            j += 1;
        }
        let boundary = j >= chars.len() || !chars[j].is_ascii_alphanumeric();
        let birth = match j - i {
            18 if boundary => Some(6..14),
            15 if boundary => Some(6..12),
            _ => None,
        };
        for (k, c) in chars[i..j].iter().enumerate() {
            if birth.as_ref().is_some_and(|b| b.contains(&k)) {
                out.push('*');
            } else {
                out.push(*c);
            }
        }
        i = j;
    }
    out
}

/// A record of the log with every ID number masked; an `id_number` field is masked whole
/// even when it is not a valid number.
fn masked(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(mask_ids_in(s)),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if k.contains("id_number") => {
                            Value::String(fmt::masked_id(s))
                        }
                        other => masked(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn pretty(v: &Option<Value>) -> Option<String> {
    v.as_ref()
        .map(|v| serde_json::to_string_pretty(&masked(v)).unwrap_or_default())
}

fn row(e: &Entry, t: crate::web::Tr) -> AuditRow {
    let label = ENTITY_TYPES
        .iter()
        .find(|(code, _)| *code == e.entity_type)
        .map_or(e.entity_type.as_str(), |(_, key)| t.get(key));
    let link = match e.entity_type.as_str() {
        "user" => Some(format!("/admin/users/{}", e.entity_id)),
        "policy" => Some(format!("/admin/policies/{}", e.entity_id)),
        "case" => Some(format!("/cases/{}", e.entity_id)),
        _ => None,
    };
    AuditRow {
        at: fmt::at(&e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        entity: label.to_owned(),
        entity_id: e.entity_id.clone(),
        link,
        before: pretty(&e.before),
        after: pretty(&e.after),
    }
}

pub async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::AUDIT_READER)?;
    let page = Page::new("admin.audit.title", Some(user.clone()), "/admin/audit");
    let t = page.t;
    let actor = trimmed(q.actor);
    let action = trimmed(q.action);
    let entity_type = trimmed(q.entity_type);
    let entity_id = trimmed(q.entity_id);
    let from_raw = trimmed(q.from);
    let to_raw = trimmed(q.to);
    let page_no = crate::web::page_number(q.page.and_then(|p| p.trim().parse::<u64>().ok()));
    let mut field_errors = Vec::new();
    let (from, to) = date_range(&from_raw, &to_raw, t, &mut field_errors);
    let base = format!(
        "/admin/audit?{}",
        query_of(&[
            ("actor", &actor),
            ("action", &action),
            ("entity_type", &entity_type),
            ("entity_id", &entity_id),
            ("from", &from_raw),
            ("to", &to_raw),
        ])
    );
    let mut view = AuditPage {
        page,
        entity_types: ENTITY_TYPES
            .iter()
            .map(|(code, key)| (*code, t.get(key)))
            .collect(),
        actions: ACTIONS,
        rows: vec![],
        pager: Pager::new(base.trim_end_matches('?'), 1, PER_PAGE, 0),
        field_errors,
        actor,
        action,
        entity_type,
        entity_id,
        from: from_raw,
        to: to_raw,
    };
    if !view.field_errors.is_empty() {
        let mut res = render(&view);
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    let some = |s: &String| (!s.is_empty()).then(|| s.clone());
    let filter = Filter {
        actor: some(&view.actor),
        action: some(&view.action),
        entity_type: some(&view.entity_type),
        entity_id: some(&view.entity_id),
        from,
        to,
    };
    let (entries, total) = audit::list(&state.db, &filter, page_no, PER_PAGE)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e.into()))?;
    view.rows = entries.iter().map(|e| row(e, t)).collect();
    view.pager = Pager::new(base.trim_end_matches('?'), page_no, PER_PAGE, total);
    Ok(render(&view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_in_the_log_are_masked() {
        assert_eq!(
            mask_ids_in("11010519491231002X 与 110105491231002"),
            "110105********002X 与 110105******002"
        );
        // Other numbers stay: ids, amounts, a 17-digit run, one inside a longer code.
        assert_eq!(mask_ids_in("30000.00 #12"), "30000.00 #12");
        assert_eq!(mask_ids_in("12345678901234567"), "12345678901234567");
        assert_eq!(mask_ids_in("A11010519491231002X"), "A11010519491231002X");
        let v = serde_json::json!({"person": {"id_number": "bad-number", "name": "张三",
            "note": "身份证 11010519491231002X"}, "ids": ["11010519491231002X"]});
        assert_eq!(
            masked(&v),
            serde_json::json!({"person": {"id_number": "**********", "name": "张三",
                "note": "身份证 110105********002X"}, "ids": ["110105********002X"]})
        );
    }
}
