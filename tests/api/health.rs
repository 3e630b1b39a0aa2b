use axum::http::StatusCode;

use crate::db_test;
use crate::helpers::Backend;
use crate::helpers::TestApp;

db_test!(health_reports_the_database_reachable);
async fn health_reports_the_database_reachable(app: TestApp) {
    let res = app.anonymous().get("/health").await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "reachable");
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["backend"], expected);
}

db_test!(health_reports_503_when_the_database_is_gone);
async fn health_reports_503_when_the_database_is_gone(app: TestApp) {
    app.db.clone().close().await.expect("closed");
    let res = app.anonymous().get("/health").await;
    res.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json()["database"], "unreachable");
}

db_test!(liveness_is_the_process_and_readiness_the_database_schema_and_worker);
async fn liveness_is_the_process_and_readiness_the_database_schema_and_worker(app: TestApp) {
    let ready = app.anonymous().get("/health/ready").await;
    ready.assert_status(StatusCode::OK);
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "database": "reachable", "schema": "current", "worker": "running"})
    );
    // A newer release's migration: not ready, and why.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_the_future', 0)",
        )
        .await
        .unwrap();
    let ahead = app.anonymous().get("/health/ready").await;
    ahead.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ahead.json()["schema"], "ahead");

    // The database gone: the process is still live, readiness says why it is not ready.
    app.db.clone().close().await.expect("closed");
    app.anonymous()
        .get("/health/live")
        .await
        .assert_status(StatusCode::OK);
    let gone = app.anonymous().get("/health/ready").await;
    gone.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(gone.json()["database"], "unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_when_no_import_worker_runs() {
    // A state whose worker was never started, served through the real router.
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let idle = cancer_aid::state::AppState::new(app.db.clone(), (*app.state.settings).clone());
    let router = cancer_aid::startup::router(idle);
    let res = tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get("/health/ready")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["worker"], "stopped");
}
