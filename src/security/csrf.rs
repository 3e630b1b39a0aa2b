//! Cross-site requests refused: one rule for the API and the pages.
//!
//! A browser attaches the session cookie to whatever request a page of another site makes it
//! send (a hidden form posting to `/api/v1/visits/1/approve`, say). `SameSite=Strict` stops
//! that in current browsers; this rule stops it whatever the browser does with the cookie,
//! using what browsers say about where a request comes from:
//!
//! 1. `Sec-Fetch-Site`, when present, must be `same-origin` (or `none`: typed by the user).
//!    It is read first because with `Referrer-Policy: no-referrer` Chromium sends
//!    `Origin: null` on the service's own form posts.
//! 2. Otherwise `Origin` must be the service's own origin.
//! 3. A request the session cookie authenticates with neither header is refused: every browser
//!    this service supports sends one of them on a state-changing request.
//!
//! Safe methods (GET, HEAD, OPTIONS) change nothing and pass. Requests with an
//! `Authorization` header pass: the cookie is then not read at all (`token_of`), and no page
//! of another site can make a browser send that header without this service's consent
//! (which it never gives: no CORS). A request with no session cookie (the login form) is held
//! to the headers it does send, so that another site cannot log a browser in to its account.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{SECURE_SESSION_COOKIE, SESSION_COOKIE, Transport, origin_of};
use crate::config::Settings;
use crate::error::{AppError, Msg};

/// Lets a request through only under the rule of this module.
pub async fn refuse_cross_site(
    State(settings): State<Arc<Settings>>,
    req: Request,
    next: Next,
) -> Response {
    let transport = Transport::of(req.extensions());
    if let Err(why) = check(req.method(), req.headers(), &settings, transport) {
        tracing::warn!(method = %req.method(), why, "cross-site request refused");
        return refused().into_response();
    }
    next.run(req).await
}

/// The rule; `Err` says why a request is refused (for the log).
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    settings: &Settings,
    transport: Transport,
) -> Result<(), &'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(AUTHORIZATION)
    {
        return Ok(());
    }
    if let Some(site) = header(headers, "sec-fetch-site") {
        return if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") {
            Ok(())
        } else {
            Err("Sec-Fetch-Site is not same-origin")
        };
    }
    match header(headers, ORIGIN.as_str()) {
        Some(origin) => {
            let own = own_origin(headers, settings, transport);
            if own.is_some() && origin_of(origin) == own {
                Ok(())
            } else {
                Err("Origin is not the service's")
            }
        }
        None if has_session_cookie(headers) => Err("neither Sec-Fetch-Site nor Origin"),
        None => Ok(()),
    }
}

/// The service's own origin: the public URL's, or else the one the request was addressed to.
fn own_origin(headers: &HeaderMap, settings: &Settings, transport: Transport) -> Option<String> {
    if let Some(public) = &settings.public_origin {
        return Some(public.clone());
    }
    let scheme = if transport.https { "https" } else { "http" };
    origin_of(&format!("{scheme}://{}", header(headers, HOST.as_str())?))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Whether a session cookie comes with the request, under either name: one the service would
/// not read still makes the request one to hold to the strict rule.
fn has_session_cookie(headers: &HeaderMap) -> bool {
    super::cookies(headers).any(|(k, _)| k == SESSION_COOKIE || k == SECURE_SESSION_COOKIE)
}

/// The refusal: 403 `cross_site_request`.
pub fn refused() -> AppError {
    AppError::Forbidden {
        code: "cross_site_request",
        message: Msg::new(
            "请求来自其他网站，已拒绝。请在本系统的页面中操作；程序调用请使用 Authorization: Bearer 令牌。",
            "The request came from another site and was refused. Use this service's own pages; programs should send Authorization: Bearer <token>.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ok(pairs: &[(&str, &str)]) -> bool {
        check(
            &Method::POST,
            &req(pairs),
            &Settings::default(),
            Transport::default(),
        )
        .is_ok()
    }

    const COOKIE: (&str, &str) = ("cookie", "cancer_aid_session=t");
    const HOST: (&str, &str) = ("host", "aid.example:8080");

    #[test]
    fn cookie_requests_must_come_from_the_service() {
        assert!(ok(&[COOKIE, ("sec-fetch-site", "same-origin")]));
        assert!(ok(&[COOKIE, ("sec-fetch-site", "none")]));
        assert!(!ok(&[COOKIE, ("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[COOKIE, ("sec-fetch-site", "same-site")]));
        // Sec-Fetch-Site wins over Origin: null, which Chromium sends under no-referrer.
        assert!(ok(&[
            COOKIE,
            HOST,
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ]));
        assert!(ok(&[COOKIE, HOST, ("origin", "http://AID.example:8080")]));
        assert!(!ok(&[COOKIE, HOST, ("origin", "https://aid.example:8080")]));
        assert!(!ok(&[COOKIE, HOST, ("origin", "null")]));
        assert!(!ok(&[COOKIE, HOST]));
        assert!(!ok(&[("cookie", "__Host-cancer_aid_session=t"), HOST]));
    }

    #[test]
    fn bearer_tokens_safe_methods_and_cookieless_requests() {
        assert!(ok(&[
            COOKIE,
            ("authorization", "Bearer t"),
            ("origin", "https://evil.example")
        ]));
        assert!(ok(&[HOST]));
        assert!(!ok(&[HOST, ("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[HOST, ("origin", "https://evil.example")]));
        let h = req(&[COOKIE, ("sec-fetch-site", "cross-site")]);
        assert!(check(&Method::GET, &h, &Settings::default(), Transport::default()).is_ok());
    }

    #[test]
    fn the_public_url_is_the_origin_when_set() {
        let settings = Settings {
            public_origin: Some("https://aid.example".into()),
            ..Settings::default()
        };
        let t = Transport::default();
        let h = req(&[COOKIE, HOST, ("origin", "https://aid.example")]);
        assert!(check(&Method::POST, &h, &settings, t).is_ok());
        let h = req(&[
            COOKIE,
            ("host", "aid.example"),
            ("origin", "http://aid.example"),
        ]);
        assert!(check(&Method::POST, &h, &settings, t).is_err());
    }
}
