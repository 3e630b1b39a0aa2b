//! Cross-site requests refused on the API and the pages, security headers on every answer,
//! and the session cookie under HTTPS rules (docs/security.md).

use axum::http::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use cancer_aid::domain::Role;
use cancer_aid::security::headers::CSP;
use entity::roster_import;

use crate::db_test;
use crate::fixtures::visits::{day, hospital, outpatient, patient, standard_policy};
use crate::helpers::{TestApp, TestResponse, multipart};

const EVIL: &str = "https://evil.example";
const RURAL: &[u8] = include_bytes!("../../fixtures/roster_rural_2020.xlsx");

/// The ways a request can say (or not say) that another site sent it.
const CROSS_SITE: [(&str, Option<(&str, &str)>); 4] = [
    ("another site's Origin", Some(("origin", EVIL))),
    ("Origin: null", Some(("origin", "null"))),
    (
        "Sec-Fetch-Site: cross-site",
        Some(("sec-fetch-site", "cross-site")),
    ),
    ("neither header", None),
];

#[track_caller]
fn assert_refused(res: &TestResponse, case: &str) {
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "{case}: {}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(res.error_code(), "cross_site_request", "{case}");
    let message = res.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("其他网站"),
        "{case}: the message is Chinese: {message}"
    );
}

async fn imports(app: &TestApp) -> u64 {
    roster_import::Entity::find().count(&app.db).await.unwrap()
}

db_test!(a_cookie_upload_from_another_site_is_refused);
async fn a_cookie_upload_from_another_site_is_refused(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let cookie = format!("cancer_aid_session={}", clerk.token());
    let (content_type, body) = multipart(&[], "农村.xlsx", RURAL);
    for (case, header) in CROSS_SITE {
        let mut call = app
            .anonymous()
            .call(Method::POST, "/api/v1/roster-imports")
            .header("cookie", &cookie)
            .header("host", "aid.example")
            .raw(&content_type, body.clone())
            .without_fetch_metadata();
        if let Some((k, v)) = header {
            call = call.header(k, v);
        }
        assert_refused(&call.send().await, case);
    }
    assert_eq!(imports(&app).await, 0, "nothing was imported");

    // The service's own page: Sec-Fetch-Site, or Origin where a browser sends no
    // Sec-Fetch-Site.
    for (k, v) in [
        ("sec-fetch-site", "same-origin"),
        ("origin", "http://aid.example"),
    ] {
        let res = app
            .anonymous()
            .call(Method::POST, "/api/v1/roster-imports")
            .header("cookie", &cookie)
            .header("host", "aid.example")
            .header(k, v)
            .raw(&content_type, body.clone())
            .send()
            .await;
        // The second is the same file: answered as a duplicate of the first, but admitted.
        assert!(
            res.status.is_success(),
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        clerk.wait_import(res.json()["id"].as_i64().unwrap()).await;
    }
    assert_eq!(imports(&app).await, 2);
}

db_test!(a_cookie_approval_from_another_site_is_refused_a_bearer_one_is_not);
async fn a_cookie_approval_from_another_site_is_refused_a_bearer_one_is_not(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let mut visits = Vec::new();
    for invoice in ["X1", "X2"] {
        let res = worker
            .post(&url, &outpatient(h, invoice, &day(1, 5), "5000"))
            .await;
        res.assert_status(StatusCode::CREATED);
        visits.push(res.json()["id"].as_i64().unwrap());
    }
    let approver = app.as_role(Role::Approver).await;
    let cookie = format!("cancer_aid_session={}", approver.token());
    let approve = |id: i64| format!("/api/v1/visits/{id}/approve");

    for (case, header) in CROSS_SITE {
        let mut call = app
            .anonymous()
            .call(Method::POST, &approve(visits[0]))
            .header("cookie", &cookie)
            .json(&json!({}))
            .without_fetch_metadata();
        if let Some((k, v)) = header {
            call = call.header(k, v);
        }
        assert_refused(&call.send().await, case);
    }
    let visit = approver
        .get(&format!("/api/v1/visits/{}", visits[0]))
        .await
        .json();
    assert_eq!(visit["status"], "pending", "nothing changed");

    let res = app
        .anonymous()
        .call(Method::POST, &approve(visits[0]))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        // What Chromium sends under Referrer-Policy: no-referrer: Sec-Fetch-Site decides.
        .header("origin", "null")
        .json(&json!({}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["status"], "approved");

    // A program with a bearer token is not a browser: where it says it comes from is moot.
    let res = approver
        .call(Method::POST, &approve(visits[1]))
        .header("origin", EVIL)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);

    // Reading is never refused.
    app.anonymous()
        .call(Method::GET, &format!("/api/v1/visits/{}", visits[1]))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .assert_status(StatusCode::OK);
}

db_test!(a_login_form_posted_from_another_site_is_refused);
async fn a_login_form_posted_from_another_site_is_refused(app: TestApp) {
    app.create_user("clerk.li", &[Role::RosterImporter], "2201")
        .await;
    let form = "username=clerk.li&password=clerk.li-password&next=%2F";
    let post = |k: &'static str, v: &'static str| {
        app.anonymous()
            .call(Method::POST, "/login")
            .header("host", "aid.example")
            .header(k, v)
            .raw("application/x-www-form-urlencoded", form)
    };
    let res = post("sec-fetch-site", "cross-site").send().await;
    assert_refused(&res, "login from another site");
    assert!(!res.headers.contains_key("set-cookie"));
    assert_refused(
        &post("origin", EVIL).send().await,
        "login with another Origin",
    );
    let res = post("sec-fetch-site", "same-origin").send().await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.headers.contains_key("set-cookie"));
}

#[track_caller]
fn assert_security_headers(res: &TestResponse, what: &str) {
    let h = &res.headers;
    assert_eq!(h["content-security-policy"], CSP, "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert!(
        !h.contains_key("strict-transport-security"),
        "{what}: not over plain HTTP"
    );
}

db_test!(every_answer_carries_the_security_headers);
async fn every_answer_carries_the_security_headers(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let answers = [
        ("a page", app.anonymous().get("/login").await),
        ("an API answer", worker.get("/api/v1/auth/me").await),
        ("an error", app.anonymous().get("/api/v1/auth/me").await),
        ("no route", worker.get("/nowhere").await),
    ];
    for (what, res) in &answers {
        assert_security_headers(res, what);
        assert_eq!(res.headers["cache-control"], "no-store", "{what}");
    }
    assert_eq!(answers[2].1.status, StatusCode::UNAUTHORIZED);

    // The stylesheet and scripts are the same for everyone: caches may keep them.
    for path in ["/static/app.css", "/static/app.js"] {
        let res = app.anonymous().get(path).await;
        res.assert_status(StatusCode::OK);
        assert_security_headers(&res, path);
        assert!(!res.headers.contains_key("cache-control"), "{path}");
    }

    // The Swagger UI styles through attributes: only its styles are relaxed.
    let docs = app.anonymous().get("/api/docs/").await;
    let csp = docs.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("style-src 'self' 'unsafe-inline'") && csp.contains("script-src 'self';"),
        "{csp}"
    );
}

db_test!(over_https_the_session_cookie_is_host_only_and_secure);
async fn over_https_the_session_cookie_is_host_only_and_secure(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.public_origin = Some("https://aid.example".to_owned());
    })
    .await
    .unwrap();
    app.create_user("clerk.li", &[Role::RosterImporter], "2201")
        .await;
    let res = app
        .anonymous()
        .call(Method::POST, "/login")
        .header("origin", "https://aid.example")
        .raw(
            "application/x-www-form-urlencoded",
            "username=clerk.li&password=clerk.li-password",
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.headers["strict-transport-security"], "max-age=31536000");
    let cookie = res.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-cancer_aid_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/;") && !cookie.contains("Domain"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let token = session.split_once('=').unwrap().1.to_owned();

    let home = app
        .anonymous()
        .call(Method::GET, "/")
        .header("cookie", &session)
        .send()
        .await;
    home.assert_status(StatusCode::OK);
    assert_eq!(
        home.headers["strict-transport-security"],
        "max-age=31536000"
    );
    // The plain name is not read over HTTPS: a cookie planted over HTTP opens nothing.
    let planted = app
        .anonymous()
        .call(Method::GET, "/")
        .header("cookie", &format!("cancer_aid_session={token}"))
        .send()
        .await;
    assert_eq!(planted.status, StatusCode::SEE_OTHER);

    // The public URL is the origin, whatever Host says; plain http is another origin.
    let logout = |origin: &'static str| {
        app.anonymous()
            .call(Method::POST, "/logout")
            .header("cookie", &session)
            .header("host", "internal:8080")
            .header("origin", origin)
            .send()
    };
    assert_refused(&logout("http://aid.example").await, "http origin");
    let out = logout("https://aid.example").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let cleared = out.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("__Host-cancer_aid_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

db_test!(only_a_trusted_proxy_says_the_browser_spoke_https);
async fn only_a_trusted_proxy_says_the_browser_spoke_https(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.trusted_proxies = cancer_aid::security::TrustedProxies::parse("10.0.0.0/8").unwrap();
    })
    .await
    .unwrap();
    let from = |peer: &str| {
        app.anonymous()
            .call(Method::GET, "/login")
            .header("x-forwarded-proto", "https")
            .peer(peer.parse().unwrap())
            .send()
    };
    let proxied = from("10.1.2.3:40000").await;
    assert_eq!(
        proxied.headers["strict-transport-security"],
        "max-age=31536000"
    );
    let direct = from("192.0.2.7:40000").await;
    assert!(!direct.headers.contains_key("strict-transport-security"));
}
