//! Cases through the real router on both databases: opening, every transition allowed and
//! refused, separation of duties, versions, the approvers' race, region scope, reading.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::{audit_log, case, case_event, visit};

use crate::db_test;
use crate::fixtures::people::{Patient, end_entry, grant, hospital, patient, policy, this_year};
use crate::helpers::{Client, TestApp};

fn body(p: &Patient, hospital_id: i64) -> Value {
    json!({
        "id_number": p.id_number,
        "name": p.name,
        "diagnosis_code": "c34.1",
        "diagnosis_text": "右肺上叶恶性肿瘤",
        "hospital_id": hospital_id,
        "phone": "138-1234-5678",
        "address": "长春市南关区自强街道",
        "note": "首次申请"
    })
}

async fn open(worker: &Client<'_>, p: &Patient, hospital_id: i64) -> Value {
    let res = worker.post("/api/v1/cases", &body(p, hospital_id)).await;
    res.assert_status(StatusCode::CREATED);
    res.json()
}

async fn act(
    client: &Client<'_>,
    id: i64,
    action: &str,
    body: Value,
) -> crate::helpers::TestResponse {
    client
        .post(&format!("/api/v1/cases/{id}/{action}"), &body)
        .await
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        case::Entity::find().count(&app.db).await.unwrap(),
        case_event::Entity::find().count(&app.db).await.unwrap(),
        audit_log::Entity::find()
            .filter(audit_log::COLUMN.entity_type.eq("case"))
            .count(&app.db)
            .await
            .unwrap(),
    )
}

fn codes(res: &crate::helpers::TestResponse) -> Vec<String> {
    res.json()["error"]["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {}", res.json()))
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

db_test!(a_caseworker_opens_a_case_for_an_eligible_patient);
async fn a_caseworker_opens_a_case_for_an_eligible_patient(app: TestApp) {
    let p = patient(
        &app,
        "220102",
        11,
        "买买提·吐尔逊",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let h = hospital(&app, "H1", true).await;
    let worker = app.as_role(Role::Caseworker).await;
    let mut req = body(&p, h);
    req["name"] = json!("买买提•吐尔逊");
    let res = worker.post("/api/v1/cases", &req).await;
    res.assert_status(StatusCode::CREATED);
    let c = res.json();
    assert_eq!(c["state"], "submitted");
    assert_eq!(c["state_label"], "已提交");
    assert_eq!(c["version"], 1);
    assert_eq!(c["year"], this_year());
    assert_eq!(c["person"]["id_number"], p.id_number);
    assert_eq!(c["person"]["name"], "买买提·吐尔逊");
    assert_eq!(c["region_code"], "220102");
    assert_eq!(
        c["diagnosis"],
        json!({"code": "C34.1", "text": "右肺上叶恶性肿瘤"})
    );
    assert_eq!(c["hospital"]["id"], h);
    assert_eq!(c["opened_by"]["username"], "caseworker");
    assert_eq!(c["decided_by"], Value::Null);
    assert_eq!(
        c["allowed_actions"],
        json!(["approve", "reject", "withdraw"])
    );
    let ev = &c["evidence"];
    assert_eq!(ev["step"], "open");
    assert_eq!(ev["eligible"], true);
    assert_eq!(ev["entries"][0]["id"], p.entry_id);
    assert_eq!(
        ev["entries"][0]["import"]["file_name"],
        "low_income_urban_220102.xlsx"
    );
    assert_eq!(ev["groups"][0]["code"], "low_income_urban");
    assert_eq!(ev["province"], "22");
    assert_eq!(ev["diagnosis_ranges"], "C00-C97");
    assert!(
        ev["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "passed"),
        "{ev}"
    );

    let id = c["id"].as_i64().unwrap();
    let events = case_event::Entity::find()
        .filter(case_event::COLUMN.case_id.eq(id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].action.as_str(),
            events[0].from_state.map(|s| s.code()),
            events[0].to_state.code()
        ),
        ("open", None, "submitted")
    );
    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("case.open"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.entity_id, id.to_string());
    assert_eq!(audit.actor_name, "caseworker");
    assert_eq!(audit.after.unwrap()["state"], "submitted");
}

db_test!(an_ineligible_patient_is_refused_with_every_reason_and_nothing_is_stored);
async fn an_ineligible_patient_is_refused_with_every_reason_and_nothing_is_stored(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let h = hospital(&app, "H1", true).await;
    let before = counts(&app).await;

    let stranger = Patient {
        id_number: crate::fixtures::people::id_number("220102", "19800101", 99),
        name: "无名".into(),
        person_id: 0,
        entry_id: 0,
    };
    let res = worker.post("/api/v1/cases", &body(&stranger, h)).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "not_eligible");
    assert_eq!(codes(&res), vec!["not_on_roster"]);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("未开立案件")
    );

    let p = patient(
        &app,
        "220102",
        12,
        "王芳",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let mut req = body(&p, h);
    req["name"] = json!("王方");
    req["diagnosis_code"] = json!("D09.9");
    let res = worker
        .call(Method::POST, "/api/v1/cases")
        .header("accept-language", "en")
        .json(&req)
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&res), vec!["diagnosis_not_covered", "name_mismatch"]);
    let message = res.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("The patient is not eligible") && message.contains("王芳"),
        "{message}"
    );

    let ended = patient(
        &app,
        "220102",
        13,
        "李娜",
        "low_income_urban",
        "2020-06-01",
        Some("2021-12-31"),
    )
    .await;
    let res = worker.post("/api/v1/cases", &body(&ended, h)).await;
    assert_eq!(codes(&res), vec!["roster_entry_ended"]);

    assert_eq!(counts(&app).await, before, "nothing stored");
}

db_test!(bad_input_is_a_clear_422_and_changes_nothing);
async fn bad_input_is_a_clear_422_and_changes_nothing(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let p = patient(
        &app,
        "220102",
        14,
        "赵六",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let good = hospital(&app, "H1", true).await;
    let not_designated = hospital(&app, "H2", false).await;
    let before = counts(&app).await;
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "id_number",
            json!("110105194912310021"),
            "invalid_id_number",
            "id_number",
        ),
        (
            "diagnosis_code",
            json!("lung"),
            "invalid_diagnosis_code",
            "diagnosis_code",
        ),
        (
            "hospital_id",
            json!(not_designated),
            "validation_failed",
            "hospital_id",
        ),
        (
            "hospital_id",
            json!(424242),
            "validation_failed",
            "hospital_id",
        ),
        ("name", json!(""), "validation_failed", "name"),
        ("phone", json!("call me"), "validation_failed", "phone"),
        ("year", json!(this_year() + 1), "validation_failed", "year"),
        ("year", json!(1999), "validation_failed", "year"),
    ];
    for (field, value, code, detail) in cases {
        let mut req = body(&p, good);
        req[field] = value.clone();
        let res = worker.post("/api/v1/cases", &req).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.error_code(), code, "{field}={value}: {}", res.json());
        assert_eq!(
            res.json()["error"]["details"][0]["field"],
            detail,
            "{field}={value}"
        );
    }
    let res = worker
        .post("/api/v1/cases", &json!({"id_number": p.id_number}))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_body");
    assert_eq!(counts(&app).await, before);

    // Only caseworkers open cases.
    for role in [Role::Approver, Role::Manager, Role::Admin] {
        app.as_role(role)
            .await
            .post("/api/v1/cases", &body(&p, good))
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
}

db_test!(one_open_case_per_person_and_year);
async fn one_open_case_per_person_and_year(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        15,
        "陈静",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let first = open(&worker, &p, h).await;
    let res = worker.post("/api/v1/cases", &body(&p, h)).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&res), vec!["open_case_exists"]);
    // Last year is another year: its check is on 31 December.
    let mut last = body(&p, h);
    last["year"] = json!(this_year() - 1);
    let res = worker.post("/api/v1/cases", &last).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(
        res.json()["evidence"]["date"],
        format!("{}-12-31", this_year() - 1)
    );
    // Once withdrawn, a new one may be opened.
    act(
        &worker,
        first["id"].as_i64().unwrap(),
        "withdraw",
        json!({"version": 1}),
    )
    .await
    .assert_status(StatusCode::OK);
    open(&worker, &p, h).await;
}

db_test!(two_caseworkers_opening_at_once_open_one_case);
async fn two_caseworkers_opening_at_once_open_one_case(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        16,
        "孙伟",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let a = app.as_user("cw_a", &[Role::Caseworker], "22").await;
    let b = app.as_user("cw_b", &[Role::Caseworker], "2201").await;
    let req = body(&p, h);
    let results = futures::future::join_all((0..6).map(|i| {
        let client = if i % 2 == 0 { &a } else { &b };
        client.post("/api/v1/cases", &req)
    }))
    .await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, r.json()))
            .collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(codes(r), vec!["open_case_exists"]);
    }
    assert_eq!(case::Entity::find().count(&app.db).await.unwrap(), 1);
}

db_test!(approve_then_close_with_events_versions_and_audit);
async fn approve_then_close_with_events_versions_and_audit(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        17,
        "周敏",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();

    let res = act(
        &approver,
        id,
        "approve",
        json!({"version": 1, "reason": "材料齐全"}),
    )
    .await;
    res.assert_status(StatusCode::OK);
    let c = res.json();
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("approved"), Some(2))
    );
    assert_eq!(c["decided_by"]["username"], "approver");
    assert_eq!(
        c["evidence"]["step"], "approve",
        "the approval's own decision is kept"
    );
    assert_eq!(c["allowed_actions"], json!(["close"]));

    let res = act(
        &manager,
        id,
        "close",
        json!({"version": 2, "reason": "本年度救助结束"}),
    )
    .await;
    res.assert_status(StatusCode::OK);
    let c = res.json();
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("closed"), Some(3))
    );
    assert_eq!(c["allowed_actions"], json!([]));
    let events: Vec<(String, String, String, String)> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["by"]["username"].as_str().unwrap().to_owned(),
                e["from"].as_str().unwrap_or("-").to_owned(),
                e["reason"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (
                "open".to_owned(),
                "caseworker".to_owned(),
                "-".to_owned(),
                "-".to_owned()
            ),
            (
                "approve".to_owned(),
                "approver".to_owned(),
                "submitted".to_owned(),
                "材料齐全".to_owned()
            ),
            (
                "close".to_owned(),
                "manager".to_owned(),
                "approved".to_owned(),
                "本年度救助结束".to_owned()
            ),
        ]
    );
    assert!(c["events"][2]["at"].as_str().is_some());
    assert_eq!(c["events"][2]["to"], "closed");
    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::COLUMN.entity_type.eq("case"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, vec!["case.open", "case.approve", "case.close"]);
    let close = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("case.close"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(close.before.unwrap()["state"], "approved");
    assert_eq!(close.after.unwrap()["state"], "closed");
}

db_test!(reject_resubmit_approve_and_withdrawals);
async fn reject_resubmit_approve_and_withdrawals(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let h2 = hospital(&app, "H2", true).await;
    let p = patient(
        &app,
        "220102",
        18,
        "吴刚",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();

    let res = act(
        &approver,
        id,
        "reject",
        json!({"version": 1, "reason": "缺少病理报告"}),
    )
    .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["state"], "rejected");
    assert_eq!(res.json()["allowed_actions"], json!(["resubmit"]));

    let res = act(&worker, id, "resubmit", json!({"version": 2, "reason": "补充病理报告", "diagnosis_code": "C34.3", "hospital_id": h2, "note": "已补充"})).await;
    res.assert_status(StatusCode::OK);
    let c = res.json();
    assert_eq!(
        (c["state"].as_str(), c["version"].as_i64()),
        (Some("submitted"), Some(3))
    );
    assert_eq!(c["diagnosis"]["code"], "C34.3");
    assert_eq!(c["hospital"]["id"], h2);
    assert_eq!(c["note"], "已补充");
    assert_eq!(c["decided_by"], Value::Null);
    assert_eq!(c["evidence"]["step"], "resubmit");
    assert_eq!(c["evidence"]["diagnosis"], "C34.3");

    act(&approver, id, "approve", json!({"version": 3}))
        .await
        .assert_status(StatusCode::OK);

    // Withdrawn by its opener, and by an approver.
    let q = patient(
        &app,
        "220102",
        19,
        "郑洁",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let mine = open(&worker, &q, h).await["id"].as_i64().unwrap();
    let res = act(
        &worker,
        mine,
        "withdraw",
        json!({"version": 1, "reason": "患者放弃"}),
    )
    .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["state"], "withdrawn");
    assert_eq!(res.json()["allowed_actions"], json!([]));
    let again = open(&worker, &q, h).await["id"].as_i64().unwrap();
    act(&approver, again, "withdraw", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(a_transition_the_state_does_not_allow_is_409_with_the_allowed_ones);
async fn a_transition_the_state_does_not_allow_is_409_with_the_allowed_ones(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        21,
        "冯丽",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();

    let refused = [
        (
            &worker,
            "resubmit",
            json!({"version": 1}),
            vec!["approve", "reject", "withdraw"],
        ),
        (
            &manager,
            "close",
            json!({"version": 1, "reason": "x"}),
            vec!["approve", "reject", "withdraw"],
        ),
    ];
    for (client, action, body, allowed) in refused {
        let res = act(client, id, action, body).await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.error_code(), "transition_not_allowed");
        let e = &res.json()["error"];
        assert_eq!(e["state"], "submitted");
        assert_eq!(e["current_version"], 1);
        assert_eq!(e["allowed"], json!(allowed));
    }
    act(&approver, id, "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);
    let before = counts(&app).await;
    for (client, action) in [
        (&approver, "approve"),
        (&approver, "reject"),
        (&worker, "withdraw"),
        (&approver, "withdraw"),
        (&worker, "resubmit"),
    ] {
        let res = act(client, id, action, json!({"version": 2, "reason": "x"})).await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.error_code(), "transition_not_allowed", "{action}");
        assert_eq!(res.json()["error"]["allowed"], json!(["close"]));
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("已批准")
        );
    }
    assert_eq!(counts(&app).await, before, "nothing changed");
    act(
        &manager,
        id,
        "close",
        json!({"version": 2, "reason": "结束"}),
    )
    .await
    .assert_status(StatusCode::OK);
    let res = act(
        &manager,
        id,
        "close",
        json!({"version": 3, "reason": "again"}),
    )
    .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.json()["error"]["allowed"], json!([]));
}

db_test!(reject_and_close_need_a_reason);
async fn reject_and_close_need_a_reason(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        22,
        "蒋涛",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();
    for reason in [json!(null), json!("   ")] {
        let res = act(
            &approver,
            id,
            "reject",
            json!({"version": 1, "reason": reason}),
        )
        .await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.json()["error"]["details"][0]["field"], "reason");
    }
    act(&approver, id, "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);
    let res = act(&approver, id, "close", json!({"version": 2})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = act(&approver, id, "approve", json!({"reason": "x"})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_body", "the version is required");
}

db_test!(separation_of_duties);
async fn separation_of_duties(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        23,
        "韩梅",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let both = app
        .as_user("both", &[Role::Caseworker, Role::Approver], "22")
        .await;
    let other_worker = app.as_user("other_worker", &[Role::Caseworker], "22").await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let id = open(&both, &p, h).await["id"].as_i64().unwrap();

    for action in ["approve", "reject"] {
        let res = act(&both, id, action, json!({"version": 1, "reason": "x"})).await;
        res.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(res.error_code(), "own_case", "{action}");
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("审批分离")
        );
    }
    let res = act(&other_worker, id, "withdraw", json!({"version": 1})).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.error_code(), "not_case_opener");
    for client in [&other_worker, &manager] {
        let res = act(client, id, "approve", json!({"version": 1})).await;
        res.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(res.error_code(), "role_required");
    }

    // Rejected by someone else and resubmitted by another caseworker: neither submitter
    // may decide it now.
    act(
        &approver,
        id,
        "reject",
        json!({"version": 1, "reason": "补材料"}),
    )
    .await
    .assert_status(StatusCode::OK);
    act(&other_worker, id, "resubmit", json!({"version": 2}))
        .await
        .assert_status(StatusCode::OK);
    let res = act(&both, id, "approve", json!({"version": 3})).await;
    assert_eq!(res.error_code(), "own_case");
    act(&approver, id, "approve", json!({"version": 3}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        case::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .version,
        4
    );
}

db_test!(a_stale_version_is_409_and_changes_nothing);
async fn a_stale_version_is_409_and_changes_nothing(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        24,
        "杨帆",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();
    let before = counts(&app).await;
    let row = case::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    for version in [0, 2, 99] {
        let res = act(&approver, id, "approve", json!({"version": version})).await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.error_code(), "version_conflict");
        let e = &res.json()["error"];
        assert_eq!(e["current_version"], 1);
        assert_eq!(e["state"], "submitted");
        assert_eq!(e["allowed"], json!(["approve", "reject", "withdraw"]));
    }
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        case::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap(),
        row
    );
}

db_test!(many_approvers_racing_on_one_case_one_wins);
async fn many_approvers_racing_on_one_case_one_wins(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        25,
        "何静",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();
    let mut approvers = Vec::new();
    for i in 0..4 {
        approvers.push(
            app.as_user(&format!("approver{i}"), &[Role::Approver], "22")
                .await,
        );
    }
    let path = format!("/api/v1/cases/{id}/approve");
    let req = json!({"version": 1});
    let results =
        futures::future::join_all((0..24).map(|i| approvers[i % 4].post(&path, &req))).await;
    let ok: Vec<_> = results
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        ok.len(),
        1,
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(ok[0].json()["version"], 2);
    for r in results.iter().filter(|r| r.status != StatusCode::OK) {
        r.assert_status(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "version_conflict");
        assert_eq!(r.json()["error"]["current_version"], 2);
    }
    let approvals = case_event::Entity::find()
        .filter(case_event::COLUMN.action.eq("approve"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(approvals, 1);
    let audits = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("case.approve"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audits, 1);
}

db_test!(a_case_that_no_longer_qualifies_cannot_be_approved_or_resubmitted);
async fn a_case_that_no_longer_qualifies_cannot_be_approved_or_resubmitted(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        26,
        "罗兰",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();
    let yesterday = cancer_aid::clock::day_of(chrono::Utc::now())
        .pred_opt()
        .unwrap();
    end_entry(&app, p.entry_id, yesterday).await;
    let before = counts(&app).await;
    let res = act(&approver, id, "approve", json!({"version": 1})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "no_longer_eligible");
    assert_eq!(codes(&res), vec!["roster_entry_ended"]);
    assert_eq!(counts(&app).await, before);
    let row = case::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.state.code(), row.version), ("submitted", 1));

    // Rejected, it cannot come back either until the roster covers the patient again.
    act(
        &approver,
        id,
        "reject",
        json!({"version": 1, "reason": "已退出低保"}),
    )
    .await
    .assert_status(StatusCode::OK);
    let res = act(&worker, id, "resubmit", json!({"version": 2})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "not_eligible");
    crate::fixtures::people::entry(
        &app,
        p.person_id,
        "extreme_hardship",
        "220102",
        &p.name,
        "2020-01-01",
        None,
        None,
    )
    .await;
    act(&worker, id, "resubmit", json!({"version": 2}))
        .await
        .assert_status(StatusCode::OK);
    // Its own open state does not count against it.
    act(&approver, id, "approve", json!({"version": 3}))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(a_caseworker_of_one_city_neither_sees_nor_touches_another_citys_cases);
async fn a_caseworker_of_one_city_neither_sees_nor_touches_another_citys_cases(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let changchun = patient(
        &app,
        "220102",
        27,
        "甲",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let yanbian = patient(
        &app,
        "222401",
        28,
        "乙",
        "entitled_care",
        "2020-06-01",
        None,
    )
    .await;
    let cw2201 = app.as_user("cw2201", &[Role::Caseworker], "2201").await;
    let cw2224 = app.as_user("cw2224", &[Role::Caseworker], "2224").await;
    let approver = app.as_role(Role::Approver).await;
    let ours = open(&cw2201, &changchun, h).await["id"].as_i64().unwrap();
    let theirs = open(&cw2224, &yanbian, h).await["id"].as_i64().unwrap();

    cw2201
        .get(&format!("/api/v1/cases/{theirs}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = cw2201.get("/api/v1/cases").await.json();
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![ours]);
    assert_eq!(list["total"], 1);
    let before = counts(&app).await;
    act(&cw2201, theirs, "withdraw", json!({"version": 1}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Nor open one for a patient of another city: refused exactly as for an ID number
    // nobody has, so the refusal does not say that the person is on a roster elsewhere.
    let mut req = body(&yanbian, h);
    req["year"] = json!(this_year() - 1);
    let res = cw2201.post("/api/v1/cases", &req).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let mut nobody = req.clone();
    nobody["id_number"] = json!(crate::fixtures::people::id_number("222401", "19700101", 99));
    let unknown = cw2201.post("/api/v1/cases", &nobody).await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), unknown.error_code());
    assert_eq!(
        res.json()["error"]["reasons"],
        unknown.json()["error"]["reasons"]
    );
    assert!(!res.json().to_string().contains("乙"));
    assert_eq!(counts(&app).await, before);

    let all = approver.get("/api/v1/cases").await.json();
    assert_eq!(all["total"], 2);
    let city_approver = app.as_user("approver2224", &[Role::Approver], "2224").await;
    act(&city_approver, ours, "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    act(&city_approver, theirs, "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(lists_filter_page_and_put_the_newest_first);
async fn lists_filter_page_and_put_the_newest_first(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let mut ids = Vec::new();
    let mut people = Vec::new();
    for (i, name) in ["甲一", "乙二", "丙三", "丁四"].iter().enumerate() {
        let p = patient(
            &app,
            "220102",
            40 + i as u32,
            name,
            "low_income_urban",
            "2020-06-01",
            None,
        )
        .await;
        ids.push(open(&worker, &p, h).await["id"].as_i64().unwrap());
        people.push(p);
    }
    act(&approver, ids[1], "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);

    let page = approver.get("/api/v1/cases?per_page=3").await.json();
    assert_eq!(page["total"], 4);
    assert_eq!(
        (page["page"].as_u64(), page["per_page"].as_u64()),
        (Some(1), Some(3))
    );
    let got: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[3], ids[2], ids[1]], "newest first");
    assert!(
        page["items"][0].get("evidence").is_none(),
        "lists leave the evidence out"
    );
    let masked = page["items"][0]["person"]["id_number"].as_str().unwrap();
    assert!(
        masked.contains("********"),
        "approvers see masked numbers: {masked}"
    );
    let second = approver.get("/api/v1/cases?per_page=3&page=2").await.json();
    assert_eq!(second["items"][0]["id"], ids[0]);

    let approved = approver.get("/api/v1/cases?state=approved").await.json();
    assert_eq!(approved["total"], 1);
    assert_eq!(approved["items"][0]["id"], ids[1]);
    assert_eq!(
        approver
            .get(&format!("/api/v1/cases?year={}", this_year()))
            .await
            .json()["total"],
        4
    );
    assert_eq!(
        approver
            .get(&format!("/api/v1/cases?year={}", this_year() - 1))
            .await
            .json()["total"],
        0
    );
    let one = worker
        .get(&format!("/api/v1/cases?id_number={}", people[2].id_number))
        .await
        .json();
    assert_eq!(one["total"], 1);
    assert_eq!(one["items"][0]["person"]["id_number"], people[2].id_number);
    let q = approver
        .get(&format!("/api/v1/cases?q={}", "%E4%B8%81"))
        .await
        .json();
    assert_eq!(q["total"], 1, "{q}");
    assert_eq!(q["items"][0]["applicant_name"], "丁四");
    assert_eq!(approver.get("/api/v1/cases?q=c34").await.json()["total"], 4);

    let res = approver.get("/api/v1/cases?state=open").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        approver
            .get("/api/v1/cases?id_number=123")
            .await
            .error_code(),
        "invalid_id_number"
    );
    approver
        .get("/api/v1/cases?per_page=0")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    approver
        .get("/api/v1/cases?year=abc")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.as_role(Role::RosterImporter)
        .await
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

db_test!(a_case_shows_its_events_and_visits_summary);
async fn a_case_shows_its_events_and_visits_summary(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let p = patient(
        &app,
        "220102",
        50,
        "曹阳",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let id = open(&worker, &p, h).await["id"].as_i64().unwrap();
    let c = manager.get(&format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(
        c["visits"],
        json!({"count": 0, "subsidy_total": "0.00", "annual_cap_left": null}),
        "no policy, no cap"
    );
    assert_eq!(c["events"][0]["action"], "open");
    assert_eq!(c["events"][0]["by"]["username"], "caseworker");
    assert_eq!(c["events"][0]["from"], Value::Null);
    assert_eq!(c["events"][0]["to"], "submitted");

    policy(&app, "low_income_urban", 3_000_000, "2015-01-01").await;
    act(&approver, id, "approve", json!({"version": 1}))
        .await
        .assert_status(StatusCode::OK);
    grant(&app, p.person_id, this_year(), 120_050).await;
    let today = cancer_aid::clock::day_of(chrono::Utc::now());
    for (fen, status, invoice) in [
        (120_050, "approved", "INV-1"),
        (99_900, "pending", "INV-2"),
        (5_000, "voided", "INV-3"),
    ] {
        visit::ActiveModel {
            case_id: Set(id),
            person_id: Set(p.person_id),
            hospital_id: Set(h),
            policy_id: Set(None),
            group_code: Set("low_income_urban".into()),
            region_code: Set("220102".into()),
            kind: Set(entity::visit::Kind::Outpatient),
            admitted_on: Set(None),
            discharged_on: Set(None),
            visit_date: Set(Some(today)),
            counted_on: Set(today),
            year: Set(this_year()),
            invoice_no: Set(Some(invoice.into())),
            total_cost_fen: Set(500_000),
            insurance_paid_fen: Set(0),
            critical_illness_paid_fen: Set(0),
            medical_assistance_paid_fen: Set(0),
            out_of_pocket_fen: Set(500_000),
            subsidy_fen: Set(fen),
            cap_reason: Set(None),
            status: Set(entity::visit::Status::parse(status).expect("a visit status")),
            reverses_visit_id: Set(None),
            recorded_by: Set(1),
            approved_by: Set(None),
            approved_at: Set(None),
            paid_by: Set(None),
            paid_at: Set(None),
            payment_ref: Set(None),
            paid_on: Set(None),
            voided_by: Set(None),
            voided_at: Set(None),
            void_reason: Set(None),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let c = manager.get(&format!("/api/v1/cases/{id}")).await.json();
    assert_eq!(
        c["visits"],
        json!({"count": 2, "subsidy_total": "1200.50", "annual_cap_left": "28799.50"})
    );
    assert_eq!(c["events"].as_array().unwrap().len(), 2);
    assert_eq!(c["events"][1]["by"]["username"], "approver");
    assert_eq!(c["person"]["id_number"].as_str().unwrap().len(), 18);
    assert!(
        c["person"]["id_number"]
            .as_str()
            .unwrap()
            .contains("********")
    );
    assert_eq!(
        worker.get(&format!("/api/v1/cases/{id}")).await.json()["person"]["id_number"],
        p.id_number
    );
    manager
        .get("/api/v1/cases/424242")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
