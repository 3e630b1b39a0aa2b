//! The subsidies (救助金): a page of them with filters, and one subsidy's page with its costs,
//! who did what, where its payment stands in the bank's batches, and the forms its state and
//! the user's roles allow: pay by hand, void, reverse. The forms post to the JSON API, whose
//! checks are the only ones; the page only reads.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::i18n::Texts;
use super::{Page, Pager, WebUser, app_error_page, fmt, page_number, query_of, render};
use crate::access;
use crate::access_log::{Action as LogAction, Read, Source};
use crate::domain::{Group, Label, Lang};
use crate::error::{AppError, current_lang};
use crate::payment;
use crate::state::AppState;
use crate::visit::{self, ListFilter, Status, VisitView};

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("subsidy.list_title", "救助金", "Subsidies"),
    ("subsidy.title", "救助金明细", "Subsidy"),
    ("subsidy.from", "计入日期自", "Counts from"),
    ("subsidy.to", "至", "to"),
    ("subsidy.case", "案件", "Case"),
    ("subsidy.group", "救助类别", "Group"),
    ("subsidy.recorded", "登记", "Recorded"),
    ("subsidy.approved", "审核", "Approved"),
    ("subsidy.paid", "支付", "Paid"),
    ("subsidy.voided", "作废", "Voided"),
    ("subsidy.payment_ref", "支付凭证号", "Payment reference"),
    ("subsidy.paid_on", "支付日期", "Date paid"),
    ("subsidy.reversal", "冲销", "Reversal"),
    (
        "subsidy.reversed_by",
        "已被冲销，冲销记录",
        "Reversed by entry",
    ),
    (
        "subsidy.reverses",
        "冲销记录，冲销的是",
        "Reversal entry of",
    ),
    ("subsidy.reversal_reason", "冲销原因", "Why reversed"),
    ("subsidy.batches", "发放批次", "Payment batches"),
    (
        "subsidy.in_batch",
        "在批次中，等待银行结果",
        "In the batch, awaiting the bank",
    ),
    ("subsidy.released", "已移出批次", "Taken out of the batch"),
    (
        "subsidy.other_batch",
        "其他范围的批次",
        "A batch of a wider scope",
    ),
    ("subsidy.bank_serial", "银行流水号", "Bank serial"),
    ("subsidy.settled_on", "银行处理日期", "Bank's date"),
    ("subsidy.fail_reason", "失败原因", "Why it failed"),
    (
        "subsidy.pay",
        "登记支付（不经发放批次）",
        "Record a payment (outside a batch)",
    ),
    (
        "subsidy.pay_hint",
        "仅用于未经发放批次、已另行支付的救助金；在批次中的救助金由银行回盘确认。",
        "Only for a subsidy paid outside a payment batch; a batch's subsidies are settled by the bank's return file.",
    ),
    ("subsidy.pay_submit", "登记已支付", "Record as paid"),
    (
        "subsidy.pay_confirm",
        "确认该笔救助金已支付？",
        "Record this subsidy as paid?",
    ),
    ("subsidy.void_submit", "作废救助金", "Void the subsidy"),
    (
        "subsidy.void_confirm",
        "确认作废该笔救助金？作废后释放年度封顶额度。",
        "Void this subsidy? Its amount is freed from the annual cap.",
    ),
    (
        "subsidy.reverse",
        "冲销已支付的救助金",
        "Reverse the paid subsidy",
    ),
    (
        "subsidy.reversed_on",
        "冲销日期（留空为今天）",
        "Date (today when blank)",
    ),
    ("subsidy.reverse_submit", "冲销", "Reverse"),
    ("subsidy.slip", "打印结算单", "Print the settlement slip"),
    (
        "subsidy.reverse_confirm",
        "确认冲销？将记一笔负数救助金，原支付记录保留。",
        "Reverse it? A negative entry is recorded; the payment stays on record.",
    ),
];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(list))
        .route("/visits/{id}", get(show))
        .route("/visits/{id}/slip", get(slip))
}

/// The per-visit settlement slip (结算单), in Chinese like every paper of the programme.
#[derive(Template)]
#[template(path = "visits/slip.html")]
struct SlipPage {
    title: &'static str,
    v: VisitView,
    group: String,
    kind: &'static str,
    dates: String,
    invoice: String,
    total_cost: String,
    insurance_paid: String,
    critical_illness_paid: String,
    medical_assistance_paid: String,
    out_of_pocket: String,
    subsidy: String,
    formula: String,
    status: &'static str,
    printed: String,
    org: &'static str,
}

/// One subsidy the user may see, its reading recorded in the access log: the subsidy's page
/// and its slip read the same way.
async fn read_visit(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    source: &Source,
    id: i64,
) -> Result<VisitView, AppError> {
    let v = visit::get(&state.db, user, id).await?;
    let read = Read::new(user, source, LogAction::VisitRead);
    state
        .access_log
        .record(read.person(v.person_id).resource(format!("visit:{id}")))
        .await;
    Ok(v)
}

/// The slip the patient signs for a subsidy: the visit, the bill and what paid it, the formula
/// with its numbers, and boxes for the patient's, the caseworker's and the approver's
/// signatures. A read of the person's data, logged as the page is.
async fn slip(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::VISIT_READER)?;
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let v = read_visit(&state, &user, &source, id).await.map_err(fail)?;
    let policy = match v.policy_id {
        Some(p) => Some(crate::policy::get(&state.db, p).await.map_err(fail)?),
        None => None,
    };
    let zh = Lang::Zh;
    Ok(render(&SlipPage {
        title: "肿瘤患者救助金结算单",
        group: Group::parse(&v.group).map_or_else(|_| v.group.clone(), |g| g.label(zh).into()),
        kind: v.kind.label(zh),
        dates: match (v.admitted_on, v.discharged_on, v.visit_date) {
            (Some(a), Some(d), _) => format!("{a} 至 {d}"),
            (_, _, Some(day)) => day.to_string(),
            _ => v.counted_on.to_string(),
        },
        invoice: v.invoice_no.clone().unwrap_or_default(),
        total_cost: fmt::money(v.total_cost),
        insurance_paid: fmt::money(v.insurance_paid),
        critical_illness_paid: fmt::money(v.critical_illness_paid),
        medical_assistance_paid: fmt::money(v.medical_assistance_paid),
        out_of_pocket: fmt::money(v.out_of_pocket),
        subsidy: fmt::money(v.subsidy),
        formula: super::evidence::formula(&v, policy.as_ref(), zh),
        status: v.status.label(zh),
        printed: fmt::at(&user.now),
        org: "红十字会 肿瘤患者救助项目",
        v,
    }))
}

const PER_PAGE: u64 = 20;

/// The states a filter offers.
const STATES: [Status; 4] = [
    Status::Pending,
    Status::Approved,
    Status::Paid,
    Status::Voided,
];

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
}

struct Row {
    id: i64,
    counted_on: String,
    person: String,
    id_number: String,
    hospital: String,
    kind: &'static str,
    subsidy: String,
    badge: super::cases::StateBadge,
}

#[derive(Template)]
#[template(path = "visits/list.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    pager: Pager,
    status: String,
    from: String,
    to: String,
    states: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

/// A filter's date, or the message that says how to write one.
fn date_filter(raw: &str, lang: Lang, error: &mut Option<String>) -> Option<chrono::NaiveDate> {
    if raw.is_empty() {
        return None;
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| {
            *error = Some(
                lang.pick(
                    "日期须写作 年-月-日，如 2026-03-01。",
                    "Write dates as year-month-day, such as 2026-03-01.",
                )
                .to_owned(),
            );
        })
        .ok()
}

async fn list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::VISIT_READER)?;
    let lang = current_lang();
    let status_raw = q.status.unwrap_or_default();
    let from_raw = q.from.unwrap_or_default().trim().to_owned();
    let to_raw = q.to.unwrap_or_default().trim().to_owned();
    let mut error = None;
    let filter = ListFilter {
        case_id: None,
        id_number: None,
        from: date_filter(&from_raw, lang, &mut error),
        to: date_filter(&to_raw, lang, &mut error),
        status: STATES.into_iter().find(|s| s.code() == status_raw),
    };
    let page_no = page_number(q.page);
    let (items, total) = visit::list(&state.db, &user, &filter, page_no, PER_PAGE)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let base = format!(
        "/visits?{}",
        query_of(&[
            ("status", &status_raw),
            ("from", &from_raw),
            ("to", &to_raw)
        ])
    );
    let mut res = render(&ListPage {
        page: Page::new("subsidy.list_title", Some(user.clone()), "/visits"),
        rows: items
            .iter()
            .map(|v| Row {
                id: v.id,
                counted_on: v.counted_on.to_string(),
                person: v.person_name.clone(),
                id_number: fmt::masked_id(&v.id_number),
                hospital: v.hospital_name.clone(),
                kind: v.kind.label(lang),
                subsidy: fmt::money(v.subsidy),
                badge: super::cases::visit_badge(v.status, lang),
            })
            .collect(),
        pager: Pager::new(base.trim_end_matches('?'), page_no, PER_PAGE, total),
        status: status_raw,
        from: from_raw,
        to: to_raw,
        states: STATES.iter().map(|s| (s.code(), s.label(lang))).collect(),
        error: error.clone(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// A batch as a subsidy's page names it: only one inside the user's scope.
struct BatchRef {
    id: i64,
    no: String,
    state: &'static str,
    /// Whether the user has the batch's page (managers who pay).
    linked: bool,
}

/// One line of the subsidy in a payment batch, as its page shows it. The bank's serial, day
/// and reason are the subsidy's own (the caseworker fixes the payee from a refusal's reason).
struct BatchRow {
    /// None: a batch outside the user's scope, unnamed.
    batch: Option<BatchRef>,
    /// In the batch, paid, failed or taken out.
    standing: String,
    bank_serial: String,
    settled_on: String,
    fail_reason: String,
}

/// Who did something and when, in words.
struct Step {
    label: &'static str,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "visits/show.html")]
struct ShowPage {
    page: Page,
    v: VisitView,
    badge: super::cases::StateBadge,
    kind: &'static str,
    group: String,
    total_cost: String,
    insurance_paid: String,
    critical_illness_paid: String,
    medical_assistance_paid: String,
    out_of_pocket: String,
    subsidy: String,
    steps: Vec<Step>,
    batches: Vec<BatchRow>,
    /// Whether the user may follow the case's link.
    sees_case: bool,
    can_pay: bool,
    can_void: bool,
    can_reverse: bool,
    today: String,
}

async fn show(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::VISIT_READER)?;
    let lang = current_lang();
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let v = read_visit(&state, &user, &source, id).await.map_err(fail)?;
    let lines = payment::lines_of_visit(&state.db, &user, id)
        .await
        .map_err(fail)?;
    let names = crate::users::names(
        &state.db,
        [Some(v.recorded_by), v.approved_by, v.paid_by, v.voided_by]
            .into_iter()
            .flatten()
            .collect(),
    )
    .await
    .map_err(fail)?;
    let in_batch = lines.iter().any(|(l, _)| l.holds_subsidy());
    let entry = v.reverses_visit_id.is_some();
    let province = &state.settings.province;
    let admits = |rule: access::Access| rule.admits(&user.roles, &user.region, province);
    let can_pay = v.status == Status::Approved && !in_batch && !entry && admits(access::MANAGER);
    let can_void = matches!(v.status, Status::Pending | Status::Approved)
        && !in_batch
        && !entry
        && admits(access::APPROVER);
    let can_reverse = v.status == Status::Paid
        && v.reversed_by.is_none()
        && !entry
        && admits(access::SUBSIDY_REVERSER);
    let page = Page::new("subsidy.title", Some(user.clone()), "/visits");
    let t = page.t;
    let steps = steps(&v, &names, t);
    let sees_batches = admits(access::PAYMENT_MANAGER);
    let batches = lines
        .iter()
        .map(|(l, b)| BatchRow {
            batch: b.as_ref().map(|b| BatchRef {
                id: b.id,
                no: b.batch_no.clone(),
                state: b.state.label(lang),
                linked: sees_batches,
            }),
            standing: match (l.outcome, l.released_at) {
                (Some(o), _) => o.label(lang).to_owned(),
                (None, Some(_)) => t.get("subsidy.released").to_owned(),
                (None, None) => t.get("subsidy.in_batch").to_owned(),
            },
            bank_serial: l.bank_serial.clone().unwrap_or_default(),
            settled_on: l.settled_on.map(|d| d.to_string()).unwrap_or_default(),
            fail_reason: l.fail_reason.clone().unwrap_or_default(),
        })
        .collect();
    let group = Group::parse(&v.group).map_or_else(|_| v.group.clone(), |g| g.label(lang).into());
    Ok(render(&ShowPage {
        badge: super::cases::visit_badge(v.status, lang),
        kind: v.kind.label(lang),
        group,
        total_cost: fmt::money(v.total_cost),
        insurance_paid: fmt::money(v.insurance_paid),
        critical_illness_paid: fmt::money(v.critical_illness_paid),
        medical_assistance_paid: fmt::money(v.medical_assistance_paid),
        out_of_pocket: fmt::money(v.out_of_pocket),
        subsidy: fmt::money(v.subsidy),
        steps,
        batches,
        sees_case: admits(access::pages::CASES),
        can_pay,
        can_void,
        can_reverse,
        today: user.today().to_string(),
        page,
        v,
    }))
}

/// Recorded, approved, paid, voided: each that happened, with who and when.
fn steps(v: &VisitView, names: &HashMap<i64, String>, t: super::i18n::Tr) -> Vec<Step> {
    let name = |id: Option<i64>| {
        id.map(|i| names.get(&i).cloned().unwrap_or_else(|| format!("#{i}")))
            .unwrap_or_default()
    };
    let mut out = vec![Step {
        label: t.get("subsidy.recorded"),
        by: name(Some(v.recorded_by)),
        at: fmt::at(&v.created_at),
    }];
    if let Some(at) = &v.approved_at {
        out.push(Step {
            label: t.get("subsidy.approved"),
            by: name(v.approved_by),
            at: fmt::at(at),
        });
    }
    if let Some(at) = &v.paid_at {
        out.push(Step {
            label: t.get("subsidy.paid"),
            by: name(v.paid_by),
            at: fmt::at(at),
        });
    }
    if let Some(at) = &v.voided_at {
        out.push(Step {
            label: t.get("subsidy.voided"),
            by: name(v.voided_by),
            at: fmt::at(at),
        });
    }
    out
}
