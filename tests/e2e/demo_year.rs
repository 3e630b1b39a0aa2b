//! The demo's working year in the browser: each role's pages open on real figures, at an office
//! screen's width (1366 px) and a phone's (390 px), and no page scrolls sideways on the phone.
//! Every page is kept as a screenshot (`target/screenshots/year-*`).

use super::{browser, log_in, log_out, screenshot, start_driver, start_service_with, wait_path};

/// Each demo account and the pages its menu offers.
const PAGES: &[(&str, &str, &[&str])] = &[
    (
        "caseworker",
        "caseworker-demo",
        &["/", "/eligibility", "/cases", "/visits"],
    ),
    (
        "approver",
        "approver-demo",
        // The printouts have no menu: the last page is one with the log-out button.
        &[
            "/",
            "/cases/1/form",
            "/visits/1/slip",
            "/approvals",
            "/cases",
            "/cases/1",
        ],
    ),
    (
        "manager",
        "manager-demo",
        &[
            "/",
            "/dashboard",
            "/reports/spending",
            "/payments",
            "/budget",
        ],
    ),
    (
        "importer",
        "importer-demo",
        &["/", "/roster/upload", "/roster/imports"],
    ),
    (
        "admin",
        "admin-demo-pass",
        &[
            "/",
            "/admin/users",
            "/admin/hospitals",
            "/admin/policies",
            "/admin/audit",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_sees_a_working_year_at_both_widths() {
    let Some(driver) = start_driver() else { return };
    let service = start_service_with(Default::default()).await;
    let base = &service.base;
    let c = browser(&driver).await;
    let mut wide = Vec::new();
    for (user, password, pages) in PAGES {
        log_in(&c, base, user, password).await;
        wait_path(&c, "/").await;
        for path in *pages {
            for (width, height) in [(1366, 768), (390, 844)] {
                c.set_window_size(width, height).await.unwrap();
                c.goto(&format!("{base}{path}")).await.unwrap();
                let page = match path.trim_matches('/') {
                    "" => "home".to_owned(),
                    p => p.replace('/', "-"),
                };
                screenshot(&c, &format!("year-{user}-{page}-{width}")).await;
                // Sideways scrolling: the document wider than the window.
                let over = c
                    .execute(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                        vec![],
                    )
                    .await
                    .unwrap()
                    .as_i64()
                    .unwrap_or(0);
                if over > 0 {
                    wide.push(format!("{user} {path} at {width} px: {over} px too wide"));
                }
                // A heading squeezed to one character a line: narrower than two characters.
                let squeezed = c
                    .execute(
                        "return [...document.querySelectorAll('th')].filter((th) => {
                           const s = getComputedStyle(th);
                           const inner = th.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
                           return th.innerText.trim().length >= 2 && inner < 2 * parseFloat(s.fontSize);
                         }).map((th) => th.innerText.trim());",
                        vec![],
                    )
                    .await
                    .unwrap();
                let squeezed: Vec<String> = serde_json::from_value(squeezed).unwrap_or_default();
                if !squeezed.is_empty() {
                    wide.push(format!(
                        "{user} {path} at {width} px: headings {squeezed:?}"
                    ));
                }
            }
        }
        c.set_window_size(1366, 768).await.unwrap();
        log_out(&c).await;
    }
    // The approver's queue shows each subsidy's formula; several can be approved at once.
    log_in(&c, base, "approver", "approver-demo").await;
    wait_path(&c, "/").await;
    c.goto(&format!("{base}/approvals")).await.unwrap();
    let formula = super::text_of(&c, "#queue-visits .formula").await;
    assert!(formula.contains("起付线"), "{formula}");
    log_out(&c).await;
    // The dashboard opened on the year's figures, not zeros.
    log_in(&c, base, "manager", "manager-demo").await;
    wait_path(&c, "/").await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    let patients = super::text_of(&c, "#total-patients").await;
    assert_ne!(patients, "0", "the demo year has patients");
    assert!(wide.is_empty(), "pages scroll sideways: {wide:#?}");
}
