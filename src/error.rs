//! The one error type of the HTTP layer and its JSON envelope:
//! `{"error": {"code": "snake_case", "message": "...", "details": [{"field", "message"}]}}`,
//! plus `reasons: [{"code", "message"}]` when the programme's rules refuse a request, and
//! `state`, `current_version`, `allowed` when a record's state stands in the way.
//!
//! Messages exist in Chinese and English; the request's language (set by the `lang` middleware
//! in a task-local) picks one when the response is written.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{Lang, Localized};

tokio::task_local! {
    /// The language of the request being served.
    pub static LANG: Lang;
}

/// The current request's language (Chinese outside a request).
pub fn current_lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Simplified Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Msg {
    /// A message from its two texts.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The message of a domain error.
    pub fn of(e: &dyn Localized) -> Msg {
        Msg::new(e.message(Lang::Zh), e.message(Lang::En))
    }

    /// The text in a language.
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// What a field-level problem looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, such as `password` or `roles`.
    pub field: String,
    /// What to fix.
    pub message: Msg,
}

impl FieldError {
    /// A problem with one field.
    pub fn new(field: impl Into<String>, message: Msg) -> FieldError {
        FieldError {
            field: field.into(),
            message,
        }
    }
}

/// One rule of the programme that a request failed: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Such as `not_on_roster`.
    pub code: &'static str,
    /// What failed, with the facts that made it fail.
    pub message: Msg,
}

impl Reason {
    /// The reason of a domain error.
    pub fn of(e: &dyn Localized) -> Reason {
        Reason {
            code: e.code(),
            message: Msg::of(e),
        }
    }
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request itself is malformed (bad JSON, a bad query string).
    #[error("{code}: {}", message.en)]
    BadRequest { code: &'static str, message: Msg },
    /// 401: no valid login.
    #[error("{code}: {}", message.en)]
    Unauthorized { code: &'static str, message: Msg },
    /// 403: logged in, but the role or region does not allow it.
    #[error("{code}: {}", message.en)]
    Forbidden { code: &'static str, message: Msg },
    /// 404: nothing there (or nothing the user may see).
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// 409: the state changed underneath, or a unique thing already exists.
    #[error("{code}: {}", message.en)]
    Conflict {
        code: &'static str,
        message: Msg,
        details: Vec<FieldError>,
    },
    /// 409: the thing already exists, and the body names it (`existing`) so the caller can go
    /// to it, such as the visit that already has an invoice number.
    #[error("{code}: {}", message.en)]
    Duplicate {
        code: &'static str,
        message: Msg,
        details: Vec<FieldError>,
        existing: serde_json::Value,
    },
    /// 413: the body is larger than allowed.
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    /// 415: not JSON where JSON is expected.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed, but the values break a rule.
    #[error("{code}: {}", message.en)]
    Unprocessable {
        code: &'static str,
        message: Msg,
        details: Vec<FieldError>,
    },
    /// 422: the programme's rules refuse the request (a patient who is not eligible); every
    /// failed rule is one of `reasons`, so the clerk sees all that stands in the way at once.
    #[error("{code}: {}", message.en)]
    Refused {
        code: &'static str,
        message: Msg,
        reasons: Vec<Reason>,
        details: Vec<FieldError>,
    },
    /// 409: a record changed since the client read it, or its state does not allow the
    /// action. The body says where the record stands (state, version, the actions still
    /// allowed), so the client can reload or offer what remains.
    #[error("{code}: {}", message.en)]
    StateConflict {
        code: &'static str,
        message: Msg,
        state: String,
        version: i32,
        allowed: Vec<String>,
    },
    /// 429: slowed down (too many failed logins).
    #[error("{code}: {}", message.en)]
    TooManyRequests {
        code: &'static str,
        message: Msg,
        /// Seconds until trying again makes sense, sent as `Retry-After`.
        retry_after: Option<u32>,
    },
    /// 503: the service cannot answer now, but will soon (the database is busy, the request
    /// took too long); `Retry-After` says when to try again, when it is known.
    #[error("{code}: {}", message.en)]
    Unavailable {
        code: &'static str,
        message: Msg,
        retry_after: Option<u32>,
    },
    /// 500: a database failure; logged, never shown. (A busy SQLite becomes `Unavailable`:
    /// see the `From<DbErr>` below.)
    #[error(transparent)]
    Db(sea_orm::DbErr),
    /// 500: anything else unexpected; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of a handler or service.
pub type AppResult<T> = Result<T, AppError>;

/// Seconds a client is asked to wait before trying again when the database was busy: long
/// enough for the short writes queued before it, and a roster import rarely holds SQLite's
/// write lock for more than a few seconds a hundred thousand rows.
pub const BUSY_RETRY_AFTER_SECONDS: u32 = 5;

impl From<sea_orm::DbErr> for AppError {
    /// Every database error of a request passes here: a write that waited its bounded time for
    /// SQLite's write lock (`CANCER_AID_SQLITE_BUSY_SECONDS`), or a request that found no free
    /// connection in the pool, is the service being busy, not broken, and says so with 503
    /// and `Retry-After`; anything else is a 500.
    fn from(e: sea_orm::DbErr) -> AppError {
        if is_busy(&e) {
            tracing::warn!(error = %e, "database busy");
            AppError::busy()
        } else {
            AppError::Db(e)
        }
    }
}

/// Whether the database refused because another connection holds a lock (SQLITE_BUSY or
/// SQLITE_LOCKED, with their extended codes), or the pool had no connection to give in time.
pub fn is_busy(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(x))
        | DbErr::Exec(RuntimeErr::SqlxError(x))
        | DbErr::Query(RuntimeErr::SqlxError(x)) => match x.as_ref() {
            sea_orm::sqlx::Error::Database(d) => {
                // Only SQLite's codes: PostgreSQL's are SQLSTATEs, which may be digits too.
                d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                    .is_some()
                    && d.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
            }
            sea_orm::sqlx::Error::PoolTimedOut => true,
            _ => false,
        },
        _ => false,
    }
}

/// SQLite's primary result codes for "another connection holds the lock"; the extended codes
/// (SQLITE_BUSY_SNAPSHOT, ...) carry them in their low byte.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

impl AppError {
    /// 422 for one field, from a domain error.
    pub fn field(field: &str, e: &dyn Localized) -> AppError {
        AppError::Unprocessable {
            code: e.code(),
            message: Msg::of(e),
            details: vec![FieldError::new(field, Msg::of(e))],
        }
    }

    /// 422 with several field problems.
    pub fn validation(details: Vec<FieldError>) -> AppError {
        // The fields by their words, each once, in the order of the problems.
        let named = |lang: Lang| {
            let mut seen: Vec<&str> = Vec::new();
            for d in &details {
                let l = crate::fields::label(&d.field, lang);
                if !seen.contains(&l) {
                    seen.push(l);
                }
            }
            seen.join(lang.pick("、", ", "))
        };
        AppError::Unprocessable {
            code: "validation_failed",
            message: Msg::new(
                format!("请检查以下各项：{}", named(Lang::Zh)),
                format!("Please correct: {}", named(Lang::En)),
            ),
            details,
        }
    }

    /// 404 for an entity and its id.
    pub fn not_found(entity: &'static str, id: impl ToString) -> AppError {
        AppError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// 403 for a missing role or a region outside the user's scope.
    pub fn forbidden(message: Msg) -> AppError {
        AppError::Forbidden {
            code: "forbidden",
            message,
        }
    }

    /// 503 `database_busy`: the database is held by a longer write (a roster import on SQLite).
    pub fn busy() -> AppError {
        AppError::Unavailable {
            code: "database_busy",
            message: Msg::new(
                format!(
                    "系统正忙（可能正在导入名册），本次操作未完成，请{BUSY_RETRY_AFTER_SECONDS}秒后重试。"
                ),
                format!(
                    "The service is busy (a roster import may be running) and did not complete this request; try again in {BUSY_RETRY_AFTER_SECONDS} seconds."
                ),
            ),
            retry_after: Some(BUSY_RETRY_AFTER_SECONDS),
        }
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: Msg) -> AppError {
        AppError::Conflict {
            code,
            message,
            details: vec![],
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. }
            | AppError::Duplicate { .. }
            | AppError::StateConflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable { .. } | AppError::Refused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Db(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What to tell the person, in both languages.
    pub fn message(&self) -> Msg {
        self.code_and_message().1
    }

    /// The stable code a program reads (`not_found`, `role_required`, ...).
    pub fn code(&self) -> &'static str {
        self.code_and_message().0
    }

    fn code_and_message(&self) -> (&'static str, Msg) {
        match self {
            AppError::BadRequest { code, message }
            | AppError::Unauthorized { code, message }
            | AppError::Forbidden { code, message }
            | AppError::Conflict { code, message, .. }
            | AppError::Duplicate { code, message, .. }
            | AppError::Unprocessable { code, message, .. }
            | AppError::Refused { code, message, .. }
            | AppError::StateConflict { code, message, .. }
            | AppError::TooManyRequests { code, message, .. }
            | AppError::Unavailable { code, message, .. } => (code, message.clone()),
            AppError::NotFound { entity, id } => (
                "not_found",
                Msg::new(
                    format!("未找到{}（{id}），或您无权查看。", entity_zh(entity)),
                    format!("{entity} {id} was not found, or is outside your scope."),
                ),
            ),
            AppError::PayloadTooLarge { limit } => (
                "payload_too_large",
                Msg::new(
                    format!("提交的内容过大，上限为{}。", human_bytes(*limit)),
                    format!(
                        "The request body is too large; the limit is {}.",
                        human_bytes(*limit)
                    ),
                ),
            ),
            AppError::UnsupportedMediaType => (
                "unsupported_media_type",
                Msg::new(
                    "请以 JSON 提交（Content-Type: application/json）。",
                    "Send the body as JSON (Content-Type: application/json).",
                ),
            ),
            AppError::Db(_) | AppError::Internal(_) => (
                "internal_error",
                Msg::new(
                    "服务器内部错误，已记录，请稍后重试或联系管理员。",
                    "An internal error occurred and was logged; try again or contact the administrator.",
                ),
            ),
        }
    }
}

fn entity_zh(entity: &str) -> &'static str {
    match entity {
        "user" => "用户",
        "case" => "案件",
        "visit" => "就诊记录",
        "person" => "人员",
        "hospital" => "医院",
        "policy" => "救助政策",
        "roster_import" => "导入批次",
        "route" => "页面或接口",
        _ => "记录",
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} B")
    }
}

/// Every error answer: the type that is serialised is the one the API description shows.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorEnvelope)]
pub struct Envelope<'a> {
    /// The error.
    error: Body<'a>,
}

/// The body of an error.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
struct Body<'a> {
    /// A stable snake_case code, such as `validation_failed`.
    #[schema(example = "validation_failed")]
    code: &'a str,
    /// What went wrong and what to do, for people, in the request's language.
    message: &'a str,
    /// One entry per field at fault (422, some 409s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    details: Vec<Detail<'a>>,
    /// On a 409 `duplicate_*`: the record that already holds the value, as far as the user may
    /// see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, required = false)]
    existing: Option<&'a serde_json::Value>,
    /// On a refusal (such as `not_eligible`): every rule that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    reasons: Option<Vec<ReasonBody<'a>>>,
    /// On a 409 about a state: the record's state now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    state: Option<&'a str>,
    /// On a 409 about a state or version: the version to name in the next change.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    current_version: Option<i32>,
    /// On a 409 about a state: the actions the state allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, required = false)]
    allowed: Option<&'a [String]>,
}

/// One failed rule of a refusal.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorReason)]
struct ReasonBody<'a> {
    /// Stable code.
    code: &'a str,
    /// In the request's language.
    message: &'a str,
}

/// A problem with one request field.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
struct Detail<'a> {
    /// The field, such as `from` or `group_by`.
    field: &'a str,
    /// What to fix.
    message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A busy database or a request past its time limit is logged where it happens, as a
        // warning: it is load, not a fault.
        if status.is_server_error() && !matches!(self, AppError::Unavailable { .. }) {
            tracing::error!(error = ?self, "request failed");
        }
        let lang = current_lang();
        let (code, message) = self.code_and_message();
        let details = match &self {
            AppError::Conflict { details, .. }
            | AppError::Duplicate { details, .. }
            | AppError::Unprocessable { details, .. }
            | AppError::Refused { details, .. } => details.as_slice(),
            _ => &[],
        };
        let reasons = match &self {
            AppError::Refused { reasons, .. } => Some(
                reasons
                    .iter()
                    .map(|r| ReasonBody {
                        code: r.code,
                        message: r.message.get(lang),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let (state, current_version, allowed) = match &self {
            AppError::StateConflict {
                state,
                version,
                allowed,
                ..
            } => (
                Some(state.as_str()),
                Some(*version),
                Some(allowed.as_slice()),
            ),
            _ => (None, None, None),
        };
        let body = Envelope {
            error: Body {
                code,
                message: message.get(lang),
                details: details
                    .iter()
                    .map(|d| Detail {
                        field: &d.field,
                        message: d.message.get(lang),
                    })
                    .collect(),
                existing: match &self {
                    AppError::Duplicate { existing, .. } => Some(existing),
                    _ => None,
                },
                reasons,
                state,
                current_version,
                allowed,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let AppError::Unavailable {
            retry_after: Some(secs),
            ..
        }
        | AppError::TooManyRequests {
            retry_after: Some(secs),
            ..
        } = &self
        {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*secs).into());
        }
        res
    }
}

/// Field problems gathered before answering, each with its stable code, so a request with
/// several mistakes hears about all of them at once: one problem answers 422 with its own
/// code, several with `validation_failed` and every field in `details`.
#[derive(Debug, Default)]
pub struct Problems(Vec<(&'static str, FieldError)>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Problems {
        Problems::default()
    }

    /// Adds a problem with a field.
    pub fn push(&mut self, code: &'static str, field: &str, message: Msg) {
        self.0.push((code, FieldError::new(field, message)));
    }

    /// Adds a domain error as a problem with a field.
    pub fn push_err(&mut self, field: &str, e: &dyn Localized) {
        self.push(e.code(), field, Msg::of(e));
    }

    /// The codes so far, in order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|(c, _)| *c).collect()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when there are none, else the 422 that lists them.
    pub fn check(self) -> AppResult<()> {
        let mut all = self.0;
        match all.len() {
            0 => Ok(()),
            1 => {
                let (code, detail) = all.remove(0);
                Err(AppError::Unprocessable {
                    code,
                    message: detail.message.clone(),
                    details: vec![detail],
                })
            }
            _ => Err(AppError::validation(
                all.into_iter().map(|(_, d)| d).collect(),
            )),
        }
    }
}
