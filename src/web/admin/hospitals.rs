//! `/admin/hospitals`: the hospitals by code, designated or not, and a form to register one.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::access;
use crate::hospital::{self, HospitalView};
use crate::regions::Pick;
use crate::state::AppState;
use crate::web::region_picker::RegionPicker;
use crate::web::{Page, WebUser, app_error_page, fmt, render};

#[derive(Deserialize, Default)]
pub struct HospitalQuery {
    designated: Option<String>,
    new: Option<i64>,
}

/// One row of the list.
pub struct HospitalRow {
    h: HospitalView,
    registered: String,
    /// Just registered: the row is marked.
    fresh: bool,
}

#[derive(Template)]
#[template(path = "admin/hospitals.html")]
struct HospitalsPage {
    page: Page,
    rows: Vec<HospitalRow>,
    designated: String,
}

impl HospitalsPage {
    fn region_picker(&self) -> RegionPicker {
        let scope = self.page.scope();
        RegionPicker::new("region_code", "region_code", &scope, Pick::County, "")
            .prompt(self.page.t.get("admin.hospital.choose_region"))
    }
}

pub async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<HospitalQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::ADMIN)?;
    let designated = match q.designated.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let rows = hospital::list(&state.db, designated)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?
        .into_iter()
        .map(|h| HospitalRow {
            registered: fmt::at(&h.created_at),
            fresh: q.new == Some(h.id),
            h,
        })
        .collect();
    Ok(render(&HospitalsPage {
        page: Page::new(
            "admin.hospitals.title",
            Some(user.clone()),
            "/admin/hospitals",
        ),
        rows,
        designated: designated.map(|d| d.to_string()).unwrap_or_default(),
    }))
}
