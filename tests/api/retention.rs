//! The retention of uploaded files and rejected rows: deleted a set time after the import
//! finished, by `roster::retention::purge`, with the clock passed in.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;

use cancer_aid::domain::Role;
use cancer_aid::roster::retention::{self, Batches};
use entity::{roster_import, roster_import_error, roster_import_file_part as file_part};

use crate::db_test;
use crate::helpers::{Client, TestApp};

async fn upload(clerk: &Client<'_>, name: &str, csv: &str) -> Value {
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保")],
            name,
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    clerk.wait_import(res.json()["id"].as_i64().unwrap()).await
}

/// Moves an import's end back `days` days, as if it had finished then.
async fn finished_days_ago(app: &TestApp, id: i64, days: i64) {
    roster_import::ActiveModel {
        id: Set(id),
        finished_at: Set(Some(Utc::now() - Duration::days(days))),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
}

async fn parts_of(app: &TestApp, id: i64) -> u64 {
    file_part::Entity::find()
        .filter(file_part::COLUMN.import_id.eq(id))
        .count(&app.db)
        .await
        .unwrap()
}

async fn errors_of(app: &TestApp, id: i64) -> Vec<roster_import_error::Model> {
    cancer_aid::roster::import::errors_of(&app.db, id)
        .await
        .unwrap()
}

db_test!(files_and_rejected_rows_are_purged_after_their_retention);
async fn files_and_rejected_rows_are_purged_after_their_retention(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    // 2,000 rejected rows with a long note each: a file of two parts, and many batches.
    let mut big = String::from("身份证号码,姓名,区划代码,备注\n");
    // Good rows first: a file mostly rejected from its start would stop early.
    for i in 0..1000 {
        let birth = format!("1970{:02}{:02}", 1 + i / 28 % 12, 1 + i % 28);
        let id = crate::fixtures::id_number("220102", &birth, i % 1000);
        big.push_str(&format!("{id},王{i},220102,\n"));
    }
    for i in 0..2000 {
        big.push_str(&format!(
            "22010X19700101{i:04},张{i},220102,{}\n",
            "备".repeat(200)
        ));
    }
    let old = upload(&clerk, "old.csv", &big).await;
    let recent = upload(
        &clerk,
        "recent.csv",
        "身份证号码,姓名,区划代码\n22010X197001019999,李四,220102\n",
    )
    .await;
    let failed = upload(&clerk, "failed.csv", "甲,乙\n1,2\n").await;
    assert_eq!(
        (old["status"].as_str(), old["counts"]["rejected"].as_i64()),
        (Some("succeeded"), Some(2000))
    );
    assert_eq!(failed["status"], "failed");
    let (old_id, recent_id, failed_id) = (
        old["id"].as_i64().unwrap(),
        recent["id"].as_i64().unwrap(),
        failed["id"].as_i64().unwrap(),
    );
    assert_eq!(parts_of(&app, old_id).await, 2);
    finished_days_ago(&app, old_id, 31).await;
    finished_days_ago(&app, recent_id, 29).await;
    finished_days_ago(&app, failed_id, 31).await;
    // A purge that stopped half-way (a restart) left its claim on the failed import.
    let claimed = Utc::now() - Duration::hours(2);
    roster_import::ActiveModel {
        id: Set(failed_id),
        purged_at: Set(Some(claimed)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let before = errors_of(&app, old_id).await;
    let recent_before = errors_of(&app, recent_id).await;
    assert!(
        before
            .iter()
            .all(|e| e.row_data.is_some() && !e.value.is_empty())
    );

    let now = Utc::now();
    let small = Batches {
        error_rows: 300,
        file_parts: 1,
    };
    let done = retention::purge_in(&app.db, now, 30, small).await.unwrap();
    assert_eq!(done.imports, [old_id, failed_id]);
    assert_eq!(done.file_parts, 3);
    assert_eq!(done.error_rows, 2000);
    // The thousand people the old import added, staged before its activation, go too.
    assert_eq!(done.plan_rows, 1000);
    let plan = clerk
        .get(&format!(
            "/api/v1/roster-imports/{old_id}/changes?kind=added"
        ))
        .await
        .json();
    assert_eq!(plan["total"], 0, "{plan}");
    let page = clerk.get(&format!("/roster/imports/{old_id}")).await;
    let page = String::from_utf8_lossy(&page.body).into_owned();
    assert!(
        page.contains("id=\"plan-purged\"") && page.contains("保存期满后删除"),
        "{page}"
    );
    let plan = clerk
        .get(&format!(
            "/api/v1/roster-imports/{recent_id}/changes?kind=added"
        ))
        .await
        .json();
    assert_eq!(plan["total"], 0, "the recent one rejected its only row");

    // The old import: its file is gone, its rejected rows have lost their raw data and
    // kept where they were, their codes and their messages; its counts are as they were.
    assert_eq!(parts_of(&app, old_id).await, 0);
    assert_eq!(parts_of(&app, failed_id).await, 0);
    let after = errors_of(&app, old_id).await;
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!((a.row_data.as_ref(), a.value.as_str()), (None, ""));
        assert_eq!(
            (
                &a.sheet,
                a.row_number,
                &a.column_name,
                &a.code,
                &a.message_zh,
                &a.message_en
            ),
            (
                &b.sheet,
                b.row_number,
                &b.column_name,
                &b.code,
                &b.message_zh,
                &b.message_en
            )
        );
    }
    let view = clerk
        .get(&format!("/api/v1/roster-imports/{old_id}"))
        .await
        .json();
    assert_eq!(view["counts"], old["counts"]);
    assert!(view["purged_at"].is_string(), "{view}");
    // The claim of the stopped purge stays the failed import's purge time.
    let f = roster_import::Entity::find_by_id(failed_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.purged_at.map(|t| t.timestamp()),
        Some(claimed.timestamp())
    );

    // The recent import keeps everything.
    assert_eq!(parts_of(&app, recent_id).await, 1);
    assert_eq!(errors_of(&app, recent_id).await, recent_before);
    let view = clerk
        .get(&format!("/api/v1/roster-imports/{recent_id}"))
        .await
        .json();
    assert_eq!(view["purged_at"], Value::Null);

    // The rejected rows still download, with codes and messages and without the data.
    let page = clerk
        .get(&format!(
            "/api/v1/roster-imports/{old_id}/errors?per_page=2"
        ))
        .await
        .json();
    assert_eq!(page["total"], 2000);
    assert_eq!(page["items"][0]["value"], "");
    assert_eq!(page["items"][0]["code"], before[0].code.as_str());
    assert_eq!(page["items"][0]["message"], before[0].message_zh.as_str());
    let csv = clerk
        .get(&format!(
            "/api/v1/roster-imports/{old_id}/errors?format=csv"
        ))
        .await;
    csv.assert_status(StatusCode::OK);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(text.contains(&before[0].message_zh) && !text.contains("22010X19700101"));
    let xlsx = clerk
        .get(&format!(
            "/api/v1/roster-imports/{old_id}/errors?format=xlsx"
        ))
        .await;
    xlsx.assert_status(StatusCode::OK);
    clerk
        .get(&format!("/roster/imports/{old_id}"))
        .await
        .assert_status(StatusCode::OK);

    // A purged import cannot be run again: its file is gone.
    let res = clerk
        .post(
            &format!("/api/v1/roster-imports/{failed_id}/retry"),
            &serde_json::json!({}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "import_purged");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("重新上传")
    );

    // One audit row for the run, by the system.
    let admin = app.as_role(Role::Admin).await;
    let log = admin
        .get("/api/v1/audit?action=roster_import.purge")
        .await
        .json();
    assert_eq!(log["total"], 1, "{log}");
    let row = &log["items"][0];
    assert_eq!(row["actor"], "system:retention");
    assert_eq!(
        row["after"]["imports"],
        serde_json::json!([old_id, failed_id])
    );
    assert_eq!(row["after"]["error_rows_cleared"], 2000);
    assert_eq!(row["after"]["retention_days"], 30);

    // Again: nothing more to do, and nothing recorded.
    let again = retention::purge(&app.db, now, 30).await.unwrap();
    assert_eq!(again, retention::Purged::default());
    let log = admin
        .get("/api/v1/audit?action=roster_import.purge")
        .await
        .json();
    assert_eq!(log["total"], 1);

    // Two days later the recent one's turn has come.
    let later = retention::purge(&app.db, now + Duration::days(2), 30)
        .await
        .unwrap();
    assert_eq!(later.imports, [recent_id]);
    assert_eq!(parts_of(&app, recent_id).await, 0);
}
