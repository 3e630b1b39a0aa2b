//! Roster import at scale: a generated 1,000,000-row .xlsx (nine columns, IDs as text).
//!
//!     cargo bench --bench roster_import              # 1,000,000 rows
//!     ROWS=100000 cargo bench --bench roster_import  # smaller
//!     AGAIN=1 cargo bench --bench roster_import      # also the same file a second time
//!     IDS=scattered cargo bench --bench roster_import # ID numbers spread over their range
//!
//! Prints, in one run: calamine's streaming parse alone (R), our parse + validation, and the
//! whole import (validation into the staged plan, then activation) on SQLite and on PostgreSQL (when
//! TEST_DATABASE_URL or 127.0.0.1:5432 answers), each as seconds, as a multiple of R, and with
//! the phase's peak memory (each phase runs in a child process of its own, so the peak is its
//! own; an import also prints the peak of the parser process it started). During the SQLite
//! import a client calls GET /health every 50 ms; its latencies show that the service keeps
//! answering.

use std::io::Cursor;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use calamine::{Reader, Xlsx};
use cancer_aid::audit::Actor;
use cancer_aid::domain::{Group, RegionPrefix};
use cancer_aid::roster::generate::IdOrder;
use cancer_aid::roster::import::{self, Mode, Upload};
use cancer_aid::roster::{jobs, read, rows};
use sea_orm::ConnectionTrait;

// The service's allocator (src/main.rs), so that the figures are the service's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resident memory now, in MiB: (anonymous, i.e. the heap; file-backed, i.e. mapped files,
/// SQLite's database among them). The peak counts both.
fn resident_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("RssAnon:"), field("RssFile:"))
}

/// IDS=scattered: the rows' ID numbers spread over the whole range (see `IdOrder`).
fn id_order() -> IdOrder {
    match std::env::var("IDS").as_deref() {
        Ok("scattered") => IdOrder::Scattered,
        _ => IdOrder::Cycled,
    }
}

fn file_path(rows: u64) -> PathBuf {
    match id_order() {
        IdOrder::Cycled => PathBuf::from(format!("target/bench/roster-{rows}.xlsx")),
        IdOrder::Scattered => PathBuf::from(format!("target/bench/roster-{rows}-scattered.xlsx")),
    }
}

fn phase_parse(path: &PathBuf) -> f64 {
    let bytes = std::fs::read(path).unwrap();
    let t = Instant::now();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
    let name = book.sheet_names()[0].clone();
    let mut reader = book.worksheet_cells_reader(&name).unwrap();
    let mut cells = 0u64;
    while let Some(c) = reader.next_cell().unwrap() {
        if !matches!(c.get_value(), calamine::DataRef::Empty) {
            cells += 1;
        }
    }
    let s = t.elapsed().as_secs_f64();
    eprintln!("  ({cells} cells)");
    s
}

/// Seconds to read the file with `read` into a validator, which counts the accepted rows.
fn validate_with(read: impl FnOnce(&mut dyn read::RowSink)) -> f64 {
    let t = Instant::now();
    let mut accepted = 0u64;
    let params = rows::Params {
        group: None,
        region: None,
        scope: RegionPrefix::parse("22").unwrap(),
        mapping: Default::default(),
    };
    let mut v = rows::Validator::new(params, |o| {
        if matches!(o, rows::Outcome::Accepted(_)) {
            accepted += 1;
        }
        ControlFlow::Continue(())
    });
    read(&mut v);
    drop(v);
    let s = t.elapsed().as_secs_f64();
    eprintln!("  ({accepted} rows accepted)");
    s
}

fn phase_validate(path: &PathBuf) -> f64 {
    let bytes = std::fs::read(path).unwrap();
    validate_with(|sink| {
        let format =
            cancer_aid::roster::declared::inspect(&bytes, "x.xlsx", &Default::default()).unwrap();
        read::read(&bytes, format, sink).unwrap();
    })
}

/// Parse in the parser process (as an import does) and validate what it sends back.
fn phase_validate_child(path: &std::path::Path) -> f64 {
    let parser = cancer_aid::roster::parser::Parser::new(
        Some(env!("CARGO_BIN_EXE_cancer-aid").into()),
        Default::default(),
        512,
        300,
    );
    validate_with(|sink| parser.parse(path, "x.xlsx", sink).unwrap())
}

/// Submits the file and claims its import, ready to run.
async fn queue(
    db: &sea_orm::DatabaseConnection,
    path: &std::path::Path,
    effective: chrono::NaiveDate,
) -> (i64, jobs::Progress) {
    let upload = Upload {
        file_name: "roster.xlsx".into(),
        file: cancer_aid::roster::upload::UploadedFile::from_path(path)
            .await
            .unwrap(),
        group: None::<Group>,
        region: None,
        mode: Mode::Incremental,
        effective_date: effective,
        confirmation: None,
        activate: false,
    };
    let province = RegionPrefix::parse("22").unwrap();
    // The benchmark is not the service: uploads are parsed by the service's binary.
    let progress = jobs::Progress::for_settings(&cancer_aid::config::Settings {
        parser_program: Some(env!("CARGO_BIN_EXE_cancer-aid").into()),
        ..Default::default()
    });
    let (view, _) = import::submit(
        db,
        progress.parser(),
        &Actor::system("bench", chrono::Utc::now()),
        &province,
        upload,
    )
    .await
    .unwrap();
    assert!(jobs::claim(db, &progress, view.id).await.unwrap());
    (view.id, progress)
}

/// On SQLite, waits until the WAL is checkpointed (the import's own checkpoint runs in the
/// background: while it does, this one is busy); the seconds it took.
async fn checkpointed(db: &sea_orm::DatabaseConnection) -> Option<f64> {
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return None;
    }
    let t = Instant::now();
    loop {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ))
            .await
            .unwrap()
            .unwrap();
        let busy: i64 = row.try_get_by_index(0).unwrap();
        if busy == 0 {
            return Some(t.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Activates a validated import as its uploader (the benchmark's imports need no second
/// person); the seconds it took.
async fn activate(db: &sea_orm::DatabaseConnection, id: i64) -> f64 {
    use cancer_aid::roster::activate::{self, Outcome, Request, Who};
    let t = Instant::now();
    let settings = cancer_aid::config::Settings::default();
    match activate::activate(
        db,
        &settings,
        Who::Uploader,
        id,
        Request::default(),
        chrono::Utc::now(),
    )
    .await
    {
        Ok(Outcome::Activated(_)) => {}
        other => panic!("import {id} was not activated: {other:?}"),
    }
    t.elapsed().as_secs_f64()
}

/// Times an import of the file, validation and activation; `again`: the second of two, when
/// everyone in it is there. Answers (whole, validation, activation) in seconds.
async fn phase_import(
    path: &std::path::Path,
    url: &str,
    schema: Option<&str>,
    again: bool,
) -> (f64, f64, f64) {
    let db = cancer_aid::db::connect_with(url, schema).await.unwrap();
    cancer_aid::db::migrate(&db).await.unwrap();
    let day = |m| chrono::NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
    if again {
        let (id, progress) = queue(&db, path, day(1)).await;
        import::run(&db, id, progress).await.unwrap();
        activate(&db, id).await;
        checkpointed(&db).await;
    }
    let (id, progress) = queue(&db, path, day(2)).await;

    // A client of the same service, calling /health while the import runs.
    let state =
        cancer_aid::state::AppState::new(db.clone(), cancer_aid::config::Settings::default());
    let router = cancer_aid::startup::router(state);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let prober = tokio::spawn(async move {
        use tower::ServiceExt;
        let mut lat = Vec::new();
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            let req = axum::http::Request::get("/health")
                .body(axum::body::Body::empty())
                .unwrap();
            let res = router.clone().oneshot(req).await.unwrap();
            assert!(res.status().is_success());
            lat.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lat
    });

    let t = Instant::now();
    import::run(&db, id, progress).await.unwrap();
    let validation = t.elapsed().as_secs_f64();
    let activation = activate(&db, id).await;
    let s = t.elapsed().as_secs_f64();
    let (heap, mapped) = resident_mib();
    eprintln!(
        "  (resident right after the import: {heap:.1} MiB heap, {mapped:.1} MiB mapped files)"
    );
    // SQLite's checkpoint runs after the import has finished (import::run_on_sqlite); its
    // time is shown, not counted.
    if let Some(secs) = checkpointed(&db).await {
        eprintln!("  (the WAL checkpoint after the import: {secs:.2} s more, in the background)");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lat = prober.await.unwrap();
    lat.sort();
    let done = import::errors_of(&db, id).await.unwrap().len();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT status, accepted, added, updated, error FROM roster_imports WHERE id = {}",
                id
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let status: String = row.try_get("", "status").unwrap();
    let accepted: i64 = row.try_get("", "accepted").unwrap();
    let added: i64 = row.try_get("", "added").unwrap();
    let updated: i64 = row.try_get("", "updated").unwrap();
    let error: Option<String> = row.try_get("", "error").unwrap();
    if let Some(e) = &error {
        eprintln!("  (the import failed: {e})");
    }
    eprintln!(
        "  (status {status}, {accepted} accepted, {added} added, {updated} updated, {done} error rows; /health during import: {} calls, p50 {:.1} ms, max {:.1} ms)",
        lat.len(),
        lat.get(lat.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    // The file is parsed in a child process of the service's binary (roster::parser): its
    // peak is its own, beside the phase's.
    let parser_peak = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_or(0.0, |u| u.max_rss() as f64 / 1024.0);
    eprintln!("  (the parser process's peak: {parser_peak:.1} MiB)");
    assert_eq!(status, "succeeded");
    db.close().await.ok();
    (s, validation, activation)
}

/// A phase's figures: seconds, peak MiB, and for an import its validation and activation.
type Figures = (f64, f64, Option<(f64, f64)>);

fn run_child(phase: &str, rows: u64) -> Option<Figures> {
    // The SQLite phase leaves near a gigabyte of written pages for the kernel to flush: flushed
    // during the next phase, they slowed it by 10 to 20 %.
    let _ = Command::new("sync").status();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .arg("--phase")
        .arg(phase)
        .env("ROWS", rows.to_string())
        .output()
        .unwrap();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT "))?;
    let mut parts = line.split_whitespace().skip(1);
    let secs = parts.next()?.parse().ok()?;
    let mib = parts.next()?.parse().ok()?;
    let split = parts
        .next()
        .and_then(|v| v.parse().ok())
        .zip(parts.next().and_then(|a| a.parse().ok()));
    Some((secs, mib, split))
}

fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    std::net::TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(1))
        .ok()
        .map(|_| url)
}

fn main() {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let phase = args[i + 1].clone();
        // The service's own lines (the activation's statements, timed) go with the phase's.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .without_time()
            .try_init();
        let path = file_path(rows);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (secs, split) = match phase.as_str() {
            "parse" => (phase_parse(&path), None),
            "validate" => (phase_validate(&path), None),
            "validate-child" => (phase_validate_child(&path), None),
            "sqlite" | "sqlite-again" => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                let (s, v, a) =
                    rt.block_on(phase_import(&path, &url, None, phase.ends_with("again")));
                (s, Some((v, a)))
            }
            "postgres" | "postgres-again" => {
                let url = postgres_url().expect("PostgreSQL");
                let schema = format!("bench_{}", std::process::id());
                rt.block_on(async {
                    let admin = cancer_aid::db::connect(&url).await.unwrap();
                    admin
                        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                        .await
                        .unwrap();
                    let (s, v, a) =
                        phase_import(&path, &url, Some(&schema), phase.ends_with("again")).await;
                    admin
                        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                        .await
                        .unwrap();
                    (s, Some((v, a)))
                })
            }
            _ => panic!("unknown phase"),
        };
        match split {
            Some((v, a)) => println!("RESULT {secs} {} {v} {a}", peak_mib()),
            None => println!("RESULT {secs} {}", peak_mib()),
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let path = file_path(rows);
    if !path.exists() {
        std::fs::create_dir_all("target/bench").unwrap();
        let t = Instant::now();
        cancer_aid::roster::generate::write_roster_in(rows, &path, id_order()).unwrap();
        eprintln!(
            "generated {} ({:.1} MB) in {:.1} s",
            path.display(),
            std::fs::metadata(&path).unwrap().len() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "roster import, {rows} rows, {} ({:.1} MB)",
        path.display(),
        std::fs::metadata(&path).unwrap().len() as f64 / 1e6
    );
    // AGAIN=1 adds, per database, the same file imported a second time: everyone in it is
    // there already, so each batch looks people and entries up (the import's time is the
    // second one's).
    let again = std::env::var("AGAIN").is_ok_and(|v| v == "1");
    let mut phases = vec!["parse", "validate", "validate-child", "sqlite"];
    if again {
        phases.push("sqlite-again");
    }
    if postgres_url().is_some() {
        phases.push("postgres");
        if again {
            phases.push("postgres-again");
        }
    } else {
        println!("PostgreSQL not reachable: its phase is skipped");
    }
    let mut r = None;
    for phase in phases {
        let Some((secs, mib, split)) = run_child(phase, rows) else {
            println!("{phase:<10} FAILED");
            continue;
        };
        let base = *r.get_or_insert(secs);
        let label = match phase {
            "parse" => "calamine streaming parse (R)",
            "validate" => "parse + validation",
            "validate-child" => "the same, parsed in a child",
            "sqlite" => "whole import, SQLite",
            "sqlite-again" => "import again, SQLite",
            "postgres-again" => "import again, PostgreSQL",
            _ => "whole import, PostgreSQL",
        };
        println!(
            "{label:<32} {secs:>7.2} s  {:>5.2}x R  peak {mib:>6.1} MiB",
            secs / base
        );
        if let Some((v, a)) = split {
            println!(
                "  validation {v:>7.2} s  {:>5.2}x R;  activation {a:>7.2} s  {:>5.2}x R",
                v / base,
                a / base
            );
        }
    }
}
