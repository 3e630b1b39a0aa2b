use axum::http::StatusCode;
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::TestApp;

db_test!(admins_and_managers_read_the_log_others_do_not);
async fn admins_and_managers_read_the_log_others_do_not(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    for i in 0..3 {
        admin
            .post(
                "/api/v1/users",
                &json!({"username": format!("user{i}"), "password": "desk-lamp-123",
                        "roles": ["caseworker"], "region_prefix": "2201"}),
            )
            .await
            .assert_status(StatusCode::CREATED);
    }
    let manager = app.as_role(Role::Manager).await;
    let page = manager
        .get("/api/v1/audit?action=user.create&actor=admin")
        .await;
    page.assert_status(StatusCode::OK);
    let body = page.json();
    assert_eq!(body["total"], 3);
    let items = body["items"].as_array().unwrap();
    // Newest first.
    assert_eq!(items[0]["after"]["username"], "user2");
    assert_eq!(items[2]["after"]["username"], "user0");

    let second = manager
        .get("/api/v1/audit?action=user.create&actor=admin&per_page=2&page=2")
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["after"]["username"], "user0");

    let all_user_actions = manager.get("/api/v1/audit?action=user.").await.json();
    // The three above plus the test's own admin and manager accounts.
    assert_eq!(all_user_actions["total"], 5);

    let id = items[1]["entity_id"].as_str().unwrap();
    let one = manager
        .get(&format!("/api/v1/audit?entity_type=user&entity_id={id}"))
        .await
        .json();
    assert_eq!(one["total"], 1);

    let today = cancer_aid::clock::day_of(chrono::Utc::now());
    let in_range = manager
        .get(&format!(
            "/api/v1/audit?action=user.create&actor=admin&from={today}&to={today}"
        ))
        .await
        .json();
    assert_eq!(in_range["total"], 3);
    let before = manager
        .get("/api/v1/audit?action=user.create&to=2020-01-01")
        .await
        .json();
    assert_eq!(before["total"], 0);

    for role in [Role::Caseworker, Role::Approver, Role::RosterImporter] {
        app.as_role(role)
            .await
            .get("/api/v1/audit")
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
}

db_test!(bad_audit_filters_say_what_is_allowed);
async fn bad_audit_filters_say_what_is_allowed(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin.get("/api/v1/audit?from=2024-13-01").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "from");
    admin
        .get("/api/v1/audit?per_page=100000")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Not a number is the same mistake as out of range: 422 on the field, with the range.
    let res = admin.get("/api/v1/audit?page=abc").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "page");
}
