//! The access log (PIPL): every read of a person's data, on pages and API alike, leaves a
//! record that province administrators query by person and by user; the table is
//! append-only and its records leave only by age.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::access_log;

use crate::db_test;
use crate::fixtures::people::patient;
use crate::helpers::Client;
use crate::helpers::TestApp;

fn actions(page: &Value) -> Vec<String> {
    let mut a: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap().to_owned())
        .collect();
    a.sort();
    a
}

async fn who_read(admin: &Client<'_>, id_number: &str) -> Value {
    let res = admin
        .post(
            "/api/v1/access-log/search",
            &json!({"id_number": id_number}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    res.json()
}

db_test!(every_read_of_a_persons_data_is_recorded_and_can_be_asked_for);
async fn every_read_of_a_persons_data_is_recorded_and_can_be_asked_for(app: TestApp) {
    let p = patient(
        &app,
        "220102",
        31,
        "王五",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let stranger = patient(
        &app,
        "220102",
        32,
        "赵六",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app.as_role(Role::Caseworker).await;
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(who_read(&admin, &p.id_number).await["total"], 0);

    worker
        .get(&format!("/api/v1/eligibility?id_number={}", p.id_number))
        .await
        .assert_status(StatusCode::OK);
    worker
        .post("/api/v1/eligibility", &json!({"id_number": p.id_number}))
        .await
        .assert_status(StatusCode::OK);
    worker
        .post(
            "/api/v1/roster-entries/search",
            &json!({"id_number": p.id_number}),
        )
        .await
        .assert_status(StatusCode::OK);
    worker
        .call(Method::POST, "/eligibility")
        .raw(
            "application/x-www-form-urlencoded",
            format!("id_number={}", p.id_number),
        )
        .send()
        .await
        .assert_status(StatusCode::OK);
    let case = worker
        .post(
            "/api/v1/cases",
            &json!({"id_number": p.id_number, "name": "王五", "diagnosis_code": "C34.1"}),
        )
        .await;
    case.assert_status(StatusCode::CREATED);
    let case_id = case.json()["id"].as_i64().unwrap();
    worker
        .get(&format!("/api/v1/cases/{case_id}"))
        .await
        .assert_status(StatusCode::OK);
    worker
        .get(&format!("/cases/{case_id}"))
        .await
        .assert_status(StatusCode::OK);
    worker
        .get(&format!("/api/v1/persons/{}/statement", p.person_id))
        .await
        .assert_status(StatusCode::OK);
    // Someone else's check is not this person's.
    worker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": stranger.id_number}),
        )
        .await
        .assert_status(StatusCode::OK);

    let page = who_read(&admin, &p.id_number).await;
    assert_eq!(
        actions(&page),
        vec![
            "case.read",
            "case.read",
            "eligibility.check",
            "eligibility.check",
            "eligibility.check",
            "person.statement",
            "roster.entries"
        ],
        "{page}"
    );
    let first = &page["items"][0];
    assert_eq!(first["username"], "caseworker");
    assert_eq!(first["person_id"], p.person_id);
    assert_eq!(first["route"], "/api/v1/persons/{person}/statement");
    assert_eq!(
        first["client"], "unknown",
        "oneshot requests carry no peer address"
    );
    let routes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["route"].as_str().unwrap())
        .collect();
    assert!(
        routes.contains(&"/eligibility") && routes.contains(&"/cases/{id}"),
        "pages too: {routes:?}"
    );
    // By person id, and by user.
    let by_id = admin
        .get(&format!("/api/v1/access-log?person_id={}", p.person_id))
        .await
        .json();
    assert_eq!(by_id["total"], page["total"]);
    let worker_id = first["user_id"].as_i64().unwrap();
    let by_user = admin
        .get(&format!(
            "/api/v1/access-log?user_id={worker_id}&per_page=2"
        ))
        .await
        .json();
    assert_eq!(by_user["total"], 8);
    assert_eq!(by_user["items"].as_array().unwrap().len(), 2);
    // The ID number never goes in the address.
    let res = admin
        .get(&format!("/api/v1/access-log?id_number={}", p.id_number))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "id_number");
    // Only administrators of the whole province ask.
    let county = app.as_user("admin2201", &[Role::Admin], "2201").await;
    county
        .post(
            "/api/v1/access-log/search",
            &json!({"id_number": p.id_number}),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.as_role(Role::Manager)
        .await
        .get("/api/v1/access-log")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

db_test!(a_rejected_rows_download_is_recorded_against_the_import);
async fn a_rejected_rows_download_is_recorded_against_the_import(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let csv = "身份证号码,姓名,区划代码\n220102197001010000,张三,220102\n";
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保"), ("region_code", "220102")],
            "r.csv",
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let id = res.json()["id"].as_i64().unwrap();
    clerk.wait_import(id).await;
    clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=csv"))
        .await
        .assert_status(StatusCode::OK);
    clerk
        .get(&format!("/roster/imports/{id}"))
        .await
        .assert_status(StatusCode::OK);
    let admin = app.as_role(Role::Admin).await;
    let all = admin.get("/api/v1/access-log").await.json();
    let reads: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "roster_import.rejected_rows")
        .collect();
    assert_eq!(reads.len(), 2, "{all}");
    assert!(
        reads
            .iter()
            .all(|r| r["resource"] == format!("roster_import:{id}")
                && r["username"] == "roster_importer")
    );
}

db_test!(the_log_is_append_only_and_records_leave_only_by_age);
async fn the_log_is_append_only_and_records_leave_only_by_age(app: TestApp) {
    let old = access_log::ActiveModel {
        at: Set(Utc::now() - Duration::days(2000)),
        user_id: Set(None),
        username: Set("someone".into()),
        route: Set("/api/v1/eligibility".into()),
        action: Set("eligibility.check".into()),
        person_id: Set(Some(1)),
        resource: Set(None),
        client: Set("127.0.0.1".into()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut recent = old.clone();
    recent.at = Utc::now() - Duration::days(10);
    let mut recent: access_log::ActiveModel = recent.into();
    recent.id = sea_orm::ActiveValue::NotSet;
    recent.insert(&app.db).await.unwrap();
    // No update, not even by hand.
    let changed = app
        .db
        .execute_unprepared("UPDATE access_log SET username = 'nobody'")
        .await;
    assert!(changed.is_err(), "an update of the access log went through");
    let purged = cancer_aid::access_log::purge(&app.db, 1095, Utc::now())
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(access_log::Entity::find().count(&app.db).await.unwrap(), 1);
}

db_test!(the_access_log_page_answers_who_looked_at_a_patient_without_the_number_in_an_address);
async fn the_access_log_page_answers_who_looked_at_a_patient_without_the_number_in_an_address(
    app: TestApp,
) {
    let p = patient(
        &app,
        "220102",
        41,
        "孙七",
        "low_income_urban",
        "2020-06-01",
        None,
    )
    .await;
    let worker = app
        .as_user("counter-clerk", &[Role::Caseworker], "220102")
        .await;
    worker
        .post("/api/v1/eligibility", &json!({"id_number": p.id_number}))
        .await
        .assert_status(StatusCode::OK);
    let admin = app.as_role(Role::Admin).await;

    // By ID number: a POST form; the answer names the reader and the person's record id.
    let res = admin
        .call(Method::POST, "/admin/access-log")
        .raw(
            "application/x-www-form-urlencoded",
            format!("id_number={}", p.id_number),
        )
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let page = String::from_utf8(res.body.to_vec()).unwrap();
    assert!(page.contains("counter-clerk"), "{page}");
    assert!(page.contains("资格核验"), "{page}");
    assert!(
        !page.contains(&p.id_number),
        "the page never shows the whole number"
    );
    let person_id = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT person_id FROM access_log WHERE person_id IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert!(
        page.contains(&format!("href=\"/admin/access-log?person_id={person_id}\"")),
        "{page}"
    );

    // By user and by person id: a GET form whose pager keeps the filters.
    let by_user = admin.get("/admin/access-log?username=counter-clerk").await;
    by_user.assert_status(StatusCode::OK);
    assert!(
        String::from_utf8(by_user.body.to_vec())
            .unwrap()
            .contains("counter-clerk")
    );
    let nobody = admin.get("/admin/access-log?username=nobody-here").await;
    let nobody = String::from_utf8(nobody.body.to_vec()).unwrap();
    assert!(
        nobody.contains("暂无记录") && !nobody.contains("counter-clerk"),
        "{nobody}"
    );

    // A bad ID number or person id is an error on its field, and nothing is shown.
    let bad = admin
        .call(Method::POST, "/admin/access-log")
        .raw("application/x-www-form-urlencoded", "id_number=12345")
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        String::from_utf8(bad.body.to_vec())
            .unwrap()
            .contains("id=\"id_number-error\"")
    );
    admin
        .get("/admin/access-log?person_id=abc")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // Only province administrators: a county administrator and a manager are refused.
    let county = app.as_user("county-admin", &[Role::Admin], "220102").await;
    county
        .get("/admin/access-log")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.as_role(Role::Manager)
        .await
        .get("/admin/access-log")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}
