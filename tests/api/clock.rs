//! The service's one clock: a test sets the instant, and every answer, every change and every
//! session is judged by it, not by the machine's clock.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::id_number;
use crate::helpers::TestApp;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("an instant")
}

db_test!(changes_answers_and_sessions_follow_the_clock_of_the_state);
async fn changes_answers_and_sessions_follow_the_clock_of_the_state(app: TestApp) {
    // Noon UTC: the same day in any time zone the service may run in.
    let noon = at("2031-03-15T12:00:00Z");
    app.state.clock.set(noon);

    // A change is recorded at the clock's instant.
    let admin = app.as_role(Role::Admin).await;
    admin
        .post(
            "/api/v1/users",
            &json!({"username": "clock.user", "password": "desk-lamp-123",
                    "roles": ["caseworker"], "region_prefix": "2201"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let log = admin
        .get("/api/v1/audit?action=user.create&actor=admin")
        .await
        .json();
    let recorded: DateTime<Utc> = log["items"][0]["at"]
        .as_str()
        .expect("an instant")
        .parse()
        .expect("RFC 3339");
    assert_eq!(recorded, noon);

    // A check without a date is a check of the clock's day.
    let worker = app.as_role(Role::Caseworker).await;
    let check = worker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": id_number("220102", "19600101", 1)}),
        )
        .await;
    check.assert_status(StatusCode::OK);
    assert_eq!(check.json()["date"], "2031-03-15");

    // Half an hour without a request later, the session has gone idle: by the clock.
    app.state.clock.set(noon + Duration::minutes(31));
    worker
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

db_test!(the_day_and_the_times_shown_are_the_programmes_not_the_servers);
async fn the_day_and_the_times_shown_are_the_programmes_not_the_servers(app: TestApp) {
    // 20:00 UTC on 6 December is 04:00 on the 7th in Changchun (Asia/Shanghai, the default).
    let evening = at("2026-12-06T20:00:00Z");
    app.move_clock(evening).await;
    let admin = app.as_role(Role::Admin).await;
    admin
        .post(
            "/api/v1/users",
            &json!({"username": "zone.user", "password": "desk-lamp-123",
                    "roles": ["caseworker"], "region_prefix": "2201"}),
        )
        .await
        .assert_status(StatusCode::CREATED);

    // Today is the 7th: for a check, and for the audit log's days.
    let worker = app.as_role(Role::Caseworker).await;
    let check = worker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": id_number("220102", "19600101", 1)}),
        )
        .await;
    assert_eq!(check.json()["date"], "2026-12-07");
    for (day, found) in [("2026-12-07", 1), ("2026-12-06", 0)] {
        let log = admin
            .get(&format!(
                "/api/v1/audit?action=user.create&actor=admin&from={day}&to={day}"
            ))
            .await
            .json();
        assert_eq!(log["total"], found, "{day}");
    }
    // The audit page shows the clerks' wall clock.
    let page = admin.get("/admin/audit?action=user.create").await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.contains("2026-12-07 04:00"), "{html}");
    assert!(!html.contains("2026-12-06 20:00"));
}

/// Only the clock reads the time: a `Utc::now()` or `Local::now()` anywhere else in the
/// service would make its answer depend on the machine's clock, out of reach of the tests.
#[test]
fn nothing_but_the_clock_reads_the_time() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("clock.rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for (n, line) in text.lines().enumerate() {
                    if line.contains("Utc::now()") || line.contains("Local::now()") {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "clock reads outside src/clock.rs:\n{}",
        found.join("\n")
    );
}
