//! `/admin/policies`: the subsidy policies by group, with a form for a new one; and
//! `/admin/policies/{id}`: a correction form while no visit has used the policy.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::id_of;
use crate::access;
use crate::domain::Group;
use crate::error::current_lang;
use crate::policy::{self, PolicyView};
use crate::state::AppState;
use crate::web::{Page, WebUser, app_error_page, fmt, render};

/// A policy as the pages write it.
pub struct PolicyRow {
    id: i64,
    from: String,
    /// Empty when open-ended.
    to: String,
    rate: String,
    percent: String,
    deductible: String,
    per_visit_cap: String,
    annual_cap: String,
    in_use: bool,
    /// Just created: the row is marked.
    fresh: bool,
}

impl PolicyRow {
    fn of(p: &PolicyView) -> PolicyRow {
        let percent = (p.rate.value() * rust_decimal::Decimal::ONE_HUNDRED).normalize();
        PolicyRow {
            id: p.id,
            from: p.effective_from.to_string(),
            to: p.effective_to.map(|d| d.to_string()).unwrap_or_default(),
            rate: p.rate.to_string(),
            percent: format!("{percent}%"),
            deductible: fmt::money(p.deductible),
            per_visit_cap: fmt::money(p.per_visit_cap),
            annual_cap: fmt::money(p.annual_cap),
            in_use: p.in_use,
            fresh: false,
        }
    }
}

/// The policies of one group.
pub struct GroupSection {
    code: &'static str,
    label: &'static str,
    rows: Vec<PolicyRow>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    new: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/policies.html")]
struct PoliciesPage {
    page: Page,
    groups: Vec<GroupSection>,
}

pub async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::ADMIN)?;
    let lang = current_lang();
    let all = policy::list(&state.db, None, None)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let groups = Group::ALL
        .iter()
        .map(|g| GroupSection {
            code: g.code(),
            label: g.label(lang),
            rows: all
                .iter()
                .filter(|p| p.group == *g)
                .map(|p| PolicyRow {
                    fresh: q.new == Some(p.id),
                    ..PolicyRow::of(p)
                })
                .collect(),
        })
        .collect();
    Ok(render(&PoliciesPage {
        page: Page::new("admin.policies.title", Some(user), "/admin/policies"),
        groups,
    }))
}

#[derive(Template)]
#[template(path = "admin/policy.html")]
struct PolicyPage {
    page: Page,
    group: &'static str,
    p: PolicyRow,
    /// Plain amounts for the form's inputs.
    deductible: String,
    per_visit_cap: String,
    annual_cap: String,
    saved: bool,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    web: WebUser,
    Path(raw): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::ADMIN)?;
    let id = id_of(&raw, &user)?;
    let p = policy::get(&state.db, id)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    Ok(render(&PolicyPage {
        page: Page::new("admin.policy.title", Some(user), "/admin/policies"),
        group: p.group.label(current_lang()),
        deductible: p.deductible.to_string(),
        per_visit_cap: p.per_visit_cap.to_string(),
        annual_cap: p.annual_cap.to_string(),
        p: PolicyRow::of(&p),
        saved: q.saved.is_some(),
    }))
}
