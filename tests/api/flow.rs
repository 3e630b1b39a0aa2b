//! The whole programme through the API, one patient from roster to subsidy: the pieces built
//! by separate issues meet here.

use axum::http::StatusCode;
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::id_number as id;
use crate::helpers::TestApp;

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");

db_test!(a_patient_goes_from_roster_to_an_approved_case_and_a_granted_subsidy);
async fn a_patient_goes_from_roster_to_an_approved_case_and_a_granted_subsidy(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[
                ("group", "城市低保"),
                ("region_code", "220102"),
                ("effective_date", "2020-06-01"),
            ],
            "nanguan.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let done = clerk.wait_import(res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let admin = app.as_role(Role::Admin).await;
    let hospital = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "吉林大学第一医院", "code": "H-JDYY", "region_code": "220102", "designated": true}),
        )
        .await;
    hospital.assert_status(StatusCode::CREATED);
    let hospital_id = hospital.json()["id"].as_i64().unwrap();
    admin
        .post(
            "/api/v1/policies",
            &json!({"group": "城市低保", "rate": "0.6", "deductible": "1000", "per_visit_cap": "20000",
                    "annual_cap": "30000", "effective_from": "2020-01-01"}),
        )
        .await
        .assert_status(StatusCode::CREATED);

    let patient = id("220102", "19700101", 57);
    let caseworker = app.as_user("cw.wang", &[Role::Caseworker], "2201").await;
    let check = caseworker
        .get(&format!(
            "/api/v1/eligibility?id_number={patient}&date=2026-03-01&diagnosis=c34.1"
        ))
        .await;
    check.assert_status(StatusCode::OK);
    assert_eq!(check.json()["eligible"], true, "{}", check.json());

    let opened = caseworker
        .post(
            "/api/v1/cases",
            &json!({"id_number": patient, "name": "买买提·吐尔逊", "diagnosis_code": "C34.1",
                    "diagnosis_text": "肺癌", "hospital_id": hospital_id, "phone": "13800000000",
                    "address": "长春市南关区", "year": 2026, "note": ""}),
        )
        .await;
    opened.assert_status(StatusCode::CREATED);
    let case = opened.json();
    let case_id = case["id"].as_i64().unwrap();

    // A visit before approval is refused; the approver approves; the visit is granted.
    let visit = json!({"hospital_id": hospital_id, "kind": "inpatient", "admitted_on": "2026-03-01",
                       "discharged_on": "2026-03-10", "invoice_no": "ZY-1", "total_cost": "30000.00",
                       "insurance_paid": "15000", "critical_illness_paid": "3000",
                       "medical_assistance_paid": "2000"});
    caseworker
        .post(&format!("/api/v1/cases/{case_id}/visits"), &visit)
        .await
        .assert_status(StatusCode::CONFLICT);
    let approver = app.as_user("ap.zhao", &[Role::Approver], "2201").await;
    approver
        .post(
            &format!("/api/v1/cases/{case_id}/approve"),
            &json!({"version": case["version"]}),
        )
        .await
        .assert_status(StatusCode::OK);
    let recorded = caseworker
        .post(&format!("/api/v1/cases/{case_id}/visits"), &visit)
        .await;
    recorded.assert_status(StatusCode::CREATED);
    let recorded = recorded.json();
    // (30000 - 15000 - 3000 - 2000 - 1000) * 0.6 = 5400.00
    assert_eq!(recorded["out_of_pocket"], "10000.00");
    assert_eq!(recorded["subsidy"], "5400.00", "{recorded}");

    let detail = caseworker
        .get(&format!("/api/v1/cases/{case_id}"))
        .await
        .json();
    assert_eq!(detail["state"], "approved");
    assert_eq!(detail["visits"]["count"], 1, "{detail}");

    let statement = caseworker
        .get(&format!("/api/v1/persons/{patient}/statement?year=2026"))
        .await;
    statement.assert_status(StatusCode::OK);
    assert_eq!(
        statement.json()["cap_left"],
        "24600.00",
        "{}",
        statement.json()
    );
}
