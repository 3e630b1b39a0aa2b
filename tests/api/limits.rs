//! Limits that keep the service up: bounded paging, parameters that cannot produce a 500, a
//! time limit on every request, and a bounded wait for a busy SQLite.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, Uri};
use sea_orm::ConnectionTrait;
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::{Backend, TestApp, TestResponse, spawn_app_with};

/// Values of `page` that must be refused with the range, never answered with a 500.
const BAD_PAGES: &[&str] = &[
    "0",
    "-1",
    "abc",
    "1.5",
    "",
    "1e3",
    "%00",
    "100001",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
];

/// Values of `per_page` that must be refused with the range.
const BAD_PER_PAGES: &[&str] = &["0", "-5", "abc", "501", "1000000", "18446744073709551615"];

/// Asserts a 422 on `field` whose message names the allowed range, in the language asked.
#[track_caller]
fn refused_with_range(res: &TestResponse, url: &str, field: &str, max: &str) {
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{url}: {}",
        String::from_utf8_lossy(&res.body)
    );
    let body = res.json();
    let detail = &body["error"]["details"][0];
    assert_eq!(detail["field"], field, "{url}: {body}");
    let message = detail["message"].as_str().unwrap();
    assert!(
        message.contains(max) && message.contains('1'),
        "{url}: {message}"
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains(max),
        "{url}: {body}"
    );
}

/// An import of the clerk, with a rejected row, for its error list.
async fn an_import(app: &TestApp) -> i64 {
    let clerk = app.as_role(Role::RosterImporter).await;
    let csv = "身份证号码,姓名,区划代码\n220102197001010000,张三,220102\n";
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保")],
            "r.csv",
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let id = res.json()["id"].as_i64().unwrap();
    clerk.wait_import(id).await;
    id
}

db_test!(every_list_refuses_a_hostile_page_with_its_range);
async fn every_list_refuses_a_hostile_page_with_its_range(app: TestApp) {
    let import = an_import(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let manager = app.as_role(Role::Manager).await;
    let errors = format!("/api/v1/roster-imports/{import}/errors");
    let lists = [
        (&manager, "/api/v1/cases"),
        (&admin, "/api/v1/audit"),
        (&admin, "/api/v1/roster-imports"),
        (&admin, "/api/v1/visits"),
        (&admin, errors.as_str()),
    ];
    for (client, list) in lists {
        for bad in BAD_PAGES {
            let url = format!("{list}?page={bad}&per_page=500");
            refused_with_range(&client.get(&url).await, &url, "page", "100000");
        }
        for bad in BAD_PER_PAGES {
            let url = format!("{list}?per_page={bad}");
            refused_with_range(&client.get(&url).await, &url, "per_page", "500");
        }
        // Both wrong: both named.
        let url = format!("{list}?page=0&per_page=0");
        let res = client.get(&url).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = res.json()["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(fields, ["page", "per_page"], "{url}");
        // In English on request.
        let res = client
            .call(Method::GET, &format!("{list}?page=abc"))
            .header("accept-language", "en")
            .send()
            .await;
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("page must be a whole number from 1 to 100000"),
            "{list}: {:?}",
            res.json()
        );
        // The largest page allowed is an empty page, not an error.
        let url = format!("{list}?page=100000&per_page=500");
        let page = client.get(&url).await;
        page.assert_status(StatusCode::OK);
        assert_eq!(page.json()["items"], json!([]), "{url}");
    }
}

db_test!(no_numeric_parameter_produces_a_500);
async fn no_numeric_parameter_produces_a_500(app: TestApp) {
    let import = an_import(&app).await;
    let admin = app.as_role(Role::Admin).await;
    let manager = app.as_role(Role::Manager).await;
    let caseworker = app.as_role(Role::Caseworker).await;
    // Ids in the path that are not ids: the same 404 as one that does not exist, as JSON.
    for path in [
        "/api/v1/cases/abc",
        "/api/v1/cases/99999999999999999999",
        "/api/v1/cases/-1",
        "/api/v1/cases/1.5",
        "/api/v1/visits/abc",
        "/api/v1/visits/9223372036854775808",
    ] {
        let res = manager.get(path).await;
        res.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(res.error_code(), "not_found", "{path}");
    }
    for path in [
        "/api/v1/users/abc",
        "/api/v1/users/99999999999999999999",
        "/api/v1/policies/abc",
        "/api/v1/roster-imports/abc",
        "/api/v1/roster-imports/99999999999999999999/errors",
    ] {
        let res = admin.get(path).await;
        res.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(res.error_code(), "not_found", "{path}");
    }
    for path in [
        "/api/v1/cases/abc/approve",
        "/api/v1/cases/99999999999999999999/visits",
        "/api/v1/visits/abc/pay",
        "/api/v1/roster-imports/abc/retry",
    ] {
        let res = admin.post(path, &json!({})).await;
        assert!(res.status.is_client_error(), "{path}: {}", res.status);
    }
    // Other numbers of the query string: a 4xx that names the parameter.
    let res = manager.get("/api/v1/cases?year=abc").await;
    res.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(res.error_code(), "invalid_query");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("year")
    );
    for (client, url) in [
        (&manager, "/api/v1/cases?year=99999999999"),
        (&manager, "/api/v1/cases?year=-2147483648"),
        (&manager, "/api/v1/cases?year=2147483647"),
        (&admin, "/api/v1/visits?case_id=abc"),
        (&admin, "/api/v1/visits?case_id=99999999999999999999"),
        (&admin, "/api/v1/visits?case_id=-9223372036854775808"),
        (&admin, "/api/v1/visits?from=0001-01-01&to=9999-12-31"),
        (
            &admin,
            "/api/v1/persons/220102197001010000/statement?year=abc",
        ),
        (
            &admin,
            "/api/v1/persons/220102197001010000/statement?year=-2147483648",
        ),
        (&admin, "/api/v1/persons/abc/statement?year=2147483647"),
        (
            &manager,
            "/api/v1/reports/summary?year=99999999999&top=18446744073709551616",
        ),
        (&manager, "/api/v1/reports/summary?year=-1&top=-1"),
        (
            &manager,
            "/api/v1/reports/spending?from=0001-01-01&to=9999-12-31&group_by=month",
        ),
        (&manager, "/api/v1/reports/spending?from=+262143-01-01"),
        (
            &caseworker,
            "/api/v1/eligibility?id_number=99999999999999999999",
        ),
        (
            &admin,
            "/api/v1/audit?entity_id=99999999999999999999&from=0000-01-01",
        ),
    ] {
        let res = client.get(url).await;
        assert!(
            res.status.is_success() || res.status.is_client_error(),
            "{url}: {} {}",
            res.status,
            String::from_utf8_lossy(&res.body)
        );
    }
    // The rejected rows of an import still page as before.
    let clerk = app.as_role(Role::RosterImporter).await;
    let page = clerk
        .get(&format!(
            "/api/v1/roster-imports/{import}/errors?page=1&per_page=1"
        ))
        .await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.json()["per_page"], 1);
}

db_test!(web_pages_show_the_nearest_page_for_a_huge_one);
async fn web_pages_show_the_nearest_page_for_a_huge_one(app: TestApp) {
    let caseworker = app.as_role(Role::Caseworker).await;
    caseworker
        .get("/cases?page=18446744073709551615")
        .await
        .assert_status(StatusCode::OK);
    let admin = app.as_role(Role::Admin).await;
    admin
        .get("/admin/audit?page=18446744073709551615")
        .await
        .assert_status(StatusCode::OK);
    admin
        .get("/roster/imports?page=18446744073709551615")
        .await
        .assert_status(StatusCode::OK);
}

#[test]
fn uploads_and_downloads_get_the_longer_time_limit() {
    use axum::http::HeaderMap;
    let mut multipart = HeaderMap::new();
    multipart.insert(
        "content-type",
        "multipart/form-data; boundary=x".parse().unwrap(),
    );
    let none = HeaderMap::new();
    let uri = |s: &str| s.parse::<Uri>().unwrap();
    let transfer = cancer_aid::http::layers::is_transfer;
    assert!(transfer(
        &Method::POST,
        &multipart,
        &uri("/api/v1/roster-imports")
    ));
    assert!(transfer(&Method::POST, &multipart, &uri("/roster/upload")));
    assert!(transfer(
        &Method::GET,
        &none,
        &uri("/api/v1/roster-imports/1/errors?format=xlsx")
    ));
    assert!(transfer(
        &Method::GET,
        &none,
        &uri("/api/v1/reports/spending?from=2025-01-01&format=csv")
    ));
    assert!(!transfer(
        &Method::GET,
        &none,
        &uri("/api/v1/roster-imports/1/errors?format=json")
    ));
    assert!(!transfer(&Method::GET, &none, &uri("/api/v1/cases?page=2")));
    assert!(!transfer(&Method::POST, &none, &uri("/api/v1/auth/login")));
}

/// A connection of another program that holds what a long roster import holds: SQLite's write
/// lock, or on PostgreSQL a lock on the sessions table (which a login writes).
async fn hold_the_lock(app: &TestApp) -> sea_orm::DatabaseTransaction {
    let other = app.second_connection().await;
    let txn = cancer_aid::db::begin_write(&other).await.unwrap();
    match app.backend {
        // BEGIN IMMEDIATE has taken the lock; a write makes sure of it.
        Backend::Sqlite => txn
            .execute_unprepared("UPDATE users SET failed_logins = failed_logins WHERE id < 0")
            .await
            .map(|_| ())
            .unwrap(),
        Backend::Postgres => txn
            .execute_unprepared("LOCK TABLE sessions IN EXCLUSIVE MODE")
            .await
            .map(|_| ())
            .unwrap(),
    }
    txn
}

async fn log_in(app: &TestApp, password: &str) -> TestResponse {
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "clerk", "password": password}),
        )
        .await
}

db_test!(a_login_behind_a_held_sqlite_lock_is_a_503_in_bounded_time);
async fn a_login_behind_a_held_sqlite_lock_is_a_503_in_bounded_time(app: TestApp) {
    let busy = Duration::from_secs(1);
    let app = spawn_app_with(app.backend, |s| s.sqlite_busy = busy)
        .await
        .unwrap();
    let password = app.create_user("clerk", &[Role::Caseworker], "2201").await;
    let lock = hold_the_lock(&app).await;
    match app.backend {
        Backend::Sqlite => {
            let started = Instant::now();
            let res = log_in(&app, &password).await;
            let took = started.elapsed();
            res.assert_status(StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.error_code(), "database_busy");
            assert_eq!(res.headers["retry-after"], "5");
            assert!(
                res.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("重试")
            );
            // It waited for the lock as long as it was told, and not much longer.
            assert!(took >= busy && took < Duration::from_secs(10), "{took:?}");
            lock.rollback().await.unwrap();
            log_in(&app, &password).await.assert_status(StatusCode::OK);
        }
        // PostgreSQL locks rows and tables, not the database: a login is not held up by
        // what an import holds (here, even a lock on the table of the sessions would hold
        // it up; the roster tables do not).
        Backend::Postgres => {
            lock.rollback().await.unwrap();
            let other = app.second_connection().await;
            let txn = cancer_aid::db::begin_write(&other).await.unwrap();
            txn.execute_unprepared(
                "LOCK TABLE roster_imports, roster_entries, persons IN EXCLUSIVE MODE",
            )
            .await
            .unwrap();
            log_in(&app, &password).await.assert_status(StatusCode::OK);
            txn.rollback().await.unwrap();
        }
    }
}

db_test!(a_request_past_its_time_limit_is_a_503_request_timeout);
async fn a_request_past_its_time_limit_is_a_503_request_timeout(app: TestApp) {
    let app = spawn_app_with(app.backend, |s| {
        s.request_timeout = Duration::from_secs(1);
        s.sqlite_busy = Duration::from_secs(30);
    })
    .await
    .unwrap();
    let password = app.create_user("clerk", &[Role::Caseworker], "2201").await;
    let lock = hold_the_lock(&app).await;
    let started = Instant::now();
    let res = app
        .anonymous()
        .call(Method::POST, "/api/v1/auth/login")
        .header("accept-language", "en")
        .json(&json!({"username": "clerk", "password": password}))
        .send()
        .await;
    let took = started.elapsed();
    res.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.error_code(), "request_timeout");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 1 seconds"),
        "{:?}",
        res.json()
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    lock.rollback().await.unwrap();
    log_in(&app, &password).await.assert_status(StatusCode::OK);
}

db_test!(the_roster_import_waits_for_the_lock_longer_than_a_login);
async fn the_roster_import_waits_for_the_lock_longer_than_a_login(app: TestApp) {
    // The other writers give up after a second; the import must not.
    let app = spawn_app_with(app.backend, |s| s.sqlite_busy = Duration::from_secs(1))
        .await
        .unwrap();
    if app.backend == Backend::Postgres {
        return; // No database-wide write lock there.
    }
    use entity::roster_import;
    use sea_orm::EntityTrait;
    // An import already claimed (as the worker claims it), so that only this test runs it.
    let id = crate::roster::claimed_import(&app, app.state.imports.instance()).await;

    let lock = hold_the_lock(&app).await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        lock.rollback().await.unwrap();
    });
    let started = Instant::now();
    cancer_aid::roster::import::run(&app.db, id, app.state.imports.clone())
        .await
        .unwrap();
    release.await.unwrap();
    let done = roster_import::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done.status,
        entity::roster_import::Status::Validated,
        "{:?}",
        done.error
    );
    assert_eq!(done.accepted, 1);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
