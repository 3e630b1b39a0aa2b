//! Paying 100,000 subsidies through the bank, through the router, on SQLite and PostgreSQL:
//!
//!     cargo bench --bench payments                  # 100,000 approved subsidies
//!     ROWS=20000 cargo bench --bench payments       # smaller
//!     ONLY=sqlite cargo bench --bench payments      # one database
//!
//! 20 subsidies per case, each case with payee details, all approved in 2025, written with raw
//! multi-row INSERTs. Then, as two managers, it times `POST /api/v1/payment-batches` (drafting
//! the batch of all of them), approving it, producing its notice, exporting its fixed-width GBK
//! bank file, and `POST .../return-file` with the bank's answer for every line (one line in a
//! hundred refused). The baseline, timed in the same run on the same database, is one
//! statement that reads the same subsidies with their payees (`SELECT COUNT(*), SUM(...)`).
//! Each step's peak resident set (VmHWM, reset before the step) is printed beside the resident
//! set it started from, with the file sizes.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use chrono::{Datelike, Utc};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use tower::ServiceExt;

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::clock::Clock;
use cancer_aid::config::Settings;
use cancer_aid::domain::{RegionPrefix, Role};
use cancer_aid::state::AppState;

const PER_CASE: u64 = 20;

/// Starts a step's peak afresh: writing 5 to clear_refs resets VmHWM to the present resident
/// set (Linux 4.0 and later), so each step's figure is its own peak, not the loading's.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn vm_rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn vm_hwm_mib() -> f64 {
    status_mib("VmHWM:")
}

fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn user(db: &DatabaseConnection, name: &str) {
    cancer_aid::users::create(
        db,
        &Actor::system("bench", Utc::now()),
        cancer_aid::users::NewUser {
            username: name.into(),
            display_name: String::new(),
            password: NewPassword::parse("manager-bench-pw", name).unwrap(),
            roles: vec![Role::Manager],
            region: RegionPrefix::parse("22").unwrap(),
        },
    )
    .await
    .unwrap();
}

/// `rows` approved subsidies of 2025 in cases with payee details.
async fn load(db: &DatabaseConnection, rows: u64) -> f64 {
    let t = Instant::now();
    user(db, "manager").await;
    user(db, "manager2").await;
    let stamp = "'2025-01-01 00:00:00+00:00'";
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared(&format!(
        "INSERT INTO hospitals (name, code, region_code, designated, created_at, updated_at) \
         VALUES ('吉林大学第一医院', 'H001', '220102', TRUE, {stamp}, {stamp})"
    ))
    .await
    .unwrap();
    let cases = rows.div_ceil(PER_CASE);
    for start in (1..=cases).step_by(1000) {
        let ids: Vec<u64> = (start..(start + 1000).min(cases + 1)).collect();
        let values =
            |f: &dyn Fn(u64) -> String| ids.iter().map(|p| f(*p)).collect::<Vec<_>>().join(",");
        txn.execute_unprepared(&format!(
            "INSERT INTO persons (id_number, name, sex, birth_date, region_code, created_at, updated_at) VALUES {}",
            values(&|p| format!("('{:018}', '患者{p}', 'female', '1960-01-01', '220102', {stamp}, {stamp})", 220_000_000_000_000_000u64 + p))
        ))
        .await
        .unwrap();
        txn.execute_unprepared(&format!(
            "INSERT INTO cases (person_id, year, state, version, applicant_name, diagnosis_code, diagnosis_text, phone, address, note, region_code, evidence, opened_by, created_at, updated_at) VALUES {}",
            values(&|p| format!("({p}, 2025, 'approved', 1, '患者{p}', 'C34.9', '肺恶性肿瘤', '', '', '', '220102', '{{}}', 1, {stamp}, {stamp})"))
        ))
        .await
        .unwrap();
        txn.execute_unprepared(&format!(
            "INSERT INTO case_payees (case_id, payee_name, relation, account_kind, bank_name, account_no, version, updated_by, updated_at) VALUES {}",
            values(&|p| format!("({p}, '患者{p}', 'patient', 'bank_account', '中国工商银行长春分行', '{:012}', 1, 1, {stamp})", 71_000_000_000u64 + p))
        ))
        .await
        .unwrap();
    }
    for start in (1..=rows).step_by(1000) {
        let values: Vec<String> = (start..(start + 1000).min(rows + 1))
            .map(|v| {
                let case = 1 + (v - 1) / PER_CASE;
                let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
                    + chrono::Days::new(v % 360);
                let fen = 10_000 + (v * 7919) % 500_000;
                format!(
                    "({case}, {case}, 1, 'low_income_urban', '220102', 'outpatient', NULL, '{day}', '{day}', 2025, {}, 0, 0, 0, {}, {fen}, 'approved', NULL, 1, {stamp}, {stamp})",
                    fen * 3,
                    fen * 3
                )
            })
            .collect();
        txn.execute_unprepared(&format!(
            "INSERT INTO visits (case_id, person_id, hospital_id, group_code, region_code, kind, discharged_on, visit_date, counted_on, year, total_cost_fen, insurance_paid_fen, critical_illness_paid_fen, medical_assistance_paid_fen, out_of_pocket_fen, subsidy_fen, status, reverses_visit_id, recorded_by, created_at, updated_at) VALUES {}",
            values.join(",")
        ))
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    let analyze = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "VACUUM ANALYZE visits"
    } else {
        "ANALYZE"
    };
    db.execute_unprepared(analyze).await.unwrap();
    t.elapsed().as_secs_f64()
}

struct Api {
    router: axum::Router,
}

impl Api {
    async fn call(
        &self,
        token: &str,
        req: axum::http::request::Builder,
        body: Body,
    ) -> (u16, Vec<u8>) {
        let res = self
            .router
            .clone()
            .oneshot(
                req.header("authorization", format!("Bearer {token}"))
                    .body(body)
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = res.status().as_u16();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    /// A download read as a client saving it would: each piece counted and let go, so the
    /// figures are the service's memory, not a copy of the file held by the benchmark.
    async fn download(&self, token: &str, path: &str) -> (u16, usize) {
        let res = self
            .router
            .clone()
            .oneshot(
                Request::get(path)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = res.status().as_u16();
        let mut body = res.into_body();
        let mut bytes = 0;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                bytes += data.len();
            }
        }
        (status, bytes)
    }

    async fn json(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let (status, bytes) = self
            .call(
                token,
                Request::builder()
                    .method(method)
                    .uri(path)
                    .header("content-type", "application/json"),
                Body::from(body.to_string()),
            )
            .await;
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert!(status < 300, "{method} {path}: {status} {v}");
        v
    }
}

async fn token(
    db: &DatabaseConnection,
    settings: &Settings,
    name: &str,
    now: chrono::DateTime<Utc>,
) -> String {
    cancer_aid::auth::login(
        db,
        settings,
        &cancer_aid::auth::session::ClientInfo::new("127.0.0.1", None),
        name,
        "manager-bench-pw",
        now,
    )
    .await
    .unwrap()
    .token
}

async fn measure(db: DatabaseConnection, name: &str, rows: u64) {
    let load_secs = load(&db, rows).await;
    println!(
        "\n{name}: {rows} approved subsidies in {} cases loaded in {load_secs:.1} s",
        rows.div_ceil(PER_CASE)
    );
    let settings = Settings::default();
    let clock = Clock::settable();
    let start = Utc::now();
    clock.set(start);
    let state = AppState::new(db.clone(), settings.clone()).with_clock(clock.clone());
    let api = Api {
        router: cancer_aid::startup::router(state),
    };
    let manager = token(&db, &settings, "manager", start).await;
    let manager2 = token(&db, &settings, "manager2", start).await;

    // The baseline: the same subsidies with their payees, read once.
    let t = Instant::now();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*), CAST(SUM(v.subsidy_fen) AS BIGINT) FROM visits v \
             JOIN case_payees p ON p.case_id = v.case_id WHERE v.status = 'approved'",
        ))
        .await
        .unwrap()
        .unwrap();
    let baseline = t.elapsed().as_secs_f64();
    let (n, sum): (i64, i64) = (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    );
    assert_eq!(n as u64, rows);

    reset_peak();
    let rss_draft = vm_rss_mib();
    let t = Instant::now();
    let batch = api
        .json(
            &manager,
            "POST",
            "/api/v1/payment-batches",
            serde_json::json!({"from": "2025-01-01", "to": "2025-12-31"}),
        )
        .await;
    let draft = t.elapsed().as_secs_f64();
    assert_eq!(batch["totals"]["count"], n);
    let id = batch["id"].as_i64().unwrap();
    let hwm_draft = vm_hwm_mib();
    api.json(
        &manager2,
        "POST",
        &format!("/api/v1/payment-batches/{id}/approve"),
        serde_json::json!({"version": 1}),
    )
    .await;
    reset_peak();
    let rss_notice = vm_rss_mib();
    let t = Instant::now();
    let (status, notice_bytes) = api
        .download(
            &manager,
            &format!("/api/v1/payment-batches/{id}/notice?format=xlsx"),
        )
        .await;
    assert_eq!(status, 200);
    let notice_secs = t.elapsed().as_secs_f64();
    let hwm_notice = vm_hwm_mib();

    // Past the notice period: log in again on the moved clock.
    let later = start + chrono::Duration::days(15);
    clock.set(later);
    let manager = token(&db, &settings, "manager", later).await;
    reset_peak();
    let rss_export = vm_rss_mib();
    let t = Instant::now();
    let (status, file_bytes) = api
        .download(
            &manager,
            &format!("/api/v1/payment-batches/{id}/export?layout=fixed_gbk"),
        )
        .await;
    assert_eq!(status, 200);
    let export = t.elapsed().as_secs_f64();
    let hwm_export = vm_hwm_mib();

    // The bank's answer: every line, one in a hundred refused.
    let lines = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id, account_no, amount_fen FROM payment_lines WHERE batch_id = {id} ORDER BY id"),
        ))
        .await
        .unwrap();
    let today = cancer_aid::clock::day_of(later)
        .format("%Y%m%d")
        .to_string();
    let mut ret = format!(
        "H{:<20}{:08}{:015}{today}\r\n",
        batch["batch_no"].as_str().unwrap(),
        n,
        sum
    )
    .into_bytes();
    for (i, l) in lines.iter().enumerate() {
        let (line, account, fen): (i64, String, i64) = (
            l.try_get_by_index(0).unwrap(),
            l.try_get_by_index(1).unwrap(),
            l.try_get_by_index(2).unwrap(),
        );
        let result = if i % 100 == 99 { 'F' } else { 'S' };
        ret.extend(
            format!(
                "D{line:012}{account:<32}{fen:015}{result}{:<32}{today}{:<60}\r\n",
                format!("BK{line}"),
                ""
            )
            .into_bytes(),
        );
    }
    ret.extend(format!("T{n:08}{sum:015}\r\n").into_bytes());
    let boundary = "bench-boundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"return.txt\"\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
    body.extend_from_slice(&ret);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let return_bytes = ret.len();
    drop(ret);
    reset_peak();
    let rss_reconcile = vm_rss_mib();
    let t = Instant::now();
    let (status, answer) = api
        .call(
            &manager,
            Request::post(format!("/api/v1/payment-batches/{id}/return-file")).header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
            Body::from(body),
        )
        .await;
    let reconcile = t.elapsed().as_secs_f64();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["paid"]["count"].as_i64().unwrap() + answer["failed"]["count"].as_i64().unwrap(),
        n
    );
    assert_eq!(answer["batch"]["state"], "reconciled");
    let hwm_reconcile = vm_hwm_mib();

    println!(
        "  {:<58} {:>8} {:>8} {:>10} {:>10}",
        "", "seconds", "ratio", "RSS before", "step peak"
    );
    println!(
        "  {:<58} {:>8.3} {:>8} {:>10}",
        "baseline: the subsidies with their payees, read once", baseline, "1.00x", ""
    );
    for (label, secs, rss, hwm) in [
        (
            format!("POST /api/v1/payment-batches ({n} lines)"),
            draft,
            rss_draft,
            hwm_draft,
        ),
        (
            format!("GET .../notice?format=xlsx ({notice_bytes} bytes)"),
            notice_secs,
            rss_notice,
            hwm_notice,
        ),
        (
            format!("GET .../export?layout=fixed_gbk ({file_bytes} bytes)"),
            export,
            rss_export,
            hwm_export,
        ),
        (
            format!("POST .../return-file ({return_bytes} bytes)"),
            reconcile,
            rss_reconcile,
            hwm_reconcile,
        ),
    ] {
        println!(
            "  {label:<58} {secs:>8.3} {:>7.1}x {rss:>10.1} {hwm:>10.1}",
            secs / baseline
        );
    }
    println!("  (MiB: the resident set before each step, and its peak during the step)");
}

fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    std::net::TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(1))
        .ok()
        .map(|_| url)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    let only = std::env::var("ONLY").unwrap_or_default();
    println!(
        "payment batch of {rows} approved subsidies: draft, notice, bank file, return file (this year: {})",
        Utc::now().year()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if only.is_empty() || only == "sqlite" {
            let dir = tempfile::tempdir().unwrap();
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            );
            let db = cancer_aid::db::connect(&url).await.unwrap();
            cancer_aid::db::migrate(&db).await.unwrap();
            measure(db.clone(), "SQLite", rows).await;
            db.close().await.ok();
        }
        if only.is_empty() || only == "postgres" {
            let Some(url) = postgres_url() else {
                println!("\nPostgreSQL not reachable: skipped");
                return;
            };
            let schema = format!("bench_payments_{}", std::process::id());
            let admin = cancer_aid::db::connect(&url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .unwrap();
            let db = cancer_aid::db::connect_with(&url, Some(&schema))
                .await
                .unwrap();
            cancer_aid::db::migrate(&db).await.unwrap();
            measure(db.clone(), "PostgreSQL", rows).await;
            db.close().await.ok();
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        }
    });
}
