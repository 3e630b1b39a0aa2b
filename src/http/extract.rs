//! Extractors that turn every kind of bad request into the JSON error envelope, and the
//! logged-in user (who may use a route is the route table's rule: `crate::access`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::access_log::Source;
use crate::auth::CurrentUser;
use crate::auth::session::{Authenticated, Stage};
use crate::error::{AppError, FieldError, Msg};
use crate::security::Transport;
use crate::state::AppState;

/// The cookie that carries the session in the browser (over HTTPS it is
/// [`crate::security::SECURE_SESSION_COOKIE`]).
pub use crate::security::SESSION_COOKIE;

/// JSON body whose rejections use the error envelope.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(AppJson(v)),
            Err(r) => Err(json_rejection(r, state.settings.max_json_bytes)),
        }
    }
}

fn json_rejection(r: JsonRejection, limit: usize) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
        JsonRejection::JsonDataError(e) => wrong_type(&e.body_text()),
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest {
            code: "malformed_json",
            message: Msg::new(
                format!("请求内容不是有效的 JSON：{}", e.body_text()),
                format!("The body is not valid JSON: {}", e.body_text()),
            ),
        },
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge { limit }
        }
        other => AppError::BadRequest {
            code: "bad_request",
            message: Msg::new(
                format!("无法读取请求内容：{}", other.body_text()),
                format!("The request body could not be read: {}", other.body_text()),
            ),
        },
    }
}

/// A body whose field is missing or of the wrong type, said on that field in words: serde's
/// own text (a Rust type, a line and column) means nothing to the person at the form.
fn wrong_type(serde_text: &str) -> AppError {
    let text = serde_text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(serde_text);
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    };
    let (path, rest) = match text.split_once(": ") {
        Some((p, r)) if is_path(p) => (p, r),
        _ => ("", text),
    };
    let missing = rest
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next());
    let path = missing.map_or(path.to_owned(), |m| {
        if path.is_empty() {
            m.to_owned()
        } else {
            format!("{path}.{m}")
        }
    });
    // The field's own name: the last segment of the path, without an index.
    let leaf = path
        .rsplit('.')
        .next()
        .unwrap_or("")
        .split('[')
        .next()
        .unwrap_or("");
    let (zh, en) = (
        crate::fields::label(leaf, crate::domain::Lang::Zh),
        crate::fields::label(leaf, crate::domain::Lang::En),
    );
    let expected = rest.split("expected ").nth(1).unwrap_or("");
    let (want_zh, want_en) = if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "integer",
    ]
    .iter()
    .any(|t| expected.starts_with(t))
    {
        ("整数", "a whole number")
    } else if expected.starts_with("a string") || expected.starts_with("string") {
        ("文字", "text")
    } else if expected.starts_with("a boolean") {
        ("是或否（true / false）", "true or false")
    } else if expected.starts_with("a sequence") {
        ("列表", "a list")
    } else {
        ("有效的值", "a valid value")
    };
    let message = if missing.is_some() {
        Msg::new(format!("请填写{zh}。"), format!("{en} is required."))
    } else {
        Msg::new(
            format!("{zh}的值不对：应为{want_zh}。"),
            format!("{en}: expected {want_en}."),
        )
    };
    let field = if path.is_empty() {
        "body".to_owned()
    } else {
        path
    };
    AppError::Unprocessable {
        code: "invalid_body",
        message: message.clone(),
        details: vec![crate::error::FieldError::new(field, message)],
    }
}

/// JSON body checked with `validator` before the handler sees it.
pub struct ValidatedJson<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest<AppState> for ValidatedJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let AppJson(v) = AppJson::<T>::from_request(req, state).await?;
        v.validate().map_err(validation_error)?;
        Ok(ValidatedJson(v))
    }
}

/// Turns `validator`'s errors into field details in both languages.
pub fn validation_error(errors: ValidationErrors) -> AppError {
    let mut details = Vec::new();
    collect(&errors, "", &mut details);
    AppError::validation(details)
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::new(path.clone(), describe(e)));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> Msg {
    let param = |k: &str| e.params.get(k).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => Msg::new(
                format!("长度须在{min}到{max}个字符之间。"),
                format!("Must have {min} to {max} characters."),
            ),
            (Some(min), None) if min == "1" => Msg::new("必填。", "Required."),
            (Some(min), None) => Msg::new(
                format!("至少{min}个字符。"),
                format!("Must have at least {min} characters."),
            ),
            (None, Some(max)) => Msg::new(
                format!("最多{max}个字符。"),
                format!("Must have at most {max} characters."),
            ),
            _ => Msg::new("长度不符合要求。", "Wrong length."),
        },
        "range" => Msg::new(
            format!(
                "须在{}到{}之间。",
                param("min").unwrap_or_default(),
                param("max").unwrap_or_default()
            ),
            format!(
                "Must be between {} and {}.",
                param("min").unwrap_or_default(),
                param("max").unwrap_or_default()
            ),
        ),
        _ => {
            let text = e
                .message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| e.code.to_string());
            Msg::new(text.clone(), text)
        }
    }
}

/// Query string whose rejections use the error envelope and name the parameter at fault: a
/// `page` or `per_page` that is not a whole number (`page=abc`, `page=-1`, a number past
/// u64) is the same 422 as one out of range, with the allowed range; any other parameter of
/// the wrong type is a 400 `invalid_query` that names it.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // axum's `Query` says what was wrong but not where: the path tracker says where.
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(AppQuery)
            .map_err(query_error)
    }
}

fn query_error(e: serde_path_to_error::Error<serde_urlencoded::de::Error>) -> AppError {
    let field = e.path().to_string();
    if field == "page" || field == "per_page" {
        return super::paging_error(&[field.as_str()]);
    }
    let inner = e.into_inner();
    let (zh, en) = if field == "." {
        (
            format!("查询参数有误：{inner}"),
            format!("The query string is not valid: {inner}"),
        )
    } else {
        (
            format!("查询参数 {field} 有误：{inner}"),
            format!("The query parameter {field} is not valid: {inner}"),
        )
    };
    AppError::BadRequest {
        code: "invalid_query",
        message: Msg::new(zh, en),
    }
}

/// A path parameter, such as a record's id, whose rejection uses the error envelope: a
/// segment that is not a number (`/cases/abc`, or one past i64) names no record, so it is the
/// same 404 as an id that does not exist, never a 500 nor a plain-text 400.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(AppPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(AppError::not_found("route", parts.uri.path()))
            }
            Err(other) => Err(AppError::Internal(anyhow::anyhow!(
                "path parameters: {}",
                other.body_text()
            ))),
        }
    }
}

/// The session token of a request: a bearer token, or the browser's cookie under the name it
/// has on the request's transport (a `__Host-` cookie over HTTPS, so that a cookie planted
/// over plain HTTP is never read).
pub fn token_of(headers: &HeaderMap, transport: Transport) -> Option<String> {
    let cookie = transport.session_cookie();
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    crate::security::cookie(headers, cookie).map(str::to_owned)
}

/// The session of a request at whatever stage of its login: only the routes that finish a
/// login (second factor, enrolment) take it; everything else takes [`CurrentUser`], which
/// refuses a session that has not finished.
#[derive(Debug, Clone)]
pub struct LoginSession(pub Authenticated);

impl FromRequestParts<AppState> for LoginSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(found) = parts.extensions.get::<LoginSession>() {
            return Ok(found.clone());
        }
        let Some(token) = token_of(&parts.headers, Transport::of(&parts.extensions)) else {
            return Err(AppError::Unauthorized {
                code: "authentication_required",
                message: Msg::new(
                    "请先登录（请求需携带 Authorization: Bearer 令牌）。",
                    "Log in first: send Authorization: Bearer <token>.",
                ),
            });
        };
        match state
            .sessions
            .lookup(&state.db, &token, state.clock.now())
            .await?
        {
            Some(found) => {
                let found = LoginSession(found);
                parts.extensions.insert(found.clone());
                Ok(found)
            }
            None => Err(AppError::Unauthorized {
                code: "invalid_token",
                message: Msg::new(
                    "登录已失效或令牌无效，请重新登录。",
                    "The session has expired or the token is not valid; log in again.",
                ),
            }),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let LoginSession(found) = LoginSession::from_request_parts(parts, state).await?;
        match found.stage {
            Stage::Full => Ok(found.user),
            Stage::SecondFactor => Err(AppError::Unauthorized {
                code: "second_factor_required",
                message: Msg::new(
                    "请先输入手机上的动态验证码完成登录（POST /api/v1/auth/second-factor）。",
                    "Finish the login with the code from your phone first \
                     (POST /api/v1/auth/second-factor).",
                ),
            }),
            Stage::Enrol => Err(AppError::Unauthorized {
                code: "second_factor_enrolment_required",
                message: Msg::new(
                    "您的账号必须使用动态验证码：请先绑定手机验证器，再继续。",
                    "Your account must use a second factor: enrol an authenticator app first.",
                ),
            }),
        }
    }
}

/// Where a request came from, for the access log: the matched route (never the address, which
/// may hold an ID number) and the client's address, behind a trusted proxy the one it forwards
/// (`security::proxy::client_addr`, applied by `security::guard`).
impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map_or_else(String::new, |m| m.as_str().to_owned());
        let client = Transport::of(&parts.extensions)
            .client
            .or_else(|| {
                // A router served without the guard (none is, but the address is still known).
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        Ok(Source { route, client })
    }
}

/// The client of a request, as a session records it.
pub fn client_info(
    source: &Source,
    headers: &axum::http::HeaderMap,
) -> crate::auth::session::ClientInfo {
    crate::auth::session::ClientInfo::new(
        source.client.clone(),
        headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    )
}
