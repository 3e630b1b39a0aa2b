//! A person's roster history (`GET /api/v1/persons/{person}/roster-history` and its page),
//! through the real router, the real import worker and both databases.

use axum::http::{Method, StatusCode};
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::person;

use crate::db_test;
use crate::fixtures::people::id_number;
use crate::helpers::{Client, TestApp, TestResponse, person_with_case, recorder};

fn body(res: &TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// A UTF-8 .csv roster of Nanguan (220102) people: (ID number, name, household size).
fn roster(people: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut csv = String::from("身份证号码,姓名,区划代码,保障起始日期,家庭人口\n");
    for (idn, name, household) in people {
        csv.push_str(&format!("{idn},{name},220102,2019-01-01,{household}\n"));
    }
    csv.into_bytes()
}

/// A full import of the urban low-income roster of Nanguan, finished; returns its id.
async fn full_import(client: &Client<'_>, date: &str, name: &str, bytes: &[u8]) -> i64 {
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("mode", "full"),
        ("effective_date", date),
    ];
    let res = client
        .upload("/api/v1/roster-imports", &fields, name, bytes)
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let id = res.json()["id"].as_i64().unwrap();
    let done = client.wait_import(id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    id
}

async fn person_id(app: &TestApp, idn: &str) -> i64 {
    person::Entity::find()
        .filter(person::COLUMN.id_number.eq(idn))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the import made the person")
        .id
}

/// Three people imported in January by the province clerk; in July a Changchun clerk's full
/// import drops b and changes c's household size. b and c as (ID number, person id), and the
/// two imports' ids.
struct Story {
    b: (String, i64),
    c: (String, i64),
    january: i64,
    july: i64,
}

async fn story(app: &TestApp) -> Story {
    let province_clerk = app.as_role(Role::RosterImporter).await;
    let city_clerk = app
        .as_user("changchun_clerk", &[Role::RosterImporter], "2201")
        .await;
    let (a, b, c) = (
        id_number("220102", "19600101", 11),
        id_number("220102", "19610202", 22),
        id_number("220102", "19620303", 33),
    );
    let january = full_import(
        &province_clerk,
        "2020-01-01",
        "nanguan_jan.csv",
        &roster(&[(&a, "甲", "3"), (&b, "乙", "2"), (&c, "丙", "4")]),
    )
    .await;
    let july = full_import(
        &city_clerk,
        "2020-07-01",
        "nanguan_jul.csv",
        &roster(&[(&a, "甲", "3"), (&c, "丙", "5")]),
    )
    .await;
    let b_id = person_id(app, &b).await;
    let c_id = person_id(app, &c).await;
    Story {
        b: (b, b_id),
        c: (c, c_id),
        january,
        july,
    }
}

fn history_path(person: impl std::fmt::Display) -> String {
    format!("/api/v1/persons/{person}/roster-history")
}

db_test!(an_entry_shows_the_import_that_added_it_and_the_full_import_that_ended_it);
async fn an_entry_shows_the_import_that_added_it_and_the_full_import_that_ended_it(app: TestApp) {
    let s = story(&app).await;
    let worker = app.as_role(Role::Caseworker).await;

    let res = worker.get(&history_path(s.b.1)).await;
    res.assert_status(StatusCode::OK);
    let h = res.json();
    assert_eq!(h["person"]["id"], s.b.1);
    assert_eq!(h["person"]["name"], "乙");
    assert_eq!(
        h["person"]["id_number"],
        format!("{}********{}", &s.b.0[..6], &s.b.0[14..]),
        "masked"
    );
    assert!(
        !h.to_string().contains(&s.b.0),
        "the whole ID number is not in the answer: {h}"
    );
    let entries = h["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{h}");
    let e = &entries[0];
    assert_eq!(
        (e["group"].as_str(), e["group_label"].as_str()),
        (Some("low_income_urban"), Some("城市低保"))
    );
    assert_eq!(
        (e["region_code"].as_str(), e["name_on_roster"].as_str()),
        (Some("220102"), Some("乙"))
    );
    assert_eq!(
        (e["valid_from"].as_str(), e["valid_to"].as_str()),
        (Some("2019-01-01"), Some("2020-06-30"))
    );
    assert_eq!(e["extra"]["家庭人口"], "2", "{e}");

    let added = &e["added_by"];
    assert_eq!(added["id"], s.january);
    assert_eq!(added["file_name"], "nanguan_jan.csv");
    assert_eq!(added["effective_date"], "2020-01-01");
    assert_eq!(added["mode"], "full");
    assert_eq!(added["uploaded_by"]["username"], "roster_importer");
    assert!(added["uploaded_at"].is_string(), "{added}");
    let ended = &e["ended_by"];
    assert_eq!(ended["id"], s.july);
    assert_eq!(ended["file_name"], "nanguan_jul.csv");
    assert_eq!(ended["effective_date"], "2020-07-01");
    assert_eq!(ended["uploaded_by"]["username"], "changchun_clerk");
    assert!(e["changed_by"].is_null(), "ending is not a change: {e}");
    // It ended people, so a second person activated it; the January one (ending no one)
    // its uploader alone.
    assert_eq!(
        ended["activated_by"]["username"], "second-importer",
        "{ended}"
    );
    assert_eq!(
        added["activated_by"]["username"], "roster_importer",
        "{added}"
    );
    // The change itself, before → after.
    let changes = e["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{e}");
    assert_eq!(
        (
            changes[0]["kind"].as_str(),
            changes[0]["import"]["id"].as_i64()
        ),
        (Some("ended"), Some(s.july))
    );
    assert!(changes[0]["before"]["valid_to"].is_null(), "{e}");
    assert_eq!(changes[0]["after"]["valid_to"], "2020-06-30", "{e}");

    // c's household size changed in July: changed in place, the import named.
    let c = worker.get(&history_path(s.c.1)).await.json();
    let ce = &c["entries"][0];
    assert_eq!(
        (
            ce["added_by"]["id"].as_i64(),
            ce["changed_by"]["id"].as_i64()
        ),
        (Some(s.january), Some(s.july)),
        "{c}"
    );
    assert_eq!(
        ce["changed_by"]["uploaded_by"]["username"],
        "changchun_clerk"
    );
    assert_eq!(ce["extra"]["家庭人口"], "5");
    assert!(ce["ended_by"].is_null() && ce["valid_to"].is_null(), "{c}");

    // In English, the group's label follows.
    let en = worker
        .call(Method::GET, &history_path(s.b.1))
        .header("accept-language", "en")
        .send()
        .await
        .json();
    assert_eq!(en["entries"][0]["group_label"], "Urban low-income");
}

db_test!(entries_of_regions_outside_the_scope_are_left_out_as_the_entries_lookup_does);
async fn entries_of_regions_outside_the_scope_are_left_out_as_the_entries_lookup_does(
    app: TestApp,
) {
    let s = story(&app).await;
    // b was also on Yanbian's entitled-care roster once.
    crate::fixtures::people::entry(
        &app,
        s.b.1,
        "entitled_care",
        "222401",
        "乙",
        "2015-01-01",
        Some("2016-12-31"),
        None,
    )
    .await;
    let province = app.as_role(Role::Caseworker).await;
    let city = app.as_user("cw2201", &[Role::Caseworker], "2201").await;
    let all = province.get(&history_path(s.b.1)).await.json();
    assert_eq!(all["entries"].as_array().unwrap().len(), 2, "{all}");
    assert_eq!(all["entries"][1]["region_code"], "222401", "newest first");
    assert!(
        all["entries"][1]["added_by"].is_null(),
        "an entry no import wrote names none"
    );
    let mine = city.get(&history_path(s.b.1)).await.json();
    let regions: Vec<&str> = mine["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["region_code"].as_str().unwrap())
        .collect();
    assert_eq!(regions, vec!["220102"], "{mine}");
    let lookup = city
        .post(
            "/api/v1/roster-entries/search",
            &json!({"id_number": s.b.0}),
        )
        .await
        .json();
    assert_eq!(
        lookup["entries"].as_array().unwrap().len(),
        1,
        "the same entries as the look-up: {lookup}"
    );
}

/// The answer with every mention of `id` replaced, to compare a refusal with a "not found".
fn without(res: &TestResponse, id: i64) -> String {
    body(res).replace(&format!("（{id}）"), "（N）")
}

db_test!(a_person_outside_the_scope_answers_as_one_that_does_not_exist);
async fn a_person_outside_the_scope_answers_as_one_that_does_not_exist(app: TestApp) {
    let s = story(&app).await;
    let nobody = s.b.1 + 100_000;
    let yanbian = app.as_user("cw2224", &[Role::Caseworker], "2224").await;

    let outside = yanbian.get(&history_path(s.b.1)).await;
    let missing = yanbian.get(&history_path(nobody)).await;
    outside.assert_status(StatusCode::NOT_FOUND);
    missing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(outside.error_code(), "not_found");
    assert_eq!(without(&outside, s.b.1), without(&missing, nobody));
    // By ID number too: the same answer as a number nobody has.
    let stranger = id_number("220102", "19700101", 99);
    let by_number = yanbian.get(&history_path(&s.b.0)).await;
    let no_number = yanbian.get(&history_path(&stranger)).await;
    assert_eq!(by_number.status, StatusCode::NOT_FOUND);
    let masked = |n: &str| format!("{}********{}", &n[..6], &n[14..]);
    assert_eq!(
        body(&by_number).replace(&masked(&s.b.0), "{n}"),
        body(&no_number).replace(&masked(&stranger), "{n}")
    );

    // The page, likewise.
    let page_outside = yanbian
        .get(&format!("/persons/{}/roster-history", s.b.1))
        .await;
    let page_missing = yanbian
        .get(&format!("/persons/{nobody}/roster-history"))
        .await;
    page_outside.assert_status(StatusCode::NOT_FOUND);
    page_missing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        without(&page_outside, s.b.1),
        without(&page_missing, nobody)
    );
    assert!(!body(&page_outside).contains("乙"));

    // Roles that do not read rosters are refused before any look-up.
    let manager = app.as_role(Role::Manager).await;
    manager
        .get(&history_path(s.b.1))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    manager
        .get(&format!("/persons/{}/roster-history", s.b.1))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

db_test!(every_read_of_the_history_is_in_the_access_log);
async fn every_read_of_the_history_is_in_the_access_log(app: TestApp) {
    let s = story(&app).await;
    let worker = app.as_role(Role::Caseworker).await;
    let admin = app.as_user("jilin_admin", &[Role::Admin], "22").await;
    worker
        .get(&history_path(s.b.1))
        .await
        .assert_status(StatusCode::OK);
    worker
        .get(&format!("/persons/{}/roster-history", s.b.1))
        .await
        .assert_status(StatusCode::OK);
    // A refused look-up showed nothing of b, and reads nobody's data.
    let yanbian = app.as_user("cw2224", &[Role::Caseworker], "2224").await;
    yanbian
        .get(&history_path(s.b.1))
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let log = admin
        .get(&format!("/api/v1/access-log?person_id={}", s.b.1))
        .await;
    log.assert_status(StatusCode::OK);
    let log = log.json();
    let items = log["items"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap(),
                i["route"].as_str().unwrap(),
                i["username"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "roster.history",
                "/persons/{person_id}/roster-history",
                "caseworker"
            ),
            (
                "roster.history",
                "/api/v1/persons/{person}/roster-history",
                "caseworker"
            ),
        ],
        "{log}"
    );
    // The administrators' page names the kind of read.
    let page = admin
        .get(&format!("/admin/access-log?person_id={}", s.b.1))
        .await;
    page.assert_status(StatusCode::OK);
    assert!(body(&page).contains("<td>名册记录</td>"), "{}", body(&page));
}

/// Whether `s` holds a run of at least 15 digits: a whole ID number (or most of one).
fn has_long_number(s: &str) -> bool {
    let mut run = 0;
    for ch in s.chars() {
        run = if ch.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 15 {
            return true;
        }
    }
    false
}

db_test!(the_page_shows_each_entry_with_its_imports_and_no_whole_id_number);
async fn the_page_shows_each_entry_with_its_imports_and_no_whole_id_number(app: TestApp) {
    let s = story(&app).await;
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker
        .get(&format!("/persons/{}/roster-history", s.b.1))
        .await;
    res.assert_status(StatusCode::OK);
    let page = body(&res);
    for expected in [
        "<h1>名册记录</h1>",
        "纳入日期",
        "终止日期",
        "导入批次",
        "上传人",
        "nanguan_jan.csv",
        "nanguan_jul.csv",
        "roster_importer",
        "changchun_clerk",
        "2020-06-30",
        "全量导入",
        "城市低保",
        "家庭人口",
        "启用人",
        "second-importer",
        "变更记录",
        "<del>2019-01-01 ~  · 长春市 南关区 · 乙</del> → 2019-01-01 ~ 2020-06-30 · 长春市 南关区 · 乙",
    ] {
        assert!(page.contains(expected), "no {expected}: {page}");
    }
    assert!(!page.contains(&s.b.0), "the whole ID number is on the page");
    assert!(
        !has_long_number(&page),
        "a long number is on the page: {page}"
    );
    // A caseworker cannot open the imports' pages: no link to them.
    assert!(
        !page.contains(&format!("href=\"/roster/imports/{}\"", s.january)),
        "{page}"
    );

    // A clerk can, and sees the links.
    let clerk = app.as_role(Role::RosterImporter).await;
    let theirs = body(
        &clerk
            .get(&format!("/persons/{}/roster-history", s.b.1))
            .await,
    );
    assert!(
        theirs.contains(&format!("href=\"/roster/imports/{}\"", s.january)),
        "{theirs}"
    );
    assert!(
        theirs.contains(&format!("href=\"/roster/imports/{}\"", s.july)),
        "{theirs}"
    );

    // In English.
    let en = worker
        .call(Method::GET, &format!("/persons/{}/roster-history", s.b.1))
        .header("cookie", "lang=en")
        .send()
        .await;
    assert!(
        body(&en).contains("Roster history") && body(&en).contains("Covered from"),
        "{}",
        body(&en)
    );

    // Not a record id: no page, and what was typed is not echoed.
    let typed = worker
        .get(&format!("/persons/{}/roster-history", s.b.0))
        .await;
    typed.assert_status(StatusCode::NOT_FOUND);
    assert!(!body(&typed).contains(&s.b.0), "{}", body(&typed));
}

db_test!(the_eligibility_result_and_the_case_page_link_to_the_history);
async fn the_eligibility_result_and_the_case_page_link_to_the_history(app: TestApp) {
    let s = story(&app).await;
    let worker = app.as_role(Role::Caseworker).await;
    let checked = worker
        .call(Method::POST, "/eligibility")
        .raw(
            "application/x-www-form-urlencoded",
            format!("id_number={}", s.c.0),
        )
        .send()
        .await;
    checked.assert_status(StatusCode::OK);
    assert!(
        body(&checked).contains(&format!("href=\"/persons/{}/roster-history\"", s.c.1)),
        "{}",
        body(&checked)
    );

    let by = recorder(&app).await;
    let (pid, case_id) = person_with_case(
        &app.db,
        id_number("220102", "19800101", 44),
        "丁".into(),
        "220102",
        2026,
        by,
    )
    .await;
    let case = worker.get(&format!("/cases/{case_id}")).await;
    case.assert_status(StatusCode::OK);
    assert!(
        body(&case).contains(&format!("href=\"/persons/{pid}/roster-history\"")),
        "{}",
        body(&case)
    );
    let value: Value = worker.get(&history_path(pid)).await.json();
    assert_eq!(
        value["entries"],
        json!([]),
        "a person on no roster has an empty history"
    );
}
