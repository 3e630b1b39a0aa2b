//! Hospitals through the real router on both databases.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use cancer_aid::domain::Role;
use entity::{audit_log, hospital};

use crate::db_test;
use crate::helpers::TestApp;

db_test!(an_admin_registers_hospitals_that_everyone_can_list);
async fn an_admin_registers_hospitals_that_everyone_can_list(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": " 吉林省肿瘤医院 ", "code": "h220106001", "region_code": "220106"}),
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    let h = res.json();
    assert_eq!(h["name"], "吉林省肿瘤医院");
    assert_eq!(h["code"], "H220106001");
    assert_eq!(h["designated"], true, "designated unless told otherwise");
    admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "某民营医院", "code": "P1", "region_code": "220102", "designated": false}),
        )
        .await
        .assert_status(StatusCode::CREATED);

    let worker = app.as_role(Role::Caseworker).await;
    let all = worker.get("/api/v1/hospitals").await;
    all.assert_status(StatusCode::OK);
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    let designated = worker.get("/api/v1/hospitals?designated=true").await.json();
    assert_eq!(designated.as_array().unwrap().len(), 1);
    assert_eq!(designated[0]["code"], "H220106001");
    let others = worker
        .get("/api/v1/hospitals?designated=false")
        .await
        .json();
    assert_eq!(others[0]["code"], "P1");
    app.anonymous()
        .get("/api/v1/hospitals")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("hospital.create"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].after.as_ref().unwrap()["code"], "H220106001");
}

db_test!(a_code_is_used_once_and_bad_input_changes_nothing);
async fn a_code_is_used_once_and_bad_input_changes_nothing(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let first = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "甲医院", "code": "H1", "region_code": "220104"}),
        )
        .await;
    first.assert_status(StatusCode::CREATED);
    let res = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "乙医院", "code": "ｈ1", "region_code": "220104"}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "hospital_code_taken");
    assert_eq!(res.json()["error"]["existing"]["id"], first.json()["id"]);

    let res = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "丙医院", "code": "H 2", "region_code": "2201"}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "validation_failed");
    let fields: Vec<String> = res.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["code", "region_code"]);
    let res = admin
        .post(
            "/api/v1/hospitals",
            &json!({"code": "H3", "region_code": "220104"}),
        )
        .await;
    assert_eq!(res.error_code(), "required");
    assert_eq!(res.json()["error"]["details"][0]["field"], "name");

    for role in [Role::Caseworker, Role::Approver, Role::Manager] {
        app.as_role(role)
            .await
            .post(
                "/api/v1/hospitals",
                &json!({"name": "丁", "code": "H4", "region_code": "220104"}),
            )
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    let yanbian_admin = app.as_user("yb_admin", &[Role::Admin], "2224").await;
    yanbian_admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "戊", "code": "H5", "region_code": "220104"}),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(hospital::Entity::find().count(&app.db).await.unwrap(), 1);
}
