//! Payee details of a case and payment batches (发放批次): thin handlers over
//! `crate::payment`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::extract::{AppJson, AppPath, AppQuery};
use super::roster::{XLSX, download_file};
use super::{PageOf, input, paging};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::domain::{AccountNumber, Group, RegionPrefix};
use crate::error::{AppError, AppResult, FieldError, Msg, Problems};
use crate::payment::layout::FileKind;
use crate::payment::{
    self, BatchDetail, BatchFilter, BatchState, BatchView, Drafted, Move, PayeeInput, PayeeView,
};
use crate::state::AppState;
use entity::case_payee::{AccountKind, Holder};

/// The body of `PATCH /api/v1/cases/{id}/payee`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PayeeRequest {
    /// patient | spouse | family | proxy.
    pub holder: Option<String>,
    /// The account holder's name as the bank has it.
    pub payee_name: Option<String>,
    /// bank_card | bank_account | social_security_card.
    pub account_kind: Option<String>,
    /// 开户行.
    pub bank_name: Option<String>,
    /// The account number (spaces and hyphens are dropped).
    pub account_no: Option<String>,
    /// The version read; required when the case already has payee details.
    pub version: Option<i32>,
}

impl PayeeRequest {
    fn parse(self) -> AppResult<PayeeInput> {
        let mut p = Problems::new();
        let holder = required_code::<Holder>("holder", "收款人身份", self.holder, &mut p);
        let kind =
            required_code::<AccountKind>("account_kind", "账户类型", self.account_kind, &mut p);
        let payee_name = input::text(
            "payee_name",
            "收款人姓名",
            self.payee_name.as_deref(),
            50,
            &mut p,
        );
        let bank_name = input::text(
            "bank_name",
            "开户行",
            self.bank_name.as_deref(),
            100,
            &mut p,
        );
        let account_no = kind.and_then(|k| {
            AccountNumber::parse(k, self.account_no.as_deref().unwrap_or_default())
                .map_err(|e| p.push_err("account_no", &e))
                .ok()
        });
        p.check()?;
        match (holder, kind, payee_name, bank_name, account_no) {
            (Some(holder), Some(account_kind), Some(payee_name), Some(bank_name), Some(no)) => {
                Ok(PayeeInput {
                    holder,
                    payee_name,
                    account_kind,
                    bank_name,
                    account_no: no,
                    version: self.version,
                })
            }
            _ => Err(anyhow::anyhow!("payee fields checked but missing").into()),
        }
    }
}

/// A required state-like field: missing or unknown is a problem on the field.
fn required_code<T: entity::Coded + crate::domain::Label>(
    field: &str,
    what_zh: &str,
    raw: Option<String>,
    p: &mut Problems,
) -> Option<T> {
    match input::coded::<T>(what_zh, raw.as_deref()) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            input::missing(field, what_zh, p);
            None
        }
        Err(m) => {
            p.push("invalid_choice", field, m);
            None
        }
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/cases/{id}/payee",
    tag = "payments",
    params(("id" = i64, Path, description = "Case id")),
    request_body = PayeeRequest,
    responses(
        (status = 200, description = "The payee details, the account number masked", body = PayeeView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The details changed since they were read (`payee_stale`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `PATCH /api/v1/cases/{id}/payee`: how the case's subsidies are paid (收款信息).
pub async fn set_payee(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<PayeeRequest>,
) -> AppResult<Json<PayeeView>> {
    let input = req.parse()?;
    Ok(Json(payment::set_payee(&state.db, &user, id, input).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/payee",
    tag = "payments",
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case's payee details (null until given), the account number masked", body = CasePayee),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such case in your region", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/cases/{id}/payee`.
pub async fn get_payee(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<CasePayee>> {
    let payee = payment::payee_of(&state.db, &user, id).await?;
    Ok(Json(CasePayee { case_id: id, payee }))
}

/// A case's payee details, if any.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CasePayee {
    /// The case.
    pub case_id: i64,
    /// How it is paid; null until given.
    pub payee: Option<PayeeView>,
}

/// The body of `POST /api/v1/payment-batches`: which subsidies to take.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DraftRequest {
    /// First day the visits count on (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD).
    pub to: Option<String>,
    /// A region inside your scope (default: your scope).
    pub region: Option<String>,
    /// One group only (code or Chinese name).
    pub group: Option<String>,
    /// One hospital only.
    pub hospital_id: Option<i64>,
}

impl DraftRequest {
    fn parse(self, user: &CurrentUser) -> AppResult<BatchFilter> {
        let mut p = Problems::new();
        let from = input::required_date("from", "起始日期", self.from.as_deref(), &mut p);
        let to = input::required_date("to", "截止日期", self.to.as_deref(), &mut p);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            p.push(
                "invalid_period",
                "to",
                Msg::new(
                    "截止日期早于起始日期：请调换。",
                    "The last day is before the first: swap them.",
                ),
            );
        }
        let region = match self
            .region
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(user.region.clone()),
            Some(r) => match RegionPrefix::parse(r) {
                Ok(r) if user.region.covers(&r) => Some(r),
                Ok(_) => {
                    p.push(
                        "region_outside_scope",
                        "region",
                        Msg::new(
                            format!("地区 {r} 不在您的数据范围（{}）内。", user.region),
                            format!("Region {r} is outside your scope ({}).", user.region),
                        ),
                    );
                    None
                }
                Err(e) => {
                    p.push_err("region", &e);
                    None
                }
            },
        };
        let group = match self
            .group
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(g) => Group::parse(g).map_err(|e| p.push_err("group", &e)).ok(),
        };
        p.check()?;
        match (from, to, region) {
            (Some(from), Some(to), Some(region)) => Ok(BatchFilter {
                from,
                to,
                region,
                group,
                hospital_id: self.hospital_id,
            }),
            _ => Err(anyhow::anyhow!("draft fields checked but missing").into()),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches",
    tag = "payments",
    request_body = DraftRequest,
    responses(
        (status = 201, description = "The drafted batch with its control totals", body = Drafted),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad filter, or nothing to pay (`nothing_to_pay`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches`: drafts a batch from approved, unpaid subsidies.
pub async fn draft_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<DraftRequest>,
) -> AppResult<(StatusCode, Json<Drafted>)> {
    let filter = req.parse(&user)?;
    let drafted = payment::draft(&state.db, &user, filter).await?;
    Ok((StatusCode::CREATED, Json(drafted)))
}

/// `?state=&page=&per_page=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchListQuery {
    /// draft | approved | exported | reconciled | cancelled.
    pub state: Option<String>,
    /// Page (from 1).
    pub page: Option<u64>,
    /// Rows per page (at most 500).
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches",
    tag = "payments",
    params(BatchListQuery),
    responses(
        (status = 200, description = "A page of batches, newest first", body = PageOf<BatchView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches`: the batches of your region.
pub async fn list_batches(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<BatchListQuery>,
) -> AppResult<Json<PageOf<BatchView>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let batch_state = input::coded::<BatchState>("状态", q.state.as_deref())
        .map_err(|m| AppError::validation(vec![FieldError::new("state", m)]))?;
    let (items, total) = payment::list(&state.db, &user, batch_state, page, per_page).await?;
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}

/// `?page=&per_page=` of a batch's lines.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinesQuery {
    /// Page of lines (from 1).
    pub page: Option<u64>,
    /// Lines per page (at most 500).
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches/{id}",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id"), LinesQuery),
    responses(
        (status = 200, description = "The batch, its control totals and a page of its lines", body = BatchDetail),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches/{id}`.
pub async fn get_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<LinesQuery>,
) -> AppResult<Json<BatchDetail>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    Ok(Json(
        payment::get(&state.db, &user, id, page, per_page).await?,
    ))
}

/// The body of approve and cancel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchMoveRequest {
    /// The version the client read.
    pub version: i32,
    /// Why (required to cancel).
    pub reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches/{id}/approve",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = BatchMoveRequest,
    responses(
        (status = 200, description = "The approved batch", body = BatchView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager, or the one who drafted it (`own_batch`)", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not a draft, or changed since read", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches/{id}/approve`: by a second manager.
pub async fn approve_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<BatchMoveRequest>,
) -> AppResult<Json<BatchView>> {
    Ok(Json(
        payment::decide(&state.db, &user, id, req.version, Move::Approve).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches/{id}/cancel",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = BatchMoveRequest,
    responses(
        (status = 200, description = "The cancelled batch; its subsidies are payable again", body = BatchView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Exported already, or changed since read", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches/{id}/cancel`: before export, with a reason.
pub async fn cancel_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<BatchMoveRequest>,
) -> AppResult<Json<BatchView>> {
    let mut p = Problems::new();
    let reason = input::text("reason", "取消原因", req.reason.as_deref(), 500, &mut p);
    p.check()?;
    let reason = reason.ok_or_else(|| anyhow::anyhow!("reason checked but missing"))?;
    Ok(Json(
        payment::decide(&state.db, &user, id, req.version, Move::Cancel { reason }).await?,
    ))
}

/// `?layout=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The bank file layout: fixed_gbk, delimited_utf8 or xlsx (docs/payments.md).
    pub layout: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches/{id}/export",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id"), ExportQuery),
    responses(
        (status = 200, description = "The bank file: a text file in the layout's encoding, or a workbook. The first \
            download exports the batch (approved → exported) and keeps the file's SHA-256 (sent as `X-Content-SHA256`); \
            a later download in the same layout gives the same bytes",
            content(
                (String = "text/plain"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not approved, or exported in another layout", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "An unknown layout, or a value the layout cannot hold (`bank_file_invalid`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches/{id}/export?layout=`: the bank file, with full account
/// numbers; every download is in the access log.
pub async fn export_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> AppResult<Response> {
    let name = q.layout.as_deref().map(str::trim).unwrap_or("fixed_gbk");
    let file = payment::export(&state.db, &user, id, name).await?;
    let read = Read::new(&user, &source, Action::Export);
    state
        .access_log
        .record(read.resource(format!("payment_batch:{id}:{name}")))
        .await;
    let content_type = match file.kind {
        FileKind::Text => "text/plain",
        FileKind::Xlsx => XLSX,
    };
    let mut res = download_file(file.file, content_type, &file.file_name);
    if let Ok(v) = file.sha256.parse() {
        res.headers_mut().insert("x-content-sha256", v);
    }
    Ok(res)
}
