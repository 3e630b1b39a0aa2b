//! The security headers every answer carries.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};

/// Scripts and styles only from the service's own files, never inline: an injected `<script>`
/// or `onclick=` does not run. No framing (clickjacking), forms post only here, no `<base>`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The same for the Swagger UI, which styles its elements through `style` attributes; its
/// scripts are still files of its own.
pub const CSP_API_DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// A year: what browsers remember that the service is HTTPS-only.
pub const HSTS: &str = "max-age=31536000";

/// What a path serves, as far as its headers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The stylesheet and scripts under `/static/`: the same for everyone, so cacheable.
    Static,
    /// The Swagger UI under `/api/docs`.
    ApiDocs,
    /// Everything else: pages and API answers, which hold personal data and must not stay in
    /// a shared office PC's cache.
    Private,
}

impl Kind {
    pub fn of(path: &str) -> Kind {
        if path.starts_with("/static/") {
            Kind::Static
        } else if path == "/api/docs" || path.starts_with("/api/docs/") {
            Kind::ApiDocs
        } else {
            Kind::Private
        }
    }
}

/// Sets the headers on an answer (replacing any a handler set).
pub fn apply(headers: &mut HeaderMap, kind: Kind, https: bool) {
    let csp = if kind == Kind::ApiDocs {
        CSP_API_DOCS
    } else {
        CSP
    };
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Addresses can hold ids; they are nobody else's business.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if kind != Kind::Static {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}
