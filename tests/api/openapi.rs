//! The API description: every route the router serves is described, and nothing else.

use axum::http::StatusCode;
use serde_json::Value;

use cancer_aid::api::route_table;

use crate::helpers::{Backend, spawn_app};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The route table in `api/mod.rs` is what the router and the description are both built
/// from (`routes!` reads each handler's `#[utoipa::path]`); this compares the served
/// description with the table in both directions, and checks what each operation says.
#[tokio::test]
async fn every_route_is_described() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let res = app.anonymous().get("/api/v1/openapi.json").await;
    res.assert_status(StatusCode::OK);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");

    let table = route_table();
    for r in table.iter().filter(|r| r.documented) {
        let op = &paths.get(&r.path).unwrap_or(&Value::Null)[r.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is served but not described: annotate its handler with #[utoipa::path]",
            r.method,
            r.path
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            !responses.is_empty(),
            "{} {} describes no response",
            r.method,
            r.path
        );
        assert!(
            op["summary"].is_string() || op["description"].is_string(),
            "{} {} has no doc comment",
            r.method,
            r.path
        );
        assert!(op["tags"].is_array(), "{} {} has no tag", r.method, r.path);
    }
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            assert!(
                table.iter().any(|r| r.documented
                    && &r.path == path
                    && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is described but not in the route table"
            );
        }
    }

    // Each route of the table answers on its method: never the router's "no such route" or
    // "method not allowed" (without a login, protected routes answer 401 before anything else).
    for r in &table {
        let path = r.path.replace("{id}", "1");
        let res = app.anonymous().call(r.method.clone(), &path).send().await;
        assert!(
            res.status != StatusCode::NOT_FOUND && res.status != StatusCode::METHOD_NOT_ALLOWED,
            "{} {} answered {}",
            r.method,
            r.path,
            res.status
        );
    }

    // The error envelope and the bearer scheme are described once, for every route to use.
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let spending = &paths["/api/v1/reports/spending"]["get"];
    let params: Vec<&str> = spending["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "from", "to", "group_by", "status", "group", "region", "format"
        ]
    );
}

#[tokio::test]
async fn the_docs_page_browses_the_description_offline() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let res = app.anonymous().get("/api/docs").await;
    assert!(res.status.is_redirection(), "{}", res.status);
    let page = app.anonymous().get("/api/docs/").await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("swagger-ui"), "{html}");
    // The page's scripts are served from the binary, not from a CDN.
    assert!(!html.contains("https://"), "{html}");
    let init = app
        .anonymous()
        .get("/api/docs/swagger-initializer.js")
        .await;
    init.assert_status(StatusCode::OK);
    assert!(String::from_utf8_lossy(&init.body).contains("/api/v1/openapi.json"));
    app.anonymous()
        .get("/api/docs/swagger-ui-bundle.js")
        .await
        .assert_status(StatusCode::OK);
}
