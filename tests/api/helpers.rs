//! The test application: the real router on a fresh real database (a SQLite file, or a
//! PostgreSQL schema of its own), with role-typed clients.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use tokio::sync::Mutex;
use tower::ServiceExt;

use cancer_aid::audit::Actor;
use cancer_aid::auth::password_rules::NewPassword;
use cancer_aid::clock::Clock;
use cancer_aid::config::Settings;
use cancer_aid::domain::{RegionPrefix, Role};
use cancer_aid::state::AppState;
use cancer_aid::{db, users};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test once per database: `db_test!(name);` beside `async fn name(app: TestApp)`
/// makes the tests `name::sqlite` and `name::postgres`. The test is an ordinary function, so
/// rustfmt formats it. The PostgreSQL run returns at once when no server answers, unless
/// `REQUIRE_POSTGRES=1` (set by `.ci/run`).
#[macro_export]
macro_rules! db_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(app).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                else {
                    return;
                };
                super::$name(app).await
            }
        }
    };
}

/// The PostgreSQL server tests use: `TEST_DATABASE_URL`, or the local one.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn postgres_reachable(url: &str) -> bool {
    let host_port = url
        .split('@')
        .next_back()
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432");
    let addr = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// Removes the test's database when the test ends, passed or failed.
enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { url, schema } = self {
            let (url, schema) = (url.clone(), schema.clone());
            // Drop runs inside the test's runtime, which cannot block on async work: use a
            // thread with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                rt.block_on(async {
                    if let Ok(conn) = db::connect(&url).await {
                        let _ = conn
                            .execute_unprepared(&format!(
                                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                            ))
                            .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A running application on a database of its own.
pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    pub state: AppState,
    pub backend: Backend,
    tokens: Mutex<HashMap<String, String>>,
    _guard: DbGuard,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Builds the app on a fresh database; `None` when PostgreSQL is wanted but unreachable and
/// `REQUIRE_POSTGRES` is not set (CI sets it, so there an unreachable server fails loudly).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with settings changed by `adjust`.
pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (guard, url, schema) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (DbGuard::Sqlite(dir), url, None)
        }
        Backend::Postgres => {
            let url = postgres_url();
            if !postgres_reachable(&url) {
                if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("REQUIRE_POSTGRES=1 but PostgreSQL at {url} does not answer");
                }
                eprintln!("skipping the PostgreSQL run: no server at {url}");
                return None;
            }
            let schema = format!(
                "t_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                chrono::Utc::now().timestamp_subsec_nanos()
            );
            let admin = db::connect(&url).await.expect("PostgreSQL connects");
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .expect("schema created");
            admin.close().await.ok();
            (
                DbGuard::Postgres {
                    url: url.clone(),
                    schema: schema.clone(),
                },
                url,
                Some(schema),
            )
        }
    };
    let mut settings = Settings {
        database_url: url,
        // The test binary is not the service: uploads are parsed by the service's binary.
        parser_program: Some(env!("CARGO_BIN_EXE_cancer-aid").into()),
        ..Settings::default()
    };
    adjust(&mut settings);
    // The pool is made as the service makes it, with the settings' wait for SQLite's lock.
    let conn = db::connect_waiting(
        &settings.database_url,
        schema.as_deref(),
        settings.sqlite_busy,
    )
    .await
    .expect("the test database connects");
    db::migrate(&conn).await.expect("migrations run");
    // The clock follows the system until a test sets it (`app.state.clock.set`).
    let state = AppState::new(conn.clone(), settings).with_clock(Clock::settable());
    cancer_aid::roster::jobs::spawn_worker(conn.clone(), state.imports.clone());
    Some(TestApp {
        router: cancer_aid::startup::router(state.clone()),
        db: conn,
        state,
        backend,
        tokens: Mutex::new(HashMap::new()),
        _guard: guard,
    })
}

/// What came back.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error code of an error envelope.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

/// A request under construction.
pub struct Call<'a> {
    app: &'a TestApp,
    req: axum::http::request::Builder,
    body: Body,
    /// Whether a cookie request says where it comes from, as browsers do (see `send`).
    fetch_metadata: bool,
}

impl<'a> Call<'a> {
    /// Sends the request as no browser would: a cookie request without `Sec-Fetch-Site`
    /// nor `Origin` (the service refuses those when they change something).
    pub fn without_fetch_metadata(mut self) -> Self {
        self.fetch_metadata = false;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    /// The peer the request comes from, as the server's connection would record it.
    pub fn peer(mut self, addr: std::net::SocketAddr) -> Self {
        self.req = self.req.extension(axum::extract::ConnectInfo(addr));
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.req = self.req.header("content-type", "application/json");
        self.body = Body::from(serde_json::to_vec(body).expect("serialisable"));
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.req = self.req.header("content-type", content_type);
        self.body = body.into();
        self
    }

    pub async fn send(mut self) -> TestResponse {
        // A browser posting the service's own pages says so; the tests' cookie requests are
        // such posts unless they set the headers themselves (tests/api/security.rs does).
        if let Some(h) = self.req.headers_ref()
            && self.fetch_metadata
            && h.contains_key("cookie")
            && !h.contains_key("sec-fetch-site")
            && !h.contains_key("origin")
        {
            self.req = self.req.header("sec-fetch-site", "same-origin");
        }
        let req = self.req.body(self.body).expect("a request");
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let res = self
            .app
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes()
            .to_vec();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        crate::conformance::check(&method, &path, status, content_type, &body);
        TestResponse {
            status,
            headers,
            body,
        }
    }
}

/// A multipart body of text fields and one file, with its content type.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----cancer-aid-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A client acting as someone (or no one).
pub struct Client<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl<'a> Client<'a> {
    pub fn call(&self, method: Method, path: &str) -> Call<'a> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Call {
            app: self.app,
            req,
            body: Body::empty(),
            fetch_metadata: true,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path).send().await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.call(Method::POST, path).json(body).send().await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.call(Method::PATCH, path).json(body).send().await
    }

    /// A multipart upload: text fields and one file.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        bytes: &[u8],
    ) -> TestResponse {
        let (content_type, body) = multipart(fields, file_name, bytes);
        self.call(Method::POST, path)
            .raw(&content_type, body)
            .send()
            .await
    }

    /// Polls an import until it has been validated (or has failed), and returns it.
    /// Waits up to two minutes: a large file on a loaded machine takes its time.
    pub async fn wait_validated(&self, id: i64) -> Value {
        for _ in 0..2_400 {
            let res = self.get(&format!("/api/v1/roster-imports/{id}")).await;
            // The answer tells a client to try again while a running import holds SQLite's
            // write lock longer than a write waits (its session's last use is a write): a
            // poller does as told.
            if res.status == StatusCode::SERVICE_UNAVAILABLE && res.error_code() == "database_busy"
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            res.assert_status(StatusCode::OK);
            let v = res.json();
            if v["status"] != "queued" && v["status"] != "running" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("import {id} was not validated");
    }

    /// Polls an import until it has been validated, activates it (as this client, or as a
    /// second, province-wide importer when the plan needs one) and returns it: for tests about
    /// what an import does, not about its two steps (tests/api/roster_activation.rs).
    pub async fn wait_import(&self, id: i64) -> Value {
        let v = self.wait_validated(id).await;
        if v["status"] != "validated" {
            return v;
        }
        let path = format!("/api/v1/roster-imports/{id}/activate");
        let body = serde_json::json!({"version": v["version"]});
        let res = self.post(&path, &body).await;
        let res = if res.status == StatusCode::FORBIDDEN {
            let second = self
                .app
                .as_user("second-importer", &[Role::RosterImporter], "22")
                .await;
            second.post(&path, &body).await
        } else {
            res
        };
        if res.status == StatusCode::CONFLICT && res.error_code() == "import_stale" {
            return Box::pin(self.wait_import(id)).await;
        }
        if res.status != StatusCode::OK {
            // A refused activation (a full import that needs a confirmation): as it stands.
            return self
                .get(&format!("/api/v1/roster-imports/{id}"))
                .await
                .json();
        }
        res.json()
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }
}

impl TestApp {
    /// A second instance of the service on the same database (its own pool, worker and
    /// progress registry), as behind a load balancer.
    pub async fn another_instance(&self) -> AppState {
        let schema = match &self._guard {
            DbGuard::Postgres { schema, .. } => Some(schema.as_str()),
            DbGuard::Sqlite(_) => None,
        };
        let conn = db::connect_with(&self.state.settings.database_url, schema)
            .await
            .expect("the second instance connects");
        let state = AppState::new(conn.clone(), (*self.state.settings).clone())
            .with_clock(self.state.clock.clone());
        cancer_aid::roster::jobs::spawn_worker(conn, state.imports.clone());
        state
    }

    /// A connection pool of its own on the same database, as another program would open it
    /// (to hold a lock while the app works, say).
    pub async fn second_connection(&self) -> DatabaseConnection {
        let schema = match &self._guard {
            DbGuard::Postgres { schema, .. } => Some(schema.as_str()),
            DbGuard::Sqlite(_) => None,
        };
        db::connect_with(&self.state.settings.database_url, schema)
            .await
            .expect("a second connection")
    }

    /// A client without a login.
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
        }
    }

    /// A client with a given token (forged, expired, ...).
    pub fn with_token(&self, token: &str) -> Client<'_> {
        Client {
            app: self,
            token: Some(token.to_owned()),
        }
    }

    /// Creates a user directly (not through the API) and returns the password.
    pub async fn create_user(&self, username: &str, roles: &[Role], region: &str) -> String {
        let password = format!("{username}-password");
        users::create(
            &self.db,
            &Actor::system("test", self.state.clock.now()),
            users::NewUser {
                username: username.to_owned(),
                display_name: String::new(),
                password: NewPassword::parse(&password, username).expect("a good password"),
                roles: roles.to_vec(),
                region: RegionPrefix::parse(region).expect("a valid region"),
            },
        )
        .await
        .expect("user created");
        password
    }

    /// Logs in through the API and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .anonymous()
            .post(
                "/api/v1/auth/login",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        res.assert_status(StatusCode::OK);
        res.json()["token"].as_str().expect("a token").to_owned()
    }

    /// A client logged in as a user with these roles and region, created on first use.
    pub async fn as_user(&self, username: &str, roles: &[Role], region: &str) -> Client<'_> {
        let mut tokens = self.tokens.lock().await;
        if let Some(t) = tokens.get(username) {
            return self.with_token(t);
        }
        let password = self.create_user(username, roles, region).await;
        let token = self.login(username, &password).await;
        tokens.insert(username.to_owned(), token.clone());
        self.with_token(&token)
    }

    /// Moves the clock to `at` and logs every user of this app in again: a move of more than
    /// half an hour leaves their sessions idle. Clients made before hold the old sessions:
    /// take them again from [`TestApp::as_user`].
    pub async fn move_clock(&self, at: chrono::DateTime<chrono::Utc>) {
        self.state.clock.set(at);
        let mut tokens = self.tokens.lock().await;
        let names: Vec<String> = tokens.keys().cloned().collect();
        for name in names {
            let token = self.login(&name, &format!("{name}-password")).await;
            tokens.insert(name, token);
        }
    }

    /// A client holding one role, province-wide.
    pub async fn as_role(&self, role: Role) -> Client<'_> {
        self.as_user(role.code(), &[role], "22").await
    }
}

/// The first user, made an administrator if there is none yet: who test data written straight
/// to the database is recorded by.
pub async fn recorder(app: &TestApp) -> i64 {
    use sea_orm::{EntityTrait, QueryOrder};
    app.as_role(Role::Admin).await;
    entity::user::Entity::find()
        .order_by_asc(entity::user::COLUMN.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A person with an approved case of `year`, written straight to the database as the case
/// service would (for report tests that need many visits quickly): (person id, case id).
pub async fn person_with_case<C: ConnectionTrait>(
    conn: &C,
    id_number: String,
    name: String,
    region: &str,
    year: i32,
    by: i64,
) -> (i64, i64) {
    use entity::{case, person};
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let p = person::ActiveModel {
        id_number: Set(id_number),
        name: Set(name),
        sex: Set("female".into()),
        birth_date: Set(chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()),
        region_code: Set(region.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let c = case::ActiveModel {
        person_id: Set(p.id),
        year: Set(year),
        state: Set(entity::case::State::Approved),
        version: Set(1),
        applicant_name: Set(p.name.clone()),
        diagnosis_code: Set("C34.9".into()),
        diagnosis_text: Set("肺恶性肿瘤".into()),
        hospital_id: Set(None),
        phone: Set(String::new()),
        address: Set(String::new()),
        note: Set(String::new()),
        region_code: Set(p.region_code.clone()),
        evidence: Set(serde_json::json!({})),
        opened_by: Set(by),
        decided_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    (p.id, c.id)
}
