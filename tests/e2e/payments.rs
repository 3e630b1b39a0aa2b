//! The money in the browser, after the flow's subsidy is approved: the caseworker enters the
//! payee, a manager drafts a batch, a second manager approves it, the notice runs its day, the
//! bank file is downloaded and the bank's return file uploaded, and the subsidy reads as paid on
//! its page and in the report of paid subsidies.

use fantoccini::Client;

use super::flow::{wait_id, wait_text};
use super::{
    Service, click, confirm, fill, log_in, log_out, screenshot, text_of, wait_for, wait_path,
};

/// A bank card number with a valid check digit.
const ACCOUNT: &str = "6222020200000000006";

/// What the browser fetches at `href` with its session: (status, body as text).
async fn fetch_text(c: &Client, href: &str) -> (u16, String) {
    let got = c
        .execute_async(
            "const [href, done] = arguments;
             fetch(href).then(async r => done([r.status, await r.text()]));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    serde_json::from_value(got).unwrap()
}

/// The flow's approved subsidy of `case_id` (3,600.00) goes out through the bank.
pub(super) async fn pay_through_the_bank(c: &Client, service: &Service, case_id: i64) {
    let base = &service.base;

    // ---- the caseworker enters how the patient is paid ----
    log_in(c, base, "caseworker", "caseworker-demo").await;
    wait_path(c, "/").await;
    c.goto(&format!("{base}/cases/{case_id}")).await.unwrap();
    wait_for(c, "#payee-none").await;
    fill(c, "#payee-bank", "中国工商银行长春朝阳支行").await;
    fill(c, "#payee-account-no", ACCOUNT).await;
    click(c, "#payee-form button[type=submit]").await;
    let shown = wait_text(c, "#payee-account", |t| !t.is_empty()).await;
    assert!(
        shown.starts_with("6222") && !shown.contains(ACCOUNT),
        "masked: {shown}"
    );
    let visit_href = wait_for(c, "#visits a[href^='/visits/']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    log_out(c).await;

    // ---- a manager drafts the batch from this year's approved subsidies ----
    log_in(c, base, "manager", "manager-demo").await;
    wait_path(c, "/").await;
    click(c, "nav a[href='/payments']").await;
    wait_path(c, "/payments").await;
    screenshot(c, "payments").await;
    click(c, "#draft-batch button[type=submit]").await;
    let batch = wait_id(c, "/payments/").await;
    assert_eq!(text_of(c, "#batch-state").await, "草稿");
    assert_eq!(text_of(c, "#batch-count").await, "1");
    assert!(text_of(c, "#batch-amount").await.contains("3600.00"));
    screenshot(c, "payment-draft").await;
    log_out(c).await;

    // ---- a second manager approves it, answering the confirmation ----
    log_in(c, base, "finance", "finance-demo").await;
    wait_path(c, "/").await;
    c.goto(&format!("{base}/payments/{batch}")).await.unwrap();
    click(c, "#approve-batch button[type=submit]").await;
    let asked = confirm(c).await;
    assert!(asked.contains("公示"), "{asked}");
    wait_text(c, "#batch-state", |t| t == "已审批").await;
    log_out(c).await;

    // ---- the notice is produced and printed, and runs its day ----
    log_in(c, base, "manager", "manager-demo").await;
    wait_path(c, "/").await;
    c.goto(&format!("{base}/payments/{batch}")).await.unwrap();
    let notice = wait_for(c, "#notice-start")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{notice}")).await.unwrap();
    let printed = text_of(c, "body").await;
    assert!(
        printed.contains("公示") && printed.contains("3600.00"),
        "{printed}"
    );
    screenshot(c, "payment-notice").await;
    c.goto(&format!("{base}/payments/{batch}")).await.unwrap();
    wait_for(c, "#notice-period").await;
    assert!(
        c.find(fantoccini::Locator::Css("a.export")).await.is_err(),
        "no bank file while the notice runs"
    );
    let year = chrono::Datelike::year(&service.clock.today());
    let tomorrow = service.clock.now() + chrono::Duration::days(1);
    service.clock.set(tomorrow);

    // ---- the next day: the bank file, and the bank's answer ----
    // A day later the session has ended: the manager logs in again.
    log_in(c, base, "manager", "manager-demo").await;
    wait_path(c, "/").await;
    c.goto(&format!("{base}/payments/{batch}")).await.unwrap();
    // The branch's own layout (fixtures/layouts/branch_csv.toml), read at start-up.
    let export = wait_for(c, "a.export[href$='layout=branch_csv']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (status, file) = fetch_text(c, &export).await;
    assert_eq!(status, 200, "{file}");
    let header: Vec<&str> = file.lines().next().unwrap().split(',').collect();
    let (batch_no, amount) = (header[0], header[2]);
    let (_, detail) = fetch_text(c, &format!("/api/v1/payment-batches/{batch}")).await;
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    let line = &detail["lines"][0];
    let second = file.lines().nth(1).unwrap();
    assert_eq!(
        second,
        format!(
            "{},{},{ACCOUNT},{}",
            line["id"],
            line["payee_name"].as_str().unwrap(),
            line["amount"].as_str().unwrap()
        ),
        "the line in full, as the layout says"
    );
    let day = cancer_aid::clock::day_of(tomorrow).format("%Y%m%d");
    let answer = format!(
        "{batch_no},1,{amount}\r\n{},{ACCOUNT},{},0000,BK20260001,{day},\r\n",
        line["id"],
        line["amount"].as_str().unwrap(),
    );
    let path = std::env::temp_dir().join(format!("return-{batch_no}.txt"));
    std::fs::write(&path, answer).unwrap();
    c.goto(&format!("{base}/payments/{batch}")).await.unwrap();
    wait_for(c, "#return-upload")
        .await
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    click(c, "#return-file button[type=submit]").await;
    wait_text(c, "#batch-state", |t| t == "已对账").await;
    let settled = text_of(c, "#return-files").await;
    assert!(
        settled.contains("3,600.00") || settled.contains("3600.00"),
        "{settled}"
    );
    screenshot(c, "payment-reconciled").await;
    std::fs::remove_file(&path).ok();

    // ---- the subsidy reads as paid, by the bank, and the report of paid subsidies has it ----
    c.goto(&format!("{base}{visit_href}")).await.unwrap();
    assert_eq!(text_of(c, "#subsidy-status").await, "已支付");
    let batches = text_of(c, "#subsidy-batches").await;
    assert!(
        batches.contains("BK20260001") && batches.contains(batch_no),
        "{batches}"
    );
    screenshot(c, "subsidy-paid").await;
    // The settlement slip to print: the paid amount and the boxes to sign.
    c.goto(&format!("{base}{visit_href}/slip")).await.unwrap();
    let slip = text_of(c, "#slip-money").await;
    assert!(slip.contains("3,600.00"), "{slip}");
    screenshot(c, "visit-slip").await;
    c.goto(&format!("{base}/reports/spending?status=paid&year={year}"))
        .await
        .unwrap();
    let table = text_of(c, "#report-table").await;
    assert!(table.contains("3,600.00"), "{table}");
    log_out(c).await;
    // Back to the system's time (standing still there), so the rest of the flow's "today" is
    // the day its visit was recorded.
    service.clock.set(chrono::Utc::now());
}
