//! The query of the spending report and of the front page's summary, read from text so that a
//! bad value gets a message that says what is allowed; the API and the report pages read it
//! here alike.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::CurrentUser;
use crate::domain::{Group, Lang, RegionPrefix, choices};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::report::{Dimension, Filter, SpendingRequest, Status};
use crate::visit::GRANTED;

/// The query of `GET /api/v1/reports/spending`. Every value is read as text, so that a bad
/// one gets a message that says what is allowed rather than a parser's complaint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SpendingParams {
    /// First counting date, `YYYY-MM-DD` (default: 1 January of this year).
    #[param(example = "2025-01-01")]
    pub from: Option<String>,
    /// Last counting date, inclusive, `YYYY-MM-DD` (default: 31 December of `from`'s year).
    #[param(example = "2025-12-31")]
    pub to: Option<String>,
    /// Keys to group by, comma-separated, in any order and combination: year, month, group,
    /// city, county, hospital, visit_kind. Without it only the total line is computed.
    #[param(example = "group,county")]
    pub group_by: Option<String>,
    /// Subsidy statuses to count, comma-separated: pending, approved, paid, voided
    /// (default: approved,paid). A reversal counts under its own status.
    #[param(example = "approved,paid")]
    pub status: Option<String>,
    /// Only these groups, comma-separated codes or Chinese labels (default: all).
    pub group: Option<String>,
    /// Only this region: a prefix of 2, 4 or 6 digits inside the user's scope (default: the
    /// user's scope). A city may also be written with its six-digit code, such as 220100.
    pub region: Option<String>,
    /// json (default), xlsx or csv.
    pub format: Option<String>,
}

/// The query of `GET /api/v1/reports/summary`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// Calendar year (default: this year).
    #[param(example = "2025")]
    pub year: Option<String>,
    /// Statuses to count, as for the spending report (default: approved,paid).
    pub status: Option<String>,
    /// Only this region, as for the spending report.
    pub region: Option<String>,
    /// How many hospitals to list, 1 to 50 (default 10).
    pub top: Option<String>,
}

pub(crate) fn problem(field: &str, zh: String, en: String) -> FieldError {
    FieldError::new(field, Msg::new(zh, en))
}

fn list(raw: &Option<String>) -> Vec<&str> {
    raw.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn date(field: &str, raw: &str, problems: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
    if parsed.is_none() {
        problems.push(problem(
            field,
            format!("日期“{raw}”无效：请用 YYYY-MM-DD，如 2025-01-31。"),
            format!("'{raw}' is not a date: use YYYY-MM-DD, such as 2025-01-31."),
        ));
    }
    parsed
}

fn statuses(raw: &Option<String>, problems: &mut Vec<FieldError>) -> Vec<Status> {
    let mut out = Vec::new();
    for s in list(raw) {
        match Status::parse(s) {
            Some(st) if !out.contains(&st) => out.push(st),
            Some(_) => {}
            None => problems.push(problem(
                "status",
                format!("状态“{s}”无法识别：可用 {}。", choices::<Status>(Lang::Zh)),
                format!("Unknown status '{s}': use {}.", choices::<Status>(Lang::En)),
            )),
        }
    }
    if out.is_empty() {
        out = GRANTED.to_vec();
    }
    out
}

/// The region to report on: the user's scope, or a part of it they name.
fn region(
    user: &CurrentUser,
    raw: &Option<String>,
    problems: &mut Vec<FieldError>,
) -> AppResult<RegionPrefix> {
    let Some(raw) = raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(user.region.clone());
    };
    // 220100 is how a city is written as a six-digit code; its scope is 2201.
    let mut digits = raw.to_owned();
    while digits.len() > 2 && digits.ends_with("00") && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.truncate(digits.len() - 2);
    }
    let prefix = match RegionPrefix::parse(&digits) {
        Ok(p) => p,
        Err(e) => {
            problems.push(FieldError::new("region", Msg::of(&e)));
            return Ok(user.region.clone());
        }
    };
    if !user.region.covers(&prefix) {
        return Err(AppError::forbidden(Msg::new(
            format!("您只能查看数据范围{}以内的统计。", user.region),
            format!(
                "You can only see totals inside your own scope {}.",
                user.region
            ),
        )));
    }
    Ok(prefix)
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Reads the spending query, naming every bad value at once.
pub fn spending_request(user: &CurrentUser, q: &SpendingParams) -> AppResult<SpendingRequest> {
    let mut problems = Vec::new();
    let from = q
        .from
        .as_deref()
        .map(|r| date("from", r, &mut problems))
        .unwrap_or_else(|| Some(year_start(user.today().year())));
    let to = match q.to.as_deref() {
        Some(r) => date("to", r, &mut problems),
        None => from.map(|f| year_end(f.year())),
    };
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        problems.push(problem(
            "from",
            format!("起始日期{f}晚于截止日期{t}：起始日期须不晚于截止日期。"),
            format!("from {f} is after to {t}: from must be on or before to."),
        ));
    }
    let mut group_by = Vec::new();
    for key in list(&q.group_by) {
        match Dimension::parse(key) {
            Some(d) if group_by.contains(&d) => problems.push(problem(
                "group_by",
                format!("分组“{key}”重复：每个分组只能出现一次。"),
                format!("group_by names '{key}' twice: name each key once."),
            )),
            Some(d) => group_by.push(d),
            None => problems.push(problem(
                "group_by",
                format!(
                    "分组“{key}”无法识别：可用 {}，以逗号分隔，顺序不限。",
                    Dimension::allowed(Lang::Zh)
                ),
                format!(
                    "Unknown grouping '{key}': use {}, comma-separated, in any order.",
                    Dimension::allowed(Lang::En)
                ),
            )),
        }
    }
    let statuses = statuses(&q.status, &mut problems);
    let mut groups = Vec::new();
    for g in list(&q.group) {
        match Group::parse(g) {
            Ok(g) if !groups.contains(&g) => groups.push(g),
            Ok(_) => {}
            Err(e) => problems.push(FieldError::new("group", Msg::of(&e))),
        }
    }
    let region = region(user, &q.region, &mut problems)?;
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    Ok(SpendingRequest {
        filter: Filter {
            from: from.expect("checked above"),
            to: to.expect("checked above"),
            statuses,
            groups,
            region,
        },
        group_by,
    })
}

/// Reads the summary query: the year's filter and how many hospitals to list, naming every
/// bad value at once.
pub fn summary_request(user: &CurrentUser, q: &SummaryParams) -> AppResult<(Filter, usize)> {
    let mut problems = Vec::new();
    let year = match q.year.as_deref().map(str::trim) {
        None | Some("") => user.today().year(),
        Some(raw) => match raw.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => {
                problems.push(problem(
                    "year",
                    format!("年度“{raw}”无效：请填写2000到2100之间的四位年份。"),
                    format!("year '{raw}' is not valid: use a year from 2000 to 2100."),
                ));
                2000
            }
        },
    };
    let top = match q.top.as_deref().map(str::trim) {
        None | Some("") => 10,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => n,
            _ => {
                problems.push(problem(
                    "top",
                    format!("top“{raw}”无效：请填写1到50之间的整数。"),
                    format!("top '{raw}' is not valid: use a whole number from 1 to 50."),
                ));
                10
            }
        },
    };
    let statuses = statuses(&q.status, &mut problems);
    let region = region(user, &q.region, &mut problems)?;
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    let filter = Filter {
        from: year_start(year),
        to: year_end(year),
        statuses,
        groups: vec![],
        region,
    };
    Ok((filter, top))
}
