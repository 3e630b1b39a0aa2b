//! `/admin/users`: the accounts and a form for a new one; `/admin/users/{id}`: one account's
//! roles, scope, name, password and whether it may log in, each changed through PATCH.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::id_of;
use crate::access;
use crate::domain::{Lang, Role};
use crate::error::current_lang;
use crate::regions::Pick;
use crate::state::AppState;
use crate::users::{self, UserView};
use crate::web::region_picker::RegionPicker;
use crate::web::{Page, WebUser, app_error_page, fmt, render};

/// A role as a checkbox: code, label, held.
pub struct RoleBox {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

fn role_boxes(held: &[Role], lang: Lang) -> Vec<RoleBox> {
    Role::ALL
        .iter()
        .map(|r| RoleBox {
            code: r.code(),
            label: lang.pick(r.label_zh(), r.label_en()),
            checked: held.contains(r),
        })
        .collect()
}

fn role_labels(roles: &[Role], lang: Lang) -> String {
    roles
        .iter()
        .map(|r| lang.pick(r.label_zh(), r.label_en()))
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "))
}

/// One row of the list.
pub struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    roles: String,
    region: String,
    active: bool,
    last_login: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    rows: Vec<UserRow>,
    roles: Vec<RoleBox>,
    my_region: String,
}

impl UsersPage {
    fn region_picker(&self) -> RegionPicker {
        scope_picker(&self.page, None)
    }
}

/// A scope inside the administrator's own: the province, a city or a county.
fn scope_picker(page: &Page, selected: Option<&str>) -> RegionPicker {
    let scope = page.scope();
    let selected = selected.unwrap_or(scope.as_str()).to_owned();
    RegionPicker::new(
        "region_prefix",
        "region_prefix",
        &scope,
        Pick::Scope,
        &selected,
    )
    .described_by("region-hint")
}

pub async fn list(State(state): State<AppState>, web: WebUser) -> Result<Response, Response> {
    let user = web.require(access::pages::ADMIN)?;
    let lang = current_lang();
    let fail = |e| app_error_page(Some(user.clone()), e);
    let all = users::list(&state.db, &user.region).await.map_err(fail)?;
    let last = users::last_logins(&state.db).await.map_err(fail)?;
    let rows = all
        .iter()
        .map(|u| UserRow {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: role_labels(&u.roles, lang),
            region: u.region_prefix.clone(),
            active: u.active,
            last_login: last.get(&u.id).map_or_else(|| "—".to_owned(), fmt::at),
        })
        .collect();
    Ok(render(&UsersPage {
        page: Page::new("admin.users.title", Some(user.clone()), "/admin/users"),
        rows,
        roles: role_boxes(&[], lang),
        my_region: crate::web::regions().scope_name(user.region.as_str(), lang),
    }))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    page: Page,
    u: UserView,
    roles: String,
    role_boxes: Vec<RoleBox>,
    created: String,
    updated: String,
    last_login: String,
    my_region: String,
    saved: bool,
    second_factor: bool,
}

impl UserPage {
    fn region_picker(&self) -> RegionPicker {
        scope_picker(&self.page, Some(&self.u.region_prefix))
    }
}

pub async fn show(
    State(state): State<AppState>,
    web: WebUser,
    Path(raw): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::ADMIN)?;
    let id = id_of(&raw, &user)?;
    let lang = current_lang();
    let fail = |e| app_error_page(Some(user.clone()), e);
    let u = users::get(&state.db, &user.region, id)
        .await
        .map_err(fail)?;
    let last = users::last_logins(&state.db).await.map_err(fail)?;
    let (second_factor, _) = crate::auth::second_factor::status(&state.db, u.id)
        .await
        .map_err(fail)?;
    Ok(render(&UserPage {
        second_factor,
        page: Page::new("admin.user.title", Some(user.clone()), "/admin/users"),
        roles: role_labels(&u.roles, lang),
        role_boxes: role_boxes(&u.roles, lang),
        created: fmt::at(&u.created_at),
        updated: fmt::at(&u.updated_at),
        last_login: last.get(&u.id).map_or_else(|| "—".to_owned(), fmt::at),
        my_region: crate::web::regions().scope_name(user.region.as_str(), lang),
        saved: q.saved.is_some(),
        u,
    }))
}
