//! Managers' pages: the dashboard (a year's totals, subsidies by month and by group drawn as
//! SVG on the server, the hospitals with the largest subsidy) and the spending report (filters,
//! the table with its total line, and the .xlsx and .csv downloads of the same figures).
//!
//! Both read through `crate::report` and parse their query with the API's own readers
//! (`api::reports::summary_request` and `spending_request`), so a page and the API count the
//! same visits and refuse bad input with the same messages.

mod chart;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;

use self::chart::{Bar, Caption};
use super::i18n::Texts;
use super::region_picker::RegionPicker;
use super::{Page, WebUser, fmt, query_of, render};
use crate::access;
use crate::auth::CurrentUser;
use crate::domain::{Group, Label, Lang};
use crate::error::{AppError, current_lang};
use crate::http::report_query::{SpendingParams, SummaryParams, spending_request, summary_request};
use crate::regions::Pick;
use crate::report::{self, Dimension, ReportRow, Status, TotalLine};
use crate::state::AppState;
use crate::visit::GRANTED;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("reports.dashboard_title", "统计概览", "Dashboard"),
    ("budget.title", "预算执行", "Budget"),
    ("budget.line", "预算额度", "Budget line"),
    ("budget.region", "地区", "Region"),
    ("budget.group", "救助类别", "Group"),
    ("budget.amount", "额度（元）", "Line (yuan)"),
    ("budget.committed", "已承诺（元）", "Committed (yuan)"),
    ("budget.paid", "已支付（元）", "Paid (yuan)"),
    ("budget.left", "余额（元）", "Left (yuan)"),
    ("budget.used", "使用率", "Used"),
    ("budget.level", "状态", "State"),
    (
        "budget.runs_out",
        "按当前进度用完于",
        "Runs out at this pace",
    ),
    ("budget.lasts", "年内够用", "Lasts the year"),
    (
        "budget.none",
        "本年度尚未设立预算额度。",
        "No budget line is set for this year.",
    ),
    ("reports.spending_title", "支出报表", "Spending report"),
    ("reports.year", "年度", "Year"),
    ("reports.show", "查看", "Show"),
    ("reports.prev_year", "上一年", "Previous year"),
    ("reports.next_year", "下一年", "Next year"),
    ("reports.patients", "救助人数", "Patients"),
    ("reports.visits", "救助人次", "Visits"),
    (
        "reports.subsidy_wan",
        "救助金额（万元）",
        "Subsidy (10,000 yuan)",
    ),
    ("reports.subsidy_yuan", "救助金额（元）", "Subsidy (yuan)"),
    ("reports.by_month", "各月救助金额", "Subsidy by month"),
    ("reports.by_group", "各救助类别救助金额", "Subsidy by group"),
    (
        "reports.by_month_desc",
        "柱状图：每月救助金额，单位万元，按计入日期统计。",
        "Bar chart: the subsidy of each month in 10,000 yuan, by the date a visit counts on.",
    ),
    (
        "reports.by_group_desc",
        "条形图：各救助类别的救助金额，单位万元。",
        "Bar chart: the subsidy of each assistance group in 10,000 yuan.",
    ),
    ("reports.wan", "万元", "× 10,000 yuan"),
    (
        "reports.by_month_unit",
        "各月救助金额（万元）",
        "Subsidy by month (10,000 yuan)",
    ),
    (
        "reports.by_group_unit",
        "各救助类别救助金额（万元）",
        "Subsidy by group (10,000 yuan)",
    ),
    ("reports.colon", "：", ": "),
    (
        "reports.data_table",
        "查看数据表",
        "Show the figures as a table",
    ),
    ("reports.month", "月份", "Month"),
    ("reports.group", "救助类别", "Group"),
    ("reports.hospital", "医院", "Hospital"),
    (
        "reports.top_hospitals",
        "救助金额最多的医院",
        "Hospitals with the largest subsidy",
    ),
    ("reports.total", "合计", "Total"),
    ("reports.item", "项目", "Item"),
    (
        "reports.counted",
        "统计已审核和已支付的救助金，冲正已扣除。",
        "Counts approved and paid subsidies, net of reversals.",
    ),
    ("reports.scope", "统计范围", "Region"),
    ("reports.generated", "生成时间", "Read at"),
    (
        "reports.year_report",
        "查看本年度分月支出报表",
        "This year's spending report by month",
    ),
    ("reports.from", "起始日期", "From"),
    ("reports.to", "截止日期", "To"),
    ("reports.date_hint", "格式 YYYY-MM-DD", "As YYYY-MM-DD"),
    ("reports.group_by", "分组", "Group by"),
    ("reports.status", "救助金状态", "Subsidy status"),
    (
        "reports.status_hint",
        "不选则统计已审核和已支付。",
        "None ticked: approved and paid.",
    ),
    ("reports.groups", "救助类别", "Groups"),
    (
        "reports.groups_hint",
        "不选则为全部类别。",
        "None ticked: all groups.",
    ),
    ("reports.region", "地区", "Region"),
    ("reports.pending", "待审核", "Waiting for approval"),
    ("reports.awaiting_payment", "待发放", "Approved, not paid"),
    ("reports.work_in_hand", "在途资金", "Money in the pipeline"),
    ("reports.last_year", "去年同期", "Same dates last year"),
    ("reports.change", "同比", "Change"),
    ("reports.by_city", "各市（州）救助金额", "Subsidy by city"),
    (
        "reports.by_county",
        "各县（市、区）救助金额",
        "Subsidy by county",
    ),
    ("reports.city", "市（州）", "City"),
    ("reports.county", "县（市、区）", "County"),
    (
        "reports.region_hint",
        "可选市或县（区）；不选则为整个数据范围：",
        "A city or county; none for your whole scope: ",
    ),
    ("reports.whole_scope", "整个数据范围", "Your whole scope"),
    ("reports.submit", "生成报表", "Show the report"),
    (
        "reports.patients_note",
        "合计行的人数按人去重，不等于各行人数之和。",
        "The total's patients count each person once, so they are not the sum of the lines.",
    ),
    (
        "reports.no_rows",
        "所选范围内没有救助金。",
        "No subsidies in this range.",
    ),
    (
        "reports.fix",
        "报表未生成，请修改以下内容：",
        "No report: correct the following.",
    ),
];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/reports/spending", get(spending))
}

/// A line of figures as a table shows it.
struct Line {
    labels: Vec<String>,
    patients: String,
    visits: String,
    yuan: String,
    wan: String,
}

impl Line {
    fn of(r: &ReportRow) -> Line {
        Line {
            labels: r.labels.clone(),
            patients: fmt::count(r.patients),
            visits: fmt::count(r.visits),
            yuan: fmt::money(r.subsidy),
            wan: fmt::wan(r.subsidy),
        }
    }

    fn total(t: &TotalLine, label: &str) -> Line {
        Line {
            labels: vec![label.to_owned()],
            patients: fmt::count(t.patients),
            visits: fmt::count(t.visits),
            yuan: fmt::money(t.subsidy),
            wan: fmt::wan(t.subsidy),
        }
    }

    fn label(&self) -> &str {
        self.labels.first().map_or("", String::as_str)
    }

    /// A county's line named with its city (长春市 南关区).
    fn of_county(r: &ReportRow) -> Line {
        let mut l = Line::of(r);
        if let Some(code) = &r.county {
            l.labels = vec![super::regions().name(code)];
        }
        l
    }
}

/// This year's total beside the same dates of last year.
struct Comparison {
    last_wan: String,
    last_patients: String,
    last_visits: String,
    /// The change of the subsidy in per cent, signed ("+12.5%"), or a dash without last year.
    change: String,
}

impl Comparison {
    fn of(now: &TotalLine, before: &TotalLine) -> Comparison {
        let change = if before.subsidy.fen() > 0 {
            let per_mille = (now.subsidy.fen() - before.subsidy.fen()) as i128 * 1000
                / before.subsidy.fen() as i128;
            format!(
                "{}{}.{}%",
                if per_mille >= 0 { "+" } else { "−" },
                per_mille.abs() / 10,
                per_mille.abs() % 10
            )
        } else {
            "—".to_owned()
        };
        Comparison {
            last_wan: fmt::wan(before.subsidy),
            last_patients: fmt::count(before.patients),
            last_visits: fmt::count(before.visits),
            change,
        }
    }
}

/// The field errors of a refused query, and the message of any other refusal.
fn problems(e: &AppError, lang: Lang) -> (Vec<(String, String)>, Option<String>) {
    match e {
        AppError::Unprocessable { details, .. } if !details.is_empty() => (
            details
                .iter()
                .map(|d| (d.field.clone(), d.message.get(lang).to_owned()))
                .collect(),
            None,
        ),
        other => (vec![], Some(other.message().get(lang).to_owned())),
    }
}

fn with_status(mut res: Response, status: axum::http::StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

// ---- the dashboard ----

#[derive(serde::Deserialize, Default)]
struct DashboardQuery {
    year: Option<String>,
}

/// A budget line as the dashboard shows it.
struct BudgetRow {
    region: String,
    group: &'static str,
    amount: String,
    committed: String,
    paid: String,
    left: String,
    percent: i64,
    level: &'static str,
    /// The style: budget-warning or budget-exhausted, or none.
    class: &'static str,
    runs_out: String,
}

impl BudgetRow {
    fn of(l: &crate::budget::BudgetLineView, t: super::i18n::Tr) -> BudgetRow {
        use crate::domain::BudgetLevel;
        BudgetRow {
            region: super::regions().name(l.region_code.as_str()),
            group: l.group_label,
            amount: fmt::money(l.amount),
            committed: fmt::money(l.committed),
            paid: fmt::money(l.paid),
            left: fmt::money(l.left),
            percent: l.percent,
            level: l.level_label,
            class: match l.level {
                BudgetLevel::Normal => "",
                BudgetLevel::Warning | BudgetLevel::Critical => "budget-warning",
                BudgetLevel::Exhausted => "budget-exhausted",
            },
            runs_out: l
                .runs_out
                .map_or_else(|| t.get("budget.lasts").to_owned(), |d| month_label(d, t.0)),
        }
    }
}

fn month_label(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Zh => format!("{} 年 {} 月", d.year(), d.month()),
        Lang::En => d.format("%B %Y").to_string(),
    }
}

struct Figures {
    budget: Vec<BudgetRow>,
    year: i32,
    patients: String,
    visits: String,
    wan: String,
    yuan: String,
    month_chart: String,
    group_chart: String,
    months: Vec<Line>,
    groups: Vec<Line>,
    total: Line,
    hospitals: Vec<Line>,
    cities: Vec<Line>,
    counties: Vec<Line>,
    last_year: Comparison,
    pending: Line,
    awaiting_payment: Line,
    region: String,
    generated: String,
    report_link: String,
    prev_link: String,
    next_link: String,
}

#[derive(Template)]
#[template(path = "reports/dashboard.html")]
struct DashboardPage {
    page: Page,
    year: String,
    error: Option<String>,
    figures: Option<Figures>,
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_short(month: &str, lang: Lang) -> String {
    let m: usize = month
        .rsplit('-')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    match lang {
        Lang::Zh => format!("{m}月"),
        Lang::En => MONTHS_EN
            .get(m.wrapping_sub(1))
            .map_or_else(|| month.to_owned(), |s| (*s).to_owned()),
    }
}

async fn dashboard(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::MANAGER)?;
    let lang = current_lang();
    let year_raw = q.year.unwrap_or_default().trim().to_owned();
    let params = SummaryParams {
        year: Some(year_raw.clone()),
        ..SummaryParams::default()
    };
    let page = Page::new("reports.dashboard_title", Some(user.clone()), "/dashboard");
    let (filter, top) = match summary_request(&user, &params) {
        Ok(v) => v,
        Err(e) => {
            let status = e.status();
            let (fields, other) = problems(&e, lang);
            let error = other.or_else(|| fields.into_iter().next().map(|(_, m)| m));
            return Ok(with_status(
                render(&DashboardPage {
                    page,
                    year: year_raw,
                    error,
                    figures: None,
                }),
                status,
            ));
        }
    };
    let s = report::summary(&state.db, &filter, top, lang, user.now)
        .await
        .map_err(|e| super::app_error_page(Some(user.clone()), e.into()))?;
    let t = page.t;
    let wan = t.get("reports.wan");
    let month_bars: Vec<Bar> = s
        .by_month
        .iter()
        .map(|r| {
            let key = r.month.clone().unwrap_or_default();
            Bar {
                label: month_short(&key, lang),
                key,
                value: r.subsidy,
            }
        })
        .collect();
    let group_bars: Vec<Bar> = s
        .by_group
        .iter()
        .map(|r| Bar {
            key: r.group.clone().unwrap_or_default(),
            label: r.group_label.clone().unwrap_or_default(),
            value: r.subsidy,
        })
        .collect();
    let month_chart = chart::columns(
        &Caption {
            id: "chart-months",
            title: &format!("{} {}", s.year, t.get("reports.by_month")),
            desc: t.get("reports.by_month_desc"),
            unit: wan,
        },
        &month_bars,
    );
    let group_chart = chart::rows(
        &Caption {
            id: "chart-groups",
            title: &format!("{} {}", s.year, t.get("reports.by_group")),
            desc: t.get("reports.by_group_desc"),
            unit: wan,
        },
        &group_bars,
    );
    let year = s.year;
    let report_link = format!(
        "/reports/spending?{}",
        query_of(&[
            ("from", &filter.from.to_string()),
            ("to", &filter.to.to_string()),
            ("group_by", "month"),
        ])
    );
    let budget = crate::budget::list(&state.db, &user, Some(year))
        .await
        .map_err(|e| super::app_error_page(Some(user.clone()), e))?
        .iter()
        .map(|l| BudgetRow::of(l, t))
        .collect();
    let figures = Figures {
        budget,
        year,
        patients: fmt::count(s.total.patients),
        visits: fmt::count(s.total.visits),
        wan: fmt::wan(s.total.subsidy),
        yuan: fmt::money(s.total.subsidy),
        month_chart,
        group_chart,
        months: s.by_month.iter().map(Line::of).collect(),
        groups: s.by_group.iter().map(Line::of).collect(),
        total: Line::total(&s.total, t.get("reports.total")),
        hospitals: s.top_hospitals.iter().map(Line::of).collect(),
        cities: s.by_city.iter().map(Line::of).collect(),
        counties: s.by_county.iter().map(Line::of_county).collect(),
        last_year: Comparison::of(&s.total, &s.last_year),
        pending: Line::total(&s.pending, t.get("reports.pending")),
        awaiting_payment: Line::total(&s.awaiting_payment, t.get("reports.awaiting_payment")),
        region: super::regions().scope_name(s.filters.region.as_str(), t.0),
        generated: fmt::at(&s.generated_at),
        report_link,
        prev_link: format!("/dashboard?year={}", year - 1),
        next_link: format!("/dashboard?year={}", year + 1),
    };
    Ok(render(&DashboardPage {
        page,
        year: year.to_string(),
        error: None,
        figures: Some(figures),
    }))
}

// ---- the spending report ----

/// A ticked or unticked box of a filter.
struct Choice {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

struct ReportView {
    /// Whether any key was asked for (without one, the total line is the whole report).
    grouped: bool,
    headers: Vec<&'static str>,
    rows: Vec<Line>,
    total: Line,
    xlsx: String,
    csv: String,
    region: String,
    generated: String,
}

#[derive(Template)]
#[template(path = "reports/spending.html")]
struct SpendingPage {
    page: Page,
    from: String,
    to: String,
    region: String,
    scope: String,
    dims: Vec<Choice>,
    statuses: Vec<Choice>,
    groups: Vec<Choice>,
    field_errors: Vec<(String, String)>,
    error: Option<String>,
    report: Option<ReportView>,
}

impl SpendingPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn region_picker(&self) -> RegionPicker {
        let scope = self.page.scope();
        let invalid = self.error_of("region").is_some();
        RegionPicker::new("region", "region", &scope, Pick::Scope, &self.region)
            .optional(self.page.t.get("reports.whole_scope"))
            .described_by(if invalid {
                "region-hint region-error"
            } else {
                "region-hint"
            })
            .invalid(invalid)
    }
}

/// The query as the form sends it: a box ticked is one `name=value` pair, so the keys come
/// repeated (`group_by=group&group_by=month`); a comma-separated value, as the API takes it,
/// works too.
struct SpendingForm {
    from: String,
    to: String,
    region: String,
    group_by: Vec<String>,
    status: Vec<String>,
    group: Vec<String>,
}

impl SpendingForm {
    fn read(pairs: &[(String, String)]) -> SpendingForm {
        let first = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let all = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .flat_map(|(_, v)| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        };
        // The menu's link asks for nothing: show this year by group rather than one line.
        let group_by = if pairs.is_empty() {
            vec![Dimension::Group.code().to_owned()]
        } else {
            all("group_by")
        };
        SpendingForm {
            from: first("from"),
            to: first("to"),
            region: first("region"),
            group_by,
            status: all("status"),
            group: all("group"),
        }
    }

    fn params(&self) -> SpendingParams {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        SpendingParams {
            from: some(&self.from),
            to: some(&self.to),
            group_by: some(&self.group_by.join(",")),
            status: some(&self.status.join(",")),
            group: some(&self.group.join(",")),
            region: some(&self.region),
            format: None,
        }
    }
}

fn dimension_choices(ticked: &[String], lang: Lang) -> Vec<Choice> {
    Dimension::ALL
        .iter()
        .map(|d| Choice {
            code: d.code(),
            label: d.label(lang),
            checked: ticked.iter().any(|t| t == d.code()),
        })
        .collect()
}

fn status_choices(ticked: &[String], lang: Lang) -> Vec<Choice> {
    let defaults = ticked.iter().all(|t| Status::parse(t).is_none());
    Status::ALL
        .iter()
        .map(|s| Choice {
            code: s.code(),
            label: s.label(lang),
            checked: if defaults {
                GRANTED.contains(s)
            } else {
                ticked.iter().any(|t| t == s.code())
            },
        })
        .collect()
}

fn group_choices(ticked: &[String], lang: Lang) -> Vec<Choice> {
    Group::ALL
        .iter()
        .map(|g| Choice {
            code: g.code(),
            label: g.label(lang),
            checked: ticked
                .iter()
                .any(|t| Group::parse(t).is_ok_and(|p| p == *g)),
        })
        .collect()
}

/// The same filters as an API query, for the downloads.
fn download_link(req: &report::FiltersView, format: &str) -> String {
    format!(
        "/api/v1/reports/spending?{}",
        query_of(&[
            ("from", &req.from.to_string()),
            ("to", &req.to.to_string()),
            ("group_by", &req.group_by.join(",")),
            ("status", &req.status.join(",")),
            ("group", &req.group.join(",")),
            ("region", &req.region),
            ("format", format),
        ])
    )
}

async fn spending(
    State(state): State<AppState>,
    web: WebUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let user = web.require(access::MANAGER)?;
    let lang = current_lang();
    let form = SpendingForm::read(&pairs);
    let mut page = spending_form(&user, &form, lang);
    let req = match spending_request(&user, &form.params()) {
        Ok(req) => req,
        Err(e) => {
            let status = e.status();
            (page.field_errors, page.error) = problems(&e, lang);
            return Ok(with_status(render(&page), status));
        }
    };
    let r = report::spending(&state.db, &req, lang, user.now)
        .await
        .map_err(|e| super::app_error_page(Some(user.clone()), e.into()))?;
    // What was counted, as the report read it: the form shows the defaults it filled in.
    let f = &r.filters;
    page.from = f.from.to_string();
    page.to = f.to.to_string();
    page.statuses = status_choices(&f.status, lang);
    let headers = if r.dims.is_empty() {
        vec![page.page.t.get("reports.item")]
    } else {
        r.dims.iter().map(|d| d.label(lang)).collect()
    };
    page.report = Some(ReportView {
        rows: r.rows.iter().map(Line::of).collect(),
        total: Line::total(&r.total, page.page.t.get("reports.total")),
        xlsx: download_link(f, "xlsx"),
        csv: download_link(f, "csv"),
        region: super::regions().scope_name(f.region.as_str(), lang),
        generated: fmt::at(&r.generated_at),
        grouped: !r.dims.is_empty(),
        headers,
    });
    Ok(render(&page))
}

fn spending_form(user: &CurrentUser, form: &SpendingForm, lang: Lang) -> SpendingPage {
    SpendingPage {
        page: Page::new(
            "reports.spending_title",
            Some(user.clone()),
            "/reports/spending",
        ),
        from: form.from.clone(),
        to: form.to.clone(),
        region: form.region.clone(),
        scope: super::regions().scope_name(user.region.as_str(), lang),
        dims: dimension_choices(&form.group_by, lang),
        statuses: status_choices(&form.status, lang),
        groups: group_choices(&form.group, lang),
        field_errors: vec![],
        error: None,
        report: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        let uri: axum::http::Uri = format!("/reports/spending?{q}").parse().unwrap();
        Query::<Vec<(String, String)>>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn ticked_boxes_and_comma_lists_read_alike() {
        let ticked = SpendingForm::read(&pairs(
            "from=2025-01-01&to=&group_by=group&group_by=month&status=paid",
        ));
        let listed = SpendingForm::read(&pairs("from=2025-01-01&group_by=group,month&status=paid"));
        for f in [&ticked, &listed] {
            let p = f.params();
            assert_eq!(p.from.as_deref(), Some("2025-01-01"));
            assert_eq!(p.to, None, "an empty field takes the default");
            assert_eq!(p.group_by.as_deref(), Some("group,month"));
            assert_eq!(p.status.as_deref(), Some("paid"));
            assert_eq!((p.group, p.region), (None, None));
        }
    }

    #[test]
    fn the_menu_link_shows_the_year_by_group() {
        let first = SpendingForm::read(&[]);
        assert_eq!(first.group_by, ["group"]);
        let unticked = SpendingForm::read(&pairs("from=&to="));
        assert!(
            unticked.group_by.is_empty(),
            "unticking every key is a choice"
        );
    }

    #[test]
    fn no_status_ticked_shows_the_default_ones() {
        let c = status_choices(&[], Lang::Zh);
        let on: Vec<_> = c.iter().filter(|c| c.checked).map(|c| c.code).collect();
        assert_eq!(on, ["approved", "paid"]);
        let c = status_choices(&["voided".into()], Lang::Zh);
        let on: Vec<_> = c.iter().filter(|c| c.checked).map(|c| c.code).collect();
        assert_eq!(on, ["voided"]);
    }

    #[test]
    fn months_are_short_under_the_bars() {
        assert_eq!(month_short("2025-03", Lang::Zh), "3月");
        assert_eq!(month_short("2025-12", Lang::En), "Dec");
    }

    #[test]
    fn downloads_carry_every_filter() {
        let f = report::FiltersView {
            from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            group_by: vec!["group".into(), "month".into()],
            status: vec!["paid".into()],
            group: vec![],
            region: "2201".into(),
            region_label: "长春市".into(),
        };
        assert_eq!(
            download_link(&f, "csv"),
            "/api/v1/reports/spending?from=2025-01-01&to=2025-06-30&group_by=group%2Cmonth&status=paid&region=2201&format=csv"
        );
    }
}
