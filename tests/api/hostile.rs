//! Hostile uploads through the real router: each is refused at the door with what is wrong,
//! or fails its own import with a message, and the service goes on answering.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use cancer_aid::domain::Role;
use entity::{person, roster_entry};

use crate::db_test;
use crate::helpers::{Client, TestApp};
use crate::hostile_files as files;

/// Uploads `bytes`; the import as it ended when the upload was taken, else the refusal.
async fn upload(
    client: &Client<'_>,
    name: &str,
    bytes: &[u8],
) -> Result<Value, (StatusCode, Value)> {
    let res = client
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保")],
            name,
            bytes,
        )
        .await;
    if res.status != StatusCode::ACCEPTED {
        return Err((res.status, res.json()));
    }
    let id = res.json()["id"].as_i64().unwrap();
    Ok(client.wait_import(id).await)
}

async fn refused(client: &Client<'_>, name: &str, bytes: &[u8], code: &str) -> Value {
    let (status, body) = upload(client, name, bytes)
        .await
        .expect_err("refused at the door");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

async fn failed(client: &Client<'_>, name: &str, bytes: &[u8], says: &str) -> Value {
    let done = upload(client, name, bytes).await.expect("taken for import");
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains(says), "'{says}' not in {error}");
    done
}

async fn still_serving(app: &TestApp) {
    app.anonymous()
        .get("/health")
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

db_test!(an_xls_declaring_four_billion_rows_is_refused_before_it_is_read);
async fn an_xls_declaring_four_billion_rows_is_refused_before_it_is_read(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let body = refused(
        &clerk,
        "lying.xls",
        &files::xls_lying_dimensions(),
        "file_sheet_too_large",
    )
    .await;
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("工作表“Sheet1”声明了 281470681677825 个单元格"),
        "{body}"
    );
    assert!(message.contains(".xlsx"), "{body}");
    still_serving(&app).await;
}

db_test!(a_reader_that_runs_out_of_memory_costs_one_import_not_the_service);
async fn a_reader_that_runs_out_of_memory_costs_one_import_not_the_service(app: TestApp) {
    // Without the check of what the file declares, the reader itself tries to reserve
    // petabytes: the parser process dies of its memory limit, the service does not.
    let app =
        crate::helpers::spawn_app_with(app.backend, |s| s.file_limits.max_sheet_cells = u64::MAX)
            .await
            .unwrap();
    let clerk = app.as_role(Role::RosterImporter).await;
    failed(
        &clerk,
        "lying.xls",
        &files::xls_lying_dimensions(),
        "内存超过上限 512 MiB",
    )
    .await;
    still_serving(&app).await;
    // An .ods whose one cell is repeated over the whole sheet meets the reader's own bound.
    failed(
        &clerk,
        "repeat.ods",
        &files::ods_repeat_bomb(),
        "17179869184 个单元格",
    )
    .await;
    still_serving(&app).await;
}

db_test!(shared_string_tables_are_checked_by_what_they_declare_and_by_size);
async fn shared_string_tables_are_checked_by_what_they_declare_and_by_size(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    refused(
        &clerk,
        "lie.xlsx",
        &files::shared_string_count_lie(),
        "file_too_many_strings",
    )
    .await;
    refused(
        &clerk,
        "big.xlsx",
        &files::shared_string_bomb(300),
        "file_too_large_unpacked",
    )
    .await;
    // Under the size limit and declaring no count: the parser's memory limit stops it.
    let bomb = files::shared_string_bomb(250);
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    failed(&clerk, "bomb.xlsx", &bomb, "内存超过上限").await;
    still_serving(&app).await;
}

db_test!(sheets_columns_and_cells_have_limits_that_say_where);
async fn sheets_columns_and_cells_have_limits_that_say_where(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let body = refused(
        &clerk,
        "sheets.xlsx",
        &files::many_sheets(2000),
        "file_too_many_sheets",
    )
    .await;
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2000"),
        "{body}"
    );
    failed(
        &clerk,
        "wide.xlsx",
        &files::wide_row(16_384),
        "第 2 行第 16384 列有内容，超过上限 1024 列",
    )
    .await;
    failed(
        &clerk,
        "long.xlsx",
        &files::long_cell(40_000),
        "第 2 行第 2 列有 40000 个字符",
    )
    .await;
    failed(
        &clerk,
        "line.csv",
        &files::csv_one_line(30 * 1024 * 1024),
        "个字符，超过上限 32767 个",
    )
    .await;
    // Excel's own longest cell is read, and its row judged like any other.
    let done = upload(&clerk, "excel-max.xlsx", &files::long_cell(32_767))
        .await
        .unwrap();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["rejected"], 1, "{done}");
    still_serving(&app).await;
}

db_test!(padding_nesting_and_bad_bytes_end_cleanly);
async fn padding_nesting_and_bad_bytes_end_cleanly(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    for (name, bytes) in [
        ("padded.xlsx", files::whitespace_bomb(400)),
        ("nested.xlsx", files::deep_nesting(1_000_000)),
        ("mixed.csv", files::csv_mixed_invalid_utf8()),
    ] {
        let done = upload(&clerk, name, &bytes)
            .await
            .expect("taken for import");
        assert!(
            done["status"] == "succeeded" || done["status"] == "failed",
            "{done}"
        );
        assert_eq!(done["counts"]["accepted"], 0, "{name}: {done}");
        still_serving(&app).await;
    }
    refused(
        &clerk,
        "nul.csv",
        &files::csv_with_nul(),
        "not_a_spreadsheet",
    )
    .await;
    still_serving(&app).await;
}

/// A CSV roster of `good` valid rows followed by `bad` rows with a broken ID number.
fn csv_roster(good: usize, bad: usize) -> Vec<u8> {
    let mut s = String::from("身份证号码,姓名,区划代码\n");
    for i in 0..good {
        let birth = format!("1970{:02}{:02}", 1 + i / 28000 % 12, 1 + i / 1000 % 28);
        let id = crate::fixtures::id_number("220102", &birth, (i % 1000) as u32);
        s.push_str(&format!("{id},人{i},220102\n"));
    }
    for i in 0..bad {
        s.push_str(&format!(
            "22010219700101000{},错{i},220102\n",
            if i % 2 == 0 { "0" } else { "Y" }
        ));
    }
    s.into_bytes()
}

db_test!(a_file_mostly_rejected_stops_early_and_keeps_what_it_read);
async fn a_file_mostly_rejected_stops_early_and_keeps_what_it_read(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let done = failed(
        &clerk,
        "wrong.csv",
        &csv_roster(100, 20_000),
        "前 1000 行中有 900 行有错误",
    )
    .await;
    assert!(
        done["error"].as_str().unwrap().contains("第2行")
            || done["error"].as_str().unwrap().contains("第102行"),
        "{done}"
    );
    assert_eq!(done["counts"]["rejected"], 900, "{done}");
    let errors = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?per_page=10",
            done["id"]
        ))
        .await
        .json();
    assert_eq!(errors["total"], 900, "{errors}");
    assert_eq!(errors["items"][0]["row"], 102, "{errors}");
    let csv = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?format=csv",
            done["id"]
        ))
        .await;
    csv.assert_status(StatusCode::OK);
    assert_eq!(
        String::from_utf8_lossy(&csv.body).lines().count(),
        901,
        "a header and 900 rows"
    );
    still_serving(&app).await;
}

db_test!(more_rejected_rows_than_allowed_stop_anywhere_in_the_file);
async fn more_rejected_rows_than_allowed_stop_anywhere_in_the_file(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| s.import_max_rejected_rows = 50)
        .await
        .unwrap();
    let clerk = app.as_role(Role::RosterImporter).await;
    let done = failed(
        &clerk,
        "late.csv",
        &csv_roster(1500, 200),
        "有错误的行超过 50 行",
    )
    .await;
    assert_eq!(done["counts"]["rejected"], 51, "{done}");
    let errors = clerk
        .get(&format!("/api/v1/roster-imports/{}/errors", done["id"]))
        .await
        .json();
    assert_eq!(errors["total"], 51, "{errors}");
    still_serving(&app).await;
    // Fewer than the limit: the import lands with its rejected rows.
    let done = upload(&clerk, "fine.csv", &csv_roster(1500, 50))
        .await
        .unwrap();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        (
            done["counts"]["accepted"].as_i64(),
            done["counts"]["rejected"].as_i64()
        ),
        (Some(1500), Some(50))
    );
}

db_test!(a_parser_that_cannot_start_is_the_services_fault_not_the_files);
async fn a_parser_that_cannot_start_is_the_services_fault_not_the_files(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.parser_program = Some("/nonexistent/cancer-aid".into())
    })
    .await
    .unwrap();
    let clerk = app.as_role(Role::RosterImporter).await;
    let (status, body) = upload(&clerk, "a.csv", &csv_roster(3, 0))
        .await
        .expect_err("refused");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        entity::roster_import::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}
