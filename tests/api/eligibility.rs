//! `GET /api/v1/eligibility` through the real router: every rule's pass and fail, masking,
//! roles, region scope and configuration.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use cancer_aid::domain::{DiagnosisRanges, RegionPrefix, Role};

use crate::db_test;
use crate::fixtures::people::*;
use crate::helpers::{Backend, TestApp, spawn_app_with};

fn codes(body: &Value) -> Vec<String> {
    body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {body}"))
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

fn url(id: &str, rest: &str) -> String {
    format!("/api/v1/eligibility?id_number={id}{rest}")
}

db_test!(an_eligible_person_comes_with_entries_imports_and_every_rule);
async fn an_eligible_person_comes_with_entries_imports_and_every_rule(app: TestApp) {
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
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker
        .get(&url(&p.id_number, "&date=2026-03-01&diagnosis=c34.10"))
        .await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    assert_eq!(body["eligible"], true, "{body}");
    assert_eq!(
        body["id_number"], p.id_number,
        "a caseworker sees the whole number"
    );
    assert_eq!(body["date"], "2026-03-01");
    assert_eq!(body["diagnosis"], "C34.10");
    assert!(
        body["person"]["id"].as_i64().is_some_and(|id| id > 0),
        "{body}"
    );
    assert_eq!(body["person"]["name"], "买买提·吐尔逊");
    assert_eq!(body["person"]["sex"], "male");
    assert_eq!(body["person"]["birth_date"], "1970-01-01");
    assert_eq!(body["person"]["region_code"], "220102");
    assert_eq!(
        body["groups"],
        json!([{"code": "low_income_urban", "label": "城市低保"}])
    );
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], p.entry_id);
    assert_eq!(entries[0]["valid_from"], "2020-06-01");
    assert_eq!(entries[0]["valid_to"], Value::Null);
    assert_eq!(
        entries[0]["import"]["file_name"],
        "low_income_urban_220102.xlsx"
    );
    assert_eq!(entries[0]["import"]["effective_date"], "2020-07-01");
    assert_eq!(body["reasons"], json!([]));
    let rules: Vec<(&str, &str)> = body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["rule"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("roster", "passed"),
            ("province", "passed"),
            ("diagnosis", "passed"),
            ("name", "not_applicable"),
            ("open_case", "passed"),
            ("annual_cap", "passed")
        ]
    );

    // Without a diagnosis, that rule is not applicable; the date defaults to today.
    let body = worker.get(&url(&p.id_number, "")).await.json();
    assert_eq!(body["eligible"], true);
    assert_eq!(
        body["date"],
        cancer_aid::clock::day_of(chrono::Utc::now()).to_string()
    );
    assert_eq!(
        body["rules"][2],
        json!({"rule": "diagnosis", "result": "not_applicable"})
    );
}

db_test!(approvers_and_managers_see_the_number_masked_and_other_roles_nothing);
async fn approvers_and_managers_see_the_number_masked_and_other_roles_nothing(app: TestApp) {
    let p = patient(
        &app,
        "220102",
        12,
        "王芳",
        "extreme_hardship",
        "2019-01-01",
        None,
    )
    .await;
    for role in [Role::Approver, Role::Manager] {
        let body = app
            .as_role(role)
            .await
            .get(&url(&p.id_number, ""))
            .await
            .json();
        assert_eq!(body["eligible"], true, "{body}");
        assert_eq!(
            body["id_number"],
            format!("{}********{}", &p.id_number[..6], &p.id_number[14..])
        );
    }
    for role in [Role::RosterImporter, Role::Admin] {
        let res = app.as_role(role).await.get(&url(&p.id_number, "")).await;
        res.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(res.error_code(), "role_required");
    }
    app.anonymous()
        .get(&url(&p.id_number, ""))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

db_test!(an_invalid_id_number_is_a_422_that_says_what_is_wrong);
async fn an_invalid_id_number_is_a_422_that_says_what_is_wrong(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker.get(&url("110105194912310021", "")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(res.error_code(), "invalid_id_number");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("身份证号码") && message.contains("校验位"),
        "{message}"
    );
    assert_eq!(body["error"]["reasons"][0]["code"], "invalid_id_number");
    assert_eq!(body["error"]["details"][0]["field"], "id_number");

    let en = worker
        .call(Method::GET, &url("1101051949", ""))
        .header("accept-language", "en")
        .send()
        .await;
    en.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        en.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("18 characters"),
        "{}",
        en.json()
    );

    let missing = worker.get("/api/v1/eligibility").await;
    missing.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.error_code(), "invalid_id_number");
}

db_test!(bad_dates_and_diagnoses_are_422_with_the_field);
async fn bad_dates_and_diagnoses_are_422_with_the_field(app: TestApp) {
    let p = patient(
        &app,
        "220102",
        13,
        "李娜",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker.get(&url(&p.id_number, "&date=2026-02-30")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "date");
    let res = worker.get(&url(&p.id_number, "&diagnosis=lung")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_diagnosis_code");
    assert_eq!(res.json()["error"]["details"][0]["field"], "diagnosis");
}

db_test!(someone_on_no_roster_is_not_on_roster);
async fn someone_on_no_roster_is_not_on_roster(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let stranger = id_number("220102", "19800101", 99);
    let res = worker.get(&url(&stranger, "&diagnosis=C50.9")).await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    assert_eq!(body["eligible"], false);
    assert_eq!(body["person"], Value::Null);
    assert_eq!(body["entries"], json!([]));
    assert_eq!(codes(&body), vec!["not_on_roster"]);
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("名册")
    );

    // A person whose only entry is of no programme group is not on a roster either.
    let p = patient(
        &app,
        "220102",
        14,
        "赵六",
        "not_a_group",
        "2020-01-01",
        None,
    )
    .await;
    assert_eq!(
        codes(&worker.get(&url(&p.id_number, "")).await.json()),
        vec!["not_on_roster"]
    );
}

db_test!(an_ended_entry_and_one_not_started_say_when);
async fn an_ended_entry_and_one_not_started_say_when(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let p = patient(
        &app,
        "220102",
        15,
        "陈静",
        "low_income_urban",
        "2020-06-01",
        Some("2021-12-31"),
    )
    .await;
    let body = worker
        .get(&url(&p.id_number, "&date=2022-01-01"))
        .await
        .json();
    assert_eq!(codes(&body), vec!["roster_entry_ended"]);
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2021-12-31")
    );
    assert_eq!(body["entries"], json!([]));
    assert_eq!(
        body["person"]["name"], "陈静",
        "the person is known even when not covered"
    );
    let body = worker
        .get(&url(&p.id_number, "&date=2021-12-31"))
        .await
        .json();
    assert_eq!(body["eligible"], true, "the last day is covered: {body}");
    let body = worker
        .get(&url(&p.id_number, "&date=2020-05-31"))
        .await
        .json();
    assert_eq!(codes(&body), vec!["roster_entry_not_started"]);
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2020-06-01")
    );

    let en = worker
        .call(Method::GET, &url(&p.id_number, "&date=2022-01-01"))
        .header("accept-language", "en")
        .send()
        .await
        .json();
    assert_eq!(
        en["reasons"][0]["message"],
        "The person's roster entry ended on 2021-12-31, before 2022-01-01."
    );
}

db_test!(a_diagnosis_outside_the_covered_ranges_fails);
async fn a_diagnosis_outside_the_covered_ranges_fails(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let p = patient(
        &app,
        "220102",
        16,
        "孙伟",
        "low_income_rural",
        "2020-06-01",
        None,
    )
    .await;
    for ok in ["C34", "C34.1", "c34.10", "C97", "C00"] {
        let body = worker
            .get(&url(&p.id_number, &format!("&diagnosis={ok}")))
            .await
            .json();
        assert_eq!(body["eligible"], true, "{ok}: {body}");
    }
    for not in ["D09.9", "B99", "E11"] {
        let body = worker
            .get(&url(&p.id_number, &format!("&diagnosis={not}")))
            .await
            .json();
        assert_eq!(codes(&body), vec!["diagnosis_not_covered"], "{not}");
        assert!(
            body["reasons"][0]["message"]
                .as_str()
                .unwrap()
                .contains("C00-C97")
        );
    }
}

db_test!(an_open_case_of_the_year_fails_and_a_withdrawn_one_does_not);
async fn an_open_case_of_the_year_fails_and_a_withdrawn_one_does_not(app: TestApp) {
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
    let opened = worker
        .post(
            "/api/v1/cases",
            &json!({"id_number": p.id_number, "name": p.name, "diagnosis_code": "C50.9"}),
        )
        .await;
    opened.assert_status(StatusCode::CREATED);
    let case_id = opened.json()["id"].as_i64().unwrap();
    let body = worker.get(&url(&p.id_number, "")).await.json();
    assert_eq!(codes(&body), vec!["open_case_exists"]);
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&case_id.to_string())
    );
    // Another year is another matter.
    let last_year = format!("&date={}-06-01", this_year() - 1);
    assert_eq!(
        worker.get(&url(&p.id_number, &last_year)).await.json()["eligible"],
        true
    );

    worker
        .post(
            &format!("/api/v1/cases/{case_id}/withdraw"),
            &json!({"version": 1}),
        )
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        worker.get(&url(&p.id_number, "")).await.json()["eligible"],
        true
    );
}

db_test!(the_annual_cap_fails_only_when_a_policy_caps_it_and_it_is_used_up);
async fn the_annual_cap_fails_only_when_a_policy_caps_it_and_it_is_used_up(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
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
    grant(&app, p.person_id, 2026, 3_000_000).await;
    let q = url(&p.id_number, "&date=2026-05-01");
    assert_eq!(
        worker.get(&q).await.json()["eligible"],
        true,
        "no policy, no cap"
    );

    policy(&app, "low_income_urban", 3_000_001, "2015-01-01").await;
    assert_eq!(
        worker.get(&q).await.json()["eligible"],
        true,
        "one fen left"
    );
    policy(&app, "low_income_urban", 3_000_000, "2025-01-01").await;
    let body = worker.get(&q).await.json();
    assert_eq!(
        codes(&body),
        vec!["annual_cap_reached"],
        "the later policy counts"
    );
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("30000.00")
    );
    // Other years have their own cap.
    assert_eq!(
        worker
            .get(&url(&p.id_number, "&date=2025-05-01"))
            .await
            .json()["eligible"],
        true
    );
}

db_test!(every_failing_rule_gives_its_own_reason_in_the_language_asked);
async fn every_failing_rule_gives_its_own_reason_in_the_language_asked(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    let p = patient(
        &app,
        "220102",
        19,
        "郑洁",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    worker
        .post(
            "/api/v1/cases",
            &json!({"id_number": p.id_number, "name": p.name, "diagnosis_code": "C16"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    policy(&app, "low_income_urban", 100, "2015-01-01").await;
    grant(&app, p.person_id, this_year(), 100).await;
    let res = worker
        .call(Method::GET, &url(&p.id_number, "&diagnosis=E11"))
        .header("accept-language", "en")
        .send()
        .await;
    let body = res.json();
    assert_eq!(
        codes(&body),
        vec![
            "diagnosis_not_covered",
            "open_case_exists",
            "annual_cap_reached"
        ]
    );
    assert!(
        body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["message"].as_str().unwrap().is_ascii())
    );
    let rules: Vec<&str> = body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec![
            "passed",
            "passed",
            "failed",
            "not_applicable",
            "failed",
            "failed"
        ]
    );
}

db_test!(a_caseworker_sees_only_people_of_their_region);
async fn a_caseworker_sees_only_people_of_their_region(app: TestApp) {
    let changchun = patient(
        &app,
        "220102",
        21,
        "甲",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let yanbian = patient(
        &app,
        "222401",
        22,
        "乙",
        "entitled_care",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_user("cw_2201", &[Role::Caseworker], "2201").await;
    worker
        .get(&url(&changchun.id_number, ""))
        .await
        .assert_status(StatusCode::OK);
    let res = worker.get(&url(&yanbian.id_number, "")).await;
    // Answered exactly as an ID number nobody has: nothing says the person exists.
    res.assert_status(StatusCode::OK);
    assert!(
        !res.json().to_string().contains("乙"),
        "nothing of the person leaks"
    );
    let nobody = id_number("222401", "19700101", 99);
    let unknown = worker.get(&url(&nobody, "")).await;
    unknown.assert_status(StatusCode::OK);
    let without_id = |mut v: Value| {
        v.as_object_mut().unwrap().remove("id_number");
        v
    };
    assert_eq!(without_id(res.json()), without_id(unknown.json()));
    assert_eq!(codes(&res.json()), vec!["not_on_roster"]);
    let approver = app.as_role(Role::Approver).await;
    assert_eq!(
        approver.get(&url(&yanbian.id_number, "")).await.json()["eligible"],
        true
    );
}

async fn configured_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.province = RegionPrefix::parse("2224").unwrap();
        s.diagnosis_ranges = DiagnosisRanges::parse("C00-C97,D00-D09").unwrap();
    })
    .await
}

async fn province_and_ranges_come_from_configuration(app: TestApp) {
    let inside = patient(
        &app,
        "222401",
        31,
        "金哲洙",
        "entitled_care",
        "2020-06-01",
        None,
    )
    .await;
    let outside = patient(
        &app,
        "220102",
        32,
        "张三",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let approver = app.as_role(Role::Approver).await;
    let body = approver
        .get(&url(&inside.id_number, "&diagnosis=D05.1"))
        .await
        .json();
    assert_eq!(body["eligible"], true, "D00-D09 configured: {body}");
    let body = approver
        .get(&url(&outside.id_number, "&diagnosis=D05.1"))
        .await
        .json();
    assert_eq!(codes(&body), vec!["outside_province"]);
    let message = body["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("220102") && message.contains("2224"),
        "{message}"
    );
}

mod configuration {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = configured_app(Backend::Sqlite).await.expect("SQLite");
        province_and_ranges_come_from_configuration(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = configured_app(Backend::Postgres).await {
            province_and_ranges_come_from_configuration(app).await;
        }
    }
}
