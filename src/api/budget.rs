//! Budget lines (资金额度): thin handlers over `crate::budget`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{AppJson, AppPath, AppQuery};
use super::input;
use crate::auth::CurrentUser;
use crate::budget::{self, BudgetLineView, LineInput};
use crate::domain::{Group, RegionPrefix};
use crate::error::{AppResult, Msg, Problems};
use crate::state::AppState;

/// `?year=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetQuery {
    /// One year only.
    pub year: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/budget-lines",
    tag = "budget",
    params(BudgetQuery),
    responses(
        (status = 200, description = "The budget lines inside your region, with committed, paid, left, the warning level \
            and the month each runs out at the year's pace", body = Vec<BudgetLineView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/budget-lines`.
pub async fn list_lines(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<BudgetQuery>,
) -> AppResult<Json<Vec<BudgetLineView>>> {
    Ok(Json(budget::list(&state.db, &user, q.year).await?))
}

/// The body of `POST /api/v1/budget-lines`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewLineRequest {
    /// The year.
    pub year: Option<i32>,
    /// A city (4 digits) or a county (6 digits).
    pub region_code: Option<String>,
    /// The group (code or Chinese name).
    pub group: Option<String>,
    /// The amount in yuan, as a string ("500000.00").
    #[schema(value_type = String)]
    pub amount: Option<Value>,
}

fn year_of(raw: Option<i32>, p: &mut Problems) -> Option<i32> {
    match raw {
        Some(y) if (2000..=2100).contains(&y) => Some(y),
        Some(_) => {
            p.push(
                "invalid_year",
                "year",
                Msg::new(
                    "年度须在 2000 至 2100 之间。".to_owned(),
                    "year is between 2000 and 2100.".to_owned(),
                ),
            );
            None
        }
        None => {
            input::missing("year", "年度", p);
            None
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/budget-lines",
    tag = "budget",
    request_body = NewLineRequest,
    responses(
        (status = 201, description = "The line, with the year's approved subsidies of its region and group that no line held", body = BudgetLineView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager of the whole province", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "A line for the year, region and group exists (`budget_line_exists`)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A missing or bad field, each on its field", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/budget-lines`.
pub async fn create_line(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<NewLineRequest>,
) -> AppResult<(StatusCode, Json<BudgetLineView>)> {
    let mut p = Problems::new();
    let year = year_of(req.year, &mut p);
    let region = match req.region_code.as_deref().map(str::trim) {
        None | Some("") => {
            input::missing("region_code", "地区", &mut p);
            None
        }
        Some(r) => RegionPrefix::parse(r)
            .map_err(|e| p.push_err("region_code", &e))
            .ok(),
    };
    let group = match req.group.as_deref().map(str::trim) {
        None | Some("") => {
            input::missing("group", "救助类别", &mut p);
            None
        }
        Some(g) => Group::parse(g).map_err(|e| p.push_err("group", &e)).ok(),
    };
    let amount = input::amount("amount", "额度", req.amount.as_ref(), &mut p);
    p.check()?;
    let (Some(year), Some(region), Some(group), Some(amount)) = (year, region, group, amount)
    else {
        return Err(anyhow::anyhow!("budget line checked but missing").into());
    };
    let line = LineInput {
        year,
        region,
        group,
        amount: amount.money(),
    };
    Ok((
        StatusCode::CREATED,
        Json(budget::create(&state.db, &user, line).await?),
    ))
}

/// The body of `PATCH /api/v1/budget-lines/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LineChangeRequest {
    /// The new amount in yuan, as a string.
    #[schema(value_type = String)]
    pub amount: Option<Value>,
    /// The version read.
    pub version: Option<i32>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/budget-lines/{id}",
    tag = "budget",
    params(("id" = i64, Path, description = "Budget line id")),
    request_body = LineChangeRequest,
    responses(
        (status = 200, description = "The line with its new amount", body = BudgetLineView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager of the whole province", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such line", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Changed since read (`budget_line_stale`)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A missing or bad amount, or one under what is committed (`budget_below_committed`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `PATCH /api/v1/budget-lines/{id}`: raise (or lower) a line; audited.
pub async fn update_line(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<LineChangeRequest>,
) -> AppResult<Json<BudgetLineView>> {
    let mut p = Problems::new();
    let amount = input::amount("amount", "额度", req.amount.as_ref(), &mut p);
    if req.version.is_none() {
        p.push(
            "required",
            "version",
            Msg::new(
                "请提供所读取的版本号（version）。".to_owned(),
                "version (the version read) is required.".to_owned(),
            ),
        );
    }
    p.check()?;
    let (Some(amount), Some(version)) = (amount, req.version) else {
        return Err(anyhow::anyhow!("budget change checked but missing").into());
    };
    Ok(Json(
        budget::update(&state.db, &user, id, version, amount.money()).await?,
    ))
}
