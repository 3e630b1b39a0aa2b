//! `/api/v1/reports`: spending totals for managers, as JSON, .xlsx or .csv, and the front
//! page's summary. Region-scoped: a manager sees the visits of their own region.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::extract::AppQuery;
use super::roster::{XLSX, download};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, current_lang};
use crate::http::report_query::problem;
pub use crate::http::report_query::{
    SpendingParams, SummaryParams, spending_request, summary_request,
};
use crate::report::{self, SpendingReport, Summary};
use crate::state::AppState;

fn bad_format(f: &str) -> AppError {
    AppError::validation(vec![problem(
        "format",
        format!("不支持的格式“{f}”：可用 json、xlsx、csv。"),
        format!("Unknown format '{f}': use json, xlsx or csv."),
    )])
}

/// Spending totals for a period, grouped by any keys.
///
/// Patients are distinct people with a visit of positive subsidy (so the total's patients are
/// not the sum of the rows'); visits (人次) are visits with a subsidy above zero; subsidy is net
/// of reversals, in yuan to the fen, and in 万元 rounded half-up to two places.
#[utoipa::path(
    get,
    path = "/api/v1/reports/spending",
    tag = "reports",
    params(SpendingParams),
    responses(
        (status = 200, description = "The report: JSON (the default); with format=xlsx a workbook with a \
            title, the filters, headers, a total row and a frozen header; with format=csv UTF-8 CSV with a byte-order mark",
            content(
                (SpendingReport = "application/json"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager or administrator, or a region outside the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad date, from after to, an unknown key, status, group or format", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn spending(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<SpendingParams>,
) -> AppResult<Response> {
    let format = q.format.as_deref().map(str::trim).unwrap_or("json");
    if !matches!(format, "json" | "xlsx" | "csv") {
        return Err(bad_format(format));
    }
    let req = spending_request(&user, &q)?;
    let lang = current_lang();
    let report = report::spending(&state.db, &req, lang, user.now).await?;
    let name = format!(
        "{}_{}_{}",
        lang.pick("救助支出统计", "spending"),
        req.filter.from,
        req.filter.to
    );
    Ok(match format {
        "xlsx" => {
            let bytes = report::spending_xlsx(&report, lang).map_err(|e| anyhow::anyhow!("{e}"))?;
            download(bytes, XLSX, &format!("{name}.xlsx"))
        }
        "csv" => download(
            report::spending_csv(&report, lang),
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        ),
        _ => Json(report).into_response(),
    })
}

/// The front page: a year's totals, by group, by month, and the hospitals with the largest
/// subsidy.
#[utoipa::path(
    get,
    path = "/api/v1/reports/summary",
    tag = "reports",
    params(SummaryParams),
    responses(
        (status = 200, description = "The year's figures", body = Summary),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager or administrator, or a region outside the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad year, status or top", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn summary(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<SummaryParams>,
) -> AppResult<Json<Summary>> {
    let (filter, top) = summary_request(&user, &q)?;
    Ok(Json(
        report::summary(&state.db, &filter, top, current_lang(), user.now).await?,
    ))
}
