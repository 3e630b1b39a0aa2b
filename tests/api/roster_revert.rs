//! Reverting an import: by a second person, only while no later import touched the same
//! entries; entries it added end before they began, entries it changed or ended get their
//! earlier values back, and the entries' past is kept.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use cancer_aid::domain::Role;
use entity::{person, roster_entry, roster_entry_change};

use crate::db_test;
use crate::fixtures::people::id_number;
use crate::helpers::{Client, TestApp};

fn csv(people: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from("身份证号码,姓名,区划代码,保障起始日期\n");
    for (idn, name) in people {
        s.push_str(&format!("{idn},{name},220102,2019-01-01\n"));
    }
    s.into_bytes()
}

async fn import(
    client: &Client<'_>,
    mode: &str,
    date: &str,
    name: &str,
    people: &[(&str, &str)],
) -> Value {
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("mode", mode),
        ("effective_date", date),
    ];
    let res = client
        .upload("/api/v1/roster-imports", &fields, name, &csv(people))
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let done = client.wait_import(res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

/// (name on roster, valid_to) of the person's only entry.
async fn entry(app: &TestApp, idn: &str) -> (String, Option<String>, bool) {
    let p = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(idn))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let e = roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.person_id.eq(p.id))
        .order_by_asc(roster_entry::COLUMN.id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(e.len(), 1, "{e:?}");
    let covers = e[0].valid_to.is_none_or(|t| t >= e[0].valid_from);
    (
        e[0].name_on_roster.clone(),
        e[0].valid_to.map(|d| d.to_string()),
        covers,
    )
}

db_test!(a_second_person_reverts_an_import_while_nothing_later_touched_its_entries);
async fn a_second_person_reverts_an_import_while_nothing_later_touched_its_entries(app: TestApp) {
    let maker = app
        .as_user("clerk_li", &[Role::RosterImporter], "2201")
        .await;
    let checker = app
        .as_user("clerk_wang", &[Role::RosterImporter], "2201")
        .await;
    let (a, b, c, d) = (
        id_number("220102", "19600101", 1),
        id_number("220102", "19600101", 2),
        id_number("220102", "19600101", 3),
        id_number("220102", "19600101", 4),
    );
    let first = import(
        &maker,
        "incremental",
        "2020-01-01",
        "jan.csv",
        &[(&a, "张一"), (&b, "张二"), (&c, "张三")],
    )
    .await;
    // July: a renamed, b gone (ended), c as it was, d new.
    let july = import(
        &maker,
        "full",
        "2020-07-01",
        "jul.csv",
        &[(&a, "张壹"), (&c, "张三"), (&d, "张四")],
    )
    .await;
    assert_eq!(
        (
            july["counts"]["added"].as_i64(),
            july["counts"]["updated"].as_i64(),
            july["counts"]["ended"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{july}"
    );
    let july_id = july["id"].as_i64().unwrap();
    let revert = |id: i64| format!("/api/v1/roster-imports/{id}/revert");

    // Not by its own uploader.
    let own = maker.post(&revert(july_id), &serde_json::json!({})).await;
    own.assert_status(StatusCode::FORBIDDEN);
    assert!(
        own.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("另一位"),
        "{}",
        own.json()
    );
    // Not by someone who cannot see it (another county): as if it did not exist.
    let yanbian = app
        .as_user("clerk_yanbian", &[Role::RosterImporter], "2224")
        .await;
    let hidden = yanbian.post(&revert(july_id), &serde_json::json!({})).await;
    hidden.assert_status(StatusCode::NOT_FOUND);
    let missing = yanbian.post(&revert(999_999), &serde_json::json!({})).await;
    assert_eq!(
        hidden.json()["error"]["code"],
        missing.json()["error"]["code"]
    );
    missing.assert_status(StatusCode::NOT_FOUND);
    // The January import cannot go back first: July changed its entries.
    let superseded = checker
        .post(
            &revert(first["id"].as_i64().unwrap()),
            &serde_json::json!({}),
        )
        .await;
    superseded.assert_status(StatusCode::CONFLICT);
    assert_eq!(
        superseded.json()["error"]["code"],
        "import_superseded",
        "{}",
        superseded.json()
    );
    assert!(
        superseded.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("#{july_id}"))
    );

    // The second clerk reverts July.
    let done = checker.post(&revert(july_id), &serde_json::json!({})).await;
    done.assert_status(StatusCode::OK);
    assert!(done.json()["reverted_at"].is_string(), "{}", done.json());
    assert_eq!(
        entry(&app, &a).await,
        ("张一".to_owned(), None, true),
        "a's name is back"
    );
    assert_eq!(
        entry(&app, &b).await,
        ("张二".to_owned(), None, true),
        "b is covered again"
    );
    assert_eq!(entry(&app, &c).await, ("张三".to_owned(), None, true));
    let (_, _, d_covers) = entry(&app, &d).await;
    assert!(!d_covers, "the entry July added never covered anyone");
    // Nothing was deleted: the July values are kept as the entries' past.
    let kept = roster_entry_change::Entity::find()
        .filter(roster_entry_change::COLUMN.import_id.eq(july_id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        kept.iter()
            .any(|k| k.kind == "reverted" && k.name_on_roster == "张壹"),
        "{kept:?}"
    );
    let audit = app
        .as_role(Role::Manager)
        .await
        .get("/api/v1/audit?action=roster_import.revert")
        .await
        .json();
    assert_eq!(
        audit["items"][0]["entity_id"],
        july_id.to_string(),
        "{audit}"
    );
    assert_eq!(audit["items"][0]["actor"], "clerk_wang", "{audit}");

    // Once only.
    let again = checker.post(&revert(july_id), &serde_json::json!({})).await;
    assert_eq!(
        again.json()["error"]["code"],
        "import_already_reverted",
        "{}",
        again.json()
    );
    // With July reverted, January can go back too: its three entries end before they began.
    let jan = checker
        .post(
            &revert(first["id"].as_i64().unwrap()),
            &serde_json::json!({}),
        )
        .await;
    jan.assert_status(StatusCode::OK);
    for p in [&a, &b, &c] {
        assert!(!entry(&app, p).await.2, "{p}");
    }
}

db_test!(the_import_page_offers_the_revert_to_a_second_person_only);
async fn the_import_page_offers_the_revert_to_a_second_person_only(app: TestApp) {
    let maker = app
        .as_user("clerk_li", &[Role::RosterImporter], "2201")
        .await;
    let checker = app
        .as_user("clerk_wang", &[Role::RosterImporter], "2201")
        .await;
    let a = id_number("220102", "19600101", 1);
    let done = import(
        &maker,
        "incremental",
        "2020-01-01",
        "jan.csv",
        &[(&a, "张一")],
    )
    .await;
    let page = format!("/roster/imports/{}", done["id"]);
    let html = |r: crate::helpers::TestResponse| String::from_utf8(r.body).unwrap();
    assert!(
        !html(maker.get(&page).await).contains("revert-form"),
        "not to the uploader"
    );
    let offered = html(checker.get(&page).await);
    assert!(
        offered.contains("revert-form") && offered.contains("撤销本次导入"),
        "{offered}"
    );
    checker
        .post(
            &format!("/api/v1/roster-imports/{}/revert", done["id"]),
            &serde_json::json!({}),
        )
        .await
        .assert_status(StatusCode::OK);
    let after = html(checker.get(&page).await);
    assert!(
        !after.contains("revert-form") && after.contains("id=\"reverted\""),
        "{after}"
    );
}

db_test!(a_later_change_left_only_on_the_entry_still_blocks_the_revert);
async fn a_later_change_left_only_on_the_entry_still_blocks_the_revert(app: TestApp) {
    use sea_orm::ConnectionTrait;
    let maker = app
        .as_user("clerk_li", &[Role::RosterImporter], "2201")
        .await;
    let checker = app
        .as_user("clerk_wang", &[Role::RosterImporter], "2201")
        .await;
    let a = id_number("220102", "19600101", 1);
    let first = import(
        &maker,
        "incremental",
        "2020-01-01",
        "jan.csv",
        &[(&a, "张一")],
    )
    .await;
    let later = import(
        &maker,
        "incremental",
        "2020-02-01",
        "feb.csv",
        &[(&id_number("220102", "19600101", 2), "张二")],
    )
    .await;
    // An import from before changes were kept names itself on the entry and nowhere else.
    app.db
        .execute_unprepared(&format!(
            "UPDATE roster_entries SET updated_by_import_id = {} WHERE created_by_import_id = {}",
            later["id"], first["id"]
        ))
        .await
        .unwrap();
    let res = checker
        .post(
            &format!("/api/v1/roster-imports/{}/revert", first["id"]),
            &serde_json::json!({}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(
        res.json()["error"]["code"],
        "import_superseded",
        "{}",
        res.json()
    );
    assert!(entry(&app, &a).await.2, "nothing was voided");
}
