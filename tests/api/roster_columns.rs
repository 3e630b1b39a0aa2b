//! Roster headers read by their meaning, on both databases: an unlisted spelling of the start
//! date is read as the start date, two columns claiming one field stop the import, a column of
//! dates under an unread header is pointed out, and every import says which column became what.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use cancer_aid::domain::Role;
use entity::{person, roster_entry};

use crate::db_test;
use crate::fixtures::id_number as id;
use crate::helpers::{Client, TestApp};

const FIELDS: [(&str, &str); 3] = [
    ("group", "城市低保"),
    ("region_code", "220102"),
    ("effective_date", "2021-01-01"),
];

async fn import(client: &Client<'_>, csv: &str) -> Value {
    let res = client
        .upload(
            "/api/v1/roster-imports",
            &FIELDS,
            "名册.csv",
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let id = res.json()["id"].as_i64().unwrap();
    client.wait_import(id).await
}

async fn valid_from_of(app: &TestApp, id_number: &str) -> Vec<String> {
    let Some(p) = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(id_number))
        .one(&app.db)
        .await
        .unwrap()
    else {
        return vec![];
    };
    roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.person_id.eq(p.id))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.valid_from.to_string())
        .collect()
}

db_test!(roster_start_date_under_an_unlisted_header_is_read);
async fn roster_start_date_under_an_unlisted_header_is_read(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let (a, b) = (id("220102", "19600101", 11), id("220102", "19610202", 22));
    let csv = format!(
        "序号,身份证号码,姓名,享受起始日期（年月日）,批复时点\n\
         1,{a},张甲,2020-06-15,2020-05-20\n\
         2,{b},李乙,2020-13-01,2020-05-21\n"
    );
    let done = import(&clerk, &csv).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        (
            done["counts"]["accepted"].as_i64(),
            done["counts"]["rejected"].as_i64()
        ),
        (Some(1), Some(1)),
        "{done}"
    );
    // The row's own date, not the upload's effective date.
    assert_eq!(valid_from_of(&app, &a).await, vec!["2020-06-15"]);
    assert!(valid_from_of(&app, &b).await.is_empty());

    let errors = clerk
        .get(&format!("/api/v1/roster-imports/{}/errors", done["id"]))
        .await
        .json();
    let e = &errors["items"][0];
    assert_eq!(
        (e["code"].as_str(), e["row"].as_i64()),
        (Some("invalid_date"), Some(3)),
        "{errors}"
    );
    assert_eq!(e["column"], "享受起始日期（年月日）");
    assert_eq!(e["value"], "2020-13-01");
    assert!(
        e["message"].as_str().unwrap().contains("不是有效日期"),
        "{e}"
    );

    // (d) Every column and what it became.
    let sheet = &done["sheets"][0];
    let columns: Vec<(String, Value, bool)> = sheet["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["column"].as_str().unwrap().to_owned(),
                c["field"].clone(),
                c["kept_as_extra"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        columns,
        vec![
            ("序号".to_owned(), Value::Null, true),
            ("身份证号码".to_owned(), "id_number".into(), false),
            ("姓名".to_owned(), "name".into(), false),
            (
                "享受起始日期（年月日）".to_owned(),
                "valid_from".into(),
                false
            ),
            ("批复时点".to_owned(), Value::Null, true),
        ]
    );
    assert_eq!(sheet["columns"][3]["letter"], "D");

    // (c) The unread column of dates is pointed out, and the import went on.
    let warnings = sheet["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "column_looks_like_dates");
    assert_eq!(warnings[0]["columns"][0], "批复时点");
    assert!(
        warnings[0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("批复时点")
    );
    assert!(
        warnings[0]["message_en"]
            .as_str()
            .unwrap()
            .contains("kept as extra data")
    );

    // The result page shows the same, in both languages.
    let page = clerk.get(&format!("/roster/imports/{}", done["id"])).await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("id=\"columns\""), "{html}");
    for text in [
        "各列的读取方式",
        "享受起始日期（年月日）",
        "保障起始日期",
        "附加信息（不读取）",
        "请注意",
        "“批复时点”（E列）的内容像日期",
    ] {
        assert!(html.contains(text), "{text}");
    }
    let en = clerk
        .call(
            axum::http::Method::GET,
            &format!("/roster/imports/{}", done["id"]),
        )
        .header("cookie", "lang=en")
        .send()
        .await;
    let en = String::from_utf8_lossy(&en.body).into_owned();
    for text in [
        "How the columns were read",
        "start of coverage",
        "Extra data (not read)",
        "holds what look like dates",
    ] {
        assert!(en.contains(text), "{text}");
    }
}

db_test!(roster_columns_claiming_one_field_change_nothing);
async fn roster_columns_claiming_one_field_change_nothing(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let a = id("220102", "19600101", 11);
    let csv = format!("身份证号码,姓名,公民身份号码,起始日期\n{a},张甲,{a},2020-06-01\n");
    let done = import(&clerk, &csv).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("“身份证号码”（A列）") && error.contains("“公民身份号码”（C列）"),
        "{error}"
    );
    assert!(
        error.contains("'身份证号码' (column A)") && error.contains("'公民身份号码' (column C)"),
        "{error}"
    );
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}
