//! Spending totals at scale: 1,000,000 visits of 200,000 people over 2024 and 2025.
//!
//!     cargo bench --bench spending                 # 1,000,000 visits
//!     ROWS=100000 cargo bench --bench spending     # smaller
//!
//! On SQLite (a temporary file) and on PostgreSQL (a schema of its own on TEST_DATABASE_URL or
//! postgres://postgres@127.0.0.1:5432/test, when it answers), the same generated rows are
//! written with raw multi-row INSERTs. Then, for 2025 grouped by group and county (approved
//! and paid), in the same run and on the same database, it times:
//!
//! - the hand-written aggregate: one `GROUP BY group_code, region_code` statement;
//! - the same with the overall line as a second hand-written statement (the report's figures);
//! - `report::spending`, the service (aggregate, overall line, labels);
//! - `GET /api/v1/reports/spending` through the router, as a manager (session, JSON).
//!
//! Each is run RUNS times (default 7) after one warm-up; the median and the best are printed,
//! and the ratio of the medians to the hand-written aggregate. The report's figures are checked
//! against the hand-written ones before anything is timed.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use chrono::NaiveDate;
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use tower::ServiceExt;

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::config::Settings;
use cancer_aid::domain::{Lang, RegionPrefix, Role};
use cancer_aid::report::{self, Dimension, Filter, SpendingRequest};
use cancer_aid::state::AppState;

const HOSPITALS: u64 = 60;
const GROUPS: [&str; 4] = [
    "low_income_urban",
    "low_income_rural",
    "extreme_hardship",
    "entitled_care",
];

/// A small, fast, deterministic generator (SplitMix64): the same rows on both databases.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Person {
    group: &'static str,
    county: usize,
}

fn person(p: u64, counties: usize) -> Person {
    let r = mix(p ^ 0xA5A5);
    // Rural and urban low-income households are most of the programme.
    let group = match r % 100 {
        0..=34 => GROUPS[0],
        35..=74 => GROUPS[1],
        75..=89 => GROUPS[2],
        _ => GROUPS[3],
    };
    Person {
        group,
        county: ((r >> 8) % counties as u64) as usize,
    }
}

/// The attributes of visit `v` (1-based, equal to its id in a fresh table).
struct Visit {
    person: u64,
    hospital: u64,
    on: NaiveDate,
    inpatient: bool,
    status: &'static str,
    fen: i64,
    reverses: Option<u64>,
}

fn visit(v: u64, people: u64) -> Visit {
    let r = mix(v);
    let base = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    // One row in fifty reverses (part of) an earlier visit, under its own status and date.
    if v.is_multiple_of(50) {
        let mut original = v - 1 - (r % 40).min(v - 2);
        if original.is_multiple_of(50) {
            original -= 1;
        }
        let o = visit(original, people);
        return Visit {
            on: (o.on + chrono::Days::new(r % 60))
                .min(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()),
            status: if r.is_multiple_of(2) {
                "paid"
            } else {
                "approved"
            },
            fen: -(o.fen.max(0) / (1 + (r >> 20) as i64 % 2)),
            reverses: Some(original),
            ..o
        };
    }
    let status = match (r >> 16) % 100 {
        0..=44 => "paid",
        45..=79 => "approved",
        80..=94 => "pending",
        _ => "voided",
    };
    Visit {
        person: 1 + (r >> 24) % people,
        hospital: 1 + (r >> 44) % HOSPITALS,
        on: base + chrono::Days::new((r >> 4) % 731),
        inpatient: !(r >> 12).is_multiple_of(3),
        status,
        fen: if (r >> 32).is_multiple_of(33) {
            0
        } else {
            10_000 + ((r >> 36) % 5_000_000) as i64
        },
        reverses: None,
    }
}

async fn load(db: &DatabaseConnection, rows: u64) -> (i64, f64) {
    let t = Instant::now();
    let people = (rows / 5).max(1);
    let user = cancer_aid::users::create(
        db,
        &Actor::system("bench", chrono::Utc::now()),
        cancer_aid::users::NewUser {
            username: "manager".into(),
            display_name: String::new(),
            password: NewPassword::parse("manager-bench-pw", "manager").unwrap(),
            roles: vec![Role::Manager],
            region: RegionPrefix::parse("22").unwrap(),
        },
    )
    .await
    .unwrap()
    .id;
    let counties: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT code FROM regions WHERE level = 'county' AND successor_code IS NULL ORDER BY code",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "code").unwrap())
        .collect();
    let stamp = "'2025-01-01 00:00:00+00:00'";
    let txn = db.begin().await.unwrap();
    let batch = |head: &str, values: &[String]| format!("{head} VALUES {}", values.join(","));
    let mut values = Vec::new();
    for h in 1..=HOSPITALS {
        values.push(format!(
            "('吉林省第{h}医院', 'H{h:03}', '{}', TRUE, {stamp}, {stamp})",
            counties[h as usize % counties.len()]
        ));
    }
    txn.execute_unprepared(&batch(
        "INSERT INTO hospitals (name, code, region_code, designated, created_at, updated_at)",
        &values,
    ))
    .await
    .unwrap();
    let chunk = 1000;
    for start in (1..=people).step_by(chunk) {
        let ids: Vec<u64> = (start..(start + chunk as u64).min(people + 1)).collect();
        let persons: Vec<String> = ids
            .iter()
            .map(|p| {
                let c = &counties[person(*p, counties.len()).county];
                format!(
                    "('{:018}', '患者{p}', 'female', '1960-01-01', '{c}', {stamp}, {stamp})",
                    220_000_000_000_000_000u64 + p
                )
            })
            .collect();
        txn.execute_unprepared(&batch(
            "INSERT INTO persons (id_number, name, sex, birth_date, region_code, created_at, updated_at)",
            &persons,
        ))
        .await
        .unwrap();
        let cases: Vec<String> = ids
            .iter()
            .map(|p| {
                let c = &counties[person(*p, counties.len()).county];
                format!("({p}, 2025, 'approved', 1, '患者{p}', 'C34.9', '肺恶性肿瘤', '', '', '', '{c}', '{{}}', {user}, {stamp}, {stamp})")
            })
            .collect();
        txn.execute_unprepared(&batch(
            "INSERT INTO cases (person_id, year, state, version, applicant_name, diagnosis_code, diagnosis_text, phone, address, note, region_code, evidence, opened_by, created_at, updated_at)",
            &cases,
        ))
        .await
        .unwrap();
    }
    for start in (1..=rows).step_by(chunk) {
        let visits: Vec<String> = (start..(start + chunk as u64).min(rows + 1))
            .map(|v| {
                let x = visit(v, people);
                let p = person(x.person, counties.len());
                let (kind, discharged, visit_date) = if x.inpatient {
                    ("inpatient", format!("'{}'", x.on), "NULL".to_owned())
                } else {
                    ("outpatient", "NULL".to_owned(), format!("'{}'", x.on))
                };
                let cost = x.fen.max(0) * 3;
                format!(
                    "({}, {}, {}, '{}', '{}', '{kind}', {discharged}, {visit_date}, '{}', {}, {cost}, {}, 0, 0, {}, {}, '{}', {}, {user}, {stamp}, {stamp})",
                    x.person,
                    x.person,
                    x.hospital,
                    p.group,
                    counties[p.county],
                    x.on,
                    chrono::Datelike::year(&x.on),
                    x.fen.max(0),
                    x.fen.max(0) * 2,
                    x.fen,
                    x.status,
                    x.reverses.map_or("NULL".to_owned(), |r| r.to_string()),
                )
            })
            .collect();
        txn.execute_unprepared(&batch(
            "INSERT INTO visits (case_id, person_id, hospital_id, group_code, region_code, kind, discharged_on, visit_date, counted_on, year, total_cost_fen, insurance_paid_fen, critical_illness_paid_fen, medical_assistance_paid_fen, out_of_pocket_fen, subsidy_fen, status, reverses_visit_id, recorded_by, created_at, updated_at)",
            &visits,
        ))
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    // Statistics, as a live database has them; on PostgreSQL VACUUM also sets the visibility
    // map that index-only scans rely on (autovacuum does this for a live table).
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared("VACUUM ANALYZE visits")
                .await
                .unwrap();
        }
        _ => {
            db.execute_unprepared("ANALYZE").await.unwrap();
        }
    }
    (user, t.elapsed().as_secs_f64())
}

const HAND_WRITTEN: &str = "SELECT group_code, region_code, \
       COUNT(DISTINCT CASE WHEN subsidy_fen > 0 THEN person_id END) AS patients, \
       SUM(CASE WHEN subsidy_fen > 0 THEN 1 ELSE 0 END) AS visits, \
       CAST(SUM(subsidy_fen) AS BIGINT) AS subsidy \
  FROM visits \
 WHERE counted_on BETWEEN '2025-01-01' AND '2025-12-31' AND status IN ('approved', 'paid') \
 GROUP BY group_code, region_code";

const HAND_WRITTEN_TOTAL: &str = "SELECT \
       COUNT(DISTINCT CASE WHEN subsidy_fen > 0 THEN person_id END) AS patients, \
       SUM(CASE WHEN subsidy_fen > 0 THEN 1 ELSE 0 END) AS visits, \
       CAST(SUM(subsidy_fen) AS BIGINT) AS subsidy \
  FROM visits \
 WHERE counted_on BETWEEN '2025-01-01' AND '2025-12-31' AND status IN ('approved', 'paid')";

type Line = (String, String, i64, i64, i64);

async fn hand_written(db: &DatabaseConnection) -> Vec<Line> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            HAND_WRITTEN,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "group_code").unwrap(),
                r.try_get("", "region_code").unwrap(),
                r.try_get("", "patients").unwrap(),
                r.try_get("", "visits").unwrap(),
                r.try_get("", "subsidy").unwrap(),
            )
        })
        .collect()
}

async fn hand_written_total(db: &DatabaseConnection) -> (i64, i64, i64) {
    let r = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            HAND_WRITTEN_TOTAL,
        ))
        .await
        .unwrap()
        .unwrap();
    (
        r.try_get("", "patients").unwrap(),
        r.try_get("", "visits").unwrap(),
        r.try_get("", "subsidy").unwrap(),
    )
}

fn request() -> SpendingRequest {
    SpendingRequest {
        filter: Filter {
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            statuses: cancer_aid::visit::GRANTED.to_vec(),
            groups: vec![],
            region: RegionPrefix::parse("22").unwrap(),
        },
        group_by: vec![Dimension::Group, Dimension::County],
    }
}

/// Median and best of `runs` timings after one warm-up.
async fn time<F, Fut>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await;
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2].as_secs_f64(), times[0].as_secs_f64())
}

async fn measure(db: DatabaseConnection, name: &str, rows: u64, runs: usize) {
    let (_, load_secs) = load(&db, rows).await;
    let counted: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM visits WHERE counted_on BETWEEN '2025-01-01' AND '2025-12-31' AND status IN ('approved', 'paid')",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    println!(
        "\n{name}: {rows} visits of {} people loaded in {load_secs:.1} s; {counted} of them approved or paid in 2025",
        rows / 5
    );

    // The figures agree before anything is timed.
    let req = request();
    let report = report::spending(&db, &req, Lang::Zh, chrono::Utc::now())
        .await
        .unwrap();
    let mut hand = hand_written(&db).await;
    hand.sort();
    let mut ours: Vec<Line> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.group.clone().unwrap(),
                r.county.clone().unwrap(),
                r.patients,
                r.visits,
                r.subsidy.fen(),
            )
        })
        .collect();
    ours.sort();
    assert_eq!(ours, hand, "the report's rows are the hand-written query's");
    let total = hand_written_total(&db).await;
    assert_eq!(
        (
            report.total.patients,
            report.total.visits,
            report.total.subsidy.fen()
        ),
        total
    );
    println!(
        "  {} rows; total {} patients, {} visits, {} yuan ({} 万元)",
        report.rows.len(),
        report.total.patients,
        report.total.visits,
        report.total.subsidy,
        report.total.subsidy_wan
    );

    let settings = Settings::default();
    let token = cancer_aid::auth::login(
        &db,
        &settings,
        &cancer_aid::auth::session::ClientInfo::new("127.0.0.1", None),
        "manager",
        "manager-bench-pw",
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .token;
    let router = cancer_aid::startup::router(AppState::new(db.clone(), settings));
    let url = "/api/v1/reports/spending?from=2025-01-01&to=2025-12-31&group_by=group,county";

    let (hand_med, hand_best) = time(runs, || async {
        hand_written(&db).await;
    })
    .await;
    let (both_med, both_best) = time(runs, || async {
        hand_written(&db).await;
        hand_written_total(&db).await;
    })
    .await;
    let (svc_med, svc_best) = time(runs, || async {
        report::spending(&db, &req, Lang::Zh, chrono::Utc::now())
            .await
            .unwrap();
    })
    .await;
    let (http_med, http_best) = time(runs, || async {
        let res = router
            .clone()
            .oneshot(
                Request::get(url)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(res.status().is_success());
        res.into_body().collect().await.unwrap();
    })
    .await;
    println!("  {:<44} {:>9} {:>9} {:>7}", "", "median", "best", "ratio");
    for (label, med, best) in [
        ("hand-written GROUP BY (the baseline)", hand_med, hand_best),
        (
            "hand-written GROUP BY + total statement",
            both_med,
            both_best,
        ),
        ("report::spending (rows, total, labels)", svc_med, svc_best),
        ("GET /api/v1/reports/spending (JSON)", http_med, http_best),
    ] {
        println!(
            "  {label:<44} {:>7.3} s {:>7.3} s {:>6.2}x",
            med,
            best,
            med / hand_med
        );
    }
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
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let only = std::env::var("ONLY").unwrap_or_default();
    println!(
        "spending report for 2025 grouped by group and county, approved and paid; {runs} runs each"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if only.is_empty() || only == "sqlite" {
            let dir = tempfile::tempdir().unwrap();
            // KEEP_SQLITE=path keeps the database for a look with the sqlite3 shell.
            let path = std::env::var("KEEP_SQLITE")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| dir.path().join("bench.db"));
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let db = cancer_aid::db::connect(&url).await.unwrap();
            cancer_aid::db::migrate(&db).await.unwrap();
            measure(db.clone(), "SQLite", rows, runs).await;
            db.close().await.ok();
        }
        if only.is_empty() || only == "postgres" {
            let Some(url) = postgres_url() else {
                println!("\nPostgreSQL not reachable: skipped");
                return;
            };
            let schema = format!("bench_spending_{}", std::process::id());
            let admin = cancer_aid::db::connect(&url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .unwrap();
            let db = cancer_aid::db::connect_with(&url, Some(&schema))
                .await
                .unwrap();
            cancer_aid::db::migrate(&db).await.unwrap();
            measure(db.clone(), "PostgreSQL", rows, runs).await;
            db.close().await.ok();
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        }
    });
}
