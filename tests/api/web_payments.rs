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

/// The ids of a case's subsidies, oldest first.
async fn visit_ids(client: &Client<'_>, case_id: i64) -> Vec<i64> {
    let list = client
        .get(&format!("/api/v1/visits?case_id={case_id}"))
        .await
        .json();
    let mut ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

db_test!(a_subsidy_page_offers_pay_void_and_reverse_to_their_roles);
async fn a_subsidy_page_offers_pay_void_and_reverse_to_their_roles(app: TestApp) {
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let (case_id, _) = approved_subsidies(&app, 1, h, 2).await;
    set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let ids = visit_ids(&manager, case_id).await;
    let (first, second) = (ids[0], ids[1]);
    let path = format!("/visits/{first}");

    // Everyone who reads subsidies sees the costs and the steps; each sees only their forms.
    let html = page(&worker, &path).await;
    assert!(html.contains("id=\"breakdown\"") && html.contains("300.00"));
    assert!(html.contains("审核") && html.contains(&format!("href=\"/cases/{case_id}\"")));
    for form in ["pay-form", "void-form", "reverse-form"] {
        assert!(
            !html.contains(&format!("id=\"{form}\"")),
            "{form} for a caseworker"
        );
    }
    let html = page(&approver, &path).await;
    assert!(html.contains("id=\"void-form\"") && !html.contains("id=\"pay-form\""));
    let html = page(&manager, &path).await;
    assert!(html.contains("id=\"pay-form\"") && !html.contains("id=\"void-form\""));
    assert!(
        !html.contains(&format!("href=\"/cases/{case_id}\"")),
        "no case page for managers"
    );

    // Outside the region the page answers as for a subsidy that does not exist.
    let far = app.as_user("manager2224", &[Role::Manager], "2224").await;
    let res = far.get(&path).await;
    res.assert_status(StatusCode::NOT_FOUND);
    let body = String::from_utf8(res.body.to_vec()).unwrap();
    let none = far.get("/visits/999999").await;
    none.assert_status(StatusCode::NOT_FOUND);
    let none = String::from_utf8(none.body.to_vec()).unwrap();
    assert!(!body.contains("300.00") && !body.contains("患者1"));
    assert_eq!(
        body.replace(&format!("（{first}）"), "（N）"),
        none.replace("（999999）", "（N）"),
        "the same page as for a subsidy that does not exist"
    );

    // Paid by hand: the reference shows, and the manager may reverse it.
    let today = app.state.clock.today().to_string();
    manager
        .post(
            &format!("/api/v1/visits/{first}/pay"),
            &json!({"payment_ref": "PZ-001", "paid_on": today}),
        )
        .await
        .assert_status(StatusCode::OK);
    let html = page(&manager, &path).await;
    assert!(html.contains("id=\"payment-ref\"") && html.contains("PZ-001"));
    assert!(html.contains("id=\"reverse-form\"") && !html.contains("id=\"pay-form\""));
    let entry = manager
        .post(
            &format!("/api/v1/visits/{first}/reverse"),
            &json!({"reason": "重复支付"}),
        )
        .await;
    entry.assert_status(StatusCode::CREATED);
    let entry = entry.json()["id"].as_i64().unwrap();
    let html = page(&manager, &path).await;
    assert!(
        html.contains(&format!("href=\"/visits/{entry}\""))
            && !html.contains("id=\"reverse-form\"")
    );
    let html = page(&manager, &format!("/visits/{entry}")).await;
    assert!(html.contains(&format!("href=\"/visits/{first}\"")) && html.contains("重复支付"));
    assert!(html.contains("-300.00") && !html.contains("id=\"reverse-form\""));

    // In a batch the subsidy is paid or voided only through it; the page says where it waits.
    let b = manager.post("/api/v1/payment-batches", &period()).await;
    b.assert_status(StatusCode::CREATED);
    let b = b.json();
    let batch = b["id"].as_i64().unwrap();
    let second_path = format!("/visits/{second}");
    let html = page(&manager, &second_path).await;
    assert!(html.contains("id=\"subsidy-batches\"") && html.contains("在批次中"));
    assert!(
        html.contains(&format!("href=\"/payments/{batch}\"")) && !html.contains("id=\"pay-form\"")
    );
    assert!(
        !page(&approver, &second_path)
            .await
            .contains("id=\"void-form\"")
    );
    // A city's manager sees that the subsidy waits in a batch, not the province's batch itself.
    let city = app.as_user("manager2201", &[Role::Manager], "2201").await;
    let html = page(&city, &second_path).await;
    assert!(html.contains("其他范围的批次") && html.contains("在批次中"));
    let batch_no = b["batch_no"].as_str().unwrap();
    assert!(!html.contains(batch_no) && !html.contains(&format!("/payments/{batch}")));
    manager
        .post(
            &format!("/api/v1/payment-batches/{batch}/cancel"),
            &json!({"version": 1, "reason": "重新起草"}),
        )
        .await
        .assert_status(StatusCode::OK);
    let html = page(&approver, &second_path).await;
    assert!(html.contains("已移出") && html.contains("id=\"void-form\""));
    approver
        .post(
            &format!("/api/v1/visits/{second}/void"),
            &json!({"reason": "发票重复"}),
        )
        .await
        .assert_status(StatusCode::OK);
    let html = page(&worker, &second_path).await;
    assert!(html.contains("id=\"void-reason\"") && html.contains("发票重复"));

    // The list: filtered by state, a bad date is said in words and nothing else breaks.
    let html = page(&manager, "/visits?status=voided").await;
    assert!(html.contains(&format!("href=\"/visits/{second}\"")));
    assert!(!html.contains(&format!("href=\"/visits/{first}\"")));
    let res = manager.get("/visits?from=2026-13-01").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        String::from_utf8(res.body.to_vec())
            .unwrap()
            .contains("年-月-日")
    );
    assert!(page(&manager, "/").await.contains("href=\"/visits\""));
}
