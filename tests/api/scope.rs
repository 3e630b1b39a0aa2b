//! Region scope is absolute: what lies outside a user's scope answers exactly as what does not
//! exist, in results, errors and previews alike (on both databases).

use axum::http::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::visit;

use crate::db_test;
use crate::fixtures::people::{Patient, id_number, patient};
use crate::fixtures::visits::{day, hospital, outpatient, standard_policy, year};
use crate::helpers::{Client, TestApp, person_with_case, recorder};

/// A Yanbian (222401) patient with a roster entry and an approved case of last year.
pub async fn yanbian_case(app: &TestApp) -> i64 {
    let by = recorder(app).await;
    let (person_id, case_id) = person_with_case(
        &app.db,
        id_number("222401", "19650101", 1),
        "金顺姬".into(),
        "222401",
        year(),
        by,
    )
    .await;
    crate::fixtures::people::entry(
        app,
        person_id,
        "low_income_urban",
        "222401",
        "金顺姬",
        "2000-01-01",
        None,
        None,
    )
    .await;
    case_id
}

db_test!(a_duplicate_invoice_outside_the_scope_does_not_say_whose_it_is);
async fn a_duplicate_invoice_outside_the_scope_does_not_say_whose_it_is(app: TestApp) {
    let h = hospital(&app, "H1", true).await;
    standard_policy(&app, "low_income_urban").await;
    // A Changchun patient's visit holds invoice FP-1 at the hospital.
    let (_, changchun_case) =
        crate::fixtures::visits::patient(&app, 1, "low_income_urban", "approved").await;
    let province = app.as_role(Role::Caseworker).await;
    province
        .post(
            &format!("/api/v1/cases/{changchun_case}/visits"),
            &outpatient(h, "FP-1", &day(3, 1), "5000"),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let theirs = visit::Entity::find().one(&app.db).await.unwrap().unwrap();

    // A Yanbian caseworker types the same invoice for a Yanbian patient.
    let yanbian_case = yanbian_case(&app).await;
    let yanbian = app.as_user("cw2224", &[Role::Caseworker], "2224").await;
    let body = outpatient(h, "FP-1", &day(3, 2), "700");
    for path in ["visits", "visits/preview"] {
        let res = yanbian
            .post(&format!("/api/v1/cases/{yanbian_case}/{path}"), &body)
            .await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.error_code(), "duplicate_invoice");
        let json = res.json();
        assert!(json["error"]["existing"].is_null(), "{path}: {json}");
        let text = json.to_string();
        for secret in [
            "患者1",
            &format!("#{}", theirs.id),
            "就诊记录",
            "5000",
            "3000",
            "220102",
        ] {
            assert!(!text.contains(secret), "{path} leaks {secret}: {text}");
        }
        assert_eq!(json["error"]["details"][0]["field"], "invoice_no");
    }
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 1);

    // Inside the scope the clerk is shown the visit that holds the invoice, to correct it.
    let again = province
        .post(
            &format!("/api/v1/cases/{changchun_case}/visits"),
            &outpatient(h, "FP-1", &day(3, 3), "700"),
        )
        .await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["existing"]["id"], theirs.id);
}

/// The answer of `GET path` for a person outside the scope and for an ID number nobody has,
/// each without the fields that echo the number asked about.
async fn both(
    client: &Client<'_>,
    path: impl Fn(&str) -> String,
    outside: &Patient,
    echo: &[&str],
) -> (Value, Value) {
    let nobody = id_number("222401", "19700101", 99);
    let strip = |mut v: Value| {
        for key in echo {
            if let Some(o) = v.as_object_mut() {
                o.remove(*key);
            }
        }
        v
    };
    let a = client.get(&path(&outside.id_number)).await;
    let b = client.get(&path(&nobody)).await;
    assert_eq!(a.status, b.status, "{} / {}", a.json(), b.json());
    (strip(a.json()), strip(b.json()))
}

db_test!(a_person_outside_the_scope_answers_as_nobody_on_every_look_up);
async fn a_person_outside_the_scope_answers_as_nobody_on_every_look_up(app: TestApp) {
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
    let cw = app.as_user("cw2201", &[Role::Caseworker], "2201").await;

    let (a, b) = both(
        &cw,
        |id| format!("/api/v1/eligibility?id_number={id}"),
        &yanbian,
        &["id_number"],
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(a["eligible"], false);

    let (a, b) = both(
        &cw,
        |id| format!("/api/v1/roster-entries?id_number={id}"),
        &yanbian,
        &["id_number"],
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(a["entries"], json!([]));

    // The statement: the same 404, whose message names only the masked number asked about.
    let (a, b) = both(
        &cw,
        |id| format!("/api/v1/persons/{id}/statement"),
        &yanbian,
        &[],
    )
    .await;
    assert_eq!(a["error"]["code"], b["error"]["code"]);
    assert!(!a.to_string().contains("乙"));

    // The eligibility page: the page for an unknown person, not an error page.
    let client = &cw;
    let page = |id: String| async move {
        let res = client
            .call(Method::POST, "/eligibility")
            .raw(
                "application/x-www-form-urlencoded",
                format!("id_number={id}&date=2026-03-01"),
            )
            .send()
            .await;
        res.assert_status(StatusCode::OK);
        let masked = format!("{}********{}", &id[..6], &id[14..]);
        String::from_utf8_lossy(&res.body)
            .replace(&id, "ID")
            .replace(&masked, "ID")
    };
    let outside = page(yanbian.id_number.clone()).await;
    assert!(!outside.contains("乙"));
    assert_eq!(outside, page(id_number("222401", "19700101", 99)).await);

    // Inside the scope, the same look-ups show the person.
    let province = app.as_role(Role::Caseworker).await;
    let body = province
        .get(&format!(
            "/api/v1/roster-entries?id_number={}",
            yanbian.id_number
        ))
        .await
        .json();
    assert_eq!(body["person"]["name"], "乙");
}

db_test!(roster_entries_are_for_the_roles_that_work_with_rosters);
async fn roster_entries_are_for_the_roles_that_work_with_rosters(app: TestApp) {
    let p = patient(
        &app,
        "220102",
        23,
        "丙",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let url = format!("/api/v1/roster-entries?id_number={}", p.id_number);
    for role in [
        Role::Caseworker,
        Role::Approver,
        Role::RosterImporter,
        Role::Admin,
    ] {
        let body = app.as_role(role).await.get(&url).await.json();
        assert_eq!(body["person"]["name"], "丙", "{role:?}");
    }
    let res = app.as_role(Role::Manager).await.get(&url).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert!(!res.json().to_string().contains("丙"));
}

db_test!(only_the_province_changes_what_holds_for_the_whole_province);
async fn only_the_province_changes_what_holds_for_the_whole_province(app: TestApp) {
    let policy = standard_policy(&app, "low_income_urban").await;
    let county_admin = app.as_user("admin2224", &[Role::Admin], "2224").await;
    let res = county_admin
        .post(
            "/api/v1/policies",
            &json!({"group": "low_income_urban", "rate": "0.01", "deductible": "0",
                    "per_visit_cap": "1", "annual_cap": "1", "effective_from": "2030-01-01"}),
        )
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.error_code(), "province_scope_required");
    let res = county_admin
        .patch(
            &format!("/api/v1/policies/{policy}"),
            &json!({"effective_to": "2030-01-01"}),
        )
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    let res = county_admin
        .post(
            "/api/v1/hospitals",
            &json!({"code": "H9", "name": "延边医院", "region_code": "222401", "designated": true}),
        )
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    // The province's policy is untouched and still the only one.
    let all = county_admin.get("/api/v1/policies").await.json();
    let items = all
        .as_array()
        .or_else(|| all["items"].as_array())
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1, "{all}");
    assert!(items[0]["effective_to"].is_null(), "{all}");
    // A county administrator still manages the users of the county, never wider ones.
    let res = county_admin
        .post(
            "/api/v1/users",
            &json!({"username": "wider", "display_name": "", "password": "a-long-enough-password-1",
                    "roles": ["caseworker"], "region_prefix": "22"}),
        )
        .await;
    assert_ne!(res.status, StatusCode::CREATED, "{}", res.json());
}
