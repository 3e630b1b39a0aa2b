use axum::http::{Method, StatusCode};
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::json;

use cancer_aid::domain::Role;
use entity::{login_throttle, session};

use crate::db_test;
use crate::helpers::TestApp;

db_test!(login_returns_a_token_and_the_user);
async fn login_returns_a_token_and_the_user(app: TestApp) {
    let pw = app
        .create_user("wang", &[Role::Caseworker, Role::Approver], "2201")
        .await;
    let res = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "wang", "password": pw}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert_eq!(body["user"]["username"], "wang");
    assert_eq!(body["user"]["roles"], json!(["caseworker", "approver"]));
    assert_eq!(body["user"]["region_prefix"], "2201");

    let me = app.with_token(token).get("/api/v1/auth/me").await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.json()["username"], "wang");
    // Only the hash of the token is stored.
    let stored = session::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);
}

db_test!(a_wrong_password_and_an_unknown_user_get_the_same_401);
async fn a_wrong_password_and_an_unknown_user_get_the_same_401(app: TestApp) {
    app.create_user("li.na", &[Role::Caseworker], "22").await;
    let wrong = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "li.na", "password": "not-it-at-all"}),
        )
        .await;
    wrong.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "invalid_credentials");
    let unknown = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "nobody", "password": "whatever1"}),
        )
        .await;
    unknown.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json(), wrong.json());
    // Both names are counted, whether or not the account exists.
    for name in ["li.na", "nobody"] {
        let t = login_throttle::Entity::find_by_id(("account".to_owned(), name.to_owned()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.failures, 1);
    }
    assert_eq!(session::Entity::find().all(&app.db).await.unwrap().len(), 0);
}

db_test!(repeated_failures_make_the_next_attempt_wait);
async fn repeated_failures_make_the_next_attempt_wait(app: TestApp) {
    let pw = app.create_user("zhao", &[Role::Manager], "22").await;
    let max = app.state.settings.login_max_failures;
    for _ in 0..max {
        let res = app
            .anonymous()
            .post(
                "/api/v1/auth/login",
                &json!({"username": "zhao", "password": "guess-guess"}),
            )
            .await;
        res.assert_status(StatusCode::UNAUTHORIZED);
    }
    // Even the right password must wait until the delay is over.
    let res = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "zhao", "password": pw}),
        )
        .await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.error_code(), "too_many_login_attempts");
}

db_test!(missing_forged_and_expired_tokens_are_refused);
async fn missing_forged_and_expired_tokens_are_refused(app: TestApp) {
    let missing = app.anonymous().get("/api/v1/auth/me").await;
    missing.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(missing.error_code(), "authentication_required");

    let forged = app
        .with_token(&"ab".repeat(32))
        .get("/api/v1/auth/me")
        .await;
    forged.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(forged.error_code(), "invalid_token");

    let basic = app
        .anonymous()
        .call(Method::GET, "/api/v1/auth/me")
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await;
    basic.assert_status(StatusCode::UNAUTHORIZED);

    let client = app.as_role(Role::Manager).await;
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    use sea_orm::{ActiveModelTrait, Set};
    let s = session::Entity::find().one(&app.db).await.unwrap().unwrap();
    let mut s: session::ActiveModel = s.into();
    s.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    s.update(&app.db).await.unwrap();
    // The session was confirmed a moment ago and is trusted for a few seconds; a change
    // made behind the service's back shows once that has passed.
    app.state.sessions.forget(client.token());
    let expired = client.get("/api/v1/auth/me").await;
    expired.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error_code(), "invalid_token");
}

db_test!(the_session_cookie_works_like_the_bearer_token);
async fn the_session_cookie_works_like_the_bearer_token(app: TestApp) {
    let client = app.as_role(Role::Caseworker).await;
    let res = app
        .anonymous()
        .call(Method::GET, "/api/v1/auth/me")
        .header(
            "cookie",
            &format!("lang=zh; cancer_aid_session={}", client.token()),
        )
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["username"], "caseworker");
}

db_test!(logout_ends_the_session);
async fn logout_ends_the_session(app: TestApp) {
    let client = app.as_role(Role::Approver).await;
    client
        .call(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

db_test!(login_validates_its_body);
async fn login_validates_its_body(app: TestApp) {
    let res = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            &json!({"username": "", "password": ""}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = res.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(fields.contains(&"username".to_owned()) && fields.contains(&"password".to_owned()));
}

db_test!(a_confirmed_session_is_trusted_for_the_cache_ttl_only);
async fn a_confirmed_session_is_trusted_for_the_cache_ttl_only(app: TestApp) {
    let client = app.as_role(Role::Caseworker).await;
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    // Another instance logs the session out: this one trusts it until the TTL passes.
    session::Entity::delete_many()
        .filter(session::COLUMN.user_id.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);

    let strict = crate::helpers::spawn_app_with(app.backend, |s| {
        s.session_cache_ttl = std::time::Duration::ZERO;
    })
    .await
    .expect("the same backend again");
    let client = strict.as_role(Role::Caseworker).await;
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    session::Entity::delete_many()
        .filter(session::COLUMN.user_id.is_not_null())
        .exec(&strict.db)
        .await
        .unwrap();
    let res = client.get("/api/v1/auth/me").await;
    res.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(res.error_code(), "invalid_token");
}

db_test!(a_change_of_roles_applies_to_the_next_request);
async fn a_change_of_roles_applies_to_the_next_request(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let client = app.as_role(Role::Caseworker).await;
    let id = client.get("/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap();
    client
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::OK);
    admin
        .patch(
            &format!("/api/v1/users/{id}"),
            &json!({"roles": ["roster_importer"]}),
        )
        .await
        .assert_status(StatusCode::OK);
    client
        .get("/api/v1/cases")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        client.get("/api/v1/auth/me").await.json()["roles"],
        json!(["roster_importer"])
    );
}

/// `GET /api/v1/auth/me` with `token` on another instance's router.
async fn me_on(router: &axum::Router, token: &str) -> StatusCode {
    use tower::ServiceExt;
    let req = axum::http::Request::get("/api/v1/auth/me")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    router.clone().oneshot(req).await.unwrap().status()
}

db_test!(a_logout_reaches_another_instance_within_its_cache_time);
async fn a_logout_reaches_another_instance_within_its_cache_time(app: TestApp) {
    // A second instance on the same database whose session cache trusts a confirmed
    // session for one second (the service's default is five, docs/access.md).
    let mut other = app.another_instance().await;
    other.sessions = cancer_aid::auth::session::SessionCache::new(
        std::time::Duration::from_secs(1),
        Default::default(),
    );
    let other = cancer_aid::startup::router(other);
    let client = app.as_role(Role::Approver).await;
    let token = client.token().to_owned();
    assert_eq!(
        me_on(&other, &token).await,
        StatusCode::OK,
        "the other instance confirms and caches it"
    );
    client
        .call(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // This instance forgets at once; the other within its cache time, never later.
    client
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(me_on(&other, &token).await, StatusCode::UNAUTHORIZED);

    // Deactivation likewise: a fresh session, cached over there, then the account disabled.
    let mut third = app.another_instance().await;
    third.sessions =
        cancer_aid::auth::session::SessionCache::new(std::time::Duration::ZERO, Default::default());
    let third = cancer_aid::startup::router(third);
    let worker = app.as_role(Role::Caseworker).await;
    let token = worker.token().to_owned();
    assert_eq!(me_on(&third, &token).await, StatusCode::OK);
    let me = worker.get("/api/v1/auth/me").await.json();
    let admin = app.as_role(Role::Admin).await;
    admin
        .patch(
            &format!("/api/v1/users/{}", me["id"]),
            &json!({"active": false}),
        )
        .await
        .assert_status(StatusCode::OK);
    // Without a cache (CANCER_AID_SESSION_CACHE_SECONDS=0) another instance refuses at once.
    assert_eq!(me_on(&third, &token).await, StatusCode::UNAUTHORIZED);
}
