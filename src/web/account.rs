//! The user's own account: their sessions (ended with a click), and their second factor
//! (enrolment by QR code, recovery codes shown once); and the login step that asks for the
//! code. Plain HTML forms posting to these pages, which call the same domain functions as the
//! API (`auth::session`, `auth::second_factor`).

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::i18n::Texts;
use super::{
    NextQuery, Page, WebUser, app_error_page, fmt, render, render_status, safe_next, url_escape,
};
use crate::access_log::Source;
use crate::auth::session::{self, Limits, Stage};
use crate::auth::{CurrentUser, second_factor};
use crate::error::{AppError, current_lang};
use crate::http::extract::{LoginSession, client_info};
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("nav.account", "我的账号", "My account"),
    ("account.title", "我的账号", "My account"),
    ("account.sessions", "我的登录", "My sessions"),
    (
        "account.sessions_hint",
        "下面是您现在仍然有效的登录。不认识的登录请立即结束，并请管理员重置密码。",
        "These are your sessions that are still live. End any you do not recognise and ask an administrator to reset your password.",
    ),
    ("account.logged_in_at", "登录时间", "Logged in"),
    ("account.last_seen", "最近使用", "Last used"),
    ("account.expires", "最晚失效", "Ends at the latest"),
    ("account.client", "地址", "Address"),
    ("account.browser", "浏览器", "Browser"),
    ("account.this_one", "当前登录", "This session"),
    ("account.end", "结束", "End"),
    (
        "account.pending",
        "密码已通过，未输入验证码",
        "Password right, code not given",
    ),
    (
        "account.second_factor",
        "动态验证码（两步验证）",
        "Second factor (TOTP)",
    ),
    (
        "account.second_factor_on",
        "已启用。登录时除密码外还要输入手机验证器上的6位数字。剩余恢复码：",
        "On. Logging in asks for the 6 digits of your authenticator app besides the password. Recovery codes left:",
    ),
    (
        "account.second_factor_off",
        "未启用。启用后，即使密码泄露，别人也无法登录。",
        "Off. With it, a stolen password alone cannot log in.",
    ),
    (
        "account.enrol",
        "绑定手机验证器",
        "Enrol an authenticator app",
    ),
    (
        "enrol.title",
        "绑定手机验证器",
        "Enrol an authenticator app",
    ),
    (
        "enrol.required",
        "您的账号负责审批、资金或系统管理，必须使用动态验证码。请先完成绑定。",
        "Your account decides money or data and must use a second factor: enrol first.",
    ),
    (
        "enrol.start_hint",
        "需要一部装有验证器应用的手机（如 Microsoft Authenticator、Google 身份验证器、FreeOTP）。",
        "You need a phone with an authenticator app (Microsoft Authenticator, Google Authenticator, FreeOTP, ...).",
    ),
    ("enrol.start", "生成二维码", "Show the QR code"),
    (
        "enrol.scan",
        "用验证器应用扫描二维码（或手动输入下面的密钥），然后输入应用显示的6位数字。",
        "Scan the QR code with the app (or type the key below), then enter the 6 digits it shows.",
    ),
    ("enrol.secret", "密钥", "Key"),
    ("enrol.code", "6位数字", "6 digits"),
    ("enrol.confirm", "确认绑定", "Confirm"),
    ("enrol.done", "已启用动态验证码", "The second factor is on"),
    (
        "enrol.codes_hint",
        "下面是10个恢复码，每个只能用一次，用于手机丢失时登录。请现在抄写或打印并妥善保管：离开本页后不再显示。",
        "These ten recovery codes each log in once without the phone. Write them down or print them now: they are not shown again.",
    ),
    ("enrol.continue", "继续", "Continue"),
    (
        "enrol.already",
        "您的账号已经启用了动态验证码。",
        "Your account already uses a second factor.",
    ),
    ("second_factor.title", "输入动态验证码", "Enter your code"),
    (
        "second_factor.hint",
        "密码正确。请输入手机验证器上显示的6位数字；手机不在身边时可输入一个恢复码。",
        "The password is right. Enter the 6 digits your authenticator app shows, or a recovery code if the phone is not at hand.",
    ),
    (
        "second_factor.code",
        "动态验证码或恢复码",
        "Code or recovery code",
    ),
    ("second_factor.submit", "登录", "Log in"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/login/second-factor",
            get(second_factor_form).post(second_factor_submit),
        )
        .route("/account", get(account))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/second-factor", get(enrol_page))
        .route("/account/second-factor/start", post(enrol_start))
        .route("/account/second-factor/confirm", post(enrol_confirm))
}

/// A session at a given stage of its login; anyone else goes to the login page.
struct Pending(CurrentUser, Stage);

impl FromRequestParts<AppState> for Pending {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match LoginSession::from_request_parts(parts, state).await {
            Ok(LoginSession(found)) => Ok(Pending(found.user, found.stage)),
            Err(_) => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// Where a finished step of the login goes next.
fn next_of(q: &NextQuery) -> String {
    safe_next(q.next.as_deref()).to_owned()
}

// ---- the login's second step ----

#[derive(Template)]
#[template(path = "account/second_factor.html")]
struct SecondFactorPage {
    page: Page,
    next: String,
    error: Option<String>,
}

async fn second_factor_form(Pending(_, stage): Pending, Query(q): Query<NextQuery>) -> Response {
    if stage != Stage::SecondFactor {
        return Redirect::to(&next_of(&q)).into_response();
    }
    render(&SecondFactorPage {
        page: Page::new("second_factor.title", None, "/login/second-factor"),
        next: next_of(&q),
        error: None,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn second_factor_submit(
    State(state): State<AppState>,
    Pending(user, stage): Pending,
    source: Source,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(f): Form<CodeForm>,
) -> Response {
    if stage != Stage::SecondFactor {
        return Redirect::to(&next_of(&q)).into_response();
    }
    let client = client_info(&source, &headers);
    match second_factor::present(&state.db, &state.settings, &client, &user, &f.code).await {
        Ok(()) => {
            state.sessions.forget_session(user.session_id);
            Redirect::to(&next_of(&q)).into_response()
        }
        Err(e) => {
            let page = SecondFactorPage {
                page: Page::new("second_factor.title", None, "/login/second-factor"),
                next: next_of(&q),
                error: Some(e.message().get(current_lang()).to_owned()),
            };
            render_status(&page, e.status())
        }
    }
}

// ---- my account ----

/// One session as the list shows it.
struct SessionRow {
    id: i64,
    created: String,
    last_seen: String,
    expires: String,
    client: String,
    browser: String,
    current: bool,
    pending: bool,
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    page: Page,
    sessions: Vec<SessionRow>,
    enrolled: bool,
    codes_left: u64,
}

async fn account(State(state): State<AppState>, WebUser(user): WebUser) -> Response {
    let fail = |e| app_error_page(Some(user.clone()), e);
    let limits = Limits::of(&state.settings);
    let listed =
        match session::list_of_user(&state.db, limits, user.id, Some(user.session_id), user.now)
            .await
        {
            Ok(l) => l,
            Err(e) => return fail(e),
        };
    let (enrolled, codes_left) = match second_factor::status(&state.db, user.id).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let sessions = listed
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            created: fmt::at(&s.created_at),
            last_seen: fmt::at(&s.last_seen_at),
            expires: fmt::at(&s.expires_at),
            client: s
                .client
                .filter(|c| c != "unknown")
                .unwrap_or_else(|| "—".into()),
            browser: s.user_agent.unwrap_or_else(|| "—".into()),
            current: s.current,
            pending: s.pending,
        })
        .collect();
    render(&AccountPage {
        page: Page::new("account.title", Some(user.clone()), "/account"),
        sessions,
        enrolled,
        codes_left,
    })
}

async fn end_session(
    State(state): State<AppState>,
    WebUser(user): WebUser,
    Path(raw): Path<String>,
) -> Response {
    let Ok(id) = raw.parse::<i64>() else {
        return app_error_page(Some(user), AppError::not_found("session", raw));
    };
    match session::end_one(&state.db, &state.sessions, user.id, id).await {
        // Ending this very session is a logout.
        Ok(()) if id == user.session_id => Redirect::to("/login").into_response(),
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => app_error_page(Some(user), e),
    }
}

// ---- enrolment ----

#[derive(Template)]
#[template(path = "account/enrol.html")]
struct EnrolPage {
    page: Page,
    required: bool,
    enrolled: bool,
    pending: Option<second_factor::Enrolment>,
    codes: Vec<String>,
    next: String,
    next_query: String,
    error: Option<String>,
}

impl EnrolPage {
    fn new(user: &CurrentUser, stage: Stage, q: &NextQuery) -> EnrolPage {
        let next = next_of(q);
        EnrolPage {
            // A session that may only enrol has no menu: nothing else is open to it yet.
            page: Page::new(
                "enrol.title",
                (stage == Stage::Full).then(|| user.clone()),
                "/account/second-factor",
            ),
            required: stage == Stage::Enrol,
            enrolled: false,
            pending: None,
            codes: Vec::new(),
            next_query: format!("?next={}", url_escape(&next)),
            next,
            error: None,
        }
    }
}

/// Only a full session or one that must enrol; one that owes its code goes to give it.
fn enrolling(stage: Stage, q: &NextQuery) -> Option<Response> {
    (stage == Stage::SecondFactor).then(|| {
        let to = format!("/login/second-factor?next={}", url_escape(&next_of(q)));
        Redirect::to(&to).into_response()
    })
}

async fn enrol_page(
    State(state): State<AppState>,
    Pending(user, stage): Pending,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Some(r) = enrolling(stage, &q) {
        return r;
    }
    let mut page = EnrolPage::new(&user, stage, &q);
    match second_factor::status(&state.db, user.id).await {
        Ok((enrolled, _)) => page.enrolled = enrolled,
        Err(e) => return app_error_page(None, e),
    }
    if !page.enrolled {
        match second_factor::pending(&state.db, &user).await {
            Ok(p) => page.pending = p,
            Err(e) => return app_error_page(None, e),
        }
    }
    render(&page)
}

async fn enrol_start(
    State(state): State<AppState>,
    Pending(user, stage): Pending,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Some(r) = enrolling(stage, &q) {
        return r;
    }
    if let Err(e) = second_factor::start(&state.db, &user).await {
        let mut page = EnrolPage::new(&user, stage, &q);
        page.error = Some(e.message().get(current_lang()).to_owned());
        return render_status(&page, e.status());
    }
    let to = format!("/account/second-factor?next={}", url_escape(&next_of(&q)));
    Redirect::to(&to).into_response()
}

async fn enrol_confirm(
    State(state): State<AppState>,
    Pending(user, stage): Pending,
    source: Source,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(f): Form<CodeForm>,
) -> Response {
    if let Some(r) = enrolling(stage, &q) {
        return r;
    }
    let client = client_info(&source, &headers);
    let mut page = EnrolPage::new(&user, stage, &q);
    match second_factor::confirm(&state.db, &state.settings, &client, &user, &f.code).await {
        Ok(codes) => {
            state.sessions.forget_session(user.session_id);
            page.enrolled = true;
            page.codes = codes;
            page.page = Page::new("enrol.done", Some(user), "/account/second-factor");
            page.required = false;
            render(&page)
        }
        Err(e) => {
            page.error = Some(e.message().get(current_lang()).to_owned());
            page.pending = second_factor::pending(&state.db, &user)
                .await
                .ok()
                .flatten();
            render_status(&page, e.status())
        }
    }
}
