//! The home page is the user's to-do list (issue 20, point 5): what waits for them, in their
//! scope, never their own work that waits for someone else.

use axum::http::StatusCode;

use cancer_aid::domain::Role;

use crate::db_test;
use crate::helpers::{Client, TestApp, spawn_app_with};

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");

async fn line(client: &Client<'_>, id: &str) -> String {
    let res = client.get("/").await;
    res.assert_status(StatusCode::OK);
    let page = String::from_utf8_lossy(&res.body).into_owned();
    let at = page
        .find(&format!("<li id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in {page}"));
    page[at..at + page[at..].find("</li>").unwrap()].to_owned()
}

db_test!(an_import_waiting_for_a_second_person_is_on_the_others_list_not_the_uploaders);
async fn an_import_waiting_for_a_second_person_is_on_the_others_list_not_the_uploaders(
    app: TestApp,
) {
    let app = spawn_app_with(app.backend, |s| {
        s.import_approval = cancer_aid::roster::approval::Approval::Always;
    })
    .await
    .expect("the same backend again");
    let first = app
        .as_user("clerk.one", &[Role::RosterImporter], "22")
        .await;
    let second = app
        .as_user("clerk.two", &[Role::RosterImporter], "22")
        .await;
    assert!(
        line(&first, "todo-imports-to-activate")
            .await
            .contains("暂无")
    );
    let res = first
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
    res.assert_status(StatusCode::ACCEPTED);
    first
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;

    let own = line(&first, "todo-own-imports").await;
    assert!(
        own.contains("class=\"waiting\"") && own.contains(">1<"),
        "{own}"
    );
    assert!(
        line(&first, "todo-imports-to-activate")
            .await
            .contains("暂无")
    );
    let theirs = line(&second, "todo-imports-to-activate").await;
    assert!(
        theirs.contains(">1<") && theirs.contains("href=\"/roster/approvals\""),
        "{theirs}"
    );
    // A clerk of another city does not see it waiting.
    let yanbian = app
        .as_user("clerk.yanbian", &[Role::RosterImporter], "2224")
        .await;
    assert!(
        line(&yanbian, "todo-imports-to-activate")
            .await
            .contains("暂无")
    );
    // A role without imports has no import lines.
    let cw = app.as_role(Role::Caseworker).await;
    let page = String::from_utf8_lossy(&cw.get("/").await.body).into_owned();
    assert!(!page.contains("todo-imports"), "{page}");
    assert!(page.contains("id=\"todo-cases-rejected\""));
}
