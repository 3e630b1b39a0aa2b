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
