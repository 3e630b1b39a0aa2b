//! Eligibility look-ups per second over HTTP against a roster of 1,000,000 entries, measured
//! in the same run as `GET /health`, with p50 and p99 latency.
//!
//!     cargo bench --bench eligibility                 # 1,000,000 people, 10 s per endpoint
//!     ROWS=100000 SECS=5 CONNECTIONS=32 SQLITE_ONLY=1 cargo bench --bench eligibility
//!     SQLITE_FILE=target/bench/elig.db cargo bench --bench eligibility   # load once, reuse
//!
//! The roster is written straight into a temporary SQLite file with multi-row INSERTs (the
//! importer has a benchmark of its own). The real service listens on a local port; a small
//! client keeps CONNECTIONS keep-alive HTTP/1.1 connections busy, first on `/health`, then on
//! `/api/v1/eligibility` for random people (one in ten no longer covered, one in fifty not on
//! any roster), each for SECS seconds after a warm-up. The same runs on PostgreSQL when
//! TEST_DATABASE_URL or 127.0.0.1:5432 answers, in a schema of its own.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, Set, TransactionTrait,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::config::Settings;
use cancer_aid::domain::id_number::check_character;
use cancer_aid::domain::{Group, RegionPrefix, Role};
use cancer_aid::state::AppState;
use cancer_aid::{auth, db, users};
use entity::{roster_import, subsidy_policy};

/// Counties of Jilin the generated people live in.
const REGIONS: [&str; 8] = [
    "220102", "220103", "220104", "220105", "220106", "220112", "222401", "222403",
];
const BATCH: u64 = 1000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The n-th generated person's ID number: unique by birth day and sequence number.
fn id_of(n: u64) -> String {
    let birth = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Days::new(n / 1000);
    let body = format!(
        "{}{}{:03}",
        REGIONS[(n % 8) as usize],
        birth.format("%Y%m%d"),
        n % 1000
    );
    format!("{body}{}", check_character(body.as_bytes()))
}

fn date_literal(backend: DbBackend, d: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("DATE '{d}'"),
        // SQLite keeps dates as ISO text; CAST(... AS DATE) would make it a number.
        _ => format!("'{d}'"),
    }
}

/// Writes `rows` people, each with one roster entry, in one transaction.
async fn load_roster(db: &DatabaseConnection, rows: u64) {
    let t = Instant::now();
    let backend = db.get_database_backend();
    let now = Utc::now();
    let import = roster_import::ActiveModel {
        file_name: Set("bench-roster.xlsx".into()),
        sha256: Set("0".repeat(64)),
        file_size: Set(0),
        format: Set("xlsx".into()),
        group_code: Set(None),
        region_code: Set(None),
        mode: Set("full".into()),
        effective_date: Set(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        fingerprint: Set("1".repeat(64)),
        status: Set(entity::roster_import::Status::Succeeded),
        rows_total: Set(rows as i64),
        rows_done: Set(rows as i64),
        accepted: Set(rows as i64),
        rejected: Set(0),
        skipped: Set(0),
        added: Set(rows as i64),
        updated: Set(0),
        ended: Set(0),
        created_at: Set(now),
        finished_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for group in Group::ALL {
        subsidy_policy::ActiveModel {
            group_code: Set(group.code().into()),
            rate: Set("0.60".into()),
            deductible_fen: Set(100_000),
            per_visit_cap_fen: Set(1_000_000),
            annual_cap_fen: Set(3_000_000),
            effective_from: Set(NaiveDate::from_ymd_opt(2015, 1, 1).unwrap()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let txn = db.begin().await.unwrap();
    let mut n = 0;
    while n < rows {
        let end = (n + BATCH).min(rows);
        let mut sql = String::with_capacity(120 * BATCH as usize);
        sql.push_str(
            "INSERT INTO persons (id_number, name, sex, birth_date, region_code, created_at, updated_at) VALUES ",
        );
        for i in n..end {
            let id = id_of(i);
            let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
            let sex = if (id.as_bytes()[16] - b'0') % 2 == 1 {
                "male"
            } else {
                "female"
            };
            if i > n {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{id}', '患者{i}', '{sex}', {}, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                date_literal(backend, &birth),
                &id[..6]
            ));
        }
        txn.execute_unprepared(&sql).await.unwrap();
        n = end;
    }
    // One entry per person; one in ten ended before today.
    let groups = Group::ALL.map(|g| g.code());
    txn.execute_unprepared(&format!(
        "INSERT INTO roster_entries (person_id, group_code, region_code, name_on_roster, valid_from, valid_to, created_by_import_id, created_at, updated_at) \
         SELECT id, CASE id % 4 WHEN 0 THEN '{}' WHEN 1 THEN '{}' WHEN 2 THEN '{}' ELSE '{}' END, region_code, name, {}, \
         CASE WHEN id % 10 = 0 THEN {} ELSE NULL END, {}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM persons",
        groups[0],
        groups[1],
        groups[2],
        groups[3],
        date_literal(backend, "2020-01-01"),
        date_literal(backend, "2021-12-31"),
        import.id
    ))
    .await
    .unwrap();
    txn.commit().await.unwrap();
    if backend == DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    eprintln!(
        "  loaded {rows} people and {rows} roster entries in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    io: BufReader<TcpStream>,
    line: String,
    body: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            io: BufReader::new(s),
            line: String::new(),
            body: Vec::new(),
        }
    }

    /// Sends a GET (no body) or a POST of a JSON body and reads the whole response; returns
    /// the status.
    async fn send(&mut self, path: &str, body: Option<&str>, token: &str) -> u16 {
        let req = match body {
            None => format!(
                "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n"
            ),
            Some(b) => format!(
                "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ),
        };
        self.io.get_mut().write_all(req.as_bytes()).await.unwrap();
        self.line.clear();
        self.io.read_line(&mut self.line).await.unwrap();
        let status: u16 = self.line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0usize;
        loop {
            self.line.clear();
            self.io.read_line(&mut self.line).await.unwrap();
            let l = self.line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        self.body.resize(length, 0);
        self.io.read_exact(&mut self.body).await.unwrap();
        status
    }
}

/// Small and fast: the client must not be what is measured.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
}

/// Keeps `connections` connections busy for `secs` seconds (after a one-second warm-up).
async fn hammer(
    addr: SocketAddr,
    token: &str,
    connections: usize,
    secs: u64,
    rows: u64,
    eligibility: bool,
) -> Figures {
    let mut tasks = Vec::new();
    let start = Instant::now() + Duration::from_secs(1);
    let stop = start + Duration::from_secs(secs);
    for c in 0..connections {
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
            let mut lat = Vec::new();
            loop {
                // The ID number goes in the body, as the docs recommend; every look-up
                // writes an access-log record.
                let (path, body) = if eligibility {
                    // One in fifty asks about someone on no roster.
                    let n = rng.next() % (rows + rows / 50);
                    let id = id_of(if n < rows { n } else { rows + n });
                    (
                        "/api/v1/eligibility",
                        Some(format!(r#"{{"id_number":"{id}","diagnosis":"C34.1"}}"#)),
                    )
                } else {
                    ("/health", None)
                };
                let t = Instant::now();
                let status = conn.send(path, body.as_deref(), &token).await;
                let now = Instant::now();
                assert_eq!(status, 200, "{path}");
                if now >= stop {
                    break;
                }
                if t >= start {
                    lat.push(now - t);
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Figures {
        rps: all.len() as f64 / secs as f64,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        requests: all.len(),
    }
}

async fn run(label: &str, conn: DatabaseConnection, rows: u64, secs: u64, connections: usize) {
    println!("{label}:");
    db::migrate(&conn).await.unwrap();
    let settings = Settings::default();
    let loaded = users::find_by_username(&conn, "bench")
        .await
        .unwrap()
        .is_some();
    if loaded {
        eprintln!("  reusing the roster already in the database");
    } else {
        load_roster(&conn, rows).await;
        users::create(
            &conn,
            &Actor::system("bench", chrono::Utc::now()),
            users::NewUser {
                username: "bench".into(),
                display_name: String::new(),
                password: NewPassword::parse("violet-harbour-lamp-7", "bench").unwrap(),
                roles: vec![Role::Caseworker],
                region: RegionPrefix::parse("22").unwrap(),
            },
        )
        .await
        .unwrap();
    }
    let token = auth::login(
        &conn,
        &settings,
        &auth::session::ClientInfo::new("127.0.0.1", None),
        "bench",
        "violet-harbour-lamp-7",
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .token;

    // The service on a runtime of its own, as in production; the client on another thread.
    let state = AppState::new(conn.clone(), settings);
    let access_log = state.access_log.clone();
    let records_before = access_records(&conn).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, cancer_aid::startup::router(state))
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .unwrap();
        });
    });

    let health = hammer(addr, &token, connections, secs, rows, false).await;
    let elig = hammer(addr, &token, connections, secs, rows, true).await;
    stop.send(()).ok();
    server.join().unwrap();
    access_log.flush().await;
    let records = access_records(&conn).await - records_before;
    conn.close().await.ok();
    let ratio = elig.rps / health.rps;
    for (name, f) in [
        ("GET /health", &health),
        ("POST /api/v1/eligibility", &elig),
    ] {
        println!(
            "  {name:<24} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests)",
            f.rps, f.p50_ms, f.p99_ms, f.requests
        );
    }
    println!(
        "  access-log records written: {records} ({} look-ups answered)",
        elig.requests
    );
    println!(
        "  eligibility / health = {ratio:.2} (goal >= 0.50), eligibility p99 {:.2} ms (goal < 10 ms): {}",
        elig.p99_ms,
        if ratio >= 0.5 && elig.p99_ms < 10.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

async fn access_records(conn: &DatabaseConnection) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::access_log::Entity::find()
        .count(conn)
        .await
        .unwrap()
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
    let rows = env_u64("ROWS", 1_000_000);
    let secs = env_u64("SECS", 10);
    let connections = env_u64("CONNECTIONS", 32) as usize;
    println!(
        "eligibility over HTTP: {rows} roster entries, {connections} connections, {secs} s per endpoint"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // SQLITE_FILE keeps the roster between runs (it is loaded once).
        let file = std::env::var("SQLITE_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| dir.path().join("bench.db"));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        run(
            "SQLite",
            db::connect(&url).await.unwrap(),
            rows,
            secs,
            connections,
        )
        .await;

        match postgres_url().filter(|_| std::env::var("SQLITE_ONLY").is_err()) {
            None => println!("PostgreSQL not reachable: skipped"),
            Some(url) => {
                let schema = format!("bench_elig_{}", std::process::id());
                let admin = db::connect(&url).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                    .await
                    .unwrap();
                let conn = db::connect_with(&url, Some(&schema)).await.unwrap();
                run("PostgreSQL", conn, rows, secs, connections).await;
                admin
                    .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .await
                    .unwrap();
            }
        }
    });
}
