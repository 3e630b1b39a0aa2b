//! Subsidy policies through the real router on both databases: creation, succession, overlaps,
//! bad values and the rule that a used policy is never edited.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::{audit_log, subsidy_policy};

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::TestApp;
use crate::snapshot::stable;

fn body(group: &str, from: &str, to: Option<&str>) -> Value {
    json!({"group": group, "rate": "0.6", "deductible": "1000", "per_visit_cap": "10000",
           "annual_cap": "30000.00", "effective_from": from, "effective_to": to})
}

async fn count(app: &TestApp) -> u64 {
    subsidy_policy::Entity::find().count(&app.db).await.unwrap()
}

db_test!(an_admin_creates_policies_and_everyone_reads_them);
async fn an_admin_creates_policies_and_everyone_reads_them(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    assert_eq!(
        worker.get("/api/v1/policies").await.json(),
        json!([]),
        "a plain database has none"
    );
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post("/api/v1/policies", &body("城市低保", "2015-01-01", None))
        .await;
    res.assert_status(StatusCode::CREATED);
    let created = res.json();
    let p = &created["policy"];
    // The group by its Chinese name, money and the rate as strings, nothing ended.
    insta::assert_json_snapshot!("policy_created", stable(&created, year()));
    let id = p["id"].as_i64().unwrap();
    let row = subsidy_policy::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.rate.as_str(), row.deductible_fen, row.annual_cap_fen),
        ("0.60", 100_000, 3_000_000)
    );

    admin
        .post(
            "/api/v1/policies",
            &body("extreme_hardship", "2020-01-01", Some("2020-12-31")),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let all = worker.get("/api/v1/policies").await.json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let urban = worker
        .get("/api/v1/policies?group=low_income_urban")
        .await
        .json();
    assert_eq!(urban.as_array().unwrap().len(), 1);
    let on = worker.get("/api/v1/policies?on=2021-06-01").await.json();
    assert_eq!(
        on.as_array().unwrap().len(),
        1,
        "the 2020 policy is over by then"
    );
    assert_eq!(
        worker.get(&format!("/api/v1/policies/{id}")).await.json()["id"],
        id
    );
    worker
        .get("/api/v1/policies/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        worker
            .get("/api/v1/policies?group=nobody")
            .await
            .error_code(),
        "unknown_group"
    );

    for role in [Role::Caseworker, Role::Approver, Role::Manager] {
        app.as_role(role)
            .await
            .post("/api/v1/policies", &body("优抚对象", "2015-01-01", None))
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("policy.create"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].actor_name, "admin");
    assert_eq!(audit[0].after.as_ref().unwrap()["rate"], "0.60");
}

db_test!(a_successor_ends_the_open_policy_the_day_before_it_starts);
async fn a_successor_ends_the_open_policy_the_day_before_it_starts(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let first = admin
        .post(
            "/api/v1/policies",
            &body("low_income_rural", "2015-01-01", None),
        )
        .await
        .json();
    let mut next = body("low_income_rural", "2024-07-01", None);
    next["rate"] = json!("0.70");
    let res = admin.post("/api/v1/policies", &next).await;
    res.assert_status(StatusCode::CREATED);
    let created = res.json();
    assert_eq!(created["ended"]["id"], first["policy"]["id"]);
    assert_eq!(created["ended"]["effective_to"], "2024-06-30");
    assert_eq!(created["policy"]["effective_to"], Value::Null);
    let in_force = admin.get("/api/v1/policies?on=2024-06-30").await.json();
    assert_eq!(in_force[0]["rate"], "0.60");
    let in_force = admin.get("/api/v1/policies?on=2024-07-01").await.json();
    assert_eq!(in_force[0]["rate"], "0.70");
    let ended = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("policy.end"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("an audit row for the ended policy");
    assert_eq!(ended.before.unwrap()["effective_to"], Value::Null);
    assert_eq!(ended.after.unwrap()["effective_to"], "2024-06-30");
}

db_test!(ending_a_policy_is_refused_while_later_visits_used_it);
async fn ending_a_policy_is_refused_while_later_visits_used_it(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let open = standard_policy(&app, "low_income_urban").await;
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &outpatient(h, "V1", &day(8, 1), "5000"),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/v1/policies",
            &body("low_income_urban", &day(7, 1), None),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "policy_in_use");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("#{open}"))
    );
    assert_eq!(count(&app).await, 1);
    let row = subsidy_policy::Entity::find_by_id(open)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.effective_to, None, "nothing changed");
    // After the last visit that used it, it can be followed.
    let res = admin
        .post(
            "/api/v1/policies",
            &body("low_income_urban", &day(8, 2), None),
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.json()["ended"]["effective_to"], day(8, 1));
    assert_eq!(res.json()["ended"]["in_use"], true);
}

db_test!(any_other_overlap_is_refused);
async fn any_other_overlap_is_refused(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    admin
        .post(
            "/api/v1/policies",
            &body("entitled_care", "2020-01-01", Some("2020-12-31")),
        )
        .await
        .assert_status(StatusCode::CREATED);
    admin
        .post(
            "/api/v1/policies",
            &body("entitled_care", "2022-01-01", None),
        )
        .await
        .assert_status(StatusCode::CREATED);
    for (from, to) in [
        ("2020-06-01", Some("2021-06-30")), // inside the closed one
        ("2019-01-01", Some("2020-01-01")), // touches its first day
        ("2022-01-01", None),               // the same start as the open one
        ("2021-01-01", Some("2022-03-01")), // runs into the open one from before
        ("2021-06-01", None),               // open-ended before the open one
    ] {
        let res = admin
            .post("/api/v1/policies", &body("entitled_care", from, to))
            .await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.error_code(), "policy_overlap", "{from} {to:?}");
        assert_eq!(res.json()["error"]["details"][0]["field"], "effective_from");
    }
    assert_eq!(count(&app).await, 2);
    // The gap between them can be filled; other groups are unaffected.
    admin
        .post(
            "/api/v1/policies",
            &body("entitled_care", "2021-01-01", Some("2021-12-31")),
        )
        .await
        .assert_status(StatusCode::CREATED);
    admin
        .post(
            "/api/v1/policies",
            &body("low_income_urban", "2020-06-01", None),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let res = app
        .as_role(Role::Admin)
        .await
        .call(axum::http::Method::POST, "/api/v1/policies")
        .header("accept-language", "en")
        .json(&body("entitled_care", "2020-03-01", Some("2020-03-31")))
        .send()
        .await;
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("overlaps policy #")
    );
}

db_test!(bad_values_are_refused_with_what_to_fix);
async fn bad_values_are_refused_with_what_to_fix(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let cases: &[(&str, Value, &str)] = &[
        ("rate", json!("0"), "rate_out_of_range"),
        ("rate", json!("1.5"), "rate_out_of_range"),
        ("rate", json!("60%"), "invalid_rate"),
        ("rate", json!(0.6), "rate_not_a_string"),
        ("rate", json!("0.12345"), "rate_too_precise"),
        ("deductible", json!("-1"), "amount_negative"),
        ("annual_cap", json!("30000.001"), "amount_too_precise"),
        (
            "per_visit_cap",
            json!("40000"),
            "per_visit_cap_above_annual_cap",
        ),
        ("per_visit_cap", json!("0"), "cap_not_positive"),
        (
            "effective_to",
            json!("2014-12-31"),
            "effective_to_before_from",
        ),
        ("effective_from", json!("2015-13-01"), "invalid_date"),
        ("group", json!("低收入"), "unknown_group"),
    ];
    for (field, value, code) in cases {
        let mut b = body("城市低保", "2015-01-01", None);
        b[*field] = value.clone();
        let res = admin.post("/api/v1/policies", &b).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(&res.error_code(), code, "{field} = {value}");
        assert_eq!(res.json()["error"]["details"][0]["field"], *field, "{code}");
    }
    let res = admin.post("/api/v1/policies", &json!({})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "validation_failed");
    let fields: Vec<String> = res.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "group",
            "rate",
            "deductible",
            "per_visit_cap",
            "annual_cap",
            "effective_from"
        ]
    );
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("请检查")
    );
    assert_eq!(count(&app).await, 0);
}

db_test!(a_used_policy_is_never_edited_only_followed);
async fn a_used_policy_is_never_edited_only_followed(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let admin = app.as_role(Role::Admin).await;
    let id = standard_policy(&app, "low_income_urban").await;
    let res = admin
        .patch(
            &format!("/api/v1/policies/{id}"),
            &json!({"rate": "0.65", "annual_cap": "35000"}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["rate"], "0.65");
    assert_eq!(res.json()["annual_cap"], "35000.00");
    assert_eq!(res.json()["deductible"], "1000.00", "untouched fields stay");
    let res = admin
        .patch(
            &format!("/api/v1/policies/{id}"),
            &json!({"per_visit_cap": "99999"}),
        )
        .await;
    assert_eq!(res.error_code(), "per_visit_cap_above_annual_cap");
    let later = policy(
        &app,
        "low_income_rural",
        "0.6",
        ["0", "100", "1000"],
        "2015-01-01",
        Some("2015-12-31"),
    )
    .await;
    let later_id = later["policy"]["id"].as_i64().unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/policies/{later_id}"),
            &json!({"effective_to": null}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["effective_to"], Value::Null);
    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("policy.update"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audit, 2);

    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let v = app
        .as_role(Role::Caseworker)
        .await
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &outpatient(h, "U1", &day(3, 1), "3000"),
        )
        .await;
    v.assert_status(StatusCode::CREATED);
    // (3000 - 1000) * 0.65
    assert_eq!(v.json()["subsidy"], "1300.00");
    let res = admin
        .patch(&format!("/api/v1/policies/{id}"), &json!({"rate": "0.9"}))
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "policy_in_use");
    assert_eq!(
        admin.get(&format!("/api/v1/policies/{id}")).await.json()["in_use"],
        true
    );
    let row = subsidy_policy::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.rate, "0.65");
    admin
        .patch("/api/v1/policies/999999", &json!({"rate": "0.5"}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
