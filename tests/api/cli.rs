//! The command line, run as a real process against a real SQLite file.

use std::process::Command;

use axum::http::StatusCode;

use crate::helpers::{Backend, spawn_app_with};

fn cancer_aid(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cancer-aid"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_creates_an_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let out = cancer_aid(&url, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = cancer_aid(
        &url,
        &[
            "user",
            "add",
            "liu",
            "--roles",
            "caseworker,approver",
            "--region",
            "2201",
            "--password",
            "liu-password",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("caseworker,approver"));

    let bad = cancer_aid(
        &url,
        &[
            "user",
            "add",
            "ma",
            "--roles",
            "boss",
            "--password",
            "ma-password",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role 'boss'"));

    let dup = cancer_aid(
        &url,
        &[
            "user",
            "add",
            "liu",
            "--roles",
            "admin",
            "--password",
            "liu-password",
        ],
    );
    assert!(!dup.status.success());

    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    // The CLI wrote to its own file; serve that file through the real router.
    let conn = cancer_aid::db::connect(&url).await.unwrap();
    let state = cancer_aid::state::AppState::new(conn, app.state.settings.as_ref().clone());
    let router = cancer_aid::startup::router(state);
    use tower::ServiceExt;
    let req = axum::http::Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"username":"liu","password":"liu-password"}"#,
        ))
        .unwrap();
    let res = router.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_prints_the_summary_and_the_row_errors() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/roster_urban_nanguan_2020-06.xlsx"
    );
    let args = [
        "import",
        fixture,
        "--group",
        "城市低保",
        "--region",
        "220102",
        "--effective-date",
        "2020-07-01",
        "--activate",
    ];
    let out = cancer_aid(&url, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"status\": \"succeeded\""), "{stdout}");
    assert!(stdout.contains("\"accepted\": 8"), "{stdout}");
    assert!(
        stdout.contains("南关区自强街道 row 10 [身份证号码]"),
        "{stdout}"
    );

    let again = cancer_aid(&url, &args);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already imported"));

    let bad = cancer_aid(
        &url,
        &["import", concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")],
    );
    assert!(!bad.status.success());
    // Text is read as CSV, and says that it holds no roster and which columns it looked for.
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("没有找到名册") && stderr.contains("身份证号码"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_to_start_with_a_layout_it_cannot_use_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let layouts = dir.path().join("layouts");
    std::fs::create_dir(&layouts).unwrap();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/layouts/branch_csv.toml"
    ))
    .unwrap();
    // The return file's codes mean paid and refused at once: unusable.
    std::fs::write(
        layouts.join("bank.toml"),
        example.replace(r#"failed = ["E001""#, r#"failed = ["0000""#),
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_cancer-aid"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("CANCER_AID_LAYOUT_DIR", &layouts)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success(), "it must not start");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("CANCER_AID_LAYOUT_DIR")
            && said.contains("bank.toml")
            && said.contains("none in both"),
        "{said}"
    );
}

/// `migrate --check` tells behind (1), current (0) and ahead (2); an ahead database is never
/// migrated or served by this release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_check_tells_behind_current_and_ahead_and_an_ahead_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("check.db").display()
    );
    let fresh = cancer_aid(&url, &["migrate", "--check"]);
    assert_eq!(fresh.status.code(), Some(1), "a new database is behind");
    assert!(String::from_utf8_lossy(&fresh.stdout).contains("behind"));

    assert!(cancer_aid(&url, &["migrate"]).status.success());
    let current = cancer_aid(&url, &["migrate", "--check"]);
    assert_eq!(current.status.code(), Some(0), "{current:?}");

    // A newer release's migration recorded in the database.
    let db = cancer_aid::db::connect(&url).await.unwrap();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_the_future', 0)",
    )
    .await
    .unwrap();
    let ahead = cancer_aid(&url, &["migrate", "--check"]);
    assert_eq!(ahead.status.code(), Some(2), "{ahead:?}");
    assert!(String::from_utf8_lossy(&ahead.stdout).contains("m20991231_000001_from_the_future"));
    let refused = cancer_aid(&url, &["migrate"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("newer release"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(matches!(
        cancer_aid::db::schema_state(&db).await.unwrap(),
        cancer_aid::db::SchemaState::Ahead { .. }
    ));
}
