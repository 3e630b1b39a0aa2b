//! The managers' payment pages (发放批次): the batches with the form that drafts one, and a
//! batch's page with what may be done to it in its state (approve, cancel, the notice and its
//! objections, the bank file, the bank's return file and what it settled). Every action goes
//! through the JSON API from the page's forms (`static/app.js`), so the page and the API refuse
//! alike; the page only reads.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::i18n::Texts;
use super::region_picker::RegionPicker;
use super::{Page, WebUser, app_error_page, fmt, render};
use crate::access;
use crate::domain::Group;
use crate::error::{AppError, current_lang};
use crate::payment::{self, BatchDetail, BatchState, BatchView, ObjectionView, ReturnView};
use crate::regions::Pick;
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("pay.title", "发放批次", "Payment batches"),
    ("pay.draft", "起草发放批次", "Draft a batch"),
    ("pay.from", "起始日期", "From"),
    ("pay.to", "截止日期", "To"),
    ("pay.region", "地区", "Region"),
    ("pay.whole_scope", "整个数据范围", "Your whole scope"),
    ("pay.group", "救助类别", "Group"),
    ("pay.any_group", "全部类别", "All groups"),
    ("pay.draft_submit", "起草", "Draft"),
    ("pay.batch_no", "批次号", "Batch number"),
    ("pay.state", "状态", "State"),
    ("pay.count", "笔数", "Lines"),
    ("pay.amount", "金额（元）", "Amount (yuan)"),
    ("pay.amount_wan", "金额（万元）", "Amount (10,000 yuan)"),
    ("pay.drafted_at", "起草时间", "Drafted"),
    ("pay.none", "尚无发放批次。", "No batch yet."),
    ("pay.lines", "发放明细", "Lines"),
    ("pay.person", "患者", "Patient"),
    ("pay.payee", "收款人", "Payee"),
    ("pay.account", "账号", "Account"),
    ("pay.outcome", "银行结果", "Bank's answer"),
    ("pay.flags", "提示", "Notes"),
    (
        "pay.payee_changed",
        "收款信息在上次发放后有变更，请核对",
        "Payee changed since the last payment: check it",
    ),
    ("pay.held", "异议处理中", "Held by an objection"),
    ("pay.released", "已移出", "Out of the batch"),
    ("pay.approve", "审批通过", "Approve"),
    (
        "pay.approve_confirm",
        "确认审批本批次？审批后将进入公示。",
        "Approve this batch? Its notice comes next.",
    ),
    ("pay.cancel", "取消批次", "Cancel the batch"),
    ("pay.cancel_reason", "取消原因", "Why cancel"),
    ("pay.notice", "公示", "Public notice"),
    (
        "pay.notice_start",
        "生成公示（开始公示期）",
        "Produce the notice (its period starts)",
    ),
    ("pay.notice_page", "打印公示", "Print the notice"),
    (
        "pay.notice_xlsx",
        "下载公示表格",
        "Download the notice workbook",
    ),
    ("pay.notice_period", "公示期", "Notice period"),
    ("pay.objections", "异议", "Objections"),
    ("pay.object", "登记异议", "Record an objection"),
    (
        "pay.line_ref",
        "编号（公示上的编号）",
        "Reference (as on the notice)",
    ),
    ("pay.object_reason", "异议内容", "What was objected"),
    ("pay.resolution", "处理理由", "Why"),
    (
        "pay.upheld",
        "异议成立（移出本批次）",
        "Upheld (out of the batch)",
    ),
    ("pay.dismissed", "异议不成立", "Dismissed"),
    ("pay.export", "银行文件", "Bank file"),
    (
        "pay.export_wait",
        "公示期满且异议处理完毕后可导出银行文件。",
        "The bank file can be exported once the notice period is over and no objection is open.",
    ),
    ("pay.return", "银行回盘", "Bank's return file"),
    ("pay.return_file", "回盘文件", "Return file"),
    ("pay.return_submit", "上传并对账", "Upload and reconcile"),
    ("pay.returns", "对账记录", "Return files read"),
    ("pay.paid", "已入账", "Paid"),
    ("pay.failed", "失败", "Failed"),
    ("pay.problems", "未处理行", "Rows not applied"),
    ("pay.open_lines", "待银行确认", "Awaiting the bank"),
    ("budget.page", "预算额度", "Budget lines"),
    ("budget.new", "设立预算额度", "Set a budget line"),
    ("budget.year", "年度", "Year"),
    ("budget.region_code", "市或县（区）", "City or county"),
    ("budget.choose_region", "请选择", "Choose one"),
    ("budget.raise", "调整额度", "Change the amount"),
    ("budget.new_amount", "新额度（元）", "New amount (yuan)"),
    (
        "budget.province_only",
        "预算额度由全省范围的管理人员设立和调整。",
        "Budget lines are set and changed by managers of the whole province.",
    ),
];

/// The pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/payments", get(list))
        .route("/payments/{id}", get(show))
        .route("/budget", get(budget))
}

#[derive(Deserialize, Default)]
struct BudgetQuery {
    year: Option<i32>,
}

#[derive(Template)]
#[template(path = "payments/budget.html")]
struct BudgetPage {
    page: Page,
    year: i32,
    lines: Vec<crate::budget::BudgetLineView>,
    groups: Vec<(&'static str, &'static str)>,
    /// Whether the user may set lines (a manager of the whole province).
    setter: bool,
}

impl BudgetPage {
    fn region_picker(&self) -> RegionPicker {
        let scope = self.page.scope();
        RegionPicker::new(
            "budget-region",
            "region_code",
            &scope,
            Pick::CityOrCounty,
            "",
        )
        .prompt(self.page.t.get("budget.choose_region"))
    }
}

async fn budget(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::BUDGET_READER)?;
    let lang = current_lang();
    let year = q
        .year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| chrono::Datelike::year(&user.today()));
    let lines = crate::budget::list(&state.db, &user, Some(year))
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let setter = access::BUDGET_SETTER.admits(&user.roles, &user.region, &state.settings.province);
    Ok(render(&BudgetPage {
        page: Page::new("budget.page", Some(user.clone()), "/budget"),
        year,
        lines,
        groups: Group::ALL
            .iter()
            .map(|g| (g.code(), g.label(lang)))
            .collect(),
        setter,
    }))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "payments/list.html")]
struct ListPage {
    page: Page,
    batches: Vec<BatchView>,
    groups: Vec<(&'static str, &'static str)>,
    total: u64,
    /// The draft form's period as it opens: this year up to today, what finance usually pays.
    from: String,
    to: String,
}

impl ListPage {
    fn region_picker(&self) -> RegionPicker {
        let scope = self.page.scope();
        RegionPicker::new("draft-region", "region", &scope, Pick::Scope, "")
            .optional(self.page.t.get("pay.whole_scope"))
    }
}

async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::PAYMENT_MANAGER)?;
    let lang = current_lang();
    let page_no = q.page.unwrap_or(1).clamp(1, 100_000);
    let (batches, total) = payment::list(&state.db, &user, None, page_no, 50)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    Ok(render(&ListPage {
        page: Page::new("pay.title", Some(user.clone()), "/payments"),
        batches,
        groups: Group::ALL
            .iter()
            .map(|g| (g.code(), g.label(lang)))
            .collect(),
        total,
        from: format!("{}-01-01", chrono::Datelike::year(&user.today())),
        to: user.today().to_string(),
    }))
}

#[derive(Template)]
#[template(path = "payments/show.html")]
struct ShowPage {
    page: Page,
    d: BatchDetail,
    own: bool,
    objections: Vec<ObjectionView>,
    /// The notice has run its course with no objection open: the bank file may go.
    ready: bool,
    notice_running: bool,
    returns: Vec<entity::payment_return::Model>,
    latest: Option<ReturnView>,
    layouts: Vec<(&'static str, &'static str)>,
}

impl ShowPage {
    /// A layout's title by its name (the name itself if no shipped layout has it).
    fn layout_title<'a>(&'a self, name: &'a str) -> &'a str {
        self.layouts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, t)| t)
    }

    fn is(&self, s: &str) -> bool {
        self.d.batch.state.code() == s
    }

    fn yuan(&self, fen: &i64) -> String {
        fmt::money(crate::domain::Money::from_fen(*fen))
    }
}

async fn show(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::PAYMENT_MANAGER)?;
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let d = payment::get(&state.db, &user, id, 1, 500)
        .await
        .map_err(fail)?;
    let objections = payment::objections(&state.db, &user, id)
        .await
        .map_err(fail)?;
    let returns = payment::returns(&state.db, &user, id).await.map_err(fail)?;
    let latest = match returns.first() {
        Some(r) => Some(
            payment::return_of(&state.db, &user, id, r.id, 1, 100)
                .await
                .map_err(fail)?,
        ),
        None => None,
    };
    let today = user.today();
    let open = objections
        .iter()
        .any(|o| o.state == entity::payment_objection::State::Open);
    let b = &d.batch;
    let ready =
        b.state == BatchState::Approved && b.notice_until.is_some_and(|u| today > u) && !open;
    let notice_running = b.state == BatchState::Approved
        && matches!((b.notice_from, b.notice_until), (Some(f), Some(u)) if f <= today && today <= u);
    let own = b.drafted_by == user.id;
    Ok(render(&ShowPage {
        page: Page::new("pay.title", Some(user.clone()), "/payments"),
        own,
        objections,
        ready,
        notice_running,
        returns,
        latest,
        layouts: payment::layout::all()
            .iter()
            .map(|l| (l.name.as_str(), l.title.as_str()))
            .collect(),
        d,
    }))
}
