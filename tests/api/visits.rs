//! Visits and subsidies through the real router on both databases: recording, every refusal,
//! the subsidy's states, the annual cap under 50 simultaneous visits, lists and statements.

use axum::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::{annual_grant, audit_log, visit};

use crate::db_test;
#[allow(unused_imports)]
pub use fixture::*;

use crate::fixtures::visits as fixture;
use crate::helpers::TestApp;
use crate::snapshot::stable;

async fn count_visits(app: &crate::helpers::TestApp) -> u64 {
    visit::Entity::find().count(&app.db).await.unwrap()
}

async fn granted(app: &crate::helpers::TestApp, person_id: i64) -> i64 {
    annual_grant::Entity::find_by_id((person_id, year()))
        .one(&app.db)
        .await
        .unwrap()
        .map(|g| g.granted_fen)
        .unwrap_or(0)
}

/// The granted total recomputed from the visits themselves.
async fn sum_of_subsidies(app: &crate::helpers::TestApp, person_id: i64) -> i64 {
    visit::Entity::find()
        .filter(visit::COLUMN.person_id.eq(person_id))
        .filter(visit::COLUMN.status.ne(visit::Status::Voided))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|v| v.subsidy_fen)
        .sum()
}

db_test!(an_inpatient_visit_gets_its_subsidy_policy_and_annual_figures);
async fn an_inpatient_visit_gets_its_subsidy_policy_and_annual_figures(app: TestApp) {
    let hospital = hospital(&app, "H1", true).await;
    let policy_id = standard_policy(&app, "low_income_urban").await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &json!({
                "hospital_id": hospital, "kind": "inpatient",
                "admitted_on": day(3, 1), "discharged_on": day(3, 12),
                "invoice_no": "ZY-0001", "total_cost": "30000.00",
                "insurance_paid": "15000", "critical_illness_paid": "3000.00",
                "medical_assistance_paid": "2000"
            }),
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    let v = res.json();
    // Out of pocket 10000, (10000 - 1000) * 0.60 = 5400, the annual cap 30000 less 5400.
    insta::assert_json_snapshot!("inpatient_visit_recorded", stable(&v, year()));
    assert_eq!(v["counted_on"], day(3, 12));
    assert_eq!(v["policy_id"], policy_id);
    assert_eq!(v["policy"]["id"], policy_id);

    let second = worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &outpatient(hospital, "MZ-1", &day(4, 2), "21000"),
        )
        .await;
    second.assert_status(StatusCode::CREATED);
    let s = second.json();
    // 20000 * 0.6 = 12000, cut to the per-visit cap.
    assert_eq!(s["subsidy"], "10000.00");
    assert_eq!(s["subsidy_by_rate"], "12000.00");
    assert_eq!(s["cap_reason"], "per_visit_cap");
    assert_eq!(s["annual"]["granted_before"], "5400.00");
    assert_eq!(s["annual"]["granted_with_this"], "15400.00");
    assert_eq!(s["annual"]["cap_left"], "14600.00");

    // Stored in fen, and the person's row agrees with the visits.
    let row = visit::Entity::find_by_id(v["id"].as_i64().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.out_of_pocket_fen, row.subsidy_fen, row.total_cost_fen),
        (1_000_000, 540_000, 3_000_000)
    );
    assert_eq!(granted(&app, person_id).await, 1_540_000);
    assert_eq!(sum_of_subsidies(&app, person_id).await, 1_540_000);
    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("visit.record"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].actor_name, "caseworker");
    assert_eq!(audit[0].after.as_ref().unwrap()["subsidy"], "5400.00");
    assert_eq!(
        audit[0].after.as_ref().unwrap()["annual"]["granted_with_this"],
        "5400.00"
    );
}

db_test!(money_is_rounded_half_up_to_the_fen);
async fn money_is_rounded_half_up_to_the_fen(app: TestApp) {
    let hospital = hospital(&app, "H1", true).await;
    policy(
        &app,
        "low_income_urban",
        "0.5",
        ["0", "10000", "30000"],
        "2015-01-01",
        None,
    )
    .await;
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    // 0.05 * 0.5 = 0.025: half-even would store 0.02.
    for (i, (total, expected)) in [
        ("0.05", "0.03"),
        ("0.45", "0.23"),
        ("1234.57", "617.29"),
        ("0.01", "0.01"),
    ]
    .into_iter()
    .enumerate()
    {
        let res = worker
            .post(
                &format!("/api/v1/cases/{case_id}/visits"),
                &outpatient(hospital, &format!("R{i}"), &day(5, 1), total),
            )
            .await;
        res.assert_status(StatusCode::CREATED);
        assert_eq!(res.json()["subsidy"], expected, "total {total}");
    }
}

db_test!(every_rule_refuses_with_its_code_and_changes_nothing);
async fn every_rule_refuses_with_its_code_and_changes_nothing(app: TestApp) {
    let designated = hospital(&app, "H1", true).await;
    let other = hospital(&app, "H2", false).await;
    standard_policy(&app, "low_income_urban").await;
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let (_, submitted) = patient(&app, 2, "low_income_urban", "submitted").await;
    let worker = app.as_role(Role::Caseworker).await;
    let url = format!("/api/v1/cases/{case_id}/visits");

    let expect = |res: &crate::helpers::TestResponse,
                  status: StatusCode,
                  code: &str,
                  field: Option<&str>| {
        res.assert_status(status);
        assert_eq!(
            res.error_code(),
            code,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        if let Some(f) = field {
            assert_eq!(res.json()["error"]["details"][0]["field"], f, "{code}");
        }
        assert!(!res.json()["error"]["message"].as_str().unwrap().is_empty());
    };
    let body = |f: &dyn Fn(&mut Value)| {
        let mut b = outpatient(designated, "INV-1", &day(6, 1), "5000");
        f(&mut b);
        b
    };

    let res = worker
        .post(&format!("/api/v1/cases/{submitted}/visits"), &body(&|_| {}))
        .await;
    expect(&res, StatusCode::CONFLICT, "case_not_approved", None);
    let res = worker
        .post("/api/v1/cases/999999/visits", &body(&|_| {}))
        .await;
    res.assert_status(StatusCode::NOT_FOUND);

    let today = cancer_aid::clock::day_of(chrono::Utc::now());
    let this_year = format!("{}-01-01", year() + 1);
    let res = worker
        .post(&url, &body(&|b| b["visit_date"] = json!(this_year)))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "visit_outside_case_year",
        Some("visit_date"),
    );
    let res = worker
        .post(
            &url,
            &body(&|b| b["visit_date"] = json!(format!("{}-12-31", year() - 1))),
        )
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "visit_outside_case_year",
        Some("visit_date"),
    );

    let res = worker
        .post(&url, &body(&|b| b["hospital_id"] = json!(other)))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "hospital_not_designated",
        Some("hospital_id"),
    );
    let res = worker
        .post(&url, &body(&|b| b["hospital_id"] = json!(424242)))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_hospital",
        Some("hospital_id"),
    );

    let res = worker
        .post(&url, &body(&|b| b["total_cost"] = json!("100.005")))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_too_precise",
        Some("total_cost"),
    );
    let res = worker
        .post(&url, &body(&|b| b["insurance_paid"] = json!("-1.00")))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_negative",
        Some("insurance_paid"),
    );
    let res = worker
        .post(&url, &body(&|b| b["total_cost"] = json!(5000.5)))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_not_a_string",
        Some("total_cost"),
    );
    let res = worker
        .post(&url, &body(&|b| b["total_cost"] = json!("5,000")))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_amount",
        Some("total_cost"),
    );
    let res = worker
        .post(
            &url,
            &body(&|b| {
                b["insurance_paid"] = json!("3000");
                b["critical_illness_paid"] = json!("1500");
                b["medical_assistance_paid"] = json!("500.01");
            }),
        )
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reimbursements_exceed_total",
        Some("total_cost"),
    );
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5000.01")
    );

    let stay = |admitted: &str, discharged: &str| {
        body(&|b| {
            b["kind"] = json!("inpatient");
            b.as_object_mut().unwrap().remove("visit_date");
            b["admitted_on"] = json!(admitted);
            b["discharged_on"] = json!(discharged);
        })
    };
    let res = worker.post(&url, &stay(&day(6, 10), &day(6, 9))).await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "discharge_before_admission",
        Some("discharged_on"),
    );
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let res = worker
        .post(&url, &body(&|b| b["visit_date"] = json!(tomorrow)))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "future_date",
        Some("visit_date"),
    );
    let res = worker
        .post(&url, &body(&|b| b["visit_date"] = json!("2024/06/01")))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_date",
        Some("visit_date"),
    );
    let res = worker
        .post(&url, &body(&|b| b["kind"] = json!("ward")))
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_kind",
        Some("kind"),
    );

    // Several mistakes at once: every field is named.
    let res = worker
        .post(
            &url,
            &json!({"kind": "inpatient", "admitted_on": day(6, 2), "total_cost": "x"}),
        )
        .await;
    expect(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        None,
    );
    let fields: Vec<String> = res.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "hospital_id",
        "discharged_on",
        "invoice_no",
        "total_cost",
        "insurance_paid",
        "critical_illness_paid",
        "medical_assistance_paid",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    // In English on request.
    let res = worker
        .call(Method::POST, &url)
        .header("accept-language", "en")
        .json(&body(&|b| b["hospital_id"] = json!(other)))
        .send()
        .await;
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a designated hospital")
    );

    // Only caseworkers record visits.
    for role in [Role::Approver, Role::Manager, Role::Admin] {
        let res = app.as_role(role).await.post(&url, &body(&|_| {})).await;
        res.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(count_visits(&app).await, 0);
    let visit_audits = audit_log::Entity::find()
        .filter(audit_log::COLUMN.entity_type.eq("visit"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(visit_audits, 0);
    assert_eq!(
        annual_grant::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

db_test!(an_invoice_is_recorded_once_per_hospital);
async fn an_invoice_is_recorded_once_per_hospital(app: TestApp) {
    let h1 = hospital(&app, "H1", true).await;
    let h2 = hospital(&app, "H2", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let first = worker
        .post(&url, &outpatient(h1, "FP-2024-001", &day(2, 1), "5000"))
        .await;
    first.assert_status(StatusCode::CREATED);
    let first_id = first.json()["id"].as_i64().unwrap();
    // The same number typed with full-width characters, lower case and spaces.
    let again = worker
        .post(&url, &outpatient(h1, " ｆｐ-2024-001 ", &day(2, 3), "700"))
        .await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "duplicate_invoice");
    let body = again.json();
    assert_eq!(body["error"]["existing"]["id"], first_id);
    assert_eq!(body["error"]["existing"]["invoice_no"], "FP-2024-001");
    assert_eq!(body["error"]["details"][0]["field"], "invoice_no");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("#{first_id}"))
    );
    // The same number at another hospital is another invoice.
    worker
        .post(&url, &outpatient(h2, "FP-2024-001", &day(2, 3), "1000"))
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(count_visits(&app).await, 2);
    assert_eq!(granted(&app, person_id).await, 240_000);
}

db_test!(no_policy_no_roster_and_the_policy_of_the_day);
async fn no_policy_no_roster_and_the_policy_of_the_day(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    let worker = app.as_role(Role::Caseworker).await;
    // A plain database has no policy.
    let (_, case_id) = patient(&app, 1, "low_income_rural", "approved").await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let res = worker
        .post(&url, &outpatient(h, "A1", &day(3, 1), "5000"))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "no_policy");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("农村低保")
    );

    // Covered only until the end of March.
    let p = person_with_entry(&app, 2, "low_income_rural", "2000-01-01", Some(&day(3, 31))).await;
    let case2 = case_of(&app, p, year(), "approved", "220102").await;
    let url2 = format!("/api/v1/cases/{case2}/visits");
    policy(
        &app,
        "low_income_rural",
        "0.60",
        ["1000", "10000", "30000"],
        "2015-01-01",
        None,
    )
    .await;
    let later = worker
        .post(&url2, &outpatient(h, "B1", &day(4, 1), "5000"))
        .await;
    later.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(later.error_code(), "not_on_roster");
    worker
        .post(&url2, &outpatient(h, "B2", &day(3, 31), "5000"))
        .await
        .assert_status(StatusCode::CREATED);

    // From July a new rate: each visit uses the policy of its own day.
    let new_rate = policy(
        &app,
        "low_income_rural",
        "0.80",
        ["1000", "10000", "30000"],
        &day(7, 1),
        None,
    )
    .await;
    let june = worker
        .post(&url, &outpatient(h, "A2", &day(6, 30), "2000"))
        .await
        .json();
    let july = worker
        .post(&url, &outpatient(h, "A3", &day(7, 1), "2000"))
        .await
        .json();
    assert_eq!(june["subsidy"], "600.00");
    assert_eq!(july["subsidy"], "800.00");
    assert_eq!(july["policy_id"], new_rate["policy"]["id"]);
    assert_ne!(june["policy_id"], july["policy_id"]);
}

db_test!(with_two_groups_the_policy_that_pays_more_is_used);
async fn with_two_groups_the_policy_that_pays_more_is_used(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    policy(
        &app,
        "low_income_urban",
        "0.50",
        ["1000", "10000", "30000"],
        "2015-01-01",
        None,
    )
    .await;
    let hardship = policy(
        &app,
        "extreme_hardship",
        "0.80",
        ["0", "15000", "50000"],
        "2015-01-01",
        None,
    )
    .await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    entry(&app, person_id, "extreme_hardship", "2010-01-01", None).await;
    let worker = app.as_role(Role::Caseworker).await;
    let v = worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &outpatient(h, "X1", &day(2, 2), "10000"),
        )
        .await;
    v.assert_status(StatusCode::CREATED);
    let v = v.json();
    assert_eq!(v["subsidy"], "8000.00");
    assert_eq!(v["group"], "extreme_hardship");
    assert_eq!(v["policy"]["id"], hardship["policy"]["id"]);
    assert_eq!(v["annual"]["annual_cap"], "50000.00");
}

db_test!(a_visit_cut_to_zero_by_the_annual_cap_is_kept_with_its_reason);
async fn a_visit_cut_to_zero_by_the_annual_cap_is_kept_with_its_reason(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    policy(
        &app,
        "low_income_urban",
        "1",
        ["0", "800", "1000"],
        "2015-01-01",
        None,
    )
    .await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let a = worker
        .post(&url, &outpatient(h, "C1", &day(1, 5), "700"))
        .await
        .json();
    let b = worker
        .post(&url, &outpatient(h, "C2", &day(1, 6), "700"))
        .await
        .json();
    let c = worker
        .post(&url, &outpatient(h, "C3", &day(1, 7), "700"))
        .await;
    c.assert_status(StatusCode::CREATED);
    let c = c.json();
    assert_eq!(
        (a["subsidy"].as_str(), a["cap_reason"].as_str()),
        (Some("700.00"), None)
    );
    assert_eq!(
        (b["subsidy"].as_str(), b["cap_reason"].as_str()),
        (Some("300.00"), Some("annual_cap_reached"))
    );
    assert_eq!(
        (c["subsidy"].as_str(), c["cap_reason"].as_str()),
        (Some("0.00"), Some("annual_cap_reached"))
    );
    assert_eq!(c["annual"]["cap_left"], "0.00");
    assert_eq!(c["annual"]["granted_with_this"], "1000.00");
    assert_eq!(granted(&app, person_id).await, 100_000);
    assert_eq!(count_visits(&app).await, 3);
}

db_test!(subsidies_are_approved_paid_voided_and_reversed_by_the_right_people);
async fn subsidies_are_approved_paid_voided_and_reversed_by_the_right_people(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let approver = app.as_role(Role::Approver).await;
    let manager = app.as_role(Role::Manager).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let id_of = |v: &Value| v["id"].as_i64().unwrap();
    let a = id_of(
        &worker
            .post(&url, &outpatient(h, "S1", &day(1, 5), "3000"))
            .await
            .json(),
    );
    let b = id_of(
        &worker
            .post(&url, &outpatient(h, "S2", &day(1, 6), "2000"))
            .await
            .json(),
    );
    // 1200 + 600
    assert_eq!(granted(&app, person_id).await, 180_000);

    // Paying comes after approval; the recorder may not approve their own visit.
    let res = manager
        .post(
            &format!("/api/v1/visits/{a}/pay"),
            &json!({"payment_ref": "T1", "paid_on": day(2, 1)}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "invalid_transition");
    worker
        .post(&format!("/api/v1/visits/{a}/approve"), &json!({}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let both = app
        .as_user("both", &[Role::Caseworker, Role::Approver], "22")
        .await;
    let own = id_of(
        &both
            .post(&url, &outpatient(h, "S3", &day(1, 7), "1500"))
            .await
            .json(),
    );
    let res = both
        .post(&format!("/api/v1/visits/{own}/approve"), &json!({}))
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.error_code(), "own_visit");

    let approved = approver
        .post(&format!("/api/v1/visits/{a}/approve"), &json!({}))
        .await;
    approved.assert_status(StatusCode::OK);
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(
        approved.json()["approved_by"],
        user_id(&app, "approver").await
    );
    approver
        .post(&format!("/api/v1/visits/{a}/approve"), &json!({}))
        .await
        .assert_status(StatusCode::CONFLICT);

    // Payment needs a reference and a date that is not in the future.
    let res = manager
        .post(
            &format!("/api/v1/visits/{a}/pay"),
            &json!({"paid_on": "2999-01-01"}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "validation_failed");
    approver
        .post(
            &format!("/api/v1/visits/{a}/pay"),
            &json!({"payment_ref": "T1", "paid_on": day(2, 1)}),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let paid = manager
        .post(
            &format!("/api/v1/visits/{a}/pay"),
            &json!({"payment_ref": "BANK-77", "paid_on": day(2, 1)}),
        )
        .await;
    paid.assert_status(StatusCode::OK);
    let paid = paid.json();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment_ref"], "BANK-77");
    assert_eq!(paid["paid_on"], day(2, 1));

    // A paid subsidy is not voided but reversed.
    let res = approver
        .post(
            &format!("/api/v1/visits/{a}/void"),
            &json!({"reason": "重复"}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("冲销")
    );
    // Voiding needs a reason; it frees the amount of the cap.
    let res = approver
        .post(&format!("/api/v1/visits/{b}/void"), &json!({}))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "required");
    let voided = approver
        .post(
            &format!("/api/v1/visits/{b}/void"),
            &json!({"reason": "发票作废"}),
        )
        .await;
    voided.assert_status(StatusCode::OK);
    assert_eq!(voided.json()["status"], "voided");
    assert_eq!(voided.json()["void_reason"], "发票作废");
    assert_eq!(
        voided.json()["subsidy"],
        "600.00",
        "the amount stays on the row"
    );
    // 1200 + 1500 - 1000 deductible = 500 * 0.6 = 300 for `own`.
    assert_eq!(granted(&app, person_id).await, 120_000 + 30_000);
    approver
        .post(
            &format!("/api/v1/visits/{b}/void"),
            &json!({"reason": "again"}),
        )
        .await
        .assert_status(StatusCode::CONFLICT);

    // Reversal: a manager writes a negative entry linked to the paid visit.
    for who in [&worker, &app.as_role(Role::Admin).await, &approver] {
        who.post(
            &format!("/api/v1/visits/{a}/reverse"),
            &json!({"reason": "x"}),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    }
    let reversal = manager
        .post(
            &format!("/api/v1/visits/{a}/reverse"),
            &json!({"reason": "患者退费"}),
        )
        .await;
    reversal.assert_status(StatusCode::CREATED);
    let r = reversal.json();
    assert_eq!(r["reverses_visit_id"], a);
    assert_eq!(r["subsidy"], "-1200.00");
    assert_eq!(r["total_cost"], "-3000.00");
    assert_eq!(r["status"], "paid");
    assert_eq!(r["invoice_no"], Value::Null);
    assert_eq!(r["reversal_reason"], "患者退费");
    assert_eq!(r["counted_on"], day(1, 5));
    let original = manager.get(&format!("/api/v1/visits/{a}")).await.json();
    assert_eq!(original["status"], "paid", "the paid row is never edited");
    assert_eq!(original["subsidy"], "1200.00");
    assert_eq!(original["reversed_by"], r["id"]);
    assert_eq!(granted(&app, person_id).await, 30_000);
    assert_eq!(sum_of_subsidies(&app, person_id).await, 30_000);
    let res = manager
        .post(
            &format!("/api/v1/visits/{a}/reverse"),
            &json!({"reason": "again"}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "already_reversed");
    let rid = r["id"].as_i64().unwrap();
    let res = manager
        .post(
            &format!("/api/v1/visits/{rid}/reverse"),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.error_code(), "reversal_entry");
    let res = manager
        .post(
            &format!("/api/v1/visits/{own}/reverse"),
            &json!({"reason": "x"}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "invalid_transition");

    // The freed cap is granted again.
    let again = worker
        .post(&url, &outpatient(h, "S4", &day(3, 1), "3000"))
        .await
        .json();
    assert_eq!(again["annual"]["granted_before"], "300.00");
    // Administrators may pay too.
    let s4 = id_of(&again);
    approver
        .post(&format!("/api/v1/visits/{s4}/approve"), &json!({}))
        .await
        .assert_status(StatusCode::OK);
    let by_admin = app
        .as_role(Role::Admin)
        .await
        .post(
            &format!("/api/v1/visits/{s4}/pay"),
            &json!({"payment_ref": "BANK-78", "paid_on": day(3, 2)}),
        )
        .await;
    by_admin.assert_status(StatusCode::OK);
    assert_eq!(by_admin.json()["paid_by"], user_id(&app, "admin").await);

    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::COLUMN.entity_type.eq("visit"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for action in [
        "visit.record",
        "visit.approve",
        "visit.pay",
        "visit.void",
        "visit.reverse",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not audited: {actions:?}"
        );
    }
    let void_row = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("visit.void"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(void_row.before.unwrap()["status"], "pending");
    assert_eq!(void_row.after.as_ref().unwrap()["status"], "voided");
    assert_eq!(void_row.after.unwrap()["freed"], "600.00");
}

db_test!(the_annual_cap_holds_for_fifty_simultaneous_visits);
async fn the_annual_cap_holds_for_fifty_simultaneous_visits(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    // 60% of 1000 = 600 a visit; 50 visits would be 30000, the cap is 12345.67.
    policy(
        &app,
        "low_income_urban",
        "0.60",
        ["0", "1000", "12345.67"],
        "2015-01-01",
        None,
    )
    .await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let bodies: Vec<Value> = (0..50u32)
        .map(|i| {
            outpatient(
                h,
                &format!("LOAD-{i:02}"),
                &day(1 + i % 12, 1 + i % 28),
                "1000.00",
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let responses = futures::future::join_all(bodies.iter().map(|b| worker.post(&url, b))).await;
    let elapsed = started.elapsed();
    eprintln!("{:?}: 50 simultaneous visits in {elapsed:?}", app.backend);
    let mut answers: Vec<Value> = responses
        .iter()
        .map(|r| {
            r.assert_status(StatusCode::CREATED);
            r.json()
        })
        .collect();
    let fen = |v: &Value| -> i64 {
        let s = v.as_str().unwrap();
        cancer_aid::domain::Money::parse(s).unwrap().fen()
    };
    let total: i64 = answers.iter().map(|a| fen(&a["subsidy"])).sum();
    assert_eq!(total, 1_234_567, "granted to the fen");
    assert_eq!(granted(&app, person_id).await, 1_234_567);
    assert_eq!(sum_of_subsidies(&app, person_id).await, 1_234_567);
    let full = answers.iter().filter(|a| a["subsidy"] == "600.00").count();
    let partial: Vec<&Value> = answers
        .iter()
        .filter(|a| a["subsidy"] == "345.67")
        .collect();
    let zero: Vec<&Value> = answers.iter().filter(|a| a["subsidy"] == "0.00").collect();
    assert_eq!((full, partial.len(), zero.len()), (20, 1, 29));
    assert_eq!(partial[0]["cap_reason"], "annual_cap_reached");
    assert!(zero.iter().all(|z| z["cap_reason"] == "annual_cap_reached"));
    // Every visit saw the total of the ones before it: the grants form one chain.
    answers.sort_by_key(|a| fen(&a["annual"]["granted_before"]));
    let mut before = 0;
    for a in &answers[..21] {
        assert_eq!(fen(&a["annual"]["granted_before"]), before);
        before = fen(&a["annual"]["granted_with_this"]);
        assert_eq!(
            before,
            fen(&a["annual"]["granted_before"]) + fen(&a["subsidy"])
        );
    }
    assert_eq!(before, 1_234_567);
    // What each stored visit shows is what its answer said.
    let stored = visit::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 50);
    for a in &answers {
        let row = stored
            .iter()
            .find(|v| v.id == a["id"].as_i64().unwrap())
            .unwrap();
        assert_eq!(row.subsidy_fen, fen(&a["subsidy"]));
    }
    let listed = worker
        .get(&format!("/api/v1/visits?case_id={case_id}&per_page=100"))
        .await
        .json();
    assert_eq!(listed["total"], 50);
}

db_test!(visits_are_listed_by_case_person_dates_and_status_inside_the_region);
async fn visits_are_listed_by_case_person_dates_and_status_inside_the_region(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (_, c1) = patient(&app, 1, "low_income_urban", "approved").await;
    let (p2, _) = patient(&app, 2, "low_income_urban", "approved").await;
    let c2_yanbian = case_of(&app, p2, year(), "approved", "222401").await;
    let worker = app.as_role(Role::Caseworker).await;
    for (i, m) in [1, 2, 3].into_iter().enumerate() {
        worker
            .post(
                &format!("/api/v1/cases/{c1}/visits"),
                &outpatient(h, &format!("L{i}"), &day(m, 10), "2000"),
            )
            .await
            .assert_status(StatusCode::CREATED);
    }
    let y = worker
        .post(
            &format!("/api/v1/cases/{c2_yanbian}/visits"),
            &outpatient(h, "Y1", &day(2, 1), "2000"),
        )
        .await;
    y.assert_status(StatusCode::CREATED);
    approve(&app, y.json()["id"].as_i64().unwrap()).await;

    let all = worker.get("/api/v1/visits").await.json();
    assert_eq!(all["total"], 4);
    let by_case = worker
        .get(&format!("/api/v1/visits?case_id={c1}"))
        .await
        .json();
    assert_eq!(by_case["total"], 3);
    assert!(
        by_case["items"][0]["id_number"]
            .as_str()
            .unwrap()
            .contains("********")
    );
    let by_person = worker
        .get(&format!("/api/v1/visits?id_number={}", id_number(2)))
        .await
        .json();
    assert_eq!(by_person["total"], 1);
    let range = worker
        .get(&format!(
            "/api/v1/visits?from={}&to={}",
            day(2, 1),
            day(2, 28)
        ))
        .await
        .json();
    assert_eq!(range["total"], 2);
    let approved = worker.get("/api/v1/visits?status=approved").await.json();
    assert_eq!(approved["total"], 1);
    let page = worker.get("/api/v1/visits?per_page=2&page=2").await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    // A Changchun caseworker sees Changchun's visits only, and cannot record in Yanbian.
    let city = app.as_user("cc_worker", &[Role::Caseworker], "2201").await;
    assert_eq!(city.get("/api/v1/visits").await.json()["total"], 3);
    let res = city
        .post(
            &format!("/api/v1/cases/{c2_yanbian}/visits"),
            &outpatient(h, "Y2", &day(2, 2), "2000"),
        )
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    let yid = y.json()["id"].as_i64().unwrap();
    city.get(&format!("/api/v1/visits/{yid}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let res = worker.get("/api/v1/visits?status=lost").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_status");
    let res = worker.get("/api/v1/visits?id_number=123").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = worker.get("/api/v1/visits?from=yesterday").await;
    assert_eq!(res.error_code(), "invalid_date");
    app.as_role(Role::RosterImporter)
        .await
        .get("/api/v1/visits")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        worker
            .get(&format!("/api/v1/visits?id_number={}", id_number(99)))
            .await
            .json()["total"],
        0
    );
}

async fn approve(app: &crate::helpers::TestApp, id: i64) {
    app.as_role(Role::Approver)
        .await
        .post(&format!("/api/v1/visits/{id}/approve"), &json!({}))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(a_statement_shows_the_year_in_json_and_xlsx);
async fn a_statement_shows_the_year_in_json_and_xlsx(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (_, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let manager = app.as_role(Role::Manager).await;
    let url = format!("/api/v1/cases/{case_id}/visits");
    let a = worker
        .post(&url, &outpatient(h, "ST1", &day(1, 5), "11000"))
        .await
        .json();
    let b = worker
        .post(&url, &outpatient(h, "ST2", &day(2, 5), "6000"))
        .await
        .json();
    worker
        .post(&url, &outpatient(h, "ST3", &day(3, 5), "2000"))
        .await
        .assert_status(StatusCode::CREATED);
    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    approve(&app, a).await;
    manager
        .post(
            &format!("/api/v1/visits/{a}/pay"),
            &json!({"payment_ref": "P1", "paid_on": day(3, 1)}),
        )
        .await
        .assert_status(StatusCode::OK);
    app.as_role(Role::Approver)
        .await
        .post(
            &format!("/api/v1/visits/{b}/void"),
            &json!({"reason": "重复登记"}),
        )
        .await
        .assert_status(StatusCode::OK);

    let idn = id_number(1);
    let res = worker
        .get(&format!("/api/v1/persons/{idn}/statement?year={}", year()))
        .await;
    res.assert_status(StatusCode::OK);
    let s = res.json();
    assert_eq!(s["id_number"], idn);
    assert_eq!(s["year"], year());
    // 6000 granted for the first visit, 600 for the third; the second is voided.
    assert_eq!(s["granted"], "6600.00");
    assert_eq!(s["annual_cap"], "30000.00");
    assert_eq!(s["cap_left"], "23400.00");
    assert_eq!(s["totals"]["visits"], 2);
    assert_eq!(s["totals"]["subsidy"], "6600.00");
    assert_eq!(s["totals"]["paid"], "6000.00");
    assert_eq!(s["totals"]["total_cost"], "13000.00");
    assert_eq!(s["visits"].as_array().unwrap().len(), 3);
    assert_eq!(s["visits"][1]["status"], "voided");
    assert_eq!(
        s["visits"][0]["id_number"], idn,
        "the statement shows the full number"
    );

    let xlsx = worker
        .get(&format!(
            "/api/v1/persons/{idn}/statement?year={}&format=xlsx",
            year()
        ))
        .await;
    xlsx.assert_status(StatusCode::OK);
    assert!(
        xlsx.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(
        xlsx.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    let sheet = book.worksheet_range("救助对账单").unwrap();
    let cell = |r: u32, c: u32| {
        sheet
            .get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    assert!(cell(0, 0).contains(&format!("{}年度救助对账单", year())));
    assert_eq!(cell(1, 1), idn);
    assert_eq!(cell(2, 3), "6600");
    assert_eq!(cell(4, 12), "救助金");
    assert_eq!(cell(5, 12), "6000");
    assert_eq!(cell(6, 13), "已作废");
    assert_eq!(cell(6, 14), "重复登记");
    assert_eq!(cell(8, 12), "6600");

    // No visits that year: a cap from the policy in force, nothing granted.
    let empty = worker
        .get(&format!(
            "/api/v1/persons/{idn}/statement?year={}",
            year() - 1
        ))
        .await
        .json();
    assert_eq!(empty["granted"], "0.00");
    assert_eq!(empty["cap_left"], "30000.00");
    assert_eq!(empty["visits"], json!([]));

    let res = worker.get("/api/v1/persons/12345X/statement").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // All digits and short: a record id nobody has.
    worker
        .get("/api/v1/persons/987654321/statement")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    worker
        .get(&format!("/api/v1/persons/{}/statement", id_number(77)))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = worker
        .get(&format!("/api/v1/persons/{idn}/statement?format=pdf"))
        .await;
    assert_eq!(res.error_code(), "invalid_format");
    let res = worker
        .get(&format!("/api/v1/persons/{idn}/statement?year=1999"))
        .await;
    assert_eq!(res.error_code(), "invalid_year");
    let yanbian = app.as_user("yb_worker", &[Role::Caseworker], "2224").await;
    yanbian
        .get(&format!("/api/v1/persons/{idn}/statement?year={}", year()))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

db_test!(a_preview_leaves_no_trace);
async fn a_preview_leaves_no_trace(app: TestApp) {
    let hospital = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    let (person_id, case_id) = patient(&app, 1, "low_income_urban", "approved").await;
    let worker = app.as_role(Role::Caseworker).await;
    let preview_path = format!("/api/v1/cases/{case_id}/visits/preview");
    let record_path = format!("/api/v1/cases/{case_id}/visits");
    let audits = || async { audit_log::Entity::find().count(&app.db).await.unwrap() };
    let audits_before = audits().await;

    // The first preview of the person's year creates no row of the annual ledger.
    let body = outpatient(hospital, "MZ-0001", &day(3, 1), "5000");
    let preview = worker.post(&preview_path, &body).await;
    preview.assert_status(StatusCode::OK);
    assert_eq!(preview.json()["subsidy"], "2400.00");
    let row = annual_grant::Entity::find_by_id((person_id, year()))
        .one(&app.db)
        .await
        .unwrap();
    assert!(row.is_none(), "a preview created an annual row: {row:?}");
    assert_eq!(count_visits(&app).await, 0);
    assert_eq!(audits().await, audits_before);

    let first = worker.post(&record_path, &body).await;
    first.assert_status(StatusCode::CREATED);
    let first_id = first.json()["id"].as_i64().unwrap();
    assert_eq!(granted(&app, person_id).await, 240_000);

    // Previews draw no sequence value (ids are sequence values on PostgreSQL): the next
    // visit recorded after them has the id that follows the first one's.
    for n in 2..5 {
        let body = outpatient(hospital, &format!("MZ-000{n}"), &day(3, n), "5000");
        let preview = worker.post(&preview_path, &body).await;
        preview.assert_status(StatusCode::OK);
        assert_eq!(preview.json()["annual"]["granted_before"], "2400.00");
    }
    assert_eq!(granted(&app, person_id).await, 240_000);
    let second = worker
        .post(
            &record_path,
            &outpatient(hospital, "MZ-0009", &day(3, 9), "5000"),
        )
        .await;
    second.assert_status(StatusCode::CREATED);
    assert_eq!(second.json()["id"].as_i64().unwrap(), first_id + 1);
}
