//! Sessions end on their own (idle, expiry) and by hand: the user ends their own, an
//! administrator ends all of a user's.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use cancer_aid::domain::Role;
use entity::{audit_log, session};

use crate::db_test;
use crate::helpers::TestApp;

async fn login_from(app: &TestApp, username: &str, password: &str, agent: &str) -> String {
    let res = app
        .anonymous()
        .call(Method::POST, "/api/v1/auth/login")
        .header("user-agent", agent)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    assert_eq!(body["stage"], "full");
    body["token"].as_str().unwrap().to_owned()
}

async fn sessions_of(app: &TestApp, user_id: i64) -> Vec<session::Model> {
    session::Entity::find()
        .filter(session::COLUMN.user_id.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
}

db_test!(a_user_sees_and_ends_their_own_sessions_only);
async fn a_user_sees_and_ends_their_own_sessions_only(app: TestApp) {
    let pw = app
        .create_user("zhou.min", &[Role::Caseworker], "2201")
        .await;
    let desk = login_from(&app, "zhou.min", &pw, "Mozilla/5.0 (Windows NT 10.0) desk").await;
    let phone = login_from(&app, "zhou.min", &pw, "Mozilla/5.0 (Android 14) phone").await;
    let other_pw = app
        .create_user("qian.li", &[Role::Caseworker], "2201")
        .await;
    let other = login_from(&app, "qian.li", &other_pw, "curl/8").await;

    let listed = app.with_token(&desk).get("/api/v1/auth/sessions").await;
    listed.assert_status(StatusCode::OK);
    let listed = listed.json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{listed}");
    let current: Vec<_> = rows.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert!(current[0]["user_agent"].as_str().unwrap().ends_with("desk"));
    assert!(current[0]["client"].is_string());
    let phone_id = rows.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();

    // Another user's session is not theirs to end: it answers as one that does not exist.
    let other_id = app
        .with_token(&other)
        .get("/api/v1/auth/sessions")
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let res = app
        .with_token(&desk)
        .call(Method::DELETE, &format!("/api/v1/auth/sessions/{other_id}"))
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    app.with_token(&other)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);

    app.with_token(&desk)
        .call(Method::DELETE, &format!("/api/v1/auth/sessions/{phone_id}"))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.with_token(&phone)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.with_token(&desk)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        app.with_token(&desk)
            .get("/api/v1/auth/sessions")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

db_test!(a_session_unused_for_the_idle_time_ends);
async fn a_session_unused_for_the_idle_time_ends(app: TestApp) {
    // No cache: every request asks the database, as another instance would.
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.session_cache_ttl = std::time::Duration::ZERO;
        s.session_idle = std::time::Duration::from_secs(30 * 60);
    })
    .await
    .unwrap();
    let pw = app
        .create_user("zheng.hua", &[Role::Caseworker], "2201")
        .await;
    let idle = app.login("zheng.hua", &pw).await;
    let busy = app.login("zheng.hua", &pw).await;
    let rows = sessions_of(&app, app_user_id(&app, "zheng.hua").await).await;
    assert_eq!(rows.len(), 2);
    for (row, minutes) in rows.iter().zip([31, 29]) {
        let mut m: session::ActiveModel = row.clone().into();
        m.last_seen_at = Set(Some(Utc::now() - chrono::Duration::minutes(minutes)));
        m.update(&app.db).await.unwrap();
    }
    let (idle, busy) = if rows[0].id < rows[1].id {
        (idle, busy)
    } else {
        (busy, idle)
    };
    let res = app.with_token(&idle).get("/api/v1/auth/me").await;
    res.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(res.error_code(), "invalid_token");
    // 29 minutes is inside the limit, and the use counts: the clock starts again.
    app.with_token(&busy)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    let left = sessions_of(&app, app_user_id(&app, "zheng.hua").await).await;
    assert_eq!(left.len(), 1, "the idle session is deleted");
    let seen = left[0].last_seen_at.unwrap();
    assert!(
        Utc::now() - seen < chrono::Duration::minutes(1),
        "last use written: {seen}"
    );
}

async fn app_user_id(app: &TestApp, name: &str) -> i64 {
    entity::user::Entity::find()
        .filter(entity::user::COLUMN.username.eq(name))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

db_test!(an_administrator_ends_a_users_sessions_inside_their_scope);
async fn an_administrator_ends_a_users_sessions_inside_their_scope(app: TestApp) {
    let pw = app.create_user("feng.yu", &[Role::Approver], "2201").await;
    let a = app.login("feng.yu", &pw).await;
    let b = app.login("feng.yu", &pw).await;
    let id = app_user_id(&app, "feng.yu").await;

    // A county administrator elsewhere does not see the account.
    let yanbian = app.as_user("yanbian_admin", &[Role::Admin], "2224").await;
    let res = yanbian
        .call(Method::DELETE, &format!("/api/v1/users/{id}/sessions"))
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    app.with_token(&a)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
    // Nor may a non-administrator.
    let worker = app.as_role(Role::Caseworker).await;
    worker
        .call(Method::DELETE, &format!("/api/v1/users/{id}/sessions"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .call(Method::DELETE, &format!("/api/v1/users/{id}/sessions"))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["ended"], 2);
    for token in [&a, &b] {
        app.with_token(token)
            .get("/api/v1/auth/me")
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    let logged = audit_log::Entity::find()
        .filter(audit_log::COLUMN.action.eq("user.sessions_ended"))
        .filter(audit_log::COLUMN.entity_id.eq(id.to_string()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    // They log in again as usual.
    app.login("feng.yu", &pw).await;
}

db_test!(the_account_page_lists_the_sessions_and_ends_one);
async fn the_account_page_lists_the_sessions_and_ends_one(app: TestApp) {
    let pw = app
        .create_user("han.mei", &[Role::Caseworker], "2201")
        .await;
    let page_token = app.login("han.mei", &pw).await;
    let api_token = app.login("han.mei", &pw).await;
    let cookie = format!("cancer_aid_session={page_token}");
    let page = app
        .anonymous()
        .call(Method::GET, "/account")
        .header("cookie", &cookie)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(
        html.contains("我的登录") && html.contains("当前登录"),
        "{html}"
    );
    assert_eq!(html.matches("/end\"").count(), 2);
    let other = sessions_of(&app, app_user_id(&app, "han.mei").await)
        .await
        .into_iter()
        .map(|s| s.id)
        .max()
        .unwrap();
    let res = app
        .anonymous()
        .call(Method::POST, &format!("/account/sessions/{other}/end"))
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.headers["location"], "/account");
    app.with_token(&api_token)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.with_token(&page_token)
        .get("/api/v1/auth/me")
        .await
        .assert_status(StatusCode::OK);
}
