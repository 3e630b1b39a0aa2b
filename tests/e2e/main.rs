//! End-to-end tests in headless Chromium through WebDriver: the service's router on a real port
//! over a fresh embedded database with the demo data, driven by a real browser. Skipped when
//! chromedriver is missing, unless REQUIRE_BROWSER=1 (as `.ci/run` sets). Screenshots of the
//! pages go to target/screenshots/ for review.

mod account;
mod demo_year;
mod flow;
mod payments;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The service on a free port, over a temporary SQLite file with the demo data. Every import
/// is activated by a second person (`CANCER_AID_IMPORT_APPROVAL=always`), so the browser test
/// walks both steps of an import; the demo's own rosters wait for activation too.
struct Service {
    base: String,
    /// The service's clock: it follows the system until a test moves it (past a notice period).
    clock: cancer_aid::clock::Clock,
    _dir: tempfile::TempDir,
}

async fn start_service() -> Service {
    start_service_with(cancer_aid::roster::approval::Approval::Always).await
}

/// The service with imports activated as `approval` says. Under the default (a second person
/// only for destructive imports) the demo's generated roster is activated and its working
/// year is made.
async fn start_service_with(approval: cancer_aid::roster::approval::Approval) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("e2e.db").display());
    let settings = cancer_aid::config::Settings {
        database_url: url,
        // The test binary is not the service: uploads are parsed by the service's binary.
        parser_program: Some(env!("CARGO_BIN_EXE_cancer-aid").into()),
        import_approval: approval,
        // A branch's own bank file layout beside the shipped ones: the payment flow pays
        // through it.
        layout_dir: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/layouts").into()),
        // A one-day notice: the payment flow moves the clock one day on to export the batch.
        notice: cancer_aid::payment::NoticeRules {
            period: cancer_aid::payment::NoticePeriod::Days(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let clock = cancer_aid::clock::Clock::settable();
    let state = cancer_aid::startup::prepare(settings)
        .await
        .unwrap()
        .with_clock(clock.clone());
    cancer_aid::demo::seed(&state).await.unwrap();
    cancer_aid::roster::jobs::spawn_worker(state.db.clone(), state.imports.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = cancer_aid::startup::router(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Service {
        base,
        clock,
        _dir: dir,
    }
}

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("REQUIRE_BROWSER").map_or(true, |v| v != "1"),
            "REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipping the browser tests: no {CHROMEDRIVER}");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not open its port"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Driver(child, port))
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1366,768", "--lang=zh-CN"
            ]
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Takes a screenshot of a page, after checking that the Content-Security-Policy blocked
/// nothing on it: an inline script or style the policy refuses is a page that half works.
async fn screenshot(c: &Client, name: &str) {
    let violations = csp_violations(c).await;
    assert!(
        violations.is_empty(),
        "{name}: the CSP blocked {violations:?}"
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// What the page's Content-Security-Policy blocked since it loaded: a buffered
/// `ReportingObserver` receives the reports queued before it was made.
async fn csp_violations(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            "const o = new ReportingObserver(() => {}, {types: ['csp-violation'], buffered: true});
             o.observe();
             const r = o.takeRecords();
             o.disconnect();
             return r.map(x => x.body.effectiveDirective + ' ' + x.body.blockedURL);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap_or_default()
}

/// The first element matching `css`, waiting for it to appear (a click that navigates returns
/// before the next page is there).
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.unwrap()
}

/// Waits until the page's path is `path`.
async fn wait_path(c: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = c.current_url().await.unwrap();
        if now.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still at {now}, expected {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn log_in(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "#username", user).await;
    fill(c, "#password", password).await;
    click(c, "form.card button[type=submit]").await;
}

/// Types into a field, replacing what it held.
async fn fill(c: &Client, css: &str, text: &str) {
    let el = wait_for(c, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Chooses the option with this value in a `<select>` (a region picker, say).
async fn choose(c: &Client, css: &str, value: &str) {
    wait_for(c, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} offers no {value}: {e}"));
}

/// Answers the page's confirmation (`data-confirm`) once it shows, and returns its words.
pub(crate) async fn confirm(c: &Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = c.get_alert_text().await {
            c.accept_alert().await.unwrap();
            return text;
        }
        assert!(Instant::now() < deadline, "no confirmation was asked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks an element once it is there.
async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap();
}

/// Logs out with the button at the top and waits for the login page.
async fn log_out(c: &Client) {
    click(c, "form[action='/logout'] button").await;
    wait_path(c, "/login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caseworker_logs_in_switches_language_and_logs_out() {
    let Some(driver) = start_driver() else { return };
    let service = start_service().await;
    let base = &service.base;
    let c = browser(&driver).await;

    // A page that needs a login leads to the login form and back.
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    assert_eq!(c.title().await.unwrap(), "登录 · 肿瘤患者救助系统");
    screenshot(&c, "login").await;

    // A wrong password: a message, and the username stays typed.
    log_in(&c, base, "caseworker", "wrong-password").await;
    let error = text_of(&c, "#login-error").await;
    assert!(error.contains("密码"), "{error}");
    let kept = c
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("caseworker"));

    log_in(&c, base, "caseworker", "caseworker-demo").await;
    wait_path(&c, "/").await;
    assert_eq!(text_of(&c, "h1").await, "首页");
    assert_eq!(text_of(&c, "#roles").await, "经办人");
    screenshot(&c, "home").await;

    // The language switch is remembered across pages.
    c.find(Locator::Css("a[hreflang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "a[hreflang=zh]").await;
    assert_eq!(text_of(&c, "h1").await, "Home");
    c.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(text_of(&c, "#roles").await, "Caseworker");
    c.find(Locator::Css("a[hreflang=zh]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "a[hreflang=en]").await;

    // The keyboard reaches the skip link first.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = c
        .execute("return document.activeElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "skip");

    log_out(&c).await;
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().starts_with("/login"),
        "logged out for good"
    );
    c.close().await.unwrap();
}
