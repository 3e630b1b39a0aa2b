//! The payment pages through the router, on both databases: the batches with the draft form,
//! and a batch's page offering, in each state, what may be done to it.

use axum::http::StatusCode;
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::{Client, TestApp};
use crate::payments::{approved_subsidies, notice_and_wait, period, set_payee};

async fn page(client: &Client<'_>, path: &str) -> String {
    let res = client.get(path).await;
    res.assert_status(StatusCode::OK);
    String::from_utf8(res.body.to_vec()).unwrap()
}

db_test!(a_batch_page_offers_what_its_state_allows);
async fn a_batch_page_offers_what_its_state_allows(app: TestApp) {
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let (case_id, _) = approved_subsidies(&app, 1, h, 2).await;
    set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
    let manager = app.as_role(Role::Manager).await;

    // Only managers have the pages.
    app.as_role(Role::Approver)
        .await
        .get("/payments")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let html = page(&manager, "/payments").await;
    assert!(html.contains("id=\"draft-batch\"") && html.contains("发放批次"));

    let b = manager
        .post("/api/v1/payment-batches", &period())
        .await
        .json();
    let id = b["id"].as_i64().unwrap();
    let path = format!("/payments/{id}");
    let html = page(&manager, "/payments").await;
    assert!(html.contains(&format!("href=\"/payments/{id}\"")));

    // A draft: its drafter may cancel it, a second manager approves it.
    let html = page(&manager, &path).await;
    assert!(html.contains("草稿") && html.contains("id=\"cancel-batch\""));
    assert!(!html.contains("id=\"approve-batch\""), "not by its drafter");
    assert!(html.contains("6222***********0006") && !html.contains("6222020200000000006"));
    let second = app.as_user("manager2", &[Role::Manager], "22").await;
    assert!(page(&second, &path).await.contains("id=\"approve-batch\""));
    second
        .post(
            &format!("/api/v1/payment-batches/{id}/approve"),
            &json!({"version": 1}),
        )
        .await
        .assert_status(StatusCode::OK);

    // Approved: the notice comes first, the bank file waits for it.
    let html = page(&manager, &path).await;
    assert!(html.contains("id=\"notice-start\""));
    assert!(!html.contains("class=\"export\""));
    notice_and_wait(&app, id).await;
    let manager = app.as_role(Role::Manager).await;
    let html = page(&manager, &path).await;
    assert!(html.contains("id=\"notice-page\"") && html.contains("id=\"notice-period\""));
    assert!(html.contains(&format!(
        "href=\"/api/v1/payment-batches/{id}/export?layout=fixed_gbk\""
    )));
    manager
        .get(&format!(
            "/api/v1/payment-batches/{id}/export?layout=delimited_utf8"
        ))
        .await
        .assert_status(StatusCode::OK);

    // Exported: the return file is uploaded from the page, and what it settled is shown.
    let html = page(&manager, &path).await;
    assert!(html.contains("id=\"return-file\"") && html.contains("data-multipart"));
    let detail = manager
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .json();
    let lines = detail["lines"].as_array().unwrap();
    let today = app.state.clock.today().format("%Y%m%d").to_string();
    let mut file = format!(
        "{}|2|{}|{today}\n",
        b["batch_no"].as_str().unwrap(),
        b["totals"]["amount"].as_str().unwrap()
    );
    file.push_str(&format!(
        "{}|患者|6222020200000000006|{}|成功|BK1|{today}|\n",
        lines[0]["id"],
        lines[0]["amount"].as_str().unwrap()
    ));
    file.push_str(&format!(
        "{}|患者|6222020200000000006|{}|失败||{today}|账户已销户\n",
        lines[1]["id"],
        lines[1]["amount"].as_str().unwrap()
    ));
    manager
        .upload(
            &format!("/api/v1/payment-batches/{id}/return-file"),
            &[],
            "回盘.txt",
            file.as_bytes(),
        )
        .await
        .assert_status(StatusCode::OK);
    let html = page(&manager, &path).await;
    assert!(html.contains("已对账"), "reconciled");
    assert!(html.contains("id=\"return-files\"") && html.contains("回盘.txt"));
    assert!(html.contains("已入账") && html.contains("账户已销户"));
    assert!(
        !html.contains("id=\"return-file\""),
        "no upload once reconciled"
    );
}
