//! The defences of the browser session: cross-site requests refused ([`csrf`]), the session
//! cookie bound to HTTPS when the service is reached over it, security headers on every answer
//! ([`headers`]), and which proxies' forwarding headers are believed ([`proxy`]).
//!
//! [`guard`] runs outermost, around every route of the router; [`csrf::refuse_cross_site`]
//! runs inside the language layer, so that a refusal is worded in the request's language.
//! docs/security.md describes the whole for operators.

pub mod csrf;
pub mod headers;
pub mod proxy;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::Extensions;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::config::Settings;

pub use proxy::TrustedProxies;

/// The session cookie's name over plain HTTP (and in development).
pub const SESSION_COOKIE: &str = "cancer_aid_session";

/// Its name over HTTPS: browsers accept a `__Host-` cookie only with `Secure`, `Path=/` and no
/// `Domain`, so neither a plain-HTTP page nor a neighbouring subdomain can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-cancer_aid_session";

/// How a request reached the service, worked out once by [`guard`] and kept in its extensions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transport {
    /// Whether the browser spoke HTTPS: the public URL says so, or a trusted proxy does.
    pub https: bool,
    /// The client's address (see [`proxy::client_addr`]); `None` when unknown (tests).
    pub client: Option<IpAddr>,
}

impl Transport {
    /// The transport [`guard`] recorded; plain HTTP from nowhere if it did not run.
    pub fn of(extensions: &Extensions) -> Transport {
        extensions.get::<Transport>().copied().unwrap_or_default()
    }

    /// The name the session cookie has on this transport.
    pub fn session_cookie(&self) -> &'static str {
        if self.https {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// A `Set-Cookie` value carrying `token` for `max_age_secs` (0 and an empty token delete it).
    pub fn session_set_cookie(&self, token: &str, max_age_secs: u64) -> String {
        let secure = if self.https { "; Secure" } else { "" };
        format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}",
            self.session_cookie()
        )
    }
}

/// Handlers read the transport as an argument; without [`guard`] it is plain HTTP.
impl<S: Send + Sync> FromRequestParts<S> for Transport {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Transport::of(&parts.extensions))
    }
}

/// The cookies of a request, as name and value, in the order sent.
pub fn cookies(headers: &axum::http::HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
}

/// The value of a cookie, if the request carries it.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The origin (`scheme://host[:port]`, lower case, default port left out) of a URL or of an
/// `Origin` header; `None` for anything else, `Origin: null` included.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// Records the [`Transport`] of every request, then sets the security headers on its answer,
/// whatever produced it (a handler, a refusal, the fallback).
pub async fn guard(
    State(settings): State<Arc<Settings>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = &settings.trusted_proxies;
    let https = settings
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"))
        || proxy::forwarded_https(peer, req.headers(), trusted);
    let client = proxy::client_addr(peer, req.headers(), trusted);
    req.extensions_mut().insert(Transport { https, client });
    let kind = headers::Kind::of(req.uri().path());
    let mut res = next.run(req).await;
    headers::apply(res.headers_mut(), kind, https);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_in_one_form() {
        assert_eq!(
            origin_of("https://Aid.Example.org/path?q").as_deref(),
            Some("https://aid.example.org")
        );
        assert_eq!(origin_of("http://h:80").as_deref(), Some("http://h"));
        assert_eq!(origin_of("https://h:443/").as_deref(), Some("https://h"));
        assert_eq!(origin_of("http://h:8080").as_deref(), Some("http://h:8080"));
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("ftp://h"), None);
        assert_eq!(origin_of("https://user@h"), None);
    }

    #[test]
    fn the_cookie_follows_the_transport() {
        let https = Transport {
            https: true,
            client: None,
        };
        let c = https.session_set_cookie("t", 60);
        assert!(
            c.starts_with("__Host-cancer_aid_session=t; Path=/;") && c.ends_with("; Secure"),
            "{c}"
        );
        assert!(!c.contains("Domain"));
        let c = Transport::default().session_set_cookie("t", 60);
        assert!(
            c.starts_with("cancer_aid_session=t;") && !c.contains("Secure"),
            "{c}"
        );
    }
}
