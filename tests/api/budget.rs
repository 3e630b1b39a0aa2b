//! Budget lines (资金额度) through the real router on both databases: set by the province,
//! committed by approvals and refused when full until raised, released by voiding and
//! reversing, consumed by payment, taking the approvals granted before the line existed, and
//! never over-committed by approvals at once.

use axum::http::StatusCode;
use serde_json::{Value, json};

use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::{Client, TestApp};
use crate::payments::fen;

/// `n` pending outpatient visits (300.00 yuan of subsidy each) for each of `people` patients.
async fn pending_visits(app: &TestApp, people: u32, n: u32) -> Vec<i64> {
    standard_policy(app, "low_income_urban").await;
    let h = hospital(app, "H1", true).await;
    let worker = app.as_role(Role::Caseworker).await;
    let mut ids = Vec::new();
    for seq in 1..=people {
        let (_, case_id) = patient(app, seq, "low_income_urban", "approved").await;
        for i in 0..n {
            let res = worker
                .post(
                    &format!("/api/v1/cases/{case_id}/visits"),
                    &outpatient(h, &format!("BG-{seq}-{i}"), &day(1 + i, seq), "1500"),
                )
                .await;
            res.assert_status(StatusCode::CREATED);
            assert_eq!(res.json()["subsidy"], "300.00");
            ids.push(res.json()["id"].as_i64().unwrap());
        }
    }
    ids
}

async fn approve(approver: &Client<'_>, id: i64) -> (StatusCode, Value) {
    loop {
        let res = approver
            .post(&format!("/api/v1/visits/{id}/approve"), &json!({}))
            .await;
        // SQLite asks a writer that waited too long to try again: a client does as told.
        if res.status == StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        }
        return (res.status, res.json());
    }
}

fn line_body(amount: &str) -> Value {
    json!({"year": year(), "region_code": "2201", "group": "low_income_urban", "amount": amount})
}

async fn line(manager: &Client<'_>, id: i64) -> Value {
    let lines = manager.get("/api/v1/budget-lines").await.json();
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .cloned()
        .expect("the line is listed")
}

db_test!(a_budget_line_commits_approvals_and_refuses_what_does_not_fit_until_raised);
async fn a_budget_line_commits_approvals_and_refuses_what_does_not_fit_until_raised(app: TestApp) {
    let ids = pending_visits(&app, 1, 4).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;

    // Approved before any line: the line created later takes it.
    assert_eq!(approve(&approver, ids[0]).await.0, StatusCode::OK);

    // Only managers of the whole province set lines; every mistake at once, on its field.
    let city = app.as_user("city-manager", &[Role::Manager], "2201").await;
    let res = city.post("/api/v1/budget-lines", &line_body("900")).await;
    res.assert_status(StatusCode::FORBIDDEN);
    let res = manager.post("/api/v1/budget-lines", &json!({})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    let mut fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["amount", "group", "region_code", "year"]);
    let res = manager
        .post(
            "/api/v1/budget-lines",
            &json!({"year": year(), "region_code": "22", "group": "low_income_urban", "amount": "1"}),
        )
        .await;
    assert_eq!(res.error_code(), "budget_region_level");

    // A line with room for three subsidies: the one approved before it counts.
    let res = manager
        .post("/api/v1/budget-lines", &line_body("900"))
        .await;
    res.assert_status(StatusCode::CREATED);
    let l = res.json();
    let id = l["id"].as_i64().unwrap();
    assert_eq!(l["committed"], "300.00");
    assert_eq!(l["region_name"], "长春市");
    assert_eq!(l["group_label"], "城市低保");
    manager
        .post("/api/v1/budget-lines", &line_body("1"))
        .await
        .assert_status(StatusCode::CONFLICT);

    assert_eq!(approve(&approver, ids[1]).await.0, StatusCode::OK);
    let l = line(&manager, id).await;
    assert_eq!(
        (l["percent"].as_i64(), l["level"].as_str()),
        (Some(66), Some("normal"))
    );
    let pending = approver.get("/api/v1/visits?status=pending").await.json();
    let levels: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["budget_level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["critical", "critical"], "the next fills the line");
    assert_eq!(approve(&approver, ids[2]).await.0, StatusCode::OK);
    let l = line(&manager, id).await;
    assert_eq!(l["level"], "exhausted");
    assert_eq!(l["left"], "0.00");

    // The approver's list warns before the click: this one would not fit.
    let pending = approver.get("/api/v1/visits?status=pending").await.json();
    let item = &pending["items"][0];
    assert_eq!(item["id"], ids[3]);
    assert_eq!(item["budget_level"], "exhausted", "{item}");
    assert_eq!(item["budget_level_label"], "已用完");

    // Full: the next approval is refused with the figures, and nothing changes.
    let (status, body) = approve(&approver, ids[3]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "budget_exhausted");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("900.00") && message.contains("300.00"),
        "{message}"
    );
    let v = manager
        .get(&format!("/api/v1/visits/{}", ids[3]))
        .await
        .json();
    assert_eq!(v["status"], "pending");
    // An approver of one county is told the line is full, not the city's figures.
    let county = app
        .as_user("nanguan-approver", &[Role::Approver], "220102")
        .await;
    let (status, body) = approve(&county, ids[3]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("900.00") && !message.contains("300.00"),
        "{message}"
    );

    // The manager's dashboard shows the line; the approver's page warns beside the button.
    let page = manager.get(&format!("/dashboard?year={}", year())).await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    for shown in ["预算执行", "长春市", "城市低保", "900.00", "已用完", "100%"] {
        assert!(html.contains(shown), "{shown} missing from the dashboard");
    }
    let page = manager.get(&format!("/budget?year={}", year())).await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(
        html.contains("id=\"new-budget-line\"") && html.contains(&format!("id=\"raise-{id}\""))
    );
    // A city's manager reads the city's line on the page, and cannot set lines.
    let page = city.get(&format!("/budget?year={}", year())).await;
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.contains(&format!("id=\"budget-line-{id}\"")));
    assert!(!html.contains("id=\"new-budget-line\"") && !html.contains("id=\"raise-"));
    let page = approver.get("/approvals").await;
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.contains("budget-exhausted") && html.contains("预算额度：已用完"));

    // Raised by the province (naming the version read): the approval goes through.
    let patch = format!("/api/v1/budget-lines/{id}");
    let res = manager
        .patch(&patch, &json!({"amount": "100", "version": 1}))
        .await;
    assert_eq!(res.error_code(), "budget_below_committed");
    let res = manager
        .patch(&patch, &json!({"amount": "1200", "version": 7}))
        .await;
    assert_eq!(res.error_code(), "budget_line_stale");
    let res = manager
        .patch(&patch, &json!({"amount": "1200", "version": 1}))
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["version"], 2);
    assert_eq!(approve(&approver, ids[3]).await.0, StatusCode::OK);

    // Voiding releases; paying consumes; reversing releases both.
    approver
        .post(
            &format!("/api/v1/visits/{}/void", ids[3]),
            &json!({"reason": "重复报销"}),
        )
        .await
        .assert_status(StatusCode::OK);
    manager
        .post(
            &format!("/api/v1/visits/{}/pay", ids[0]),
            &json!({"payment_ref": "T1", "paid_on": day(12, 30)}),
        )
        .await
        .assert_status(StatusCode::OK);
    let l = line(&manager, id).await;
    assert_eq!(fen(&l["committed"]), 90_000);
    assert_eq!(fen(&l["paid"]), 30_000);
    manager
        .post(
            &format!("/api/v1/visits/{}/reverse", ids[0]),
            &json!({"reason": "患者退回"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let l = line(&manager, id).await;
    assert_eq!(fen(&l["committed"]), 60_000);
    assert_eq!(fen(&l["paid"]), 0);

    // Outside the line's region a manager does not see it.
    let yanbian = app.as_user("yanbian-mgr", &[Role::Manager], "2224").await;
    assert_eq!(yanbian.get("/api/v1/budget-lines").await.json(), json!([]));
}

db_test!(fifty_approvals_at_once_never_commit_more_than_the_line);
async fn fifty_approvals_at_once_never_commit_more_than_the_line(app: TestApp) {
    let ids = pending_visits(&app, 10, 5).await;
    let manager = app.as_role(Role::Manager).await;
    // Room for twenty subsidies of 300.00.
    let res = manager
        .post("/api/v1/budget-lines", &line_body("6000"))
        .await;
    res.assert_status(StatusCode::CREATED);
    let id = res.json()["id"].as_i64().unwrap();
    let mut approvers: Vec<Client<'_>> = Vec::new();
    for i in 0..5 {
        approvers.push(
            app.as_user(&format!("approver-{i}"), &[Role::Approver], "22")
                .await,
        );
    }
    let results = futures::future::join_all(
        ids.iter()
            .enumerate()
            .map(|(i, v)| approve(&approvers[i % 5], *v)),
    )
    .await;
    let ok = results.iter().filter(|r| r.0 == StatusCode::OK).count();
    let refused = results
        .iter()
        .filter(|r| r.0 == StatusCode::CONFLICT && r.1["error"]["code"] == "budget_exhausted")
        .count();
    assert_eq!((ok, refused), (20, 30), "{results:?}");
    let l = line(&manager, id).await;
    assert_eq!(l["committed"], "6000.00");
    assert_eq!(l["level"], "exhausted");
}
