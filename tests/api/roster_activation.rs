//! The two steps of an import: an upload is validated into a plan and changes nothing; the
//! plan is read (three lists, paged and as CSV) and activated, by a second person when it is
//! destructive (`CANCER_AID_IMPORT_APPROVAL`); a plan made against a roster that changed since
//! is validated again first; a validated import can be discarded, and expires when left alone.

use axum::http::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use cancer_aid::roster::approval::Approval;
use entity::{roster_entry, roster_import, roster_import_row};

use crate::db_test;
use crate::fixtures::people::id_number;
use crate::helpers::{Client, TestApp, spawn_app_with};

/// A CSV of (ID number, name, start) rows of 城市低保 in 220102.
fn csv(people: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut s = String::from("身份证号码,姓名,区划代码,保障起始日期\n");
    for (idn, name, from) in people {
        s.push_str(&format!("{idn},{name},220102,{from}\n"));
    }
    s.into_bytes()
}

/// Uploads and waits for the validation; answers the validated import.
async fn validate(client: &Client<'_>, mode: &str, date: &str, name: &str, body: &[u8]) -> Value {
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("mode", mode),
        ("effective_date", date),
    ];
    let res = client
        .upload("/api/v1/roster-imports", &fields, name, body)
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let v = client
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    assert_eq!(v["status"], "validated", "{v}");
    v
}

async fn activate(client: &Client<'_>, import: &Value) -> crate::helpers::TestResponse {
    client
        .post(
            &format!("/api/v1/roster-imports/{}/activate", import["id"]),
            &json!({"version": import["version"]}),
        )
        .await
}

async fn entries(app: &TestApp) -> u64 {
    roster_entry::Entity::find().count(&app.db).await.unwrap()
}

fn people(n: u32) -> Vec<String> {
    (1..=n)
        .map(|i| id_number("220102", "19600101", i))
        .collect()
}

db_test!(an_upload_changes_nothing_until_it_is_activated);
async fn an_upload_changes_nothing_until_it_is_activated(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(3);
    let rows: Vec<(&str, &str, &str)> = vec![
        (ids[0].as_str(), "甲", "2019-01-01"),
        (ids[1].as_str(), "乙", "2019-01-01"),
        (ids[2].as_str(), "丙", "2019-01-01"),
        ("220102196001010000", "坏号", "2019-01-01"),
    ];
    let v = validate(&clerk, "incremental", "2020-01-01", "a.csv", &csv(&rows)).await;
    let c = &v["counts"];
    assert_eq!(
        (
            c["rows"].as_i64(),
            c["accepted"].as_i64(),
            c["rejected"].as_i64(),
            c["added"].as_i64(),
            c["updated"].as_i64(),
            c["ended"].as_i64(),
            c["unchanged"].as_i64()
        ),
        (
            Some(4),
            Some(3),
            Some(1),
            Some(3),
            Some(0),
            Some(0),
            Some(0)
        ),
        "{v}"
    );
    assert_eq!(entries(&app).await, 0, "validation changes nothing");
    let caseworker = app.as_role(Role::Caseworker).await;
    let res = caseworker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": ids[0], "diagnosis": "C50.9"}),
        )
        .await;
    assert_ne!(
        res.json()["eligible"],
        true,
        "not on the roster yet: {}",
        res.json()
    );

    // The lists: paged JSON and the whole list as CSV.
    let page = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added&per_page=2",
            v["id"]
        ))
        .await;
    page.assert_status(StatusCode::OK);
    let page = page.json();
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 2),
        "{page}"
    );
    assert_eq!(page["items"][0]["id_number"], ids[0].as_str());
    assert_eq!(page["items"][0]["valid_from"], "2019-01-01");
    assert_eq!(page["items"][0]["row"], 2);
    // Per sheet: a CSV is one sheet; another name lists no one.
    let sheet = v["sheets"][0]["name"].as_str().unwrap().to_owned();
    let this = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added&sheet={sheet}",
            v["id"]
        ))
        .await
        .json();
    let other = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added&sheet=%E5%85%B6%E4%BB%96",
            v["id"]
        ))
        .await
        .json();
    assert_eq!(
        (this["total"].as_u64(), other["total"].as_u64()),
        (Some(3), Some(0)),
        "{this} {other}"
    );
    // Outside the reader's region the import does not exist.
    let yanbian = app
        .as_user("yanbian-reader", &[Role::RosterImporter], "2224")
        .await;
    yanbian
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added",
            v["id"]
        ))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let file = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added&format=csv",
            v["id"]
        ))
        .await;
    file.assert_status(StatusCode::OK);
    let text = String::from_utf8(file.body.clone()).unwrap();
    assert!(
        text.starts_with('\u{feff}') && text.contains("身份证号码"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "a header and three people: {text}");
    let res = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=everyone",
            v["id"]
        ))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "kind");

    // An activation must name the version it saw.
    let res = clerk
        .post(
            &format!("/api/v1/roster-imports/{}/activate", v["id"]),
            &json!({"version": 1}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "version_conflict");
    assert_eq!(res.json()["error"]["current_version"], v["version"]);

    // Incremental, nobody ended: the uploader activates it alone.
    let res = activate(&clerk, &v).await;
    res.assert_status(StatusCode::OK);
    let done = res.json();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(
        done["activated_at"].is_string() && done["activated_by"].is_number(),
        "{done}"
    );
    assert_eq!(entries(&app).await, 3);
    let res = caseworker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": ids[0], "diagnosis": "C50.9"}),
        )
        .await;
    assert_eq!(res.json()["eligible"], true, "{}", res.json());
    // Activated once only.
    let res = activate(&clerk, &done).await;
    assert_eq!(res.error_code(), "import_not_validated");
    let audit = app
        .as_role(Role::Manager)
        .await
        .get("/api/v1/audit?action=roster_import.activate")
        .await
        .json();
    assert_eq!(
        audit["items"][0]["entity_id"],
        v["id"].to_string(),
        "{audit}"
    );
    // The lists stay: now what the import did.
    let page = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added",
            v["id"]
        ))
        .await
        .json();
    assert_eq!(page["total"], 3);
}

db_test!(a_changed_entry_is_shown_before_and_after_and_an_ended_one_needs_a_second_person);
async fn a_changed_entry_is_shown_before_and_after_and_an_ended_one_needs_a_second_person(
    app: TestApp,
) {
    let clerk = app
        .as_user("county-clerk", &[Role::RosterImporter], "220102")
        .await;
    let ids = people(3);
    let first: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|i| (i.as_str(), "某人", "2019-01-01"))
        .collect();
    let v = validate(
        &clerk,
        "incremental",
        "2020-01-01",
        "first.csv",
        &csv(&first),
    )
    .await;
    activate(&clerk, &v).await.assert_status(StatusCode::OK);

    // Full: the first renamed and moved to 2020-03-01, the second as it was, the third gone.
    let second: Vec<(&str, &str, &str)> = vec![
        (ids[0].as_str(), "改名", "2020-03-01"),
        (ids[1].as_str(), "某人", "2019-01-01"),
    ];
    let v = validate(&clerk, "full", "2020-07-01", "second.csv", &csv(&second)).await;
    let c = &v["counts"];
    assert_eq!(
        (
            c["updated"].as_i64(),
            c["unchanged"].as_i64(),
            c["ended"].as_i64(),
            v["covered"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(3)),
        "{v}"
    );
    let changed = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=updated",
            v["id"]
        ))
        .await
        .json();
    let item = &changed["items"][0];
    assert_eq!(
        (item["name"].as_str(), item["valid_from"].as_str()),
        (Some("改名"), Some("2020-03-01")),
        "{changed}"
    );
    assert_eq!(
        (
            item["before"]["name"].as_str(),
            item["before"]["valid_from"].as_str()
        ),
        (Some("某人"), Some("2019-01-01")),
        "{changed}"
    );
    let ended = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=ended",
            v["id"]
        ))
        .await
        .json();
    assert_eq!(
        (
            ended["total"].as_u64(),
            ended["items"][0]["id_number"].as_str()
        ),
        (Some(1), Some(ids[2].as_str())),
        "{ended}"
    );

    // Someone is ended: not by the uploader, not by a clerk of another county, but by a
    // second person whose scope covers the import.
    let res = activate(&clerk, &v).await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("另一位"),
        "{}",
        res.json()
    );
    let yanbian = app
        .as_user("yanbian-clerk", &[Role::RosterImporter], "2224")
        .await;
    activate(&yanbian, &v)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let caseworker = app
        .as_user("city-caseworker", &[Role::Caseworker], "2201")
        .await;
    activate(&caseworker, &v)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let city = app
        .as_user("city-clerk", &[Role::RosterImporter], "2201")
        .await;
    let res = activate(&city, &v).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["status"], "succeeded");
    let all = roster_entry::Entity::find().all(&app.db).await.unwrap();
    let renamed = all
        .iter()
        .find(|e| e.name_on_roster == "改名")
        .expect("renamed");
    assert_eq!(renamed.valid_from.to_string(), "2020-03-01");
    assert_eq!(
        all.iter()
            .filter(|e| e.valid_to.map(|d| d.to_string()) == Some("2020-06-30".into()))
            .count(),
        1,
        "{all:?}"
    );
    // Kept for a revert: the revert by another person puts it all back.
    let res = app
        .as_role(Role::RosterImporter)
        .await
        .post(
            &format!("/api/v1/roster-imports/{}/revert", v["id"]),
            &json!({}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    let all = roster_entry::Entity::find().all(&app.db).await.unwrap();
    assert!(
        all.iter()
            .all(|e| e.name_on_roster == "某人" && e.valid_to.is_none()),
        "{all:?}"
    );
}

db_test!(a_plan_made_before_another_activation_is_validated_again);
async fn a_plan_made_before_another_activation_is_validated_again(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(2);
    let a = validate(
        &clerk,
        "incremental",
        "2020-01-01",
        "a.csv",
        &csv(&[(ids[0].as_str(), "甲", "2019-01-01")]),
    )
    .await;
    let both = csv(&[
        (ids[0].as_str(), "甲", "2019-01-01"),
        (ids[1].as_str(), "乙", "2019-01-01"),
    ]);
    let b = validate(&clerk, "incremental", "2020-01-01", "b.csv", &both).await;
    assert_eq!(b["counts"]["added"], 2, "{b}");
    activate(&clerk, &a).await.assert_status(StatusCode::OK);

    // B was planned before A landed: it would add 甲 a second time. It is sent back.
    let res = activate(&clerk, &b).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "import_stale");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("重新校验"),
        "{}",
        res.json()
    );
    assert_eq!(entries(&app).await, 1, "nothing of B landed");
    let again = clerk.wait_validated(b["id"].as_i64().unwrap()).await;
    assert_eq!(
        (
            again["status"].as_str(),
            again["counts"]["added"].as_i64(),
            again["counts"]["unchanged"].as_i64()
        ),
        (Some("validated"), Some(1), Some(1)),
        "{again}"
    );
    assert!(again["version"].as_i64() > b["version"].as_i64());
    // The people covered in the scope, as each plan found them: none, then 甲.
    assert_eq!(
        (b["covered"].as_i64(), again["covered"].as_i64()),
        (Some(0), Some(1)),
        "{again}"
    );
    activate(&clerk, &again).await.assert_status(StatusCode::OK);
    assert_eq!(entries(&app).await, 2);
}

db_test!(two_activations_at_once_change_the_roster_once);
async fn two_activations_at_once_change_the_roster_once(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(1);
    let body = csv(&[(ids[0].as_str(), "甲", "2019-01-01")]);
    let a = validate(&clerk, "incremental", "2020-01-01", "a.csv", &body).await;
    let b = validate(&clerk, "incremental", "2020-02-01", "b.csv", &body).await;
    // The same import twice, and another of the same person, all at once.
    let (r1, r2, r3) = tokio::join!(
        activate(&clerk, &a),
        activate(&clerk, &a),
        activate(&clerk, &b)
    );
    let ok = [&r1, &r2, &r3]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(ok >= 1, "{} {} {}", r1.status, r2.status, r3.status);
    assert!(
        [&r1, &r2]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count()
            <= 1,
        "A activated once at most"
    );
    for r in [&r1, &r2, &r3] {
        assert!(
            r.status == StatusCode::OK
                || r.status == StatusCode::CONFLICT
                || r.status == StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            r.status
        );
    }
    // Whatever the order (B first sends A back to be validated again), and once both are
    // activated, the person has one entry.
    for v in [&a, &b] {
        clerk.wait_import(v["id"].as_i64().unwrap()).await;
    }
    assert_eq!(entries(&app).await, 1);
}

db_test!(a_validated_import_can_be_discarded_and_expires_when_left_alone);
async fn a_validated_import_can_be_discarded_and_expires_when_left_alone(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(2);
    let v = validate(
        &clerk,
        "incremental",
        "2020-01-01",
        "a.csv",
        &csv(&[(ids[0].as_str(), "甲", "2019-01-01")]),
    )
    .await;
    let staged = || async {
        roster_import_row::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(staged().await, 1);
    let res = clerk
        .post(
            &format!("/api/v1/roster-imports/{}/discard", v["id"]),
            &json!({"version": v["version"]}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    let gone = res.json();
    assert_eq!(gone["status"], "discarded");
    assert_eq!(staged().await, 0, "the plan goes with it");
    let res = activate(&clerk, &gone).await;
    assert_eq!(res.error_code(), "import_not_validated");
    assert_eq!(entries(&app).await, 0);

    // Left alone past CANCER_AID_IMPORT_VALIDATED_HOURS (72): expired, by the sweep or at
    // the activation.
    let old = chrono::Utc::now() - chrono::Duration::hours(73);
    let mut imports = Vec::new();
    for name in ["b.csv", "c.csv"] {
        let v = validate(
            &clerk,
            "incremental",
            "2020-01-01",
            name,
            &csv(&[(ids[1].as_str(), "乙", "2019-01-01")]),
        )
        .await;
        let mut m = roster_import::Entity::find_by_id(v["id"].as_i64().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        m.validated_at = Set(Some(old));
        m.update(&app.db).await.unwrap();
        imports.push(v);
    }
    // The service's worker may expire them first; either way, nothing is activated.
    let res = activate(&clerk, &imports[0]).await;
    res.assert_status(StatusCode::CONFLICT);
    if res.error_code() == "import_expired" {
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("72"),
            "{}",
            res.json()
        );
    } else {
        assert_eq!(res.json()["error"]["state"], "expired", "{}", res.json());
    }
    cancer_aid::roster::activate::expire_stale(&app.db, &app.state.settings, app.state.clock.now())
        .await
        .unwrap();
    for v in &imports {
        let now = clerk
            .get(&format!("/api/v1/roster-imports/{}", v["id"]))
            .await
            .json();
        assert_eq!(now["status"], "expired", "{now}");
    }
    assert_eq!((entries(&app).await, staged().await), (0, 0));
}

db_test!(the_upload_can_ask_to_activate_at_once_where_the_uploader_alone_may);
async fn the_upload_can_ask_to_activate_at_once_where_the_uploader_alone_may(app: TestApp) {
    let clerk = app
        .as_user("county-clerk", &[Role::RosterImporter], "220102")
        .await;
    let ids = people(2);
    let fields = |mode: &'static str, date: &'static str| {
        vec![
            ("group", "城市低保"),
            ("region_code", "220102"),
            ("mode", mode),
            ("effective_date", date),
            ("activate", "true"),
        ]
    };
    let both = csv(&[
        (ids[0].as_str(), "甲", "2019-01-01"),
        (ids[1].as_str(), "乙", "2019-01-01"),
    ]);
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &fields("incremental", "2020-01-01"),
            "a.csv",
            &both,
        )
        .await;
    let id = res.json()["id"].as_i64().unwrap();
    let mut v = clerk.wait_validated(id).await;
    for _ in 0..100 {
        if v["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        v = clerk
            .get(&format!("/api/v1/roster-imports/{id}"))
            .await
            .json();
    }
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(entries(&app).await, 2);
    // A full import that ends someone waits for a second person, asked or not.
    let one = csv(&[(ids[0].as_str(), "甲", "2019-01-01")]);
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &fields("full", "2020-07-01"),
            "b.csv",
            &one,
        )
        .await;
    let v = clerk
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let v = clerk
        .get(&format!("/api/v1/roster-imports/{}", v["id"]))
        .await
        .json();
    assert_eq!(v["status"], "validated", "{v}");
    let open = roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.valid_to.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(open, 2);
}

/// The branch's rule, on both databases.
async fn with_rule(backend: crate::helpers::Backend, rule: Approval) -> Option<TestApp> {
    spawn_app_with(backend, |s| s.import_approval = rule).await
}

async fn check_rules(backend: crate::helpers::Backend) {
    let Some(app) = with_rule(backend, Approval::Always).await else {
        return;
    };
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(1);
    let v = validate(
        &clerk,
        "incremental",
        "2020-01-01",
        "a.csv",
        &csv(&[(ids[0].as_str(), "甲", "2019-01-01")]),
    )
    .await;
    activate(&clerk, &v)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let admin = app.as_role(Role::Admin).await;
    activate(&admin, &v).await.assert_status(StatusCode::OK);

    let Some(app) = with_rule(backend, Approval::Never).await else {
        return;
    };
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(3);
    let three: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|i| (i.as_str(), "某人", "2019-01-01"))
        .collect();
    let v = validate(&clerk, "incremental", "2020-01-01", "a.csv", &csv(&three)).await;
    activate(&clerk, &v).await.assert_status(StatusCode::OK);
    // One of three ended by the uploader alone: allowed under `never`.
    let v = validate(&clerk, "full", "2020-07-01", "b.csv", &csv(&three[..2])).await;
    assert_eq!(v["counts"]["ended"], 1);
    activate(&clerk, &v).await.assert_status(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_branch_rule_says_who_activates_sqlite() {
    check_rules(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_branch_rule_says_who_activates_postgres() {
    check_rules(crate::helpers::Backend::Postgres).await;
}

db_test!(a_column_read_wrongly_is_corrected_and_the_stored_file_validated_again);
async fn a_column_read_wrongly_is_corrected_and_the_stored_file_validated_again(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(2);
    // 开始 alone names no field: the dates are kept as extra data, and coverage would
    // start on the effective date.
    let csv = format!(
        "身份证号码,姓名,区划代码,开始\n{},甲,220102,2018-05-01\n{},乙,220102,2018-06-01\n",
        ids[0], ids[1]
    );
    let v = validate(&clerk, "incremental", "2020-01-01", "a.csv", csv.as_bytes()).await;
    let added = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added",
            v["id"]
        ))
        .await
        .json();
    assert_eq!(added["items"][0]["valid_from"], "2020-01-01", "{added}");
    let sheet = v["sheets"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(v["sheets"][0]["columns"][3]["letter"], "D");

    let path = format!("/api/v1/roster-imports/{}/columns", v["id"]);
    // Bad corrections are refused on their field and change nothing.
    for (body, field) in [
        (
            json!({"version": v["version"], "sheet": sheet, "column": "D", "field": "birthday"}),
            "field",
        ),
        (
            json!({"version": v["version"], "sheet": sheet, "column": "4", "field": "valid_from"}),
            "column",
        ),
        (
            json!({"version": v["version"], "sheet": sheet, "column": "H", "field": "valid_from"}),
            "column",
        ),
        (
            json!({"version": v["version"], "sheet": "其他", "column": "D", "field": "valid_from"}),
            "sheet",
        ),
    ] {
        let res = clerk.post(&path, &body).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            res.json()["error"]["details"][0]["field"],
            field,
            "{}",
            res.json()
        );
    }
    let res = clerk
        .post(
            &path,
            &json!({"version": 1, "sheet": sheet, "column": "D", "field": "valid_from"}),
        )
        .await;
    assert_eq!(res.error_code(), "version_conflict");

    let res = clerk
        .post(
            &path,
            &json!({"version": v["version"], "sheet": sheet, "column": "D", "field": "valid_from"}),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    assert_eq!(res.json()["status"], "queued");
    let again = clerk.wait_validated(v["id"].as_i64().unwrap()).await;
    assert_eq!(again["status"], "validated", "{again}");
    assert_eq!(
        again["column_mapping"][&sheet]["D"], "valid_from",
        "{again}"
    );
    assert_eq!(
        again["sheets"][0]["columns"][3]["field"], "valid_from",
        "{again}"
    );
    let added = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/changes?kind=added",
            v["id"]
        ))
        .await
        .json();
    assert_eq!(
        (
            added["total"].as_u64(),
            added["items"][0]["valid_from"].as_str()
        ),
        (Some(2), Some("2018-05-01")),
        "{added}"
    );
    let audit = app
        .as_role(Role::Manager)
        .await
        .get("/api/v1/audit?action=roster_import.remap")
        .await
        .json();
    assert_eq!(
        (
            audit["items"][0]["after"]["header"].as_str(),
            audit["items"][0]["after"]["field"].as_str()
        ),
        (Some("开始"), Some("valid_from")),
        "{audit}"
    );
    activate(&clerk, &again).await.assert_status(StatusCode::OK);
    let entries = roster_entry::Entity::find().all(&app.db).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.valid_from.to_string() == "2018-05-01"),
        "{entries:?}"
    );

    // Two columns that claim the ID number fail the import; reading one as nothing mends it.
    let both = format!(
        "身份证号码,公民身份号码,姓名,区划代码\n{},{},丙,220102\n",
        ids[0], ids[0]
    );
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("effective_date", "2020-01-01"),
    ];
    let res = clerk
        .upload("/api/v1/roster-imports", &fields, "b.csv", both.as_bytes())
        .await;
    let failed = clerk
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let sheet = failed["sheets"][0]["name"].as_str().unwrap().to_owned();
    let res = clerk
        .post(
            &format!("/api/v1/roster-imports/{}/columns", failed["id"]),
            &json!({"version": failed["version"], "sheet": sheet, "column": "B"}),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let mended = clerk.wait_validated(failed["id"].as_i64().unwrap()).await;
    assert_eq!(
        (
            mended["status"].as_str(),
            mended["counts"]["accepted"].as_i64()
        ),
        (Some("validated"), Some(1)),
        "{mended}"
    );
    assert!(mended["column_mapping"][&sheet]["B"].is_null(), "{mended}");
}

db_test!(a_new_person_listed_in_two_groups_is_created_once_with_the_latest_name);
async fn a_new_person_listed_in_two_groups_is_created_once_with_the_latest_name(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(2);
    let file = format!(
        "身份证号码,姓名,区划代码,救助类别\n{a},甲,220102,城市低保\n{b},乙,220102,城市低保\n{a},甲二,220103,特困人员\n",
        a = ids[0],
        b = ids[1]
    );
    let fields = [("effective_date", "2020-01-01")];
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &fields,
            "two-groups.csv",
            file.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let v = clerk
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    assert_eq!(v["counts"]["added"], 3, "{v}");
    activate(&clerk, &v).await.assert_status(StatusCode::OK);
    let people = entity::person::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(people.len(), 2, "{people:?}");
    let a = people.iter().find(|p| p.id_number == ids[0]).unwrap();
    assert_eq!(
        (a.name.as_str(), a.region_code.as_str()),
        ("甲二", "220103")
    );
    let mine = roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.person_id.eq(a.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(mine, 2);
    // Those added later get ids after them.
    let more = csv(&[(
        id_number("220102", "19700101", 9).as_str(),
        "丙",
        "2019-01-01",
    )]);
    let v = validate(&clerk, "incremental", "2020-02-01", "more.csv", &more).await;
    activate(&clerk, &v).await.assert_status(StatusCode::OK);
    assert_eq!(
        entity::person::Entity::find().count(&app.db).await.unwrap(),
        3
    );
}

db_test!(a_revert_sends_a_plan_made_before_it_back_to_validation);
async fn a_revert_sends_a_plan_made_before_it_back_to_validation(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let ids = people(2);
    let first = validate(
        &clerk,
        "incremental",
        "2020-01-01",
        "a.csv",
        &csv(&[(ids[0].as_str(), "甲", "2019-01-01")]),
    )
    .await;
    activate(&clerk, &first).await.assert_status(StatusCode::OK);
    // Planned while 甲's entry is there: it would change it.
    let later = validate(
        &clerk,
        "incremental",
        "2020-02-01",
        "b.csv",
        &csv(&[(ids[0].as_str(), "甲改", "2019-01-01")]),
    )
    .await;
    assert_eq!(later["counts"]["updated"], 1, "{later}");
    let other = app
        .as_user("another-importer", &[Role::RosterImporter], "22")
        .await;
    other
        .post(
            &format!("/api/v1/roster-imports/{}/revert", first["id"]),
            &json!({}),
        )
        .await
        .assert_status(StatusCode::OK);
    // The revert voided that entry: the plan is made again before anything lands.
    // (It changes all of its scope: a second person activates it.)
    let res = activate(&other, &later).await;
    assert_eq!(res.error_code(), "import_stale", "{}", res.json());
    let again = clerk.wait_validated(later["id"].as_i64().unwrap()).await;
    assert_eq!(again["status"], "validated", "{again}");
    let res = activate(&other, &again).await;
    res.assert_status(StatusCode::OK);
}

db_test!(whoever_corrects_the_reading_is_a_maker_of_the_new_plan);
async fn whoever_corrects_the_reading_is_a_maker_of_the_new_plan(app: TestApp) {
    let uploader = app
        .as_user("county-uploader", &[Role::RosterImporter], "220102")
        .await;
    let ids = people(3);
    let three: Vec<(&str, &str, &str)> = ids
        .iter()
        .map(|i| (i.as_str(), "某人", "2019-01-01"))
        .collect();
    let v = validate(
        &uploader,
        "incremental",
        "2020-01-01",
        "a.csv",
        &csv(&three),
    )
    .await;
    activate(&uploader, &v).await.assert_status(StatusCode::OK);
    // A full import listing two of three ends one: a second person activates it. The
    // uploader asked for one step and gave a reason at upload.
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("mode", "full"),
        ("effective_date", "2020-07-01"),
        ("activate", "true"),
        ("confirm_full_replace", "true"),
        ("reason", "两户迁出本区"),
    ];
    let res = uploader
        .upload(
            "/api/v1/roster-imports",
            &fields,
            "b.csv",
            &csv(&three[..2]),
        )
        .await;
    let v = uploader
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    assert_eq!(v["status"], "validated", "{v}");
    // A city clerk corrects a column: the new plan is no longer the uploader's alone.
    let corrector = app
        .as_user("city-corrector", &[Role::RosterImporter], "2201")
        .await;
    let sheet = v["sheets"][0]["name"].as_str().unwrap().to_owned();
    let res = corrector
        .post(
            &format!("/api/v1/roster-imports/{}/columns", v["id"]),
            &json!({"version": v["version"], "sheet": sheet, "column": "D", "field": "valid_from"}),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let again = uploader.wait_validated(v["id"].as_i64().unwrap()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = uploader
        .get(&format!("/api/v1/roster-imports/{}", again["id"]))
        .await
        .json();
    assert_eq!(
        again["status"], "validated",
        "no one-step activation of a plan nobody saw: {again}"
    );
    // Neither the uploader nor the corrector activates it; a third person does.
    activate(&uploader, &again)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    activate(&corrector, &again)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let third = app.as_role(Role::Admin).await;
    activate(&third, &again).await.assert_status(StatusCode::OK);
}
