//! Caseworkers' and approvers' pages: the eligibility check, opening a case, the case list and
//! page, recording a visit with its subsidy shown before saving, and the approval queue. Pages
//! read through the domain services; their forms post to the JSON API (static/app.js), so the
//! API's checks and messages are the only ones.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::i18n::Texts;
use super::{Page, Pager, Tr, WebUser, app_error_page, evidence, fmt, query_of, render};
use crate::access;
use crate::access_log::{Action as LogAction, Read, Source};
use crate::auth::CurrentUser;
use crate::case::workflow::{Action, CaseState};
use crate::case::{self, CaseDetail, CaseView, Filter};
use crate::domain::Label;
use crate::domain::{Diagnosis, IdNumber, Lang, Role};
use crate::eligibility::{self, EntryView, GroupView, Inquiry};
use crate::error::{AppError, current_lang};
use crate::hospital::{self, HospitalView};
use crate::state::AppState;
use crate::visit::{self, VisitView};

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("elig.title", "资格核查", "Eligibility check"),
    ("elig.id_number", "身份证号码", "ID number"),
    ("elig.date", "核查日期", "Date checked"),
    ("elig.diagnosis", "诊断编码（ICD-10）", "Diagnosis (ICD-10)"),
    (
        "elig.diagnosis_hint",
        "如 C34.1；不填则不核查病种。",
        "Such as C34.1; leave empty to skip the diagnosis rule.",
    ),
    ("elig.submit", "核查", "Check"),
    ("elig.eligible", "符合救助条件", "Eligible"),
    ("elig.not_eligible", "不符合救助条件", "Not eligible"),
    ("elig.reasons", "原因", "Why not"),
    ("elig.person", "患者", "Patient"),
    ("elig.groups", "所属救助类别", "Groups"),
    ("elig.entries", "名册记录", "Roster entries"),
    (
        "elig.no_group",
        "无（该日不在任何名册上）",
        "None (on no roster that day)",
    ),
    (
        "elig.past_entries",
        "该日不在保的名册记录",
        "Roster entries not covering that day",
    ),
    ("elig.coverage", "保障状态", "Coverage"),
    ("elig.ended_on", "已于以下日期终止：", "Ended on "),
    ("elig.starts_on", "自以下日期起保障：", "Covered from "),
    (
        "elig.no_person",
        "名册中没有此人。",
        "This person is on no roster.",
    ),
    (
        "elig.existing_case",
        "查看该人员本年度的案件",
        "Go to the person's case of the year",
    ),
    (
        "elig.open_case",
        "为此患者建立救助案件",
        "Open a case for this patient",
    ),
    ("elig.valid", "有效期", "Valid"),
    ("elig.source", "来源", "Source"),
    ("person.name", "姓名", "Name"),
    ("person.sex", "性别", "Sex"),
    ("person.birth", "出生日期", "Born"),
    ("person.region", "地区", "Region"),
    ("sex.male", "男", "male"),
    ("sex.female", "女", "female"),
    ("case.new_title", "建立救助案件", "Open a case"),
    ("case.list_title", "救助案件", "Cases"),
    ("case.title", "救助案件", "Case"),
    ("case.id", "案件号", "Case"),
    ("case.name", "患者姓名", "Patient's name"),
    ("case.diagnosis_code", "诊断编码", "Diagnosis code"),
    ("case.diagnosis_text", "诊断名称", "Diagnosis"),
    ("case.hospital", "治疗医院", "Treating hospital"),
    ("case.phone", "联系电话", "Phone"),
    ("case.address", "住址", "Address"),
    ("case.year", "救助年度", "Year"),
    ("case.note", "备注", "Note"),
    ("case.state", "状态", "State"),
    ("case.opened", "建档时间", "Opened"),
    ("case.opened_by", "经办人", "Opened by"),
    ("case.decided_by", "审批人", "Decided by"),
    ("case.submit", "提交案件", "Submit the case"),
    ("case.none_selected", "（请选择）", "(choose)"),
    ("case.filter_q", "姓名或诊断", "Name or diagnosis"),
    ("case.timeline", "办理经过", "Timeline"),
    ("case.visits", "就诊记录", "Visits"),
    ("case.cap_left", "本年度剩余救助额度", "Annual cap left"),
    ("case.subsidy_total", "已审核救助金", "Subsidies approved"),
    ("case.visit_count", "就诊次数", "Visits"),
    ("case.record_visit", "登记就诊", "Record a visit"),
    ("case.reason", "原因", "Reason"),
    (
        "case.reason_hint",
        "驳回和结案须填写原因。",
        "A reason is required to reject or close.",
    ),
    ("case.version", "版本", "Version"),
    ("case.actions", "办理", "Actions"),
    (
        "case.own",
        "您经办的案件，须由其他审批人审批。",
        "You opened this case: another approver must decide it.",
    ),
    ("case.new_link", "新建案件", "New case"),
    ("case.by_id", "按身份证号查找", "Find by ID number"),
    (
        "case.corrections",
        "只填写需要更正的内容，留空的保持不变。",
        "Fill in only what changes; empty fields stay as they are.",
    ),
    ("visit.new_title", "登记就诊", "Record a visit"),
    ("visit.kind", "就诊类型", "Kind"),
    ("visit.inpatient", "住院", "Inpatient"),
    ("visit.outpatient", "门诊", "Outpatient"),
    ("visit.admitted_on", "入院日期", "Admitted"),
    ("visit.discharged_on", "出院日期", "Discharged"),
    ("visit.visit_date", "就诊日期", "Visit date"),
    ("visit.invoice_no", "发票号码", "Invoice number"),
    ("visit.total_cost", "医疗总费用（元）", "Total cost (yuan)"),
    (
        "visit.insurance_paid",
        "基本医保报销（元）",
        "Paid by basic insurance (yuan)",
    ),
    (
        "visit.critical_illness_paid",
        "大病保险报销（元）",
        "Paid by critical-illness insurance (yuan)",
    ),
    (
        "visit.medical_assistance_paid",
        "医疗救助（元）",
        "Paid by medical assistance (yuan)",
    ),
    ("visit.preview", "计算救助金", "Compute the subsidy"),
    (
        "visit.preview_title",
        "救助金试算（尚未保存）",
        "Subsidy, not yet saved",
    ),
    ("visit.out_of_pocket", "个人自付", "Out of pocket"),
    ("visit.by_rate", "按比例计算", "By the rate"),
    ("visit.subsidy", "救助金", "Subsidy"),
    ("visit.cap_reason", "封顶", "Capped by"),
    (
        "visit.cap_left_after",
        "保存后本年度剩余额度",
        "Annual cap left after saving",
    ),
    ("visit.policy", "适用政策", "Policy"),
    ("visit.save", "保存就诊记录", "Save the visit"),
    ("visit.date", "计入日期", "Counts on"),
    ("visit.status", "状态", "Status"),
    (
        "visit.recorded_by_you",
        "您登记的救助金，须由其他审批人审核。",
        "You recorded this: another approver must approve it.",
    ),
    ("visit.approve", "审核通过", "Approve"),
    ("payee.title", "收款信息", "Payee"),
    ("payee.holder", "收款人身份", "Holder"),
    ("payee.name", "收款人姓名", "Account holder"),
    ("payee.kind", "账户类型", "Account kind"),
    ("payee.bank", "开户行", "Bank"),
    ("payee.account", "账号", "Account number"),
    (
        "payee.none",
        "尚未填写收款信息：救助金不能列入发放批次。",
        "No payee details yet: the subsidies cannot go into a payment batch.",
    ),
    ("payee.save", "保存收款信息", "Save payee details"),
    (
        "payee.account_hint",
        "银行卡、社会保障卡须 16–19 位并通过校验位；存折账号 8–30 位。",
        "A bank or social security card has 16–19 digits and a check digit; a bank account 8–30 digits.",
    ),
    ("visit.void", "作废", "Void"),
    ("visit.void_reason", "作废原因", "Why void"),
    ("visit.patient", "患者", "Patient"),
    ("approvals.title", "待审批", "Approvals"),
    (
        "approvals.cases",
        "待审批的救助案件",
        "Cases waiting for a decision",
    ),
    (
        "approvals.visits",
        "待审核的救助金",
        "Subsidies waiting for approval",
    ),
    ("approvals.approve", "批准", "Approve"),
    (
        "case.print_form",
        "打印申请审批表",
        "Print the application form",
    ),
    ("timeline.recorded", "登记救助金", "Subsidy recorded:"),
    ("timeline.approved", "批准救助金", "Subsidy approved:"),
    ("timeline.paid", "支付救助金", "Subsidy paid:"),
    ("timeline.voided", "作废救助金", "Subsidy voided:"),
    ("timeline.reversed", "冲正救助金", "Subsidy reversed:"),
    ("timeline.reference", "凭证 ", "reference "),
    ("visit.dates", "就诊日期", "Dates"),
    (
        "approvals.confirm_case",
        "确认批准救助案件 ",
        "Approve case ",
    ),
    (
        "approvals.confirm_visit",
        "确认批准救助金：",
        "Approve the subsidy of ",
    ),
    ("approvals.groups", "救助类别", "Group"),
    ("approvals.entry", "名册依据", "Roster entry"),
    ("approvals.invoice", "发票号", "Invoice"),
    ("approvals.costs", "费用构成", "Costs"),
    ("approvals.formula", "计算", "Formula"),
    ("approvals.pick", "选择", "Select"),
    (
        "approvals.approve_selected",
        "批准所选",
        "Approve the selected",
    ),
    (
        "approvals.confirm_selected",
        "确认批准所选的各项？每项分别处理，结果显示在各行。",
        "Approve every selected item? Each is decided on its own; its outcome shows on its row.",
    ),
    ("approvals.done", "已批准", "Approved"),
    ("approvals.reject", "驳回", "Reject"),
];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/eligibility", get(eligibility_form).post(eligibility_page))
        .route("/cases", get(case_list).post(case_search))
        .route("/cases/new", get(new_case).post(new_case))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/visits/new", get(new_visit))
        .route("/approvals", get(approvals))
        .route(
            "/static/visit.js",
            get(|| async { super::javascript(include_str!("../../static/visit.js")) }),
        )
}

const PER_PAGE: u64 = 20;

/// A state as a coloured badge.
pub struct StateBadge {
    /// The words.
    pub label: &'static str,
    /// CSS class: ok, bad or wait.
    pub class: &'static str,
}

fn case_badge(s: CaseState, lang: Lang) -> StateBadge {
    let class = match s {
        CaseState::Approved => "ok",
        CaseState::Rejected => "bad",
        CaseState::Submitted => "wait",
        CaseState::Withdrawn | CaseState::Closed => "",
    };
    StateBadge {
        label: s.label(lang),
        class,
    }
}

pub(super) fn visit_badge(s: visit::Status, lang: Lang) -> StateBadge {
    StateBadge {
        label: s.label(lang),
        class: match s {
            visit::Status::Approved | visit::Status::Paid => "ok",
            visit::Status::Voided => "bad",
            visit::Status::Pending => "wait",
        },
    }
}

fn sex_key(sex: &str) -> &'static str {
    if sex == "female" {
        "sex.female"
    } else {
        "sex.male"
    }
}

// ---- eligibility ----

#[derive(Deserialize, Default)]
struct EligibilityQuery {
    id_number: Option<String>,
    date: Option<String>,
    diagnosis: Option<String>,
}

struct Checked {
    eligible: bool,
    /// The person's record id, for the link to their roster history.
    person_id: Option<i64>,
    name: String,
    sex: &'static str,
    birth_date: String,
    region_code: String,
    found: bool,
    groups: Vec<GroupView>,
    entries: Vec<EntryView>,
    /// Entries that do not cover the day (coverage ended, or not started yet), with which.
    past_entries: Vec<(EntryView, String)>,
    reasons: Vec<&'static str>,
    reason_texts: Vec<String>,
    /// The facts a case opened from this check starts with (posted, not put in a link).
    open_with: Vec<(&'static str, String)>,
    /// The person's open or approved case of the year, to go to instead of opening another.
    existing_case: Option<i64>,
}

#[derive(Template)]
#[template(path = "cases/eligibility.html")]
struct EligibilityPage {
    page: Page,
    id_number: String,
    date: String,
    diagnosis: String,
    field_errors: Vec<(&'static str, String)>,
    result: Option<Checked>,
}

impl EligibilityPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The empty check. The check itself is a POST, so ID numbers stay out of addresses, browser
/// history and access logs.
async fn eligibility_form(
    State(state): State<AppState>,
    web: WebUser,
) -> Result<Response, Response> {
    eligibility_page(
        State(state),
        web,
        Source::default(),
        Form(EligibilityQuery::default()),
    )
    .await
}

async fn eligibility_page(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Form(q): Form<EligibilityQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::CASEWORKER)?;
    let lang = current_lang();
    let id_raw = q.id_number.unwrap_or_default().trim().to_owned();
    let date_raw = q
        .date
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| user.today().to_string());
    let diag_raw = q.diagnosis.unwrap_or_default().trim().to_owned();
    let mut page = EligibilityPage {
        page: Page::new("elig.title", Some(user.clone()), "/eligibility"),
        id_number: id_raw.clone(),
        date: date_raw.clone(),
        diagnosis: diag_raw.clone(),
        field_errors: vec![],
        result: None,
    };
    if id_raw.is_empty() {
        return Ok(render(&page));
    }
    let id = IdNumber::parse(&id_raw);
    let date = NaiveDate::parse_from_str(&date_raw, "%Y-%m-%d");
    let diagnosis = (!diag_raw.is_empty()).then(|| Diagnosis::parse(&diag_raw));
    if let Err(e) = &id {
        page.field_errors.push((
            "id_number",
            eligibility::invalid_id_number(e)
                .message()
                .get(lang)
                .to_owned(),
        ));
    }
    if date.is_err() {
        page.field_errors.push((
            "date",
            lang.pick(
                "日期无效：请用 YYYY-MM-DD，如 2026-03-01。",
                "Not a date: use YYYY-MM-DD, such as 2026-03-01.",
            )
            .to_owned(),
        ));
    }
    if let Some(Err(e)) = &diagnosis {
        page.field_errors.push((
            "diagnosis",
            AppError::field("diagnosis", e)
                .message()
                .get(lang)
                .to_owned(),
        ));
    }
    let (Ok(id), Ok(date)) = (id, date) else {
        return Err(unprocessable(render(&page)));
    };
    let diagnosis = match diagnosis {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => return Err(unprocessable(render(&page))),
        None => None,
    };
    let inquiry = Inquiry {
        id_number: &id,
        date,
        year: date.year(),
        diagnosis: diagnosis.as_ref(),
        name: None,
        exclude_case: None,
        // Someone outside the caseworker's region is not read: the page is the one for an ID
        // number no roster lists, as the API's answer is.
        scope: &user.region,
    };
    let found = eligibility::check(&state.db, &state.settings, &inquiry)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e.into()))?;
    let person = found.facts.person.as_ref();
    let read = Read::new(&user, &source, LogAction::EligibilityCheck);
    let read = match person {
        Some(p) => read.person(p.id),
        None => read.resource(id.masked()),
    };
    state.access_log.record(read).await;
    let eligible = found.assessment.eligible;
    let name = person.map(|p| p.name.clone()).unwrap_or_default();
    let open_with = vec![
        ("id_number", id.to_string()),
        ("name", name.clone()),
        (
            "diagnosis_code",
            diagnosis
                .as_ref()
                .map_or(String::new(), |d| d.as_str().to_owned()),
        ),
        ("year", date.year().to_string()),
    ];
    page.id_number = id.to_string();
    page.result = Some(Checked {
        existing_case: found.facts.open_case,
        eligible,
        person_id: person.map(|p| p.id),
        found: person.is_some(),
        name,
        sex: page
            .page
            .t
            .get(sex_key(person.map_or("", |p| p.sex.as_str()))),
        birth_date: person.map(|p| p.birth_date.to_string()).unwrap_or_default(),
        region_code: person.map(|p| p.region_code.clone()).unwrap_or_default(),
        groups: found.groups(lang),
        entries: found.covering(lang),
        // Only entries of the caseworker's own regions, as on the roster history page.
        past_entries: found
            .not_covering(lang)
            .into_iter()
            .filter(|e| {
                crate::domain::RegionCode::parse(&e.region_code)
                    .is_ok_and(|r| user.region.contains(&r))
            })
            .map(|e| {
                let t = page.page.t;
                let state = match e.valid_to {
                    _ if e.valid_from > date => {
                        format!("{}{}", t.get("elig.starts_on"), e.valid_from)
                    }
                    Some(to) => format!("{}{to}", t.get("elig.ended_on")),
                    None => String::new(),
                };
                (e, state)
            })
            .collect(),
        reasons: found.reasons().iter().map(|r| r.code).collect(),
        reason_texts: found
            .reasons()
            .iter()
            .map(|r| r.message.get(lang).to_owned())
            .collect(),
        open_with,
    });
    Ok(render(&page))
}

fn unprocessable(mut res: Response) -> Response {
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

// ---- opening a case ----

#[derive(Deserialize, Default)]
struct NewCaseQuery {
    id_number: Option<String>,
    name: Option<String>,
    diagnosis_code: Option<String>,
    year: Option<String>,
}

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewCasePage {
    page: Page,
    id_number: String,
    name: String,
    diagnosis_code: String,
    year: String,
    hospitals: Vec<HospitalView>,
}

/// The form to open a case: empty, or (posted from a passing check) with its facts filled in.
async fn new_case(
    State(state): State<AppState>,
    web: WebUser,
    Form(q): Form<NewCaseQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::CASEWORKER)?;
    let hospitals = hospital::list(&state.db, Some(true))
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let this_year = user.today().year();
    Ok(render(&NewCasePage {
        page: Page::new("case.new_title", Some(user), "/cases"),
        id_number: q.id_number.unwrap_or_default(),
        name: q.name.unwrap_or_default(),
        diagnosis_code: q.diagnosis_code.unwrap_or_default(),
        year: q.year.unwrap_or_else(|| this_year.to_string()),
        hospitals,
    }))
}

// ---- the case list ----

#[derive(Deserialize, Default)]
struct ListQuery {
    state: Option<String>,
    year: Option<String>,
    q: Option<String>,
    page: Option<u64>,
}

struct CaseRow {
    id: i64,
    id_number: String,
    name: String,
    diagnosis: String,
    year: i32,
    badge: StateBadge,
    opened: String,
    opened_by: String,
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct CaseListPage {
    page: Page,
    rows: Vec<CaseRow>,
    pager: Pager,
    state: String,
    year: String,
    q: String,
    states: Vec<(&'static str, &'static str)>,
    can_open: bool,
    error: Option<String>,
    /// The ID number searched for (posted, never in an address), as typed.
    id_number: String,
}

fn case_row(c: &CaseView, lang: Lang) -> CaseRow {
    CaseRow {
        id: c.id,
        id_number: fmt::masked_id(&c.person.id_number),
        name: c.applicant_name.clone(),
        diagnosis: format!("{} {}", c.diagnosis.code, c.diagnosis.text)
            .trim()
            .to_owned(),
        year: c.year,
        badge: case_badge(c.state, lang),
        opened: fmt::at(&c.created_at),
        opened_by: c
            .opened_by
            .as_ref()
            .map(|u| {
                if u.display_name.is_empty() {
                    u.username.clone()
                } else {
                    u.display_name.clone()
                }
            })
            .unwrap_or_default(),
    }
}

const STATES: [CaseState; 5] = [
    CaseState::Submitted,
    CaseState::Approved,
    CaseState::Rejected,
    CaseState::Withdrawn,
    CaseState::Closed,
];

async fn case_list(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::CASES)?;
    let lang = current_lang();
    let state_raw = q.state.unwrap_or_default();
    let year_raw = q.year.unwrap_or_default().trim().to_owned();
    let text = q.q.unwrap_or_default().trim().to_owned();
    let mut error = None;
    let year = match year_raw.parse::<i32>() {
        Ok(y) => Some(y),
        Err(_) if year_raw.is_empty() => None,
        Err(_) => {
            error = Some(
                lang.pick(
                    "年度须为四位数字，如 2026。",
                    "The year is four digits, such as 2026.",
                )
                .to_owned(),
            );
            None
        }
    };
    let filter = Filter {
        state: CaseState::parse(&state_raw),
        year,
        id_number: None,
        q: (!text.is_empty()).then(|| text.clone()),
    };
    let page_no = super::page_number(q.page);
    let (items, total) = case::list(&state.db, &user, &filter, page_no, PER_PAGE)
        .await
        .map_err(|e| app_error_page(Some(user.clone()), e))?;
    let base = format!(
        "/cases?{}",
        query_of(&[("state", &state_raw), ("year", &year_raw), ("q", &text)])
    );
    let mut res = render(&CaseListPage {
        page: Page::new("case.list_title", Some(user.clone()), "/cases"),
        rows: items.iter().map(|c| case_row(c, lang)).collect(),
        pager: Pager::new(base.trim_end_matches('?'), page_no, PER_PAGE, total),
        state: state_raw,
        year: year_raw,
        q: text,
        states: STATES.iter().map(|s| (s.code(), s.label(lang))).collect(),
        can_open: user.has(Role::Caseworker),
        error: error.clone(),
        id_number: String::new(),
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize)]
struct IdSearch {
    id_number: Option<String>,
}

/// The cases of one person, found by ID number: posted, so the number is in no address (and no
/// proxy's log); one person has a case a year, so one page holds them.
async fn case_search(
    State(state): State<AppState>,
    web: WebUser,
    Form(q): Form<IdSearch>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::CASES)?;
    let lang = current_lang();
    let typed = q.id_number.unwrap_or_default().trim().to_owned();
    let (filter, error) = match IdNumber::parse(&typed) {
        Ok(id) => (
            Filter {
                state: None,
                year: None,
                id_number: Some(id),
                q: None,
            },
            None,
        ),
        Err(e) => (
            Filter {
                state: None,
                year: None,
                id_number: None,
                q: None,
            },
            Some(
                eligibility::invalid_id_number(&e)
                    .message()
                    .get(lang)
                    .to_owned(),
            ),
        ),
    };
    let (items, total) = if error.is_none() {
        case::list(&state.db, &user, &filter, 1, 100)
            .await
            .map_err(|e| app_error_page(Some(user.clone()), e))?
    } else {
        (vec![], 0)
    };
    let mut res = render(&CaseListPage {
        page: Page::new("case.list_title", Some(user.clone()), "/cases"),
        rows: items.iter().map(|c| case_row(c, lang)).collect(),
        pager: Pager::new("/cases", 1, 100, total),
        state: String::new(),
        year: String::new(),
        q: String::new(),
        states: STATES.iter().map(|s| (s.code(), s.label(lang))).collect(),
        can_open: user.has(Role::Caseworker),
        error: error.clone(),
        id_number: typed,
    });
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

// ---- one case ----

struct EventRow {
    /// When, to order the case's and its subsidies' events together.
    when: chrono::DateTime<chrono::Utc>,
    at: String,
    by: String,
    /// What happened: the case's new state, or a subsidy's step with its amount.
    to: String,
    reason: String,
    /// A subsidy's event links to it.
    visit: Option<i64>,
}

struct VisitRow {
    id: i64,
    counted_on: NaiveDate,
    kind: &'static str,
    hospital: String,
    invoice_no: String,
    /// 入院 – 出院, or the outpatient day.
    dates: String,
    total_cost: String,
    out_of_pocket: String,
    subsidy: String,
    badge: StateBadge,
    mine: bool,
}

struct ActionForm {
    code: &'static str,
    /// Resubmitting carries corrections: the form offers the fields.
    corrects: bool,
    label: &'static str,
    needs_reason: bool,
    confirm: String,
}

#[derive(Template)]
#[template(path = "cases/show.html")]
struct CasePage {
    page: Page,
    c: CaseView,
    badge: StateBadge,
    sex: &'static str,
    events: Vec<EventRow>,
    /// The groups and roster entries the case's eligibility rested on.
    groups: String,
    entries: Vec<String>,
    visits: Vec<VisitRow>,
    visit_count: u64,
    subsidy_total: String,
    cap_left: Option<String>,
    actions: Vec<ActionForm>,
    own: bool,
    can_record: bool,
    payee: Option<crate::payment::PayeeView>,
    /// The payee form, for those who may change it (caseworkers; managers have the API).
    payee_form: Option<PayeeForm>,
}

/// The payee form's choices and the version it names.
struct PayeeForm {
    holders: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    version: Option<i32>,
    /// The saved name and bank, to change one without typing the other (the account number
    /// is typed again: it is never shown in full). Before anything is saved, the name is the
    /// patient's: most are paid to their own account.
    name: String,
    bank: String,
}

impl PayeeForm {
    fn new(
        payee: Option<&crate::payment::PayeeView>,
        patient: &str,
        lang: crate::domain::Lang,
    ) -> PayeeForm {
        use entity::case_payee::{AccountKind, Holder};
        PayeeForm {
            holders: Holder::ALL
                .iter()
                .map(|h| (h.code(), h.label(lang)))
                .collect(),
            kinds: AccountKind::ALL
                .iter()
                .map(|k| (k.code(), k.label(lang)))
                .collect(),
            version: payee.map(|p| p.version),
            name: payee.map_or_else(|| patient.to_owned(), |p| p.payee_name.clone()),
            bank: payee.map(|p| p.bank_name.clone()).unwrap_or_default(),
        }
    }

    /// Whether a choice is the one saved.
    fn holder_is(&self, payee: &Option<crate::payment::PayeeView>, code: &str) -> bool {
        payee.as_ref().is_some_and(|p| p.holder.code() == code)
    }

    /// Whether a kind is the one saved.
    fn kind_is(&self, payee: &Option<crate::payment::PayeeView>, code: &str) -> bool {
        payee
            .as_ref()
            .is_some_and(|p| p.account_kind.code() == code)
    }
}

/// A subsidy's steps as timeline events: recorded, approved, paid, voided (with the reason), or
/// a reversal entry (with its reason).
fn subsidy_events(
    v: &VisitView,
    names: &std::collections::HashMap<i64, String>,
    t: Tr,
) -> Vec<EventRow> {
    let who = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned()).unwrap_or_default();
    let what = |key: &str| {
        format!(
            "{} {} {}",
            t.get(key),
            fmt::money(v.subsidy),
            t.get("common.yuan")
        )
    };
    let event = |when: chrono::DateTime<chrono::Utc>,
                 by: Option<i64>,
                 key: &str,
                 reason: Option<&String>| EventRow {
        when,
        at: fmt::at(&when),
        by: who(by),
        to: what(key),
        reason: reason.cloned().unwrap_or_default(),
        visit: Some(v.id),
    };
    if v.reverses_visit_id.is_some() {
        return vec![event(
            v.created_at,
            Some(v.recorded_by),
            "timeline.reversed",
            v.reversal_reason.as_ref(),
        )];
    }
    let mut out = vec![event(
        v.created_at,
        Some(v.recorded_by),
        "timeline.recorded",
        None,
    )];
    if let Some(at) = v.approved_at {
        out.push(event(at, v.approved_by, "timeline.approved", None));
    }
    if let Some(at) = v.paid_at {
        let mut paid = event(at, v.paid_by, "timeline.paid", None);
        if let Some(r) = &v.payment_ref {
            paid.to = format!("{}（{}{r}）", paid.to, t.get("timeline.reference"));
        }
        out.push(paid);
    }
    if let Some(at) = v.voided_at {
        out.push(event(
            at,
            v.voided_by,
            "timeline.voided",
            v.void_reason.as_ref(),
        ));
    }
    out
}

/// A user's display name, or their username when they have none.
pub(super) fn name_of(u: Option<&case::UserRef>) -> String {
    u.map(|u| {
        if u.display_name.is_empty() {
            u.username.clone()
        } else {
            u.display_name.clone()
        }
    })
    .unwrap_or_default()
}

fn visit_row(v: &VisitView, user: &CurrentUser, lang: Lang) -> VisitRow {
    VisitRow {
        id: v.id,
        counted_on: v.counted_on,
        kind: v.kind.label(lang),
        hospital: v.hospital_name.clone(),
        invoice_no: v.invoice_no.clone().unwrap_or_default(),
        dates: match (v.admitted_on, v.discharged_on, v.visit_date) {
            (Some(a), Some(d), _) => format!("{a} – {d}"),
            (_, _, Some(day)) => day.to_string(),
            _ => v.counted_on.to_string(),
        },
        total_cost: fmt::money(v.total_cost),
        out_of_pocket: fmt::money(v.out_of_pocket),
        subsidy: fmt::money(v.subsidy),
        badge: visit_badge(v.status, lang),
        mine: v.recorded_by == user.id,
    }
}

async fn case_page(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::CASES)?;
    let lang = current_lang();
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let CaseDetail {
        case: c,
        events,
        visits,
    } = case::get(&state.db, &user, id).await.map_err(fail)?;
    let read = Read::new(&user, &source, LogAction::CaseRead);
    state
        .access_log
        .record(read.person(c.person.id).resource(format!("case:{id}")))
        .await;
    let filter = visit::ListFilter {
        case_id: Some(id),
        id_number: None,
        from: None,
        to: None,
        status: None,
    };
    let (visit_rows, _) = visit::list(&state.db, &user, &filter, 1, 100)
        .await
        .map_err(fail)?;
    let page = Page::new("case.title", Some(user.clone()), "/cases");
    let t = page.t;
    let own = c.opened_by.as_ref().is_some_and(|u| u.id == user.id);
    let actions = c
        .allowed_actions
        .iter()
        .filter(|a| user.has_any(a.roles()))
        .filter(|a| !(own && matches!(a, Action::Approve | Action::Reject)))
        .map(|a| ActionForm {
            corrects: *a == Action::Resubmit,
            code: a.code(),
            label: a.label(lang),
            needs_reason: a.needs_reason(),
            confirm: format!("{}？", a.label(lang)),
        })
        .collect();
    let mut events: Vec<EventRow> = events
        .iter()
        .map(|e| EventRow {
            when: e.at,
            at: fmt::at(&e.at),
            by: name_of(e.by.as_ref()),
            to: e.to.label(lang).to_owned(),
            reason: e.reason.clone().unwrap_or_default(),
            visit: None,
        })
        .collect();
    let names = crate::users::names(
        &state.db,
        visit_rows
            .iter()
            .flat_map(|v| [Some(v.recorded_by), v.approved_by, v.paid_by, v.voided_by])
            .flatten()
            .collect(),
    )
    .await
    .map_err(fail)?;
    events.extend(visit_rows.iter().flat_map(|v| subsidy_events(v, &names, t)));
    events.sort_by_key(|e| e.when);
    let (groups, entries) = evidence::case_basis(c.evidence.as_ref(), lang);
    let can_record = user.has(Role::Caseworker) && c.state == CaseState::Approved;
    let payee = crate::payment::payee_of(&state.db, &user, id)
        .await
        .map_err(fail)?;
    let payee_form = access::PAYEE_EDITOR
        .admits(&user.roles, &user.region, &user.region)
        .then(|| PayeeForm::new(payee.as_ref(), &c.person.name, lang));
    // Said only where it explains missing buttons: an approver looking at their own submission.
    let own = own && user.has(Role::Approver) && c.state == CaseState::Submitted;
    Ok(render(&CasePage {
        badge: case_badge(c.state, lang),
        sex: t.get(sex_key(&c.person.sex)),
        events,
        groups,
        entries,
        visits: visit_rows
            .iter()
            .map(|v| visit_row(v, &user, lang))
            .collect(),
        visit_count: visits.count,
        subsidy_total: fmt::money(visits.subsidy_total),
        cap_left: visits.annual_cap_left.map(fmt::money),
        actions,
        own,
        can_record,
        payee,
        payee_form,
        c,
        page,
    }))
}

// ---- recording a visit ----

#[derive(Template)]
#[template(path = "cases/visit_new.html")]
struct NewVisitPage {
    page: Page,
    c: CaseView,
    hospitals: Vec<HospitalView>,
    today: NaiveDate,
}

async fn new_visit(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::CASEWORKER)?;
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let detail = case::get(&state.db, &user, id).await.map_err(fail)?;
    let hospitals = hospital::list(&state.db, Some(true)).await.map_err(fail)?;
    Ok(render(&NewVisitPage {
        page: Page::new("visit.new_title", Some(user.clone()), "/cases"),
        c: detail.case,
        hospitals,
        today: user.today(),
    }))
}

// ---- the approval queue ----

struct QueueCase {
    row: CaseRow,
    version: i32,
    own: bool,
    /// The groups and roster entries the case's eligibility rested on.
    groups: String,
    entries: Vec<String>,
    /// What the confirmation asks.
    confirm: String,
}

struct QueueVisit {
    row: VisitRow,
    case_id: i64,
    patient: String,
    id_number: String,
    /// 总费用, reimbursements, 自付.
    breakdown: String,
    /// The formula with its numbers.
    formula: String,
    /// What the confirmation asks.
    confirm: String,
    /// The budget warning shown beside the approve button (80 %, 95 %, used up), if any.
    budget: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "cases/approvals.html")]
struct ApprovalsPage {
    page: Page,
    cases: Vec<QueueCase>,
    pager: Pager,
    visits: Vec<QueueVisit>,
    visits_total: u64,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    page: Option<u64>,
}

/// The style of a budget warning: exhausted is an error, the others a warning.
fn budget_class(level: crate::domain::BudgetLevel) -> &'static str {
    match level {
        crate::domain::BudgetLevel::Exhausted => "budget-exhausted",
        _ => "budget-warning",
    }
}

async fn approvals(
    State(state): State<AppState>,
    web: WebUser,
    Query(q): Query<QueueQuery>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::APPROVALS)?;
    let lang = current_lang();
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let page_no = super::page_number(q.page);
    let filter = Filter {
        state: Some(CaseState::Submitted),
        year: None,
        id_number: None,
        q: None,
    };
    let (cases, total) = case::list(&state.db, &user, &filter, page_no, PER_PAGE)
        .await
        .map_err(fail)?;
    let vf = visit::ListFilter {
        case_id: None,
        id_number: None,
        from: None,
        to: None,
        status: Some(visit::Status::Pending),
    };
    let (visits, visits_total) = visit::list(&state.db, &user, &vf, 1, 100)
        .await
        .map_err(fail)?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let evidence = case::evidence_of(&state.db, &user, &ids)
        .await
        .map_err(fail)?;
    let policies: std::collections::HashMap<i64, crate::policy::PolicyView> =
        crate::policy::list(&state.db, None, None)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let t = Tr(lang);
    Ok(render(&ApprovalsPage {
        page: Page::new("approvals.title", Some(user.clone()), "/approvals"),
        cases: cases
            .iter()
            .map(|c| {
                let (groups, entries) = evidence::case_basis(evidence.get(&c.id), lang);
                QueueCase {
                    confirm: format!(
                        "{}#{} {}？",
                        t.get("approvals.confirm_case"),
                        c.id,
                        c.applicant_name
                    ),
                    row: case_row(c, lang),
                    version: c.version,
                    own: c.opened_by.as_ref().is_some_and(|u| u.id == user.id),
                    groups,
                    entries,
                }
            })
            .collect(),
        pager: Pager::new("/approvals", page_no, PER_PAGE, total),
        visits: visits
            .iter()
            .map(|v| QueueVisit {
                row: visit_row(v, &user, lang),
                case_id: v.case_id,
                patient: v.person_name.clone(),
                id_number: fmt::masked_id(&v.id_number),
                breakdown: evidence::breakdown(v, lang),
                formula: evidence::formula(v, v.policy_id.and_then(|id| policies.get(&id)), lang),
                confirm: format!(
                    "{}{} {} {}？",
                    t.get("approvals.confirm_visit"),
                    v.person_name,
                    fmt::money(v.subsidy),
                    t.get("common.yuan")
                ),
                budget: v
                    .budget_level
                    .filter(|l| *l != crate::domain::BudgetLevel::Normal)
                    .map(|l| (budget_class(l), l.label(lang))),
            })
            .collect(),
        visits_total,
    }))
}
