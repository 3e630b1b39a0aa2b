//! Payee details and payment batches through the real router on both databases: checks and
//! masking of account numbers, drafting from approved unpaid subsidies, a second person's
//! approval, cancelling, scope, and concurrent drafts that never share a subsidy.

use axum::http::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::audit_log;

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::{Client, TestApp};

/// A card number with a good Luhn digit, and the same with its last digit mistyped.
const CARD: &str = "6222 0202 0000 0000 006";
const BAD_CARD: &str = "6222020200000000007";

fn payee(version: Option<i64>) -> Value {
    json!({"holder": "patient", "payee_name": "患者", "account_kind": "bank_card",
           "bank_name": "中国工商银行长春分行", "account_no": CARD, "version": version})
}

/// `n` approved subsidies of one patient's case (seq); returns the case id and their sum in
/// fen.
pub(crate) async fn approved_subsidies(
    app: &TestApp,
    seq: u32,
    hospital: i64,
    n: u32,
) -> (i64, i64) {
    let (_, case_id) = patient(app, seq, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let mut total = 0;
    for i in 0..n {
        let res = worker
            .post(
                &format!("/api/v1/cases/{case_id}/visits"),
                &outpatient(
                    hospital,
                    &format!("MZ-{seq}-{i}"),
                    &day(1 + i % 12, 1 + i / 12),
                    "1500",
                ),
            )
            .await;
        res.assert_status(StatusCode::CREATED);
        let id = res.json()["id"].as_i64().unwrap();
        let res = approver
            .post(&format!("/api/v1/visits/{id}/approve"), &json!({}))
            .await;
        res.assert_status(StatusCode::OK);
        total += fen(&res.json()["subsidy"]);
    }
    (case_id, total)
}

/// One patient's approved subsidy with payee details, drafted into a batch by the manager;
/// returns the case id and the batch id.
pub(crate) async fn one_drafted_batch(app: &TestApp) -> (i64, i64) {
    standard_policy(app, "low_income_urban").await;
    let h = hospital(app, "H1", true).await;
    let (case_id, _) = approved_subsidies(app, 1, h, 1).await;
    set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
    let res = app
        .as_role(Role::Manager)
        .await
        .post("/api/v1/payment-batches", &period())
        .await;
    res.assert_status(StatusCode::CREATED);
    (case_id, res.json()["id"].as_i64().unwrap())
}

/// Approves a drafted batch (version 1) as a second manager.
pub(crate) async fn approve_as_second_manager(app: &TestApp, id: i64) {
    app.as_user("manager2", &[Role::Manager], "22")
        .await
        .post(
            &format!("/api/v1/payment-batches/{id}/approve"),
            &json!({"version": 1}),
        )
        .await
        .assert_status(StatusCode::OK);
}

/// Produces an approved batch's notice and moves the clock past its period (default seven
/// working days), so that its bank file can be exported.
pub(crate) async fn notice_and_wait(app: &TestApp, id: i64) -> Value {
    let res = app
        .as_role(Role::Manager)
        .await
        .get(&format!("/api/v1/payment-batches/{id}/notice?format=json"))
        .await;
    res.assert_status(StatusCode::OK);
    app.move_clock(app.state.clock.now() + chrono::Duration::days(12))
        .await;
    res.json()
}

/// Exports an approved batch after its notice, in a layout; returns the file.
pub(crate) async fn exported(app: &TestApp, id: i64, layout: &str) -> Vec<u8> {
    notice_and_wait(app, id).await;
    let res = app
        .as_role(Role::Manager)
        .await
        .get(&format!(
            "/api/v1/payment-batches/{id}/export?layout={layout}"
        ))
        .await;
    res.assert_status(StatusCode::OK);
    res.body.to_vec()
}

pub(crate) fn fen(v: &Value) -> i64 {
    let s = v.as_str().expect("money is a string");
    let (yuan, cents) = s.split_once('.').expect("two decimals");
    yuan.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

pub(crate) fn period() -> Value {
    json!({"from": day(1, 1), "to": day(12, 31)})
}

pub(crate) async fn set_payee(client: &Client<'_>, case_id: i64, version: Option<i64>) -> Value {
    let res = client
        .patch(&format!("/api/v1/cases/{case_id}/payee"), &payee(version))
        .await;
    res.assert_status(StatusCode::OK);
    res.json()
}

db_test!(payee_details_are_checked_masked_and_audited);
async fn payee_details_are_checked_masked_and_audited(app: TestApp) {
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let path = format!("/api/v1/cases/{case_id}/payee");

    // Every mistake at once, each on its field, in Chinese, and nothing saved.
    let res = worker
        .patch(
            &path,
            &json!({"holder": "neighbour", "account_kind": "bank_card", "account_no": BAD_CARD}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in ["holder", "payee_name", "bank_name", "account_no"] {
        assert!(fields.contains(&f), "{f} missing in {body}");
    }
    assert!(body.to_string().contains("校验位"), "{body}");
    assert_eq!(worker.get(&path).await.json()["payee"], Value::Null);

    // Saved, and shown masked to everyone.
    let saved = set_payee(&worker, case_id, None).await;
    assert_eq!(saved["account_no"], "6222***********0006");
    assert_eq!(saved["holder_label"], "本人");
    assert_eq!(saved["version"], 1);
    let manager = app.as_role(Role::Manager).await;
    assert_eq!(
        manager.get(&path).await.json()["payee"]["account_no"],
        "6222***********0006"
    );

    // A change names the version it read.
    let res = worker.patch(&path, &payee(None)).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "payee_stale");
    assert_eq!(set_payee(&worker, case_id, Some(1)).await["version"], 2);

    // An approver does not set payee details.
    app.as_role(Role::Approver)
        .await
        .patch(&path, &payee(Some(2)))
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // Audited, with the account number masked in the log too.
    let rows = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("case.payee"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let logged = serde_json::to_string(&rows[1].after).unwrap();
    assert!(logged.contains("6222***********0006"), "{logged}");
    assert!(!logged.contains("6222020200000000006"), "{logged}");
}

db_test!(a_batch_takes_approved_unpaid_subsidies_and_a_second_manager_approves_it);
async fn a_batch_takes_approved_unpaid_subsidies_and_a_second_manager_approves_it(app: TestApp) {
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let (paid_case, total) = approved_subsidies(&app, 1, h, 3).await;
    // A second patient's subsidies, whose case has no payee details.
    approved_subsidies(&app, 2, h, 2).await;
    let worker = app.as_role(Role::Caseworker).await;
    set_payee(&worker, paid_case, None).await;

    let manager = app.as_role(Role::Manager).await;
    let res = manager.post("/api/v1/payment-batches", &period()).await;
    res.assert_status(StatusCode::CREATED);
    let b = res.json();
    assert_eq!(b["state"], "draft");
    assert_eq!(b["totals"]["count"], 3);
    assert_eq!(fen(&b["totals"]["amount"]), total);
    assert_eq!(
        b["without_payee"], 2,
        "the case without payee details is named"
    );
    let id = b["id"].as_i64().unwrap();
    assert!(b["batch_no"].as_str().unwrap().starts_with("PB"), "{b}");

    let detail = manager
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .json();
    let lines = detail["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l["account_no"] == "6222***********0006")
    );
    assert_eq!(
        lines.iter().map(|l| fen(&l["amount"])).sum::<i64>(),
        total,
        "the lines add up to the control total"
    );

    // Taken subsidies are not taken again; what is left has no payee details.
    let res = manager.post("/api/v1/payment-batches", &period()).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "nothing_to_pay");
    assert!(res.json().to_string().contains("收款信息"));

    // Approved by a second manager, naming the version.
    let approve = format!("/api/v1/payment-batches/{id}/approve");
    let res = manager.post(&approve, &json!({"version": 1})).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.error_code(), "own_batch");
    let second = app.as_user("manager2", &[Role::Manager], "22").await;
    let res = second.post(&approve, &json!({"version": 7})).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.json()["error"]["current_version"], 1);
    let res = second.post(&approve, &json!({"version": 1})).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["state"], "approved");
    let res = second.post(&approve, &json!({"version": 2})).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(
        res.json()["error"]["allowed"],
        json!(["notice", "objections", "export", "cancel"])
    );

    // Cancelled with a reason: the subsidies are payable again, in a new batch.
    let cancel = format!("/api/v1/payment-batches/{id}/cancel");
    let res = manager.post(&cancel, &json!({"version": 2})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = manager
        .post(&cancel, &json!({"version": 2, "reason": "金额需复核"}))
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["state"], "cancelled");
    let again = manager.post("/api/v1/payment-batches", &period()).await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(fen(&again.json()["totals"]["amount"]), total);

    let list = manager.get("/api/v1/payment-batches?state=cancelled").await;
    assert_eq!(list.json()["total"], 1);
    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::COLUMN.entity_type.eq("payment_batch"))
        .order_by_asc(audit_log::COLUMN.id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "payment_batch.draft",
            "payment_batch.approve",
            "payment_batch.cancel",
            "payment_batch.draft"
        ]
    );
}

db_test!(batches_stay_inside_the_managers_region);
async fn batches_stay_inside_the_managers_region(app: TestApp) {
    let (case_id, id) = one_drafted_batch(&app).await;
    let yanbian = app.as_user("manager_2224", &[Role::Manager], "2224").await;
    yanbian
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        yanbian.get("/api/v1/payment-batches").await.json()["total"],
        0
    );
    let mut body = period();
    body["region"] = json!("2201");
    let res = yanbian.post("/api/v1/payment-batches", &body).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "region");
    // Nothing in its own region to pay.
    let res = yanbian.post("/api/v1/payment-batches", &period()).await;
    assert_eq!(res.error_code(), "nothing_to_pay");
    yanbian
        .get(&format!("/api/v1/cases/{case_id}/payee"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

db_test!(batches_drafted_at_once_never_share_a_subsidy);
async fn batches_drafted_at_once_never_share_a_subsidy(app: TestApp) {
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let mut total = 0;
    for seq in 1..=4 {
        let (case_id, sum) = approved_subsidies(&app, seq, h, 5).await;
        set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
        total += sum;
    }
    let managers = [
        app.as_user("manager_a", &[Role::Manager], "22").await,
        app.as_user("manager_b", &[Role::Manager], "22").await,
        app.as_user("manager_c", &[Role::Manager], "22").await,
        app.as_user("manager_d", &[Role::Manager], "22").await,
    ];
    let body = period();
    let answers = futures::future::join_all(
        managers
            .iter()
            .map(|m| m.post("/api/v1/payment-batches", &body)),
    )
    .await;
    let mut lines = 0;
    let mut amount = 0;
    for res in &answers {
        match res.status {
            StatusCode::CREATED => {
                let b = res.json();
                lines += b["totals"]["count"].as_i64().unwrap();
                amount += fen(&b["totals"]["amount"]);
            }
            _ => assert_eq!(res.error_code(), "nothing_to_pay", "{:?}", res.json()),
        }
    }
    assert_eq!(lines, 20, "every subsidy taken once");
    assert_eq!(amount, total, "to the fen");
    let backend = app.db.get_database_backend();
    let shared = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM (SELECT visit_id FROM payment_lines \
             WHERE released_at IS NULL GROUP BY visit_id HAVING COUNT(*) > 1) AS t",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(shared, 0);
}

db_test!(an_approved_batch_exports_its_bank_file_once_with_its_hash);
async fn an_approved_batch_exports_its_bank_file_once_with_its_hash(app: TestApp) {
    use sha2::{Digest, Sha256};
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let (case_id, total) = approved_subsidies(&app, 1, h, 2).await;
    let worker = app.as_role(Role::Caseworker).await;
    set_payee(&worker, case_id, None).await;
    let manager = app.as_role(Role::Manager).await;
    let b = manager
        .post("/api/v1/payment-batches", &period())
        .await
        .json();
    let id = b["id"].as_i64().unwrap();
    let export = format!("/api/v1/payment-batches/{id}/export?layout=fixed_gbk");

    // Not before a second person approved it.
    let res = manager.get(&export).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.json()["error"]["state"], "draft");
    approve_as_second_manager(&app, id).await;
    let res = manager
        .get(&format!("/api/v1/payment-batches/{id}/export?layout=swift"))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "layout");

    // Not before its public notice has run its course.
    let res = manager.get(&export).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "notice_required");
    notice_and_wait(&app, id).await;
    let manager = app.as_role(Role::Manager).await;
    let worker = app.as_role(Role::Caseworker).await;

    let res = manager.get(&export).await;
    res.assert_status(StatusCode::OK);
    let sha = hex::encode(Sha256::digest(&res.body));
    assert_eq!(res.headers["x-content-sha256"], sha.as_str());
    let (text, _, bad) = encoding_rs::GBK.decode(&res.body);
    assert!(!bad, "the file is GBK");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "header, two payments, trailer: {text}");
    let batch_no = b["batch_no"].as_str().unwrap();
    assert!(lines[0].starts_with(&format!("H{batch_no}")), "{text}");
    assert!(lines[0].contains(&format!("00000002{total:015}")), "{text}");
    assert!(
        lines[1].contains("6222020200000000006"),
        "the bank file alone has the full account number"
    );
    assert!(lines[1].contains("患者"));
    assert_eq!(lines[3], format!("T00000002{total:015}"));

    // Exported: its hash kept, the same bytes again, no other layout, no cancelling.
    let detail = manager
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .json();
    assert_eq!(detail["state"], "exported");
    let again = manager.get(&export).await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.body, res.body);
    manager
        .get(&format!("/api/v1/payment-batches/{id}/export?layout=xlsx"))
        .await
        .assert_status(StatusCode::CONFLICT);
    manager
        .post(
            &format!("/api/v1/payment-batches/{id}/cancel"),
            &json!({"version": 3, "reason": "迟了"}),
        )
        .await
        .assert_status(StatusCode::CONFLICT);
    let rows = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("payment_batch.export"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one export, however many downloads");
    assert_eq!(rows[0].after.as_ref().unwrap()["sha256"], sha.as_str());

    // A payee changed after the export is flagged on the next batch's line.
    app.state
        .clock
        .set(app.state.clock.now() + chrono::Duration::minutes(1));
    set_payee(&worker, case_id, Some(1)).await;
    let approver = app.as_role(Role::Approver).await;
    let visit = worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &outpatient(h, "MZ-late", &day(12, 20), "2500"),
        )
        .await
        .json();
    approver
        .post(
            &format!("/api/v1/visits/{}/approve", visit["id"]),
            &json!({}),
        )
        .await
        .assert_status(StatusCode::OK);
    let next = manager.post("/api/v1/payment-batches", &period()).await;
    next.assert_status(StatusCode::CREATED);
    let next_id = next.json()["id"].as_i64().unwrap();
    let lines = manager
        .get(&format!("/api/v1/payment-batches/{next_id}"))
        .await
        .json();
    assert_eq!(lines["lines"][0]["payee_changed"], true, "{lines}");
}

db_test!(a_workbook_layout_writes_every_cell_as_text);
async fn a_workbook_layout_writes_every_cell_as_text(app: TestApp) {
    let (_, id) = one_drafted_batch(&app).await;
    approve_as_second_manager(&app, id).await;
    let body = exported(&app, id, "xlsx").await;
    assert!(body.starts_with(b"PK"), "a workbook");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(body)).unwrap();
    use calamine::Reader;
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().flatten().map(|c| c.to_string()).collect();
    assert!(
        cells.contains(&"6222020200000000006".to_owned()),
        "{cells:?}"
    );
    assert!(cells.contains(&"收款账号".to_owned()));
}

async fn case_page(client: &Client<'_>, case_id: i64) -> String {
    let res = client.get(&format!("/cases/{case_id}")).await;
    res.assert_status(StatusCode::OK);
    String::from_utf8(res.body.to_vec()).unwrap()
}

db_test!(the_case_page_shows_the_payee_masked_and_offers_the_form_to_caseworkers);
async fn the_case_page_shows_the_payee_masked_and_offers_the_form_to_caseworkers(app: TestApp) {
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let html = case_page(&app.as_role(Role::Caseworker).await, case_id).await;
    assert!(html.contains("id=\"payee-none\""), "no payee yet");
    assert!(html.contains(&format!(
        "data-api=\"/api/v1/cases/{case_id}/payee\" data-method=\"PATCH\""
    )));
    set_payee(&worker, case_id, None).await;
    let html = case_page(&app.as_role(Role::Caseworker).await, case_id).await;
    assert!(html.contains("6222***********0006"));
    assert!(!html.contains("6222020200000000006"), "never in full");
    assert!(html.contains("name=\"version\" value=\"1\""));
    assert!(html.contains("中国工商银行长春分行"));
    // An approver reads it and has no form.
    let html = case_page(&app.as_role(Role::Approver).await, case_id).await;
    assert!(html.contains("6222***********0006"));
    assert!(!html.contains("id=\"payee-form\""));
}

db_test!(a_workbook_bank_file_is_the_same_file_every_time);
async fn a_workbook_bank_file_is_the_same_file_every_time(app: TestApp) {
    use sha2::{Digest, Sha256};
    standard_policy(&app, "low_income_urban").await;
    let h = hospital(&app, "H1", true).await;
    let (case_id, _) = approved_subsidies(&app, 1, h, 2).await;
    set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
    let b = app
        .as_role(Role::Manager)
        .await
        .post("/api/v1/payment-batches", &period())
        .await
        .json();
    let id = b["id"].as_i64().unwrap();
    approve_as_second_manager(&app, id).await;
    notice_and_wait(&app, id).await;
    let manager = app.as_role(Role::Manager).await;
    let export = format!("/api/v1/payment-batches/{id}/export?layout=xlsx");
    let first = manager.get(&export).await;
    first.assert_status(StatusCode::OK);
    // A workbook records when it was written, to the second: a later second must not change
    // the file the kept hash names.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = manager.get(&export).await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.headers["x-content-sha256"],
        hex::encode(Sha256::digest(&first.body)).as_str()
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(first.body.to_vec())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    let cells: Vec<String> = range.used_cells().map(|(_, _, v)| v.to_string()).collect();
    assert!(cells.contains(&b["batch_no"].as_str().unwrap().to_owned()));
    assert!(
        cells.iter().any(|c| c == "6222020200000000006"),
        "{cells:?}"
    );
}
