//! The second factor: enrolment, the login's second step, codes good once, recovery codes,
//! guessing slowed, enrolment forced by CANCER_AID_REQUIRE_2FA, removal by an administrator,
//! and the same on the pages.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::TestApp;

/// The code an authenticator app shows for `secret`, `steps` steps of 30 s from now.
fn code(secret: &str, steps: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let at = chrono::Utc::now().timestamp() + steps * 30;
    totp.generate(at as u64).to_string()
}

async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    let res = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    res.json()
}

/// Enrols the user of `token`; answers the secret and the recovery codes.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let client = app.with_token(token);
    let started = client.post("/api/v1/auth/totp", &json!({})).await;
    started.assert_status(StatusCode::OK);
    let started = started.json();
    let secret = started["secret"].as_str().unwrap().to_owned();
    assert!(
        started["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(started["qr_png_base64"].as_str().unwrap().len() > 100);
    let done = client
        .post(
            "/api/v1/auth/totp/confirm",
            &json!({"code": code(&secret, 0)}),
        )
        .await;
    done.assert_status(StatusCode::OK);
    let codes: Vec<String> = done.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

db_test!(an_enrolled_account_logs_in_with_a_code_good_once);
async fn an_enrolled_account_logs_in_with_a_code_good_once(app: TestApp) {
    let pw = app
        .create_user("lu.approver", &[Role::Approver], "22")
        .await;
    let token = app.login("lu.approver", &pw).await;
    let client = app.with_token(&token);
    let started = client.post("/api/v1/auth/totp", &json!({})).await.json();
    let secret = started["secret"].as_str().unwrap().to_owned();
    // A wrong code does not confirm.
    let wrong = client
        .post("/api/v1/auth/totp/confirm", &json!({"code": "000000"}))
        .await;
    wrong.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "invalid_second_factor");
    let done = client
        .post(
            "/api/v1/auth/totp/confirm",
            &json!({"code": code(&secret, 0)}),
        )
        .await;
    done.assert_status(StatusCode::OK);
    assert_eq!(done.json()["recovery_codes"].as_array().unwrap().len(), 10);
    // Enrolling twice is refused.
    client
        .post("/api/v1/auth/totp", &json!({}))
        .await
        .assert_status(StatusCode::CONFLICT);

    let answer = login(&app, "lu.approver", &pw).await;
    assert_eq!(answer["stage"], "second_factor");
    let pending = app.with_token(answer["token"].as_str().unwrap());
    let res = pending.get("/api/v1/auth/me").await;
    res.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(res.error_code(), "second_factor_required");
    pending
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    // The code that confirmed the enrolment was used: it does not pass again.
    let replay = pending
        .post(
            "/api/v1/auth/second-factor",
            &json!({"code": code(&secret, 0)}),
        )
        .await;
    replay.assert_status(StatusCode::UNAUTHORIZED);
    let next = code(&secret, 1);
    pending
        .post("/api/v1/auth/second-factor", &json!({"code": next}))
        .await
        .assert_status(StatusCode::OK);
    pending
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    pending
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::OK);

    // Another login cannot reuse that code either.
    let again = login(&app, "lu.approver", &pw).await;
    let res = app
        .with_token(again["token"].as_str().unwrap())
        .post("/api/v1/auth/second-factor", &json!({"code": next}))
        .await;
    res.assert_status(StatusCode::UNAUTHORIZED);
}

db_test!(a_recovery_code_logs_in_once);
async fn a_recovery_code_logs_in_once(app: TestApp) {
    let pw = app.create_user("sun.manager", &[Role::Manager], "22").await;
    let token = app.login("sun.manager", &pw).await;
    let (_, codes) = enrol(&app, &token).await;
    let first = login(&app, "sun.manager", &pw).await;
    // Typed in capitals with a space instead of the hyphen, it still reads.
    let typed = codes[3].to_uppercase().replace('-', " ");
    app.with_token(first["token"].as_str().unwrap())
        .post("/api/v1/auth/second-factor", &json!({"code": typed}))
        .await
        .assert_status(StatusCode::OK);
    let second = login(&app, "sun.manager", &pw).await;
    app.with_token(second["token"].as_str().unwrap())
        .post("/api/v1/auth/second-factor", &json!({"code": codes[3]}))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.with_token(second["token"].as_str().unwrap())
        .post("/api/v1/auth/second-factor", &json!({"code": codes[4]}))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(guessing_codes_is_slowed_like_guessing_passwords);
async fn guessing_codes_is_slowed_like_guessing_passwords(app: TestApp) {
    let pw = app.create_user("guo.admin", &[Role::Admin], "22").await;
    let token = app.login("guo.admin", &pw).await;
    let (secret, _) = enrol(&app, &token).await;
    let pending = login(&app, "guo.admin", &pw).await;
    let client = app.with_token(pending["token"].as_str().unwrap());
    let max = app.state.settings.login_max_failures;
    for _ in 0..max {
        client
            .post("/api/v1/auth/second-factor", &json!({"code": "123456"}))
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    // Even the right code must now wait.
    let res = client
        .post(
            "/api/v1/auth/second-factor",
            &json!({"code": code(&secret, 1)}),
        )
        .await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers.contains_key("retry-after"));
}

db_test!(required_second_factor_makes_deciders_enrol_first);
async fn required_second_factor_makes_deciders_enrol_first(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| s.require_2fa = true)
        .await
        .unwrap();
    let clerk_pw = app.create_user("clerk.wu", &[Role::Caseworker], "22").await;
    assert_eq!(login(&app, "clerk.wu", &clerk_pw).await["stage"], "full");

    let pw = app.create_user("boss.he", &[Role::Manager], "22").await;
    let answer = login(&app, "boss.he", &pw).await;
    assert_eq!(answer["stage"], "enrol");
    let token = answer["token"].as_str().unwrap().to_owned();
    let res = app.with_token(&token).get("/api/v1/reports/spending").await;
    res.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(res.error_code(), "second_factor_enrolment_required");
    // Nor may a login that must enrol skip it by asking for the second step.
    app.with_token(&token)
        .post("/api/v1/auth/second-factor", &json!({"code": "123456"}))
        .await
        .assert_status(StatusCode::CONFLICT);
    let (secret, _) = enrol(&app, &token).await;
    // Enrolling finished the login.
    app.with_token(&token)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    // From now on this account logs in with a code.
    let next = login(&app, "boss.he", &pw).await;
    assert_eq!(next["stage"], "second_factor");
    app.with_token(next["token"].as_str().unwrap())
        .post(
            "/api/v1/auth/second-factor",
            &json!({"code": code(&secret, 1)}),
        )
        .await
        .assert_status(StatusCode::OK);
}

db_test!(an_administrator_removes_a_lost_second_factor);
async fn an_administrator_removes_a_lost_second_factor(app: TestApp) {
    let pw = app
        .create_user("tang.approver", &[Role::Approver], "2201")
        .await;
    let token = app.login("tang.approver", &pw).await;
    enrol(&app, &token).await;
    let id = app.with_token(&token).get("/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap();
    let yanbian = app.as_user("yanbian_admin", &[Role::Admin], "2224").await;
    yanbian
        .call(Method::DELETE, &format!("/api/v1/users/{id}/second-factor"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let admin = app.as_role(Role::Admin).await;
    admin
        .call(Method::DELETE, &format!("/api/v1/users/{id}/second-factor"))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // Their sessions ended; the next login needs no code, and they can enrol again.
    app.with_token(&token)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let answer = login(&app, "tang.approver", &pw).await;
    assert_eq!(answer["stage"], "full");
    enrol(&app, answer["token"].as_str().unwrap()).await;
}

/// The `Location` of a redirect.
fn location(res: &crate::helpers::TestResponse) -> String {
    res.headers["location"].to_str().unwrap().to_owned()
}

db_test!(the_pages_ask_for_the_code_and_enrol_by_qr_code);
async fn the_pages_ask_for_the_code_and_enrol_by_qr_code(app: TestApp) {
    let pw = app
        .create_user("ma.approver", &[Role::Approver], "22")
        .await;
    // Enrolment on the page: start, see the QR code, confirm, see the recovery codes.
    let token = app.login("ma.approver", &pw).await;
    let cookie = format!("cancer_aid_session={token}");
    let page =
        |path: &str, method: Method| app.anonymous().call(method, path).header("cookie", &cookie);
    let res = page("/account", Method::GET).send().await;
    assert!(String::from_utf8_lossy(&res.body).contains("/account/second-factor"));
    let res = page("/account/second-factor/start", Method::POST)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = page("/account/second-factor", Method::GET).send().await;
    let html = String::from_utf8(res.body.clone()).unwrap();
    assert!(html.contains("data:image/png;base64,"), "{html}");
    let secret = html
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let res = page("/account/second-factor/confirm", Method::POST)
        .raw("application/x-www-form-urlencoded", "code=000000")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(&res.body).contains("动态验证码不正确"));
    let res = page("/account/second-factor/confirm", Method::POST)
        .raw(
            "application/x-www-form-urlencoded",
            format!("code={}", code(&secret, 0)),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let html = String::from_utf8(res.body.clone()).unwrap();
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");

    // The next login on the page goes to the code, and every page waits for it.
    let res = app
        .anonymous()
        .call(Method::POST, "/login")
        .raw(
            "application/x-www-form-urlencoded",
            format!("username=ma.approver&password={pw}&next=/approvals"),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login/second-factor?next=/approvals");
    let set = res.headers["set-cookie"].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let res = app
        .anonymous()
        .call(Method::GET, "/cases")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(location(&res), "/login/second-factor?next=/cases");
    let res = app
        .anonymous()
        .call(Method::POST, "/login/second-factor?next=/approvals")
        .header("cookie", &cookie)
        .raw("application/x-www-form-urlencoded", "code=999999")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = app
        .anonymous()
        .call(Method::POST, "/login/second-factor?next=/approvals")
        .header("cookie", &cookie)
        .raw(
            "application/x-www-form-urlencoded",
            format!("code={}", code(&secret, 1)),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/approvals");
    let res = app
        .anonymous()
        .call(Method::GET, "/approvals")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
}

db_test!(a_burst_of_parallel_codes_gets_no_more_tries_than_serial_ones);
async fn a_burst_of_parallel_codes_gets_no_more_tries_than_serial_ones(app: TestApp) {
    let pw = app.create_user("bai.manager", &[Role::Manager], "22").await;
    let token = app.login("bai.manager", &pw).await;
    let (secret, _) = enrol(&app, &token).await;
    let pending = login(&app, "bai.manager", &pw).await;
    let pending = pending["token"].as_str().unwrap().to_owned();
    // The user's full session sees the half-done login: someone has the password.
    let listed = app
        .with_token(&token)
        .get("/api/v1/auth/sessions")
        .await
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["pending"] == true),
        "{listed}"
    );

    let tries = (0..20).map(|i| {
        let app = &app;
        let pending = pending.clone();
        async move {
            app.with_token(&pending)
                .post(
                    "/api/v1/auth/second-factor",
                    &json!({"code": format!("{:06}", 100_000 + i)}),
                )
                .await
                .status
        }
    });
    let statuses = futures::future::join_all(tries).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let max = usize::try_from(app.state.settings.login_max_failures).unwrap();
    assert_eq!(checked + refused, 20, "{statuses:?}");
    assert!(
        checked <= max,
        "{checked} codes were checked of 20 sent at once: {statuses:?}"
    );
    app.with_token(&pending)
        .post(
            "/api/v1/auth/second-factor",
            &json!({"code": code(&secret, 1)}),
        )
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}
