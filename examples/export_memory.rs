//! Peak memory of the rejected-rows downloads: an import with ROWS rejected rows (300,000 by
//! default, each with its nine-column row), downloaded as CSV and as .xlsx through the real
//! router, each download in a child process of its own so that its peak (VmHWM) is its own.
//!
//!     cargo run --example export_memory                  # SQLite, 300,000 rows
//!     ROWS=50000 cargo run --example export_memory       # smaller
//!     DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example export_memory
//!
//! Prints, per format: the resident memory before the download (after login), the peak during
//! it (and how far above the start), the highest heap and mapped-file memory seen during it
//! (SQLite maps its database file, which counts in the peak but is no allocation), the bytes
//! received and the time taken.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use tower::ServiceExt;

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::config::Settings;
use cancer_aid::domain::{RegionPrefix, Role};
use cancer_aid::state::AppState;
use cancer_aid::{db, users};
use entity::{roster_import, roster_import_error};

// The service's allocator (src/main.rs), so that the figures are the service's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USER: &str = "memory_clerk";
const PASSWORD: &str = "memory-clerk-password";

/// A field of /proc/self/status in MiB.
fn status_mib(name: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn connect(url: &str, schema: Option<&str>) -> DatabaseConnection {
    db::connect_with(url, schema)
        .await
        .expect("the database connects")
}

/// Writes the import and its rejected rows straight to the database.
async fn fill(conn: &DatabaseConnection, rows: u64) -> i64 {
    db::migrate(conn).await.expect("migrations run");
    users::create(
        conn,
        &Actor::system("export_memory", chrono::Utc::now()),
        users::NewUser {
            username: USER.into(),
            display_name: String::new(),
            password: NewPassword::parse(PASSWORD, USER).unwrap(),
            roles: vec![Role::RosterImporter],
            region: RegionPrefix::parse("22").unwrap(),
        },
    )
    .await
    .expect("user created");
    let now = chrono::Utc::now();
    let import = roster_import::Entity::insert(roster_import::ActiveModel {
        file_name: Set("memory.xlsx".into()),
        sha256: Set("0".repeat(64)),
        file_size: Set(0),
        format: Set("xlsx".into()),
        group_code: Set(None),
        region_code: Set(None),
        mode: Set("incremental".into()),
        effective_date: Set(now.date_naive()),
        fingerprint: Set("memory".into()),
        status: Set(entity::roster_import::Status::Succeeded),
        rows_total: Set(rows as i64),
        rows_done: Set(rows as i64),
        accepted: Set(0),
        rejected: Set(rows as i64),
        skipped: Set(0),
        added: Set(0),
        updated: Set(0),
        ended: Set(0),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(conn)
    .await
    .expect("import written")
    .last_insert_id;
    let batch = 500;
    let mut i = 0;
    while i < rows {
        let models = (i..(i + batch).min(rows)).map(|r| {
            let id = format!("22010219{:02}0101{:03}X", r % 100, r % 1000);
            let data = serde_json::json!([
                ["序号", (r + 1).to_string()],
                ["姓名", format!("测试{r}")],
                ["身份证号码", id],
                ["救助类别", "城市低保"],
                ["行政区划代码", "220102"],
                ["保障起始日期", "2020-06-01"],
                ["终止日期", ""],
                ["家庭人口", "3"],
                ["月保障金", "560"],
            ]);
            roster_import_error::ActiveModel {
                import_id: Set(import),
                sheet: Set("Sheet1".into()),
                row_number: Set(r as i64 + 2),
                column_name: Set("身份证号码".into()),
                value: Set(id),
                code: Set("id_number_checksum".into()),
                message_zh: Set("身份证号码校验位不符，请核对。".into()),
                message_en: Set("The ID number's check character does not match.".into()),
                row_data: Set(Some(data)),
                ..Default::default()
            }
        });
        roster_import_error::Entity::insert_many(models)
            .exec(conn)
            .await
            .expect("errors written");
        i += batch;
    }
    import
}

/// The child: logs in, then downloads one format and prints its figures.
async fn download(url: &str, schema: Option<&str>, import: i64, format: &str) {
    let conn = connect(url, schema).await;
    let state = AppState::new(
        conn,
        Settings {
            database_url: url.to_owned(),
            ..Settings::default()
        },
    );
    let router = cancer_aid::startup::router(state);
    let login = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::json!({"username": USER, "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let res = router.clone().oneshot(login).await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let token = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    // The login's password hash costs memory of its own: the peak counts from here.
    std::fs::write("/proc/self/clear_refs", "5").expect("the peak resets");
    let before = status_mib("VmRSS:");
    // VmHWM counts SQLite's memory-mapped database file too (db.rs sets mmap_size): a sampler
    // tells the heap (RssAnon) from mapped files (RssFile) at their highest.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let (mut anon, mut file) = (0f64, 0f64);
            while !stop.load(Ordering::Relaxed) {
                anon = anon.max(status_mib("RssAnon:"));
                file = file.max(status_mib("RssFile:"));
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            (anon, file)
        })
    };
    let started = Instant::now();
    let req = Request::builder()
        .uri(format!(
            "/api/v1/roster-imports/{import}/errors?format={format}"
        ))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = router.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let mut bytes = 0usize;
    // Taken a piece at a time, as a client on the network does.
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the body streams").into_data() {
            bytes += data.len();
        }
    }
    let took = started.elapsed().as_secs_f64();
    let peak = status_mib("VmHWM:");
    stop.store(true, Ordering::Relaxed);
    let (anon, file) = sampler.join().unwrap();
    println!(
        "{format:>4}: resident before {before:6.1} MiB, peak {peak:7.1} MiB (+{:6.1}; sampled highs: heap {anon:6.1}, mapped files {file:6.1}), {:5.1} MiB received in {took:5.2} s",
        peak - before,
        bytes as f64 / 1048576.0,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "--child" {
        let schema = (!args[3].is_empty()).then_some(args[3].as_str());
        let import = args[4].parse().unwrap();
        let url = std::env::var("EXPORT_MEMORY_URL").unwrap();
        download(&url, schema, import, &args[2]).await;
        return;
    }
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let (url, schema) = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("export_memory_{}", std::process::id());
            let admin = connect(&url, None).await;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .unwrap();
            (url, Some(schema))
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("memory.db").display()
            ),
            None,
        ),
    };
    let started = Instant::now();
    let conn = connect(&url, schema.as_deref()).await;
    let import = fill(&conn, rows).await;
    conn.close().await.ok();
    println!(
        "{rows} rejected rows on {} written in {:.1} s",
        if schema.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed().as_secs_f64()
    );
    for format in ["csv", "xlsx"] {
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "--child",
                format,
                schema.as_deref().unwrap_or(""),
                &import.to_string(),
            ])
            .env("EXPORT_MEMORY_URL", &url)
            .status()
            .expect("the child runs");
        assert!(status.success(), "{format}: {status}");
    }
    if let Some(schema) = schema {
        let admin = connect(&url, None).await;
        let _ = admin
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await;
    }
}
