//! Backups of the embedded database taken while it is written to, restored into a fresh place
//! and compared with the source; a damaged backup is refused; scheduled backups keep the
//! newest few (issue 21, point 1).

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::domain::{RegionPrefix, Role};

fn cancer_aid(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cancer-aid"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..)
                .map_while(|i| {
                    r.try_get_by_index::<Option<String>>(i)
                        .map(|v| v.unwrap_or_default())
                        .or_else(|_| {
                            r.try_get_by_index::<Option<i64>>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .or_else(|_| {
                            r.try_get_by_index::<Option<f64>>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .or_else(|_| {
                            r.try_get_by_index::<Option<Vec<u8>>>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .ok()
                })
                .collect()
        })
        .collect()
}

/// Every table's rows, as text, in id (or rowid) order.
async fn content(db: &DatabaseConnection) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out = BTreeMap::new();
    for t in rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .await
    {
        let name = &t[0];
        out.insert(
            name.clone(),
            rows(db, &format!("SELECT * FROM \"{name}\" ORDER BY rowid")).await,
        );
    }
    out
}

fn new_user(n: usize) -> cancer_aid::users::NewUser {
    let name = format!("writer{n:04}");
    cancer_aid::users::NewUser {
        password: NewPassword::parse(&format!("{name}-password"), &name).unwrap(),
        username: name,
        display_name: String::new(),
        roles: vec![Role::Caseworker],
        region: RegionPrefix::parse("2201").unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writes_run_restores_to_one_consistent_moment() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    assert!(cancer_aid(&url, &["migrate"]).status.success());
    let db = cancer_aid::db::connect(&url).await.unwrap();

    // A writer: each account and its audit row are written in one transaction.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let actor = Actor::system("test", chrono::Utc::now());
                cancer_aid::users::create(&db, &actor, new_user(n))
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    while rows(&db, "SELECT COUNT(*) FROM users").await[0][0] == "Some(0)" {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The backup, from another process, while the writer runs.
    let file = dir.path().join("backup.db");
    let out = cancer_aid(&url, &["backup", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("SHA-256"));
    // The writer goes on past the backup's moment before it stops.
    let in_backup = {
        let b = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", file.display()))
            .await
            .unwrap();
        rows(&b, "SELECT COUNT(*) FROM users").await[0][0].clone()
    };
    let in_backup: usize = in_backup
        .trim_start_matches("Some(")
        .trim_end_matches(')')
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let now = rows(&db, "SELECT COUNT(*) FROM users").await[0][0].clone();
        let now: usize = now
            .trim_start_matches("Some(")
            .trim_end_matches(')')
            .parse()
            .unwrap();
        if now >= in_backup + 2 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.await.unwrap();

    // Restored into a fresh place, after its checks.
    let check = cancer_aid(&url, &["restore", "--check", file.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("checksum agrees"));
    let fresh = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("restored/aid.db").display()
    );
    let out = cancer_aid(&fresh, &["restore", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = cancer_aid::db::connect(&fresh).await.unwrap();
    let (source, copy) = (content(&db).await, content(&restored).await);
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        copy.keys().collect::<Vec<_>>(),
        "every table"
    );
    // One moment: every account with its audit row, none without; the accounts are the
    // source's first ones, to the byte; every other table is the source's as it is.
    let users = copy["users"].len();
    assert!(
        copy["users"][0].len() > 5,
        "every column read: {:?}",
        copy["users"][0]
    );
    assert_eq!(users, in_backup);
    assert!(
        users > 0 && users < written,
        "{users} of {written}: taken mid-stream"
    );
    let creations = rows(
        &restored,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'user.create'",
    )
    .await;
    assert_eq!(creations[0][0], format!("Some({users})"));
    for (table, held) in &copy {
        match table.as_str() {
            "users" | "audit_log" => assert_eq!(
                held[..],
                source[table][..held.len()],
                "{table}: the source's first rows"
            ),
            _ => assert_eq!(held, &source[table], "{table}"),
        }
    }
    // The service starts on it: the schema is current.
    assert_eq!(
        cancer_aid(&fresh, &["migrate", "--check"]).status.code(),
        Some(0)
    );

    // A damaged backup is refused, and nothing is replaced.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&file, bytes).unwrap();
    let refused = cancer_aid(&fresh, &["restore", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not match its checksum"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        content(&restored).await,
        copy,
        "the restored database is untouched"
    );
    // A backup never overwrites a file.
    let again = cancer_aid(&url, &["backup", file.to_str().unwrap()]);
    assert!(!again.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_few() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let db = cancer_aid::db::connect(&url).await.unwrap();
    cancer_aid::db::migrate(&db).await.unwrap();
    let clock = cancer_aid::clock::Clock::settable();
    let start = chrono::Utc::now();
    let into = dir.path().join("backups");
    for minute in 0..4 {
        clock.set(start + chrono::Duration::minutes(minute));
        let w = cancer_aid::backup::scheduled(&db, &into, 2, &clock)
            .await
            .unwrap();
        assert!(cancer_aid::backup::check(&w.path).await.is_ok());
    }
    let mut names: Vec<String> = std::fs::read_dir(&into)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "two copies and their checksums: {names:?}");
    let newest = cancer_aid::clock::local(start + chrono::Duration::minutes(3))
        .format("cancer-aid-%Y%m%d-%H%M%S.db")
        .to_string();
    assert!(names.contains(&newest), "{names:?}");
}
