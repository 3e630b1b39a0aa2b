//! `GET /api/v1/audit`: the change log, for administrators and managers.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::extract::AppQuery;
use super::{PageOf, paging};
use crate::audit::{self, Entry, Filter};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::state::AppState;

/// Filters of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Username of the actor.
    pub actor: Option<String>,
    /// Action, or a prefix ending in "." such as "user.".
    pub action: Option<String>,
    /// Kind of record.
    pub entity_type: Option<String>,
    /// Record id.
    pub entity_id: Option<String>,
    /// From: a date (YYYY-MM-DD, a day in the programme's time zone) or an RFC 3339 instant.
    pub from: Option<String>,
    /// To (inclusive for a date): a date or an RFC 3339 instant.
    pub to: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

pub(super) fn instant(
    field: &str,
    raw: &str,
    end_of_day: bool,
) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        // A day is the programme's day (its time zone), as pages show times.
        return Ok(crate::clock::start_of(d));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldError::new(
                field,
                Msg::new(
                    format!("“{raw}”不是日期：请用 YYYY-MM-DD。"),
                    format!("'{raw}' is not a date: use YYYY-MM-DD or RFC 3339."),
                ),
            )
        })
}

/// A page of the log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = PageOf<Entry>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator or manager", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad date or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_audit(
    State(state): State<AppState>,
    _reader: CurrentUser,
    AppQuery(q): AppQuery<AuditQuery>,
) -> AppResult<Json<PageOf<Entry>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let mut problems = Vec::new();
    let from = q
        .from
        .as_deref()
        .map(|r| instant("from", r, false))
        .transpose()
        .map_err(|e| problems.push(e))
        .ok()
        .flatten();
    let to =
        q.to.as_deref()
            .map(|r| instant("to", r, true))
            .transpose()
            .map_err(|e| problems.push(e))
            .ok()
            .flatten();
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    let filter = Filter {
        actor: q.actor,
        action: q.action,
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        from,
        to,
    };
    let (items, total) = audit::list(&state.db, &filter, page, per_page).await?;
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}
