//! The programme in the browser, as its people use it: a clerk imports a roster, a caseworker
//! checks a patient and opens a case, an approver approves it, the caseworker records a visit
//! (seeing the subsidy before saving), the approver approves the subsidy, it is paid through a
//! payment batch and the bank (`payments`), and a manager sees it in this year's totals and
//! downloads the report.

use std::time::{Duration, Instant};

use calamine::Reader;
use fantoccini::{Client, Locator};

use super::{
    browser, choose, click, confirm, fill, log_in, log_out, screenshot, start_driver,
    start_service, text_of, wait_for, wait_path,
};

/// The fixture's first person, on Chaoyang's urban low-income roster from 2026-01-01.
const PATIENT: &str = "220104195803120028";
const PATIENT_NAME: &str = "林秀英";

/// The path's last segment as a number, once the page is at `prefix` + a number.
pub(super) async fn wait_id(c: &Client, prefix: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = c.current_url().await.unwrap();
        if let Some(Ok(id)) = url.path().strip_prefix(prefix).map(str::parse) {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "still at {url}, expected {prefix}N"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until nothing matches `css` (a form that reloads the page when done).
pub(super) async fn wait_gone(c: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.find(Locator::Css(css)).await.is_ok() {
        assert!(Instant::now() < deadline, "{css} is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element's text satisfies `ok`, and returns it.
pub(super) async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(t) = el.text().await
            && ok(&t)
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed the expected text"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_goes_from_the_roster_to_the_managers_totals_in_the_browser() {
    let Some(driver) = start_driver() else { return };
    let service = start_service().await;
    let base = &service.base;
    let c = browser(&driver).await;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/roster_urban_chaoyang_2026-01.csv"
    );

    // ---- the clerk imports the roster ----
    log_in(&c, base, "importer", "importer-demo").await;
    wait_path(&c, "/").await;
    c.goto(&format!("{base}/roster/upload")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "上传名册 · 肿瘤患者救助系统");
    wait_for(&c, "#file")
        .await
        .send_keys(fixture)
        .await
        .unwrap();
    // The group and region come from the file's columns; the clerk's scope is the province.
    choose(&c, "#region_code", "220104").await;
    assert!(
        text_of(&c, "#my-scope").await.contains("吉林省"),
        "the header names the scope"
    );
    screenshot(&c, "roster-upload").await;
    click(&c, "#roster-upload button[type=submit]").await;
    let import_id = wait_id(&c, "/roster/imports/").await;
    // Validated: nothing in the roster yet; the page shows what activation would do.
    wait_text(&c, "#import-status", |t| t.contains("已校验")).await;
    assert_eq!(text_of(&c, "#count-accepted").await, "4");
    assert_eq!(text_of(&c, "#count-rejected").await, "1");
    let rejected = text_of(&c, "#error-rows").await;
    assert!(
        rejected.contains("220104199009090060") && rejected.contains("校验位"),
        "{rejected}"
    );
    wait_for(&c, "#errors-xlsx").await;
    let added = text_of(&c, "#plan-added").await;
    assert!(
        added.contains(PATIENT_NAME) && added.contains("将新增"),
        "{added}"
    );
    let waiting = text_of(&c, "#waiting").await;
    assert!(waiting.contains("另一位"), "the uploader waits: {waiting}");
    screenshot(&c, "roster-validated").await;
    c.goto(&format!("{base}/roster/imports")).await.unwrap();
    let history = text_of(&c, "main").await;
    assert!(
        history.contains("roster_urban_chaoyang_2026-01.csv"),
        "{history}"
    );
    assert!(
        c.find(Locator::Css(&format!(
            "a[href='/roster/imports/{import_id}']"
        )))
        .await
        .is_ok(),
        "the history links to the import"
    );
    screenshot(&c, "roster-history").await;
    log_out(&c).await;

    // ---- a second person activates it from the list of imports to activate ----
    log_in(&c, base, "admin", "admin-demo-pass").await;
    wait_path(&c, "/").await;
    click(&c, "nav a[href='/roster/approvals']").await;
    wait_path(&c, "/roster/approvals").await;
    screenshot(&c, "roster-approvals").await;
    click(&c, &format!("a[href='/roster/imports/{import_id}#plan']")).await;
    wait_for(&c, "#activate").await;
    click(&c, "#activate").await;
    c.accept_alert().await.unwrap();
    wait_text(&c, "#import-status", |t| t.contains("已生效")).await;
    let done = text_of(&c, "#plan").await;
    assert!(
        done.contains("本次导入的改动") && done.contains(PATIENT_NAME),
        "{done}"
    );
    screenshot(&c, "roster-result").await;
    log_out(&c).await;

    // ---- the caseworker checks the patient and opens a case ----
    log_in(&c, base, "caseworker", "caseworker-demo").await;
    wait_path(&c, "/").await;
    click(&c, "nav a[href='/eligibility']").await;
    wait_path(&c, "/eligibility").await;
    assert_eq!(c.title().await.unwrap(), "资格核查 · 肿瘤患者救助系统");
    fill(&c, "#id_number", PATIENT).await;
    // From the keyboard: Enter in the last field sends the check.
    fill(&c, "#diagnosis", "C50.9\u{E007}").await;
    let verdict = text_of(&c, "#verdict").await;
    assert!(
        verdict.contains("符合救助条件") && !verdict.contains("不符合"),
        "{verdict}"
    );
    assert_eq!(text_of(&c, "#person-name").await, PATIENT_NAME);
    screenshot(&c, "eligibility").await;
    click(&c, "#open-case").await;
    wait_path(&c, "/cases/new").await;
    let prefilled = wait_for(&c, "#id_number")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(prefilled.as_deref(), Some(PATIENT));
    let name = wait_for(&c, "#name").await.prop("value").await.unwrap();
    assert_eq!(name.as_deref(), Some(PATIENT_NAME));
    // A refused form keeps what was typed and says what to fix next to the field.
    fill(&c, "#phone", "call me").await;
    fill(&c, "#diagnosis_text", "乳腺癌").await;
    click(&c, "#case-form button[type=submit]").await;
    let phone_error = text_of(&c, "#case-form .field-error").await;
    assert!(phone_error.contains("电话"), "{phone_error}");
    let kept = wait_for(&c, "#diagnosis_text")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("乳腺癌"));
    screenshot(&c, "case-refused").await;
    fill(&c, "#phone", "0431-88888888").await;
    c.find(Locator::Css("#hospital_id option:nth-child(2)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "#case-form button[type=submit]").await;
    let case_id = wait_id(&c, "/cases/").await;
    assert_eq!(text_of(&c, "#case-state").await, "已提交");
    screenshot(&c, "case").await;
    log_out(&c).await;

    // ---- the approver approves the case ----
    log_in(&c, base, "approver", "approver-demo").await;
    wait_path(&c, "/").await;
    click(&c, "nav a[href='/approvals']").await;
    wait_path(&c, "/approvals").await;
    screenshot(&c, "approvals").await;
    // What the case rests on is beside the button: the group and the roster entry.
    let row = text_of(&c, &format!("#queue-case-{case_id}")).await;
    assert!(
        row.contains("城市低保") && row.contains(PATIENT_NAME),
        "{row}"
    );
    click(
        &c,
        &format!("#queue-case-{case_id} form[data-api$='/approve'] button"),
    )
    .await;
    let asked = confirm(&c).await;
    assert!(
        asked.contains("确认批准救助案件") && asked.contains(&format!("#{case_id}")),
        "{asked}"
    );
    wait_gone(&c, &format!("#queue-case-{case_id}")).await;
    c.goto(&format!("{base}/cases/{case_id}")).await.unwrap();
    assert_eq!(text_of(&c, "#case-state").await, "已批准");
    log_out(&c).await;

    // ---- the caseworker records a visit, seeing the subsidy first ----
    log_in(&c, base, "caseworker", "caseworker-demo").await;
    wait_path(&c, "/").await;
    c.goto(&format!("{base}/cases/{case_id}")).await.unwrap();
    click(&c, "#record-visit").await;
    wait_path(&c, &format!("/cases/{case_id}/visits/new")).await;
    click(&c, "input[name=kind][value=outpatient]").await;
    let today = cancer_aid::clock::day_of(chrono::Utc::now());
    let visit_date = wait_for(&c, "#visit_date")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(visit_date, Some(today.to_string()), "today, as YYYY-MM-DD");
    // Without an invoice number the visit is refused, the message beside the field.
    fill(&c, "#total_cost", "12000").await;
    click(&c, "#preview-button").await;
    let invoice_error = text_of(&c, "#visit-form .field-error").await;
    assert!(invoice_error.contains("发票"), "{invoice_error}");
    let described = wait_for(&c, "#invoice_no")
        .await
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(described.as_deref(), Some("true"));
    screenshot(&c, "visit-refused").await;
    fill(&c, "#invoice_no", "MZ-2026-0001").await;
    fill(&c, "#total_cost", "12000").await;
    fill(&c, "#insurance_paid", "5000").await;
    click(&c, "#preview-button").await;
    // Demo policy for urban low income: (12000 - 5000 - 1000) * 0.60 = 3600.00.
    let preview = wait_text(&c, "#preview-subsidy", |t| !t.is_empty()).await;
    assert_eq!(preview, "3,600.00");
    screenshot(&c, "visit-preview").await;
    click(&c, "#visit-form button[type=submit]").await;
    wait_path(&c, &format!("/cases/{case_id}")).await;
    let visits = text_of(&c, "#visits").await;
    assert!(
        visits.contains("MZ-2026-0001") && visits.contains("3,600.00"),
        "{visits}"
    );
    assert_eq!(text_of(&c, "#cap-left").await, "26,400.00");
    screenshot(&c, "case-with-visit").await;
    // The same page on a phone: everything reachable without sideways scrolling of the page.
    c.set_window_size(390, 844).await.unwrap();
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page is wider than a phone: {overflow}"
    );
    screenshot(&c, "phone-case").await;
    c.set_window_size(1366, 768).await.unwrap();
    log_out(&c).await;

    // ---- the approver approves the subsidy ----
    log_in(&c, base, "approver", "approver-demo").await;
    wait_path(&c, "/").await;
    c.goto(&format!("{base}/approvals")).await.unwrap();
    // The bill, its reimbursements and the formula with its numbers are on the row.
    let formula = text_of(&c, "#queue-visits .formula").await;
    assert!(
        formula.contains("起付线") && formula.contains("救助金"),
        "{formula}"
    );
    screenshot(&c, "approvals-subsidy").await;
    // Approved as one of the selected: asked once, its outcome on its row.
    click(&c, "#queue-visits input.pick").await;
    click(&c, "button[data-bulk='queue-visits']").await;
    assert!(confirm(&c).await.contains("确认批准所选"));
    wait_text(&c, "#queue-visits-status", |t| t.contains("1 / 1")).await;
    assert!(
        text_of(&c, "#queue-visits .outcome")
            .await
            .contains("已批准")
    );
    log_out(&c).await;

    // ---- the subsidy goes out through the bank and comes back paid ----
    super::payments::pay_through_the_bank(&c, &service, case_id).await;

    // ---- the manager sees it in the totals and downloads the report ----
    log_in(&c, base, "manager", "manager-demo").await;
    wait_path(&c, "/").await;
    click(&c, "nav a[href='/dashboard']").await;
    wait_path(&c, "/dashboard").await;
    // The figures are the API's for the same year; on a fresh demo database they are this
    // flow's one visit.
    let summary = c
        .execute_async(
            "const [done] = arguments; fetch('/api/v1/reports/summary').then(r => r.json()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let total = &summary["total"];
    assert_eq!(total["visits"], 1, "{summary}");
    assert_eq!(total["subsidy"], "3600.00", "{summary}");
    assert_eq!(
        text_of(&c, "#total-patients").await,
        total["patients"].to_string()
    );
    assert_eq!(
        text_of(&c, "#total-visits").await,
        total["visits"].to_string()
    );
    assert_eq!(text_of(&c, "#total-yuan").await, "3,600.00");
    assert_eq!(text_of(&c, "#total-wan").await, "0.36");
    wait_for(&c, "svg").await;
    screenshot(&c, "dashboard").await;

    click(&c, "nav a[href='/reports/spending']").await;
    wait_path(&c, "/reports/spending").await;
    let table = text_of(&c, "#report-table").await;
    assert!(
        table.contains("城市低保") && table.contains("3,600.00"),
        "{table}"
    );
    screenshot(&c, "spending").await;
    // The download, with the manager's session, as the browser fetches it.
    let href = wait_for(&c, "#download-xlsx")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let bytes = c
        .execute_async(
            "const [href, done] = arguments;
             fetch(href).then(r => r.arrayBuffer()).then(b => done(Array.from(new Uint8Array(b))));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    let bytes: Vec<u8> = serde_json::from_value(bytes).unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an .xlsx");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = sheet.used_cells().map(|(_, _, v)| v.to_string()).collect();
    assert!(
        cells.iter().any(|v| v == "3600"),
        "the subsidy is in the workbook: {cells:?}"
    );
    log_out(&c).await;

    // ---- the administrator finds every step in the audit log ----
    log_in(&c, base, "admin", "admin-demo-pass").await;
    wait_path(&c, "/").await;
    for (path, name) in [
        ("/admin/users", "admin-users"),
        ("/admin/hospitals", "admin-hospitals"),
        ("/admin/policies", "admin-policies"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for(&c, "h1").await;
        screenshot(&c, name).await;
    }
    c.goto(&format!("{base}/admin/audit")).await.unwrap();
    let audit = text_of(&c, "main").await;
    for action in ["case.open", "case.approve", "visit.record", "visit.approve"] {
        assert!(
            audit.contains(action),
            "{action} is not in the audit log: {audit}"
        );
    }
    screenshot(&c, "admin-audit").await;
    log_out(&c).await;
    c.close().await.unwrap();
}
