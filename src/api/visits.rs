//! `/api/v1/cases/{id}/visits`, `/api/v1/visits` and `/api/v1/persons/{id_number}/statement`:
//! recording visits, moving their subsidies through approval and payment, and reading them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{AppJson, AppPath, AppQuery};
use super::roster::{XLSX, download};
use super::{PageOf, input, paging};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::domain::subsidy::Costs;
use crate::domain::{IdNumber, Lang, choices};
use crate::error::{AppError, AppResult, Msg, Problems, current_lang};
use crate::state::AppState;
use crate::visit::{
    self, Kind, ListFilter, NewVisit, Recorded, Statement, Status, Transition, VisitDates,
    VisitView,
};

/// `POST /api/v1/cases/{id}/visits`. Amounts are strings of yuan ("1234.50").
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RecordVisitRequest {
    /// A designated hospital.
    pub hospital_id: Option<i64>,
    /// inpatient | outpatient.
    pub kind: Option<String>,
    /// Inpatient: 入院日期.
    pub admitted_on: Option<String>,
    /// Inpatient: 出院日期.
    pub discharged_on: Option<String>,
    /// Outpatient: 就诊日期.
    pub visit_date: Option<String>,
    /// 发票号.
    pub invoice_no: Option<String>,
    /// 总费用.
    pub total_cost: Option<Value>,
    /// 基本医保.
    pub insurance_paid: Option<Value>,
    /// 大病保险.
    pub critical_illness_paid: Option<Value>,
    /// 医疗救助.
    pub medical_assistance_paid: Option<Value>,
}

impl RecordVisitRequest {
    /// Every field checked on its own, each problem reported with its field.
    fn parse(self, today: chrono::NaiveDate) -> AppResult<NewVisit> {
        let mut p = Problems::new();
        if self.hospital_id.is_none() {
            input::missing("hospital_id", "定点医院", &mut p);
        }
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => {
                input::missing(
                    "kind",
                    &format!("就诊类型（{}）", choices::<Kind>(Lang::Zh)),
                    &mut p,
                );
                None
            }
            Some(k) => input::coded::<Kind>("就诊类型", Some(k)).unwrap_or_else(|m| {
                p.push("invalid_kind", "kind", m);
                None
            }),
        };
        let before = p.codes().len();
        let admitted = input::date("admitted_on", self.admitted_on.as_deref(), &mut p);
        let discharged = input::date("discharged_on", self.discharged_on.as_deref(), &mut p);
        let visit_date = input::date("visit_date", self.visit_date.as_deref(), &mut p);
        // A malformed date is reported once, not again as missing.
        let readable = p.codes().len() == before;
        let dates = kind
            .filter(|_| readable)
            .and_then(|k| VisitDates::check(k, admitted, discharged, visit_date, today, &mut p));
        let invoice_no = match self.invoice_no.as_deref() {
            None => {
                input::missing("invoice_no", "发票号", &mut p);
                None
            }
            Some(raw) => visit::normalise_invoice(raw)
                .map_err(|m| p.push("invalid_invoice_no", "invoice_no", m))
                .ok(),
        };
        let total = input::amount("total_cost", "总费用", self.total_cost.as_ref(), &mut p);
        let insurance = input::amount(
            "insurance_paid",
            "基本医保支付",
            self.insurance_paid.as_ref(),
            &mut p,
        );
        let critical = input::amount(
            "critical_illness_paid",
            "大病保险支付",
            self.critical_illness_paid.as_ref(),
            &mut p,
        );
        let assistance = input::amount(
            "medical_assistance_paid",
            "医疗救助支付",
            self.medical_assistance_paid.as_ref(),
            &mut p,
        );
        let costs = match (total, insurance, critical, assistance) {
            (Some(t), Some(i), Some(c), Some(a)) => Costs::new(t, i, c, a)
                .map_err(|e| p.push_err("total_cost", &e))
                .ok(),
            _ => None,
        };
        p.check()?;
        match (self.hospital_id, dates, invoice_no, costs) {
            (Some(hospital_id), Some(dates), Some(invoice_no), Some(costs)) => Ok(NewVisit {
                hospital_id,
                dates,
                invoice_no,
                costs,
            }),
            _ => Err(anyhow::anyhow!("a visit field was neither parsed nor reported").into()),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/visits",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    request_body = RecordVisitRequest,
    responses(
        (status = 201, description = "The visit with its subsidy, policy and the person's annual figures", body = Recorded),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The case is not approved, or the invoice was used", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A rule refused the visit", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/visits`: 201 with the visit, its subsidy, the policy used and the
/// person's annual figures.
pub async fn record_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(case_id): AppPath<i64>,
    AppJson(req): AppJson<RecordVisitRequest>,
) -> AppResult<(StatusCode, Json<Recorded>)> {
    let new = req.parse(user.today())?;
    let recorded = visit::record(&state.db, &user, case_id, new).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/visits/preview",
    tag = "visits",
    params(("id" = i64, Path, description = "The case")),
    request_body = RecordVisitRequest,
    responses(
        (status = 200, description = "What recording this visit would grant; nothing is saved", body = visit::Preview),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The case is not approved, or the invoice is recorded already", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Refused: each problem with its field", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/cases/{id}/visits/preview`: the subsidy a visit would get, before saving it.
pub async fn preview_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(case_id): AppPath<i64>,
    AppJson(req): AppJson<RecordVisitRequest>,
) -> AppResult<Json<visit::Preview>> {
    let new = req.parse(user.today())?;
    Ok(Json(visit::preview(&state.db, &user, case_id, new).await?))
}

/// `?case_id=&id_number=&from=&to=&status=&page=&per_page=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitQuery {
    /// One case.
    pub case_id: Option<i64>,
    /// One person.
    pub id_number: Option<String>,
    /// Counted on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Counted on or before (YYYY-MM-DD).
    pub to: Option<String>,
    /// pending | approved | paid | voided.
    pub status: Option<String>,
    /// Page from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/visits",
    tag = "visits",
    params(VisitQuery),
    responses(
        (status = 200, description = "A page of visits", body = PageOf<VisitView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad filter", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/visits`: newest first, inside the user's region.
pub async fn list_visits(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<VisitQuery>,
) -> AppResult<Json<PageOf<VisitView>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let mut p = Problems::new();
    let id_number = match q
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => IdNumber::parse(raw)
            .map_err(|e| p.push_err("id_number", &e))
            .ok(),
    };
    let from = input::date("from", q.from.as_deref(), &mut p);
    let to = input::date("to", q.to.as_deref(), &mut p);
    let status = input::coded::<Status>("状态", q.status.as_deref()).unwrap_or_else(|m| {
        p.push("invalid_status", "status", m);
        None
    });
    p.check()?;
    let filter = ListFilter {
        case_id: q.case_id,
        id_number,
        from,
        to,
        status,
    };
    let (items, total) = visit::list(&state.db, &user, &filter, page, per_page).await?;
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/visits/{id}",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    responses(
        (status = 200, description = "The visit", body = VisitView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such visit in your region", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/visits/{id}`.
pub async fn get_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<VisitView>> {
    let v = visit::get(&state.db, &user, id).await?;
    let read = Read::new(&user, &source, Action::VisitRead);
    state
        .access_log
        .record(read.person(v.person_id).resource(format!("visit:{id}")))
        .await;
    Ok(Json(v))
}

#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/approve",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    responses(
        (status = 200, description = "The approved subsidy", body = VisitView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such visit in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not pending", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/visits/{id}/approve`: by an approver who did not record the visit.
pub async fn approve_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<VisitView>> {
    Ok(Json(
        visit::transition(&state.db, &user, id, Transition::Approve).await?,
    ))
}

/// `POST /api/v1/visits/{id}/pay`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PayRequest {
    /// Bank transfer or voucher number.
    pub payment_ref: Option<String>,
    /// Date paid (YYYY-MM-DD).
    pub paid_on: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/pay",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    request_body = PayRequest,
    responses(
        (status = 200, description = "The paid subsidy", body = VisitView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such visit in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not approved", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A missing payment reference or date", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/visits/{id}/pay`: by a manager or an administrator.
pub async fn pay_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<PayRequest>,
) -> AppResult<Json<VisitView>> {
    let mut p = Problems::new();
    let payment_ref = input::text(
        "payment_ref",
        "支付凭证号",
        req.payment_ref.as_deref(),
        64,
        &mut p,
    );
    let paid_on = input::required_date("paid_on", "支付日期", req.paid_on.as_deref(), &mut p);
    let today = user.today();
    if let Some(d) = paid_on
        && d > today
    {
        p.push(
            "future_date",
            "paid_on",
            Msg::new(
                format!("支付日期 {d} 晚于今天（{today}）。"),
                format!("paid_on {d} is after today ({today})."),
            ),
        );
    }
    p.check()?;
    let (Some(payment_ref), Some(paid_on)) = (payment_ref, paid_on) else {
        return Err(anyhow::anyhow!("a payment field was neither parsed nor reported").into());
    };
    let t = Transition::Pay {
        payment_ref,
        paid_on,
    };
    Ok(Json(visit::transition(&state.db, &user, id, t).await?))
}

/// `POST /api/v1/visits/{id}/void` and `/reverse`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReasonRequest {
    /// Why.
    pub reason: Option<String>,
    /// Reverse only: the date of the reversal (today when absent).
    pub reversed_on: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/void",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "The voided subsidy", body = VisitView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such visit in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Already paid or voided", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A reason is required", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/visits/{id}/void`: by an approver, before payment.
pub async fn void_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReasonRequest>,
) -> AppResult<Json<VisitView>> {
    let mut p = Problems::new();
    let reason = input::text("reason", "作废原因", req.reason.as_deref(), 500, &mut p);
    p.check()?;
    let reason = reason.unwrap_or_default();
    Ok(Json(
        visit::transition(&state.db, &user, id, Transition::Void { reason }).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/reverse",
    tag = "visits",
    params(("id" = i64, Path, description = "Id")),
    request_body = ReasonRequest,
    responses(
        (status = 201, description = "The reversal entry", body = VisitView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such visit in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not paid, or reversed already", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A reason is required", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/visits/{id}/reverse`: by a manager, once paid; 201 with the reversal entry.
pub async fn reverse_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReasonRequest>,
) -> AppResult<(StatusCode, Json<VisitView>)> {
    let mut p = Problems::new();
    let reason = input::text("reason", "冲销原因", req.reason.as_deref(), 500, &mut p);
    let today = user.today();
    let on = input::date("reversed_on", req.reversed_on.as_deref(), &mut p).unwrap_or(today);
    if on > today {
        p.push(
            "future_date",
            "reversed_on",
            Msg::new(
                format!("冲销日期 {on} 晚于今天（{today}）。"),
                format!("reversed_on {on} is after today ({today})."),
            ),
        );
    }
    p.check()?;
    let entry = visit::reverse(&state.db, &user, id, reason.unwrap_or_default(), on).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// `?year=&format=json|xlsx`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Calendar year (this year when absent).
    pub year: Option<i32>,
    /// json (default) or xlsx.
    pub format: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{person}/statement",
    tag = "visits",
    params(("person" = String, Path, description = "The person's record id (as eligibility answers, cases and visits give it; recommended) or ID number"), StatementQuery),
    responses(
        (status = 200, description = "The year's visits, subsidies and cap left (JSON or .xlsx)",
            content(
                (Statement = "application/json"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such person in your region", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad ID number or year", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/persons/{person}/statement`: a patient's visits, subsidies and cap left in
/// a year. `{person}` is the record id (which keeps the ID number out of addresses) or the ID
/// number.
pub async fn person_statement(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(raw): AppPath<String>,
    AppQuery(q): AppQuery<StatementQuery>,
) -> AppResult<Response> {
    let key = crate::person::PersonKey::parse(&raw)?;
    let today = user.today();
    let year = q.year.unwrap_or(today.year());
    if !(2000..=today.year()).contains(&year) {
        return Err(AppError::field(
            "year",
            &BadYear {
                year,
                max: today.year(),
            },
        ));
    }
    let s = visit::statement(&state.db, &user, &key, year, today).await?;
    let read = Read::new(&user, &source, Action::Statement);
    state
        .access_log
        .record(
            read.person(s.person_id)
                .resource(format!("statement:{year}")),
        )
        .await;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(s).into_response()),
        "xlsx" => {
            let lang = current_lang();
            let bytes = visit::export::statement_xlsx(&s, lang)
                .map_err(|e| anyhow::anyhow!("statement workbook: {e}"))?;
            let name = match lang {
                crate::domain::Lang::Zh => format!("{}_{}年度救助对账单.xlsx", s.name, year),
                crate::domain::Lang::En => format!("statement_{}_{}.xlsx", s.name, year),
            };
            Ok(download(bytes, XLSX, &name))
        }
        other => Err(AppError::field("format", &BadFormat(other.to_owned()))),
    }
}

struct BadYear {
    year: i32,
    max: i32,
}

impl crate::domain::Localized for BadYear {
    fn code(&self) -> &'static str {
        "invalid_year"
    }

    fn message(&self, lang: crate::domain::Lang) -> String {
        match lang {
            crate::domain::Lang::Zh => {
                format!(
                    "年度 {} 无效：请填写2000到{}之间的年份。",
                    self.year, self.max
                )
            }
            crate::domain::Lang::En => format!(
                "year {} is not valid: use a year from 2000 to {}.",
                self.year, self.max
            ),
        }
    }
}

struct BadFormat(String);

impl crate::domain::Localized for BadFormat {
    fn code(&self) -> &'static str {
        "invalid_format"
    }

    fn message(&self, lang: crate::domain::Lang) -> String {
        match lang {
            crate::domain::Lang::Zh => format!("不支持的格式“{}”：可用 json 或 xlsx。", self.0),
            crate::domain::Lang::En => format!("Unknown format '{}': use json or xlsx.", self.0),
        }
    }
}
