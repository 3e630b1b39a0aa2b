//! Login guard: failed logins counted atomically per name and per address, an increasing wait
//! (429 with `Retry-After`) instead of a lock, the same answer for real and unknown names.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use cancer_aid::domain::Role;
use entity::login_throttle;

use crate::db_test;
use crate::helpers::{Backend, TestApp, spawn_app_with};

async fn failures(app: &TestApp, kind: &str, key: &str) -> Option<i32> {
    login_throttle::Entity::find_by_id((kind.to_owned(), key.to_owned()))
        .one(&app.db)
        .await
        .unwrap()
        .map(|t| t.failures)
}

async fn attempt(app: &TestApp, username: &str, password: &str) -> crate::helpers::TestResponse {
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await
}

/// Moves every count's last failure an hour back, as if the wait were over.
async fn let_time_pass(app: &TestApp) {
    app.db
        .execute_unprepared(
            "UPDATE login_throttles SET last_failure_unix = last_failure_unix - 3600",
        )
        .await
        .unwrap();
}

/// Forty wrong guesses at once end with the same count as forty one after another.
async fn parallel_guesses_are_all_counted(backend: Backend) {
    // No waiting here: every guess must reach the counter.
    let Some(app) = spawn_app_with(backend, |s| {
        s.login_max_failures = 1000;
        s.login_address_max_failures = 1000;
    })
    .await
    else {
        return;
    };
    app.create_user("qian", &[Role::Caseworker], "22").await;
    let guesses = (0..40).map(|i| {
        attempt(
            &app,
            "qian",
            if i % 2 == 0 { "wrong-one" } else { "wrong-two" },
        )
    });
    for res in futures::future::join_all(guesses).await {
        res.assert_status(StatusCode::UNAUTHORIZED);
    }
    assert_eq!(failures(&app, "account", "qian").await, Some(40));
    assert_eq!(failures(&app, "address", "unknown").await, Some(40));
    for _ in 0..3 {
        attempt(&app, "QIAN", "wrong-three")
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        failures(&app, "account", "qian").await,
        Some(43),
        "any spelling of the name counts"
    );
}

mod parallel_guesses {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        parallel_guesses_are_all_counted(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        parallel_guesses_are_all_counted(Backend::Postgres).await;
    }
}

db_test!(a_known_and_an_unknown_name_get_the_same_answers);
async fn a_known_and_an_unknown_name_get_the_same_answers(app: TestApp) {
    app.create_user("sun", &[Role::Caseworker], "22").await;
    let max = app.state.settings.login_max_failures;
    for _ in 0..max {
        let known = attempt(&app, "sun", "not-the-password").await;
        let started = Instant::now();
        let unknown = attempt(&app, "nobody.here", "not-the-password").await;
        // The unknown name checks a dummy hash and pauses like a wrong password.
        assert!(started.elapsed().as_millis() >= 200);
        known.assert_status(StatusCode::UNAUTHORIZED);
        unknown.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(known.json(), unknown.json());
    }
    let known = attempt(&app, "sun", "not-the-password").await;
    let unknown = attempt(&app, "nobody.here", "not-the-password").await;
    for res in [&known, &unknown] {
        res.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.error_code(), "too_many_login_attempts");
        assert!(res.headers.contains_key("retry-after"));
    }
}

db_test!(the_wait_has_a_retry_after_and_success_resets_the_count);
async fn the_wait_has_a_retry_after_and_success_resets_the_count(app: TestApp) {
    let pw = app.create_user("zhou", &[Role::Manager], "22").await;
    for _ in 0..4 {
        attempt(&app, "zhou", "guess-guess")
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    // Four failures: no wait yet.
    assert_eq!(failures(&app, "account", "zhou").await, Some(4));
    attempt(&app, "zhou", "guess-guess")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let res = attempt(&app, "zhou", &pw).await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let secs: u32 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=30).contains(&secs),
        "the first wait is 30 seconds, got {secs}"
    );
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("秒后再试")
    );
    // The refused attempt was not counted.
    assert_eq!(failures(&app, "account", "zhou").await, Some(5));

    let_time_pass(&app).await;
    // The wait doubles with the next failure.
    attempt(&app, "zhou", "guess-guess")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let res = attempt(&app, "zhou", &pw).await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let secs: u32 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (31..=60).contains(&secs),
        "the second wait is 60 seconds, got {secs}"
    );

    let_time_pass(&app).await;
    attempt(&app, "zhou", &pw)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        failures(&app, "account", "zhou").await,
        None,
        "success clears the count"
    );
}

db_test!(one_address_trying_many_names_must_wait_too);
async fn one_address_trying_many_names_must_wait_too(app: TestApp) {
    let pw = app.create_user("wu.gang", &[Role::Manager], "22").await;
    let max = app.state.settings.login_address_max_failures;
    for i in 0..max {
        attempt(&app, &format!("name{i}"), "guess-guess")
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    // A name never tried before, with its right password, from the same address.
    let res = attempt(&app, "wu.gang", &pw).await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers.contains_key("retry-after"));
}

db_test!(the_login_page_says_how_long_to_wait_in_chinese);
async fn the_login_page_says_how_long_to_wait_in_chinese(app: TestApp) {
    app.create_user("zheng", &[Role::Manager], "22").await;
    let max = app.state.settings.login_max_failures;
    let form = |pw: &str| format!("username=zheng&password={pw}&next=%2F");
    for _ in 0..max {
        let res = app
            .anonymous()
            .call(Method::POST, "/login")
            .raw("application/x-www-form-urlencoded", form("nope-nope"))
            .send()
            .await;
        res.assert_status(StatusCode::UNAUTHORIZED);
    }
    let res = app
        .anonymous()
        .call(Method::POST, "/login")
        .raw("application/x-www-form-urlencoded", form("nope-nope"))
        .send()
        .await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers.contains_key("retry-after"));
    let page = String::from_utf8_lossy(&res.body).into_owned();
    assert!(page.contains("登录失败次数过多"), "{page}");
}
