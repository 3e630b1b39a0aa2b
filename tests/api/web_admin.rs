//! The administrators' pages through the router, on both databases: what they show comes from
//! the database (and what the API just changed), each refuses every other role and sends a
//! stranger to the login page, the audit log's filters and paging narrow what it shows, and ID
//! numbers in the log are masked.

use axum::http::{Method, StatusCode};
use serde_json::json;

use cancer_aid::audit::{self, Actor, Change};
use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::id_number as id;
use crate::helpers::TestApp;
use crate::helpers::TestResponse;

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");

fn html(res: &TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// The table row that starts at the first occurrence of `marker`.
fn row_of<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

const PAGES: &[&str] = &[
    "/admin/users",
    "/admin/users/1",
    "/admin/hospitals",
    "/admin/policies",
    "/admin/policies/1",
    "/admin/audit",
    "/admin/access-log",
];

db_test!(admin_pages_refuse_other_roles_and_send_strangers_to_log_in);
async fn admin_pages_refuse_other_roles_and_send_strangers_to_log_in(app: TestApp) {
    let anon = app.anonymous();
    for path in PAGES {
        let res = anon.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            res.headers["location"],
            format!("/login?next={path}"),
            "{path}"
        );
    }
    for role in [
        Role::Manager,
        Role::Caseworker,
        Role::Approver,
        Role::RosterImporter,
    ] {
        let client = app.as_role(role).await;
        for path in PAGES {
            if role == Role::Manager && *path == "/admin/audit" {
                // Managers read the audit log, as the API lets them (province-wide only).
                client.get(path).await.assert_status(StatusCode::OK);
                continue;
            }
            let res = client.get(path).await;
            res.assert_status(StatusCode::FORBIDDEN);
            assert!(
                html(&res).contains("您的角色不能使用此页面"),
                "{role} {path}"
            );
        }
    }
    let admin = app.as_role(Role::Admin).await;
    for path in [
        "/admin/users",
        "/admin/hospitals",
        "/admin/policies",
        "/admin/audit",
        "/admin/access-log",
    ] {
        let res = admin.get(path).await;
        res.assert_status(StatusCode::OK);
        let page = html(&res);
        assert!(
            page.contains(&format!("href=\"{path}\" aria-current=\"page\"")),
            "{page}"
        );
    }
    admin
        .get("/admin/users/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .get("/admin/users/abc")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .get("/admin/policies/999999")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let js = admin.get("/static/admin.js").await;
    js.assert_status(StatusCode::OK);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

db_test!(the_users_page_shows_accounts_and_a_user_page_changes_one_through_the_api);
async fn the_users_page_shows_accounts_and_a_user_page_changes_one_through_the_api(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let created = admin
        .post(
            "/api/v1/users",
            &json!({"username": "cw.zhao", "display_name": "赵六", "password": "long-enough-1",
                    "roles": ["caseworker", "approver"], "region_prefix": "2201"}),
        )
        .await;
    created.assert_status(StatusCode::CREATED);
    let user_id = created.json()["id"].as_i64().unwrap();

    let page = html(&admin.get("/admin/users").await);
    let row = row_of(&page, &format!("href=\"/admin/users/{user_id}\""));
    assert!(
        row.contains(">cw.zhao</a>") && row.contains("赵六"),
        "{row}"
    );
    assert!(row.contains("经办人、审核人"), "roles in Chinese: {row}");
    assert!(row.contains("2201") && row.contains("badge ok"), "{row}");
    assert!(row.contains("—"), "never logged in: {row}");
    // The form for a new account posts to the API, with every role as a checkbox.
    assert!(
        page.contains("data-api=\"/api/v1/users\" data-method=\"POST\""),
        "{page}"
    );
    for role in Role::ALL {
        assert!(
            page.contains(&format!("name=\"roles\" value=\"{}\"", role.code())),
            "{page}"
        );
    }
    // Each field the API refuses has its input on the page, so its message lands there.
    let refused = admin
        .post(
            "/api/v1/users",
            &json!({"username": "x", "password": "short", "roles": [], "region_prefix": "22"}),
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    for d in refused.json()["error"]["details"].as_array().unwrap() {
        let field = d["field"].as_str().unwrap();
        assert!(
            page.contains(&format!("name=\"{field}\"")),
            "no input for {field}"
        );
    }

    // Logged in, the user has a last login; in English the roles are English.
    app.login("cw.zhao", "long-enough-1").await;
    let english = admin
        .call(Method::GET, "/admin/users")
        .header("cookie", "lang=en")
        .send()
        .await;
    let english = html(&english);
    let row = row_of(&english, &format!("href=\"/admin/users/{user_id}\""));
    assert!(row.contains("Caseworker, Approver"), "{row}");
    assert!(!row.contains("—"), "a last login: {row}");

    // The account's page: its facts and the PATCH forms, roles ticked.
    let shown = html(&admin.get(&format!("/admin/users/{user_id}")).await);
    assert!(shown.contains("<h2 id=\"account\">cw.zhao</h2>"), "{shown}");
    assert!(shown.contains(&format!(
        "data-api=\"/api/v1/users/{user_id}\" data-method=\"PATCH\""
    )));
    assert!(
        shown.contains("value=\"caseworker\" data-json=\"array\" checked"),
        "{shown}"
    );
    assert!(
        shown.contains("value=\"manager\" data-json=\"array\">"),
        "{shown}"
    );
    assert!(
        shown.contains("name=\"password\" type=\"password\""),
        "a password reset: {shown}"
    );
    assert!(shown.contains("停用此账号"), "{shown}");

    // Disabled through the API as the page's button does: both pages say so.
    admin
        .patch(
            &format!("/api/v1/users/{user_id}"),
            &json!({"active": false, "region_prefix": "220102"}),
        )
        .await
        .assert_status(StatusCode::OK);
    let page = html(&admin.get("/admin/users").await);
    let row = row_of(&page, &format!("href=\"/admin/users/{user_id}\""));
    assert!(
        row.contains("badge bad") && row.contains("已停用") && row.contains("220102"),
        "{row}"
    );
    let shown = html(&admin.get(&format!("/admin/users/{user_id}?saved=1")).await);
    assert!(
        shown.contains("已保存。") && shown.contains("重新启用此账号"),
        "{shown}"
    );
    assert!(
        shown.contains("name=\"active\" data-json=\"bool\" checked"),
        "{shown}"
    );
}

db_test!(the_hospitals_page_lists_registered_hospitals_and_filters_them);
async fn the_hospitals_page_lists_registered_hospitals_and_filters_them(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    for body in [
        json!({"name": "吉林省肿瘤医院", "code": "h220104001", "region_code": "220104"}),
        json!({"name": "南关区社区卫生服务中心", "code": "C220102009", "region_code": "220102",
               "designated": false}),
    ] {
        admin
            .post("/api/v1/hospitals", &body)
            .await
            .assert_status(StatusCode::CREATED);
    }
    let page = html(&admin.get("/admin/hospitals").await);
    let row = row_of(&page, "<td>H220104001</td>");
    assert!(
        row.contains("吉林省肿瘤医院") && row.contains("badge ok") && row.contains("220104"),
        "{row}"
    );
    let row = row_of(&page, "<td>C220102009</td>");
    assert!(row.contains("非定点"), "{row}");
    assert!(page.contains("data-api=\"/api/v1/hospitals\""), "{page}");

    let only = html(&admin.get("/admin/hospitals?designated=false").await);
    assert!(
        only.contains("<td>C220102009</td>") && !only.contains("<td>H220104001</td>"),
        "{only}"
    );
    assert!(
        only.contains("<option value=\"false\" selected>"),
        "the filter stays: {only}"
    );
    let fresh = html(&admin.get("/admin/hospitals?designated=true&new=1").await);
    assert!(
        fresh.contains("class=\"fresh\"") && !fresh.contains("<td>C220102009</td>"),
        "{fresh}"
    );
}

db_test!(the_policies_page_shows_each_group_with_money_and_locks_a_used_policy);
async fn the_policies_page_shows_each_group_with_money_and_locks_a_used_policy(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let first = admin
        .post(
            "/api/v1/policies",
            &json!({"group": "城市低保", "rate": "0.6", "deductible": "1000", "per_visit_cap": "20000",
                    "annual_cap": "1234567.8", "effective_from": "2020-01-01"}),
        )
        .await;
    first.assert_status(StatusCode::CREATED);
    let first_id = first.json()["policy"]["id"].as_i64().unwrap();
    let page = html(&admin.get("/admin/policies").await);
    let row = row_of(&page, &format!("id=\"policy-{first_id}\""));
    for shown in [
        "2020-01-01",
        "长期有效",
        "0.60 (60%)",
        "1,000.00",
        "20,000.00",
        "1,234,567.80",
        "未使用",
    ] {
        assert!(row.contains(shown), "{shown} in {row}");
    }
    assert!(
        page.contains("<h2 id=\"group-low_income_rural\">农村低保</h2>"),
        "{page}"
    );
    assert!(
        page.contains("此类别暂无政策。"),
        "an empty group says so: {page}"
    );
    assert!(page.contains("data-api=\"/api/v1/policies\""), "{page}");
    assert!(
        page.contains("不能重叠"),
        "the overlap rule is explained: {page}"
    );

    // A new policy inside the open one ends it the day before.
    let second = admin
        .post(
            "/api/v1/policies",
            &json!({"group": "low_income_urban", "rate": "0.675", "deductible": "0",
                    "per_visit_cap": "30000", "annual_cap": "50000", "effective_from": "2024-01-01"}),
        )
        .await;
    second.assert_status(StatusCode::CREATED);
    let second_id = second.json()["policy"]["id"].as_i64().unwrap();
    let page = html(&admin.get(&format!("/admin/policies?new={second_id}")).await);
    assert!(
        row_of(&page, &format!("id=\"policy-{first_id}\"")).contains("2023-12-31"),
        "{page}"
    );
    let row = row_of(&page, &format!("id=\"policy-{second_id}\""));
    assert!(
        row.contains("class=\"fresh\"") && row.contains("0.675 (67.5%)"),
        "{row}"
    );

    // Unused: the correction form, filled in, can clear the end date.
    let edit = html(&admin.get(&format!("/admin/policies/{first_id}")).await);
    assert!(
        edit.contains(&format!("data-admin-api=\"/api/v1/policies/{first_id}\"")),
        "{edit}"
    );
    assert!(edit.contains("data-nulls=\"effective_to\""), "{edit}");
    assert!(
        edit.contains("value=\"2023-12-31\"") && edit.contains("value=\"1234567.80\""),
        "{edit}"
    );
    assert!(edit.contains("/static/admin.js"), "{edit}");

    // Once a visit used the policy, the page says it cannot be edited, as the API refuses.
    let clerk = app.as_role(Role::RosterImporter).await;
    let import = clerk
        .upload(
            "/api/v1/roster-imports",
            &[
                ("group", "城市低保"),
                ("region_code", "220102"),
                ("effective_date", "2020-06-01"),
            ],
            "nanguan.xlsx",
            NANGUAN,
        )
        .await;
    import.assert_status(StatusCode::ACCEPTED);
    clerk
        .wait_import(import.json()["id"].as_i64().unwrap())
        .await;
    let hospital = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "吉林大学第一医院", "code": "H-JDYY", "region_code": "220102"}),
        )
        .await;
    let hospital_id = hospital.json()["id"].as_i64().unwrap();
    let cw = app.as_user("cw.wang", &[Role::Caseworker], "2201").await;
    let patient = id("220102", "19700101", 57);
    let opened = cw
        .post(
            "/api/v1/cases",
            &json!({"id_number": patient, "name": "买买提·吐尔逊", "diagnosis_code": "C34.1",
                    "hospital_id": hospital_id, "year": 2026}),
        )
        .await;
    opened.assert_status(StatusCode::CREATED);
    let case_id = opened.json()["id"].as_i64().unwrap();
    let approver = app.as_role(Role::Approver).await;
    approver
        .post(
            &format!("/api/v1/cases/{case_id}/approve"),
            &json!({"version": opened.json()["version"]}),
        )
        .await
        .assert_status(StatusCode::OK);
    cw.post(
        &format!("/api/v1/cases/{case_id}/visits"),
        &json!({"hospital_id": hospital_id, "kind": "inpatient", "admitted_on": "2026-03-01",
                "discharged_on": "2026-03-10", "invoice_no": "ZY-1", "total_cost": "30000.00",
                "insurance_paid": "15000", "critical_illness_paid": "3000",
                "medical_assistance_paid": "2000"}),
    )
    .await
    .assert_status(StatusCode::CREATED);
    let used = html(&admin.get(&format!("/admin/policies/{second_id}")).await);
    assert!(
        used.contains("id=\"policy-in-use\"") && !used.contains("data-admin-api"),
        "{used}"
    );
    let page = html(&admin.get("/admin/policies").await);
    assert!(
        row_of(&page, &format!("id=\"policy-{second_id}\"")).contains("已被使用"),
        "{page}"
    );
    admin
        .patch(
            &format!("/api/v1/policies/{second_id}"),
            &json!({"rate": "0.7"}),
        )
        .await
        .assert_status(StatusCode::CONFLICT);

    // The log shows the case opened, linked to its page, and never the whole ID number.
    let log = html(&admin.get("/admin/audit?entity_type=case").await);
    assert!(log.contains("<code>case.open</code>"), "{log}");
    assert!(!log.contains(&patient), "{log}");
    assert!(log.contains(&format!("href=\"/cases/{case_id}\"")), "{log}");
}

db_test!(the_audit_log_shows_what_was_just_done_and_its_filters_and_pages_narrow_it);
async fn the_audit_log_shows_what_was_just_done_and_its_filters_and_pages_narrow_it(app: TestApp) {
    let admin = app.as_role(Role::Admin).await;
    let created = admin
        .post(
            "/api/v1/users",
            &json!({"username": "ap.sun", "password": "long-enough-1", "roles": ["approver"],
                    "region_prefix": "2201"}),
        )
        .await;
    let user_id = created.json()["id"].as_i64().unwrap();
    for n in 0..22 {
        admin
            .post(
                "/api/v1/hospitals",
                &json!({"name": format!("医院{n}"), "code": format!("H{n:03}"), "region_code": "220102"}),
            )
            .await
            .assert_status(StatusCode::CREATED);
    }
    // A change that names an ID number.
    let secret = id("220102", "19491231", 2);
    let txn = cancer_aid::db::begin_write(&app.db).await.unwrap();
    audit::record(
        &txn,
        &Actor::system("test", app.state.clock.now()),
        Change {
            action: "case.open",
            entity_type: "case",
            entity_id: "77".into(),
            before: None,
            after: Some(json!({"id_number": secret, "name": "张三"})),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    let rows = |page: &str| page.matches("<tr><td class=\"nowrap\">").count();
    // Newest first: the system's row, then the hospitals; 20 a page.
    let first = html(&admin.get("/admin/audit").await);
    assert_eq!(rows(&first), 20, "{first}");
    assert!(
        first.find("<td>system:test</td>").unwrap()
            < first.find("<code>hospital.create</code>").unwrap(),
        "{first}"
    );
    assert!(
        first.contains(&format!("{}********{}", &secret[..6], &secret[14..])),
        "{first}"
    );
    assert!(!first.contains(&secret), "the ID number is masked: {first}");
    assert!(first.contains("<details class=\"change\">"), "{first}");
    assert!(
        first.contains("1 / 2") && first.contains("href=\"/admin/audit?page=2\""),
        "{first}"
    );
    let second = html(&admin.get("/admin/audit?page=2").await);
    // The admin's own account (made by the test's system actor), ap.sun, 22 hospitals and
    // the system's row.
    assert_eq!(rows(&second), 5, "{second}");
    assert!(second.contains("user.create"), "the oldest last: {second}");

    // Filters narrow it, and paging keeps them.
    let users = html(&admin.get("/admin/audit?actor=admin&action=user.").await);
    assert_eq!(rows(&users), 1, "{users}");
    assert!(
        users.contains(&format!("href=\"/admin/users/{user_id}\"")),
        "{users}"
    );
    assert!(users.contains("ap.sun"), "the record after: {users}");
    assert!(
        users.contains("value=\"user.\""),
        "the filter stays: {users}"
    );
    let by_admin = html(
        &admin
            .get("/admin/audit?actor=admin&entity_type=hospital")
            .await,
    );
    assert_eq!(rows(&by_admin), 20, "{by_admin}");
    assert!(
        by_admin.contains("href=\"/admin/audit?actor=admin&#38;entity_type=hospital&#38;page=2\""),
        "{by_admin}"
    );
    assert!(
        by_admin.contains("<option value=\"hospital\" selected>"),
        "{by_admin}"
    );
    let all_users = html(&admin.get("/admin/audit?entity_type=user").await);
    assert_eq!(rows(&all_users), 2, "{all_users}");
    let one = html(
        &admin
            .get(&format!(
                "/admin/audit?entity_type=user&entity_id={user_id}"
            ))
            .await,
    );
    assert_eq!(rows(&one), 1, "{one}");
    let today = cancer_aid::clock::day_of(chrono::Utc::now());
    let dated = html(
        &admin
            .get(&format!(
                "/admin/audit?actor=admin&action=user.create&from={today}&to={today}"
            ))
            .await,
    );
    assert_eq!(rows(&dated), 1, "{dated}");
    let long_ago = html(
        &admin
            .get("/admin/audit?from=2000-01-01&to=2000-12-31")
            .await,
    );
    assert_eq!(rows(&long_ago), 0, "{long_ago}");
    assert!(long_ago.contains("暂无记录"), "{long_ago}");

    // A bad date is said next to its field, and what was typed stays.
    let bad = admin.get("/admin/audit?actor=admin&from=2026-13-01").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let bad = html(&bad);
    assert!(
        bad.contains("id=\"from-error\"") && bad.contains("value=\"2026-13-01\""),
        "{bad}"
    );
    assert!(bad.contains("value=\"admin\""), "{bad}");
}
