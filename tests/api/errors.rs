use axum::http::{Method, StatusCode};
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::TestApp;

db_test!(malformed_json_is_a_400_and_a_missing_field_a_422);
async fn malformed_json_is_a_400_and_a_missing_field_a_422(app: TestApp) {
    let res = app
        .anonymous()
        .call(Method::POST, "/api/v1/auth/login")
        .raw("application/json", "{\"username\": \"a\",")
        .send()
        .await;
    res.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(res.error_code(), "malformed_json");

    let res = app
        .anonymous()
        .post("/api/v1/auth/login", &json!({"username": "a"}))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "invalid_body");
    // The missing field is named in words, and is the problem's field.
    let body = res.json();
    assert_eq!(body["error"]["message"], "请填写密码。", "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "password");

    let res = app
        .anonymous()
        .call(Method::POST, "/api/v1/auth/login")
        .raw("text/plain", "username=a")
        .send()
        .await;
    res.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

db_test!(an_oversized_body_is_a_413_and_changes_nothing);
async fn an_oversized_body_is_a_413_and_changes_nothing(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let limit = app.state.settings.max_json_bytes;
    let huge = json!({"username": "big", "password": "x".repeat(limit + 10),
                      "roles": ["admin"], "region_prefix": "22"});
    let res = admin.post("/api/v1/users", &huge).await;
    res.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.error_code(), "payload_too_large");
    let users = admin.get("/api/v1/users").await.json();
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "big")
    );
}

db_test!(unknown_routes_and_methods_answer_in_json);
async fn unknown_routes_and_methods_answer_in_json(app: TestApp) {
    let res = app.anonymous().get("/api/v1/no-such-thing").await;
    res.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(res.error_code(), "not_found");
    assert_eq!(res.headers["content-type"], "application/json");
    let res = app
        .anonymous()
        .call(Method::DELETE, "/api/v1/auth/login")
        .send()
        .await;
    res.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.error_code(), "method_not_allowed");
}

db_test!(messages_are_chinese_by_default_and_english_on_request);
async fn messages_are_chinese_by_default_and_english_on_request(app: TestApp) {
    let zh = app.anonymous().get("/api/v1/auth/me").await;
    assert!(
        zh.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("登录")
    );
    let en = app
        .anonymous()
        .call(Method::GET, "/api/v1/auth/me")
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await;
    assert!(
        en.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Log in")
    );
    let cookie = app
        .anonymous()
        .call(Method::GET, "/api/v1/auth/me")
        .header("cookie", "lang=en")
        .send()
        .await;
    assert!(
        cookie.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Log in")
    );
}
