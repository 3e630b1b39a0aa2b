use axum::http::{Method, StatusCode};

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::TestApp;

fn body(res: &crate::helpers::TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

db_test!(pages_need_a_login_and_a_cookie_session_opens_them);
async fn pages_need_a_login_and_a_cookie_session_opens_them(app: TestApp) {
    let anon = app.anonymous();
    let res = anon.get("/").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.headers["location"], "/login?next=/");

    // The login page is Chinese even for a browser set up in English.
    let login = anon
        .call(Method::GET, "/login")
        .header("accept-language", "en-US")
        .send()
        .await;
    login.assert_status(StatusCode::OK);
    assert!(body(&login).contains("<title>登录 · 肿瘤患者救助系统</title>"));

    app.create_user("clerk.li", &[Role::RosterImporter], "2201")
        .await;
    let wrong = anon
        .call(Method::POST, "/login")
        .raw(
            "application/x-www-form-urlencoded",
            "username=clerk.li&password=nope&next=%2F",
        )
        .send()
        .await;
    wrong.assert_status(StatusCode::UNAUTHORIZED);
    assert!(
        body(&wrong).contains("value=\"clerk.li\""),
        "what was typed stays"
    );
    assert!(!wrong.headers.contains_key("set-cookie"));

    let ok = anon
        .call(Method::POST, "/login")
        .raw(
            "application/x-www-form-urlencoded",
            "username=clerk.li&password=clerk.li-password&next=https%3A%2F%2Fevil.example",
        )
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers["location"], "/", "never sent to another site");
    let cookie = ok.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let home = anon
        .call(Method::GET, "/")
        .header("cookie", &session)
        .send()
        .await;
    home.assert_status(StatusCode::OK);
    assert!(body(&home).contains("民政工作人员"), "{}", body(&home));
    let english = anon
        .call(Method::GET, "/")
        .header("cookie", &format!("{session}; lang=en"))
        .send()
        .await;
    assert!(body(&english).contains("Civil-affairs clerk"));

    // A form posted from another site is refused; the session survives it.
    let forged = anon
        .call(Method::POST, "/logout")
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .header("host", "cancer-aid.local")
        .send()
        .await;
    forged.assert_status(StatusCode::FORBIDDEN);
    anon.call(Method::GET, "/")
        .header("cookie", &session)
        .send()
        .await
        .assert_status(StatusCode::OK);

    let out = anon
        .call(Method::POST, "/logout")
        .header("cookie", &session)
        .send()
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = anon
        .call(Method::GET, "/")
        .header("cookie", &session)
        .send()
        .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is gone");
}

/// Every page of the menu, and the roles it serves.
const PAGES: &[(&str, &[Role])] = &[
    ("/roster/upload", &[Role::RosterImporter, Role::Admin]),
    ("/roster/imports", &[Role::RosterImporter, Role::Admin]),
    ("/eligibility", &[Role::Caseworker]),
    ("/cases", &[Role::Caseworker, Role::Approver]),
    ("/approvals", &[Role::Approver]),
    ("/dashboard", &[Role::Manager, Role::Admin]),
    ("/reports/spending", &[Role::Manager, Role::Admin]),
    ("/admin/users", &[Role::Admin]),
    ("/admin/hospitals", &[Role::Admin]),
    ("/admin/policies", &[Role::Admin]),
    ("/admin/audit", &[Role::Admin, Role::Manager]),
];

const ROLES: [Role; 5] = [
    Role::RosterImporter,
    Role::Caseworker,
    Role::Approver,
    Role::Manager,
    Role::Admin,
];

db_test!(each_role_is_offered_its_pages_and_refused_the_others);
async fn each_role_is_offered_its_pages_and_refused_the_others(app: TestApp) {
    for role in ROLES {
        let client = app.as_role(role).await;
        let home = body(&client.get("/").await);
        for (href, roles) in PAGES {
            let offered = home.contains(&format!("href=\"{href}\""));
            let res = client.get(href).await;
            let page = body(&res);
            if roles.contains(&role) {
                assert!(offered, "{role:?} is not offered {href}");
                res.assert_status(StatusCode::OK);
                let title = page
                    .split("<title>")
                    .nth(1)
                    .and_then(|t| t.split(" · ").next())
                    .unwrap_or_default();
                assert!(!title.is_empty(), "{href} has no title");
                assert!(page.contains("<h1>"), "{href} has no heading");
            } else {
                assert!(!offered, "{role:?} is offered {href}, which it may not use");
                assert_eq!(
                    res.status,
                    StatusCode::FORBIDDEN,
                    "{role:?} at {href}: {page}"
                );
            }
        }
    }
}

db_test!(the_audit_log_is_for_province_wide_readers_only);
async fn the_audit_log_is_for_province_wide_readers_only(app: TestApp) {
    let city_admin = app.as_user("changchun_admin", &[Role::Admin], "2201").await;
    let api = city_admin.get("/api/v1/audit").await;
    api.assert_status(StatusCode::FORBIDDEN);
    assert!(
        api.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("全省"),
        "{}",
        api.json()
    );
    let page = city_admin.get("/admin/audit").await;
    page.assert_status(StatusCode::FORBIDDEN);
    assert!(body(&page).contains("全省"), "{}", body(&page));
    let province_admin = app.as_user("jilin_admin", &[Role::Admin], "22").await;
    province_admin
        .get("/api/v1/audit")
        .await
        .assert_status(StatusCode::OK);
    province_admin
        .get("/admin/audit")
        .await
        .assert_status(StatusCode::OK);
}
