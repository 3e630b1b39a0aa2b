//! Regions by name on the pages (issue 20, point 2): the header names the user's scope, pages
//! show 长春市 南关区 where they showed 220102, and every form that chooses a region offers a
//! city → county picker limited to the user's scope.

use axum::http::StatusCode;
use serde_json::json;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::{Client, TestApp};

async fn page(client: &Client<'_>, path: &str) -> String {
    let res = client.get(path).await;
    res.assert_status(StatusCode::OK);
    String::from_utf8_lossy(&res.body).into_owned()
}

/// The options of the `<select>` with this id: (value, text).
fn options(html: &str, id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("<select id=\"{id}\""))
        .unwrap_or_else(|| panic!("no picker #{id} in {html}"));
    let end = start + html[start..].find("</select>").expect("a closed select");
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let value = o[..o.find('"').unwrap()].to_owned();
            let text = o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()].to_owned();
            (value, text)
        })
        .collect()
}

db_test!(the_header_names_the_scope_and_pages_name_regions);
async fn the_header_names_the_scope_and_pages_name_regions(app: TestApp) {
    let county = app
        .as_user("nanguan.clerk", &[Role::RosterImporter], "220102")
        .await;
    let home = page(&county, "/").await;
    assert!(
        home.contains(
            "<span class=\"scope\" id=\"my-scope\" title=\"数据范围\">长春市 南关区</span>"
        ),
        "{home}"
    );
    assert!(home.contains("<dd id=\"scope-name\">长春市 南关区</dd>"));
    let city = app
        .as_user("changchun.manager", &[Role::Manager], "2201")
        .await;
    assert!(page(&city, "/").await.contains("长春市（全市）"));
    let province = app.as_role(Role::Admin).await;
    assert!(page(&province, "/").await.contains("吉林省（全省）"));

    // A hospital's and a user's region are named in the admin lists, the code kept as a title.
    province
        .post(
            "/api/v1/hospitals",
            &json!({"name": "延边大学附属医院", "code": "H222401001", "region_code": "222401"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let hospitals = page(&province, "/admin/hospitals").await;
    assert!(
        hospitals.contains("<td title=\"222401\">延边朝鲜族自治州 延吉市</td>"),
        "{hospitals}"
    );
    let users = page(&province, "/admin/users").await;
    assert!(
        users.contains("<td title=\"220102\">长春市 南关区</td>"),
        "{users}"
    );
    assert!(users.contains("<td title=\"2201\">长春市</td>"));
}

db_test!(every_region_field_is_a_picker_inside_the_scope);
async fn every_region_field_is_a_picker_inside_the_scope(app: TestApp) {
    // A clerk of Changchun: Changchun and its counties, nothing of another city.
    let clerk = app
        .as_user("changchun.clerk", &[Role::RosterImporter], "2201")
        .await;
    let upload = options(&page(&clerk, "/roster/upload").await, "region_code");
    assert_eq!(upload[0], ("".into(), "各地区（按文件）".into()));
    assert!(upload.contains(&("2201".into(), "长春市（全市）".into())));
    assert!(upload.contains(&("220102".into(), "南关区".into())));
    assert!(
        upload
            .iter()
            .all(|(v, _)| v.is_empty() || v.starts_with("2201")),
        "{upload:?}"
    );
    let upload_html = page(&clerk, "/roster/upload").await;
    assert!(upload_html.contains("<optgroup label=\"长春市\">"));
    assert!(!upload_html.contains("延边"), "no region outside the scope");

    // A province clerk's upload opens on the file's own regions, never on a bare code.
    let province_clerk = app.as_role(Role::RosterImporter).await;
    let html = page(&province_clerk, "/roster/upload").await;
    let picker = &html[html.find("<select id=\"region_code\"").unwrap()..];
    let picker = &picker[..picker.find("</select>").unwrap()];
    assert!(
        picker.contains("<option value=\"\" selected>各地区（按文件）</option>"),
        "{picker}"
    );
    assert!(!picker.contains("value=\"22\""), "{picker}");

    // A county manager's report picks only the county.
    let county = app
        .as_user("nanguan.manager", &[Role::Manager], "220102")
        .await;
    let report = options(&page(&county, "/reports/spending").await, "region");
    assert_eq!(
        report,
        [
            ("".into(), "整个数据范围".into()),
            ("220102".into(), "南关区".into())
        ]
    );

    // Province-wide: the province, every city and county; retired codes are not offered.
    let admin = app.as_role(Role::Admin).await;
    let scopes = options(&page(&admin, "/admin/users").await, "region_prefix");
    assert_eq!(scopes[0], ("22".into(), "吉林省（全省）".into()));
    assert!(scopes.contains(&("2224".into(), "延边朝鲜族自治州（全市）".into())));
    assert!(scopes.contains(&("222401".into(), "延吉市".into())));
    // A hospital lies in a county: no city or province to pick.
    let hospital = options(&page(&admin, "/admin/hospitals").await, "region_code");
    assert_eq!(hospital[0].0, "", "asks for a choice first");
    assert!(
        hospital[1..].iter().all(|(v, _)| v.len() == 6),
        "{hospital:?}"
    );
    let manager = app.as_role(Role::Manager).await;
    let budget = options(&page(&manager, "/budget").await, "budget-region");
    assert!(
        budget[1..]
            .iter()
            .all(|(v, _)| v.len() == 4 || v.len() == 6)
    );
    assert!(budget.contains(&("2201".into(), "长春市（全市）".into())));
    let draft = options(&page(&manager, "/payments").await, "draft-region");
    assert_eq!(draft[0], ("".into(), "整个数据范围".into()));

    // Every code a picker offers is one the API takes: a report for each county of the city.
    for (code, _) in upload.iter().filter(|(v, _)| !v.is_empty()) {
        let res = app
            .as_role(Role::Manager)
            .await
            .get(&format!(
                "/api/v1/reports/spending?from=2025-01-01&to=2025-12-31&region={code}"
            ))
            .await;
        res.assert_status(StatusCode::OK);
    }
}

db_test!(a_report_sent_back_keeps_the_chosen_region_selected);
async fn a_report_sent_back_keeps_the_chosen_region_selected(app: TestApp) {
    let manager = app.as_role(Role::Manager).await;
    let html = page(
        &manager,
        "/reports/spending?from=2025-01-01&to=2025-12-31&region=2201",
    )
    .await;
    assert!(html.contains("<option value=\"2201\" selected>长春市（全市）</option>"));
    assert!(
        html.contains("长春市（全市）"),
        "the report's scope line names it"
    );
}
