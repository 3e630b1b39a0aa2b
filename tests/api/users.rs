use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use cancer_aid::domain::Role;
use entity::{audit_log, user};

use crate::db_test;
use crate::helpers::TestApp;

fn new_user() -> serde_json::Value {
    json!({
        "username": "zhang.san",
        "display_name": "张三",
        "password": "s3cret-password",
        "roles": ["caseworker", "approver"],
        "region_prefix": "2201"
    })
}

db_test!(an_admin_creates_a_user_who_can_log_in);
async fn an_admin_creates_a_user_who_can_log_in(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let res = admin.post("/api/v1/users", &new_user()).await;
    res.assert_status(StatusCode::CREATED);
    let body = res.json();
    assert_eq!(body["username"], "zhang.san");
    assert_eq!(body["roles"], json!(["caseworker", "approver"]));
    assert_eq!(body["region_prefix"], "2201");
    assert_eq!(body["active"], true);
    assert!(body.get("password_hash").is_none());

    let token = app.login("zhang.san", "s3cret-password").await;
    let me = app.with_token(&token).get("/api/v1/auth/me").await.json();
    assert_eq!(me["display_name"], "张三");

    let listed = admin.get("/api/v1/users").await.json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "zhang.san")
    );
    let id = body["id"].as_i64().unwrap();
    admin
        .get(&format!("/api/v1/users/{id}"))
        .await
        .assert_status(StatusCode::OK);
    admin
        .get("/api/v1/users/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

db_test!(creating_a_user_writes_an_audit_row_without_secrets);
async fn creating_a_user_writes_an_audit_row_without_secrets(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let id = admin.post("/api/v1/users", &new_user()).await.json()["id"]
        .as_i64()
        .unwrap();
    let row = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("user.create"))
        .filter(audit_log::COLUMN.entity_id.eq(id.to_string()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("an audit row");
    assert_eq!(row.actor_name, "admin");
    assert!(row.actor_id.is_some());
    assert!(row.before.is_none());
    let after = row.after.unwrap();
    assert_eq!(after["username"], "zhang.san");
    let text = after.to_string();
    assert!(!text.contains("argon2") && !text.contains("s3cret"));
}

db_test!(a_taken_username_is_a_409_and_adds_nothing);
async fn a_taken_username_is_a_409_and_adds_nothing(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    admin
        .post("/api/v1/users", &new_user())
        .await
        .assert_status(StatusCode::CREATED);
    let audits = audit_log::Entity::find().count(&app.db).await.unwrap();
    let res = admin.post("/api/v1/users", &new_user()).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "username_taken");
    assert_eq!(
        audit_log::Entity::find().count(&app.db).await.unwrap(),
        audits
    );
}

db_test!(unknown_roles_bad_regions_and_short_passwords_are_422);
async fn unknown_roles_bad_regions_and_short_passwords_are_422(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let users_before = user::Entity::find().count(&app.db).await.unwrap();
    let mut body = new_user();
    body["roles"] = json!(["caseworker", "boss"]);
    let res = admin.post("/api/v1/users", &body).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "roles");
    assert!(
        res.json()["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("boss")
    );

    let mut body = new_user();
    body["region_prefix"] = json!("220");
    let res = admin.post("/api/v1/users", &body).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_region_code");

    let mut body = new_user();
    body["password"] = json!("short");
    body["username"] = json!("a b");
    let res = admin.post("/api/v1/users", &body).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    let mut body = new_user();
    body["username"] = json!("has space");
    let res = admin.post("/api/v1/users", &body).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "username");

    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );
}

db_test!(passwords_must_be_long_not_the_name_and_not_common);
async fn passwords_must_be_long_not_the_name_and_not_common(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let users_before = user::Entity::find().count(&app.db).await.unwrap();
    for (password, says) in [
        ("12345678", "至少12个字符（现在是8个）"),
        ("Zhang.San2024!", "不能是用户名"),
        ("password123456", "最常见的密码"),
        ("220102198001011234", "不能只有数字"),
        ("abababababababab", "不同的字符"),
    ] {
        let mut body = new_user();
        body["password"] = json!(password);
        let res = admin.post("/api/v1/users", &body).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let detail = &res.json()["error"]["details"][0];
        assert_eq!(detail["field"], "password", "{password}");
        assert!(
            detail["message"].as_str().unwrap().contains(says),
            "{password}: {detail}"
        );
    }
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );

    // The same rules when an administrator resets a password; the old one keeps working.
    let id = admin.post("/api/v1/users", &new_user()).await.json()["id"]
        .as_i64()
        .unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"password": "zhang.san-2024"}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "password");
    app.login("zhang.san", "s3cret-password").await;
    // A sentence in Chinese is a good password.
    admin
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"password": "长白山下的红十字会"}),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    admin
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"password": "长白山下的红十字会救助站"}),
        )
        .await
        .assert_status(StatusCode::OK);
    app.login("zhang.san", "长白山下的红十字会救助站").await;
}

db_test!(only_admins_manage_users_and_only_inside_their_scope);
async fn only_admins_manage_users_and_only_inside_their_scope(app: TestApp) {
    for role in [
        Role::Caseworker,
        Role::Approver,
        Role::RosterImporter,
        Role::Manager,
    ] {
        let client = app.as_role(role).await;
        let res = client.get("/api/v1/users").await;
        res.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(res.error_code(), "role_required");
        client
            .post("/api/v1/users", &new_user())
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    app.anonymous()
        .get("/api/v1/users")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let city_admin = app.as_user("yanbian_admin", &[Role::Admin], "2224").await;
    let res = city_admin.post("/api/v1/users", &new_user()).await;
    res.assert_status(StatusCode::FORBIDDEN);
    let mut body = new_user();
    body["region_prefix"] = json!("222401");
    city_admin
        .post("/api/v1/users", &body)
        .await
        .assert_status(StatusCode::CREATED);

    // An account of a wider scope is not theirs to see or change: no password reset, no
    // disabling, not in the list, not on the account's page.
    let province = app.as_user("province_admin", &[Role::Admin], "22").await;
    let me = province.get("/api/v1/auth/me").await.json();
    let id = me["id"].as_i64().unwrap();
    for patch in [
        json!({"password": "taken-over-now"}),
        json!({"active": false}),
        json!({"roles": ["caseworker"]}),
    ] {
        let res = city_admin
            .patch(&format!("/api/v1/users/{id}"), &patch)
            .await;
        res.assert_status(StatusCode::NOT_FOUND);
    }
    city_admin
        .get(&format!("/api/v1/users/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let listed = city_admin.get("/api/v1/users").await.json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"yanbian_admin") && !names.contains(&"province_admin"),
        "{names:?}"
    );
    city_admin
        .get(&format!("/admin/users/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(
        !String::from_utf8_lossy(&city_admin.get("/admin/users").await.body)
            .contains("province_admin")
    );
    province
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    let mine = province.get(&format!("/api/v1/users/{id}")).await.json();
    assert_eq!(mine["active"], true, "unchanged: {mine}");
}

db_test!(deactivating_a_user_ends_their_sessions_and_logins);
async fn deactivating_a_user_ends_their_sessions_and_logins(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let worker = app.as_role(Role::Caseworker).await;
    worker
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    let id = worker.get("/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap();

    let res = admin
        .patch(&format!("/api/v1/users/{id}"), &json!({"active": false}))
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["active"], false);
    worker
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let login = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "caseworker", "password": "caseworker-password"}),
        )
        .await;
    login.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(login.error_code(), "account_disabled");

    let row = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("user.update"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.before.unwrap()["active"], true);
    assert_eq!(row.after.unwrap()["active"], false);
}

db_test!(roles_region_and_password_can_change);
async fn roles_region_and_password_can_change(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let id = admin.post("/api/v1/users", &new_user()).await.json()["id"]
        .as_i64()
        .unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"roles": ["manager"], "region_prefix": "22", "password": "another-password"}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["roles"], json!(["manager"]));
    assert_eq!(res.json()["region_prefix"], "22");
    app.login("zhang.san", "another-password").await;
    let audit = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("user.update"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.after.unwrap()["password_changed"], true);

    let res = admin
        .patch(&format!("/api/v1/users/{id}"), &json!({"roles": ["root"]}))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    admin
        .patch("/api/v1/users/424242", &json!({"active": true}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

db_test!(an_admin_cannot_lock_themselves_out);
async fn an_admin_cannot_lock_themselves_out(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let id = admin.get("/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap();
    let res = admin
        .patch(&format!("/api/v1/users/{id}"), &json!({"active": false}))
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "cannot_lock_out_self");
    admin
        .get("/api/v1/users")
        .await
        .assert_status(StatusCode::OK);
}
