//! Roster import through the real router, the real worker and a real database.

use std::io::{Cursor, Write};

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use cancer_aid::domain::id_number::check_character;
use entity::{person, roster_entry, roster_import, roster_import_error};

use crate::db_test;
use crate::fixtures::id_number as id;
use crate::helpers::{Client, TestApp};

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");
const RURAL: &[u8] = include_bytes!("../../fixtures/roster_rural_2020.xlsx");
const XLS: &[u8] = include_bytes!("../../fixtures/roster_extreme_hardship_2021.xls");
const GBK_CSV: &[u8] = include_bytes!("../../fixtures/roster_entitled_care_yanbian_gbk.csv");

/// A one-sheet .xlsx whose cells are all text.
fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32, c as u16, v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn roster(people: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut rows = vec![vec![
        "身份证号码".to_owned(),
        "姓名".to_owned(),
        "区划代码".to_owned(),
        "保障起始日期".to_owned(),
    ]];
    for (idn, name, from) in people {
        rows.push(vec![
            (*idn).to_owned(),
            (*name).to_owned(),
            "220102".to_owned(),
            (*from).to_owned(),
        ]);
    }
    xlsx(&rows)
}

async fn import(client: &Client<'_>, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Value {
    let res = client
        .upload("/api/v1/roster-imports", fields, name, bytes)
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let id = res.json()["id"].as_i64().unwrap();
    client.wait_import(id).await
}

async fn entries_of(app: &TestApp, id_number: &str) -> Vec<roster_entry::Model> {
    let p = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(id_number))
        .one(&app.db)
        .await
        .unwrap();
    match p {
        Some(p) => roster_entry::Entity::find()
            .filter(roster_entry::COLUMN.person_id.eq(p.id))
            .all(&app.db)
            .await
            .unwrap(),
        None => vec![],
    }
}

db_test!(a_real_township_workbook_imports_with_row_errors);
async fn a_real_township_workbook_imports_with_row_errors(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("effective_date", "2020-07-01"),
    ];
    let done = import(&clerk, &fields, "南关区.xlsx", NANGUAN).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["format"], "xlsx");
    let c = &done["counts"];
    assert_eq!(
        (
            c["accepted"].as_i64(),
            c["rejected"].as_i64(),
            c["added"].as_i64()
        ),
        (Some(8), Some(4), Some(8)),
        "{c}"
    );
    assert_eq!(c["skipped"], 2, "the 合计 and 制表人 lines");
    let sheets = done["sheets"].as_array().unwrap();
    assert_eq!(sheets.len(), 3);
    assert_eq!(sheets[0]["header_row"], 3);
    assert_eq!(sheets[2]["has_roster"], false);

    let errors = clerk
        .get(&format!("/api/v1/roster-imports/{}/errors", done["id"]))
        .await
        .json();
    let total = errors["total"].as_i64().unwrap();
    let errors = errors["items"].as_array().unwrap();
    assert_eq!(errors.len() as i64, total, "one page holds them all");
    let find = |code: &str| {
        errors
            .iter()
            .find(|e| e["code"] == code)
            .unwrap_or_else(|| panic!("no {code}: {errors:?}"))
    };
    let number = find("id_number_is_number");
    assert_eq!(
        (
            number["sheet"].as_str(),
            number["row"].as_i64(),
            number["column"].as_str()
        ),
        (Some("南关区自强街道"), Some(10), Some("身份证号码"))
    );
    assert!(number["message"].as_str().unwrap().contains("文本"));
    assert_eq!(find("id_number_check")["row"], 11);
    assert_eq!(find("name_missing")["row"], 12);
    assert_eq!(find("ambiguous_date")["value"], "2020.1");
    let dup = find("duplicate_in_file");
    assert_eq!(
        (dup["sheet"].as_str(), dup["row"].as_i64()),
        (Some("南关区桃源街道"), Some(5))
    );
    assert!(dup["message"].as_str().unwrap().contains("第5行"));

    // Mixed date forms all landed, and the name kept its middle dot.
    let mmt = entries_of(&app, &id("220102", "19700101", 57)).await;
    assert_eq!(mmt.len(), 1);
    assert_eq!(mmt[0].name_on_roster, "买买提·吐尔逊");
    assert_eq!(mmt[0].valid_from.to_string(), "2020-06-01");
    assert_eq!(mmt[0].group_code, "low_income_urban");
    assert_eq!(mmt[0].extra.as_ref().unwrap()["户主姓名"], "买买提•吐尔逊");
    let chen = entries_of(&app, &id("220102", "19910228", 42)).await;
    assert_eq!(
        (
            chen[0].valid_from.to_string(),
            chen[0].valid_to.map(|d| d.to_string())
        ),
        ("2020-06-01".into(), Some("2021-12-31".into()))
    );
    let liu = entries_of(&app, &id("220102", "19801105", 13)).await;
    assert_eq!(liu[0].valid_from.to_string(), "2019-03-01");
    assert_eq!(liu[0].name_on_roster, "刘强");

    // English on request.
    let en = clerk
        .call(
            axum::http::Method::GET,
            &format!("/api/v1/roster-imports/{}/errors", done["id"]),
        )
        .header("accept-language", "en")
        .send()
        .await
        .json();
    assert!(en["items"][0]["message"].as_str().unwrap().is_ascii());
    // A page at a time: the second page of two holds the third and fourth errors.
    let page = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?page=2&per_page=2",
            done["id"]
        ))
        .await
        .json();
    assert_eq!(
        (page["page"].as_i64(), page["total"].as_i64()),
        (Some(2), Some(total))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["code"], errors[2]["code"]);
    clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?per_page=0",
            done["id"]
        ))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    let lookup = clerk
        .get(&format!(
            "/api/v1/roster-entries?id_number={}",
            id("220102", "19700101", 57)
        ))
        .await
        .json();
    assert_eq!(lookup["person"]["name"], "买买提·吐尔逊");
    assert_eq!(lookup["entries"][0]["group_label"], "城市低保");
    assert_eq!(lookup["entries"][0]["created_by_import"], done["id"]);
    clerk
        .get("/api/v1/roster-entries?id_number=123")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

db_test!(xls_and_gbk_csv_and_group_columns_import);
async fn xls_and_gbk_csv_and_group_columns_import(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let xls = import(&clerk, &[("effective_date", "2021-07-01")], "特困.xls", XLS).await;
    assert_eq!(xls["format"], "xls");
    assert_eq!(
        (
            xls["counts"]["accepted"].as_i64(),
            xls["counts"]["rejected"].as_i64()
        ),
        (Some(4), Some(0)),
        "{xls}"
    );
    let e = entries_of(&app, &id("220202", "19440512", 11)).await;
    assert_eq!(
        (e[0].group_code.as_str(), e[0].valid_from.to_string()),
        ("extreme_hardship", "2016-04-01".into())
    );

    let csv = import(&clerk, &[], "优抚.csv", GBK_CSV).await;
    assert_eq!(csv["format"], "csv");
    assert_eq!(
        (
            csv["counts"]["accepted"].as_i64(),
            csv["counts"]["skipped"].as_i64()
        ),
        (Some(3), Some(1)),
        "{csv}"
    );
    let e = entries_of(&app, &id("222401", "19520815", 27)).await;
    assert_eq!(
        (
            e[0].group_code.as_str(),
            e[0].valid_from.to_string(),
            e[0].name_on_roster.as_str()
        ),
        ("entitled_care", "2012-03-01".into(), "金哲洙")
    );

    let rural = import(&clerk, &[], "农村.xlsx", RURAL).await;
    assert_eq!(rural["counts"]["accepted"], 5);
    let wubao = entries_of(&app, &id("220122", "19530808", 19)).await;
    assert_eq!(wubao[0].group_code, "extreme_hardship");
}

db_test!(the_same_file_twice_changes_nothing_the_second_time);
async fn the_same_file_twice_changes_nothing_the_second_time(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let fields = [
        ("group", "low_income_urban"),
        ("region_code", "220102"),
        ("effective_date", "2020-07-01"),
    ];
    let first = import(&clerk, &fields, "a.xlsx", NANGUAN).await;
    let entries = roster_entry::Entity::find().count(&app.db).await.unwrap();
    let again = clerk
        .upload("/api/v1/roster-imports", &fields, "renamed.xlsx", NANGUAN)
        .await;
    again.assert_status(StatusCode::OK);
    let again = again.json();
    assert_eq!(again["duplicate_of"], first["id"]);
    assert_eq!(again["status"], "succeeded");
    assert_eq!(again["counts"]["added"], 0);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        entries
    );

    // Next month's identical roster: a new import that adds and changes nothing.
    let next = import(
        &clerk,
        &[
            ("group", "low_income_urban"),
            ("region_code", "220102"),
            ("effective_date", "2020-08-01"),
        ],
        "a.xlsx",
        NANGUAN,
    )
    .await;
    assert_eq!(
        (
            next["counts"]["added"].as_i64(),
            next["counts"]["updated"].as_i64()
        ),
        (Some(0), Some(0)),
        "{next}"
    );
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        entries
    );
}

db_test!(a_batch_of_new_people_and_people_already_there_lands_whole);
async fn a_batch_of_new_people_and_people_already_there_lands_whole(app: TestApp) {
    // A batch is first inserted as if everyone in it were new; someone already there keeps
    // their id and gets their new name, and the others of the same batch are added. After
    // that, an import of new people only still adds them.
    let clerk = app.as_role(Role::RosterImporter).await;
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("effective_date", "2020-07-01"),
    ];
    let [a, b, c, d, e] = [1, 2, 3, 4, 5].map(|n| id("220102", "19600101", n));
    let first = import(
        &clerk,
        &fields,
        "1.xlsx",
        &roster(&[(&a, "甲", "2020-01-01"), (&b, "乙", "2020-01-01")]),
    )
    .await;
    assert_eq!(first["counts"]["added"], 2, "{first}");
    let a_before = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(a.as_str()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    let mixed = roster(&[
        (&c, "丙", "2020-01-01"),
        (&a, "甲改", "2020-01-01"),
        (&d, "丁", "2020-02-01"),
    ]);
    let second = import(&clerk, &fields, "2.xlsx", &mixed).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(
        (
            second["counts"]["added"].as_i64(),
            second["counts"]["updated"].as_i64()
        ),
        (Some(2), Some(1)),
        "{second}"
    );
    let a_after = person::Entity::find_by_id(a_before.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a_after.id_number.as_str(), a_after.name.as_str()),
        (a.as_str(), "甲改")
    );
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 4);
    let a_entries = entries_of(&app, &a).await;
    assert_eq!(
        a_entries.len(),
        1,
        "the row continues A's entry: {a_entries:?}"
    );
    assert_eq!(a_entries[0].name_on_roster, "甲改");
    for (idn, name) in [(&c, "丙"), (&d, "丁")] {
        let es = entries_of(&app, idn).await;
        assert_eq!(es.len(), 1, "{idn}: {es:?}");
        assert_eq!(es[0].name_on_roster, name);
    }

    let third = import(
        &clerk,
        &fields,
        "3.xlsx",
        &roster(&[(&e, "戊", "2020-01-01")]),
    )
    .await;
    assert_eq!(third["counts"]["added"], 1, "{third}");
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 5);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        5
    );
    let e_person = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(e.as_str()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entries_of(&app, &e).await[0].person_id, e_person.id);
}

/// `count` people from number `first` on: (ID number, a name that says which one).
fn people(first: u32, count: u32) -> Vec<(String, String)> {
    const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let start = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    (first..first + count)
        .map(|n| {
            let birth = start + chrono::Days::new(u64::from(n / 1000));
            let idn = id("220102", &birth.format("%Y%m%d").to_string(), n % 1000);
            let name = format!(
                "李{}",
                n.to_string()
                    .chars()
                    .map(|c| DIGITS[c as usize - '0' as usize])
                    .collect::<String>()
            );
            (idn, name)
        })
        .collect()
}

db_test!(hundreds_of_new_people_per_batch_get_the_right_ids);
async fn hundreds_of_new_people_per_batch_get_the_right_ids(app: TestApp) {
    // On PostgreSQL, hundreds of new people in a batch go in by COPY with ids the writer
    // hands out; a batch that meets someone already there goes the slower way, and the
    // batches after it look their people up first. Every entry must name its own person.
    let clerk = app.as_role(Role::RosterImporter).await;
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("effective_date", "2020-07-01"),
    ];
    let first = people(0, 600);
    let rows: Vec<(&str, &str, &str)> = first
        .iter()
        .map(|(i, n)| (i.as_str(), n.as_str(), "2020-01-01"))
        .collect();
    let done = import(&clerk, &fields, "1.xlsx", &roster(&rows)).await;
    assert_eq!(done["counts"]["added"], 600, "{done}");

    // Someone already there opens a file of more than one batch; everyone after them is new.
    // On PostgreSQL the second batch is looked up in chunks of 5,000 rows, the last of 601;
    // SQLite's batches are smaller than a chunk.
    let batch = cancer_aid::roster::import::batch_rows(app.db.get_database_backend()) as u32;
    let second = people(600, batch + 5600);
    let mut rows: Vec<(&str, &str, &str)> = vec![(first[7].0.as_str(), "李七", "2020-01-01")];
    rows.extend(
        second
            .iter()
            .map(|(i, n)| (i.as_str(), n.as_str(), "2020-01-01")),
    );
    let done = import(&clerk, &fields, "2.xlsx", &roster(&rows)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        (
            done["counts"]["added"].as_i64(),
            done["counts"]["updated"].as_i64()
        ),
        (Some(i64::from(batch) + 5600), Some(0)),
        "{done}"
    );

    let persons = person::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(persons.len(), batch as usize + 6200);
    let by_id: std::collections::HashMap<i64, &str> = persons
        .iter()
        .map(|p| (p.id, p.id_number.as_str()))
        .collect();
    let names: std::collections::HashMap<&str, &str> = first
        .iter()
        .chain(&second)
        .map(|(i, n)| (i.as_str(), n.as_str()))
        .collect();
    let entries = roster_entry::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(entries.len(), batch as usize + 6200);
    for e in &entries {
        let idn = by_id[&e.person_id];
        assert_eq!(e.name_on_roster, names[idn], "entry {} of {idn}", e.id);
    }
    for p in &persons {
        assert_eq!(p.name, names[p.id_number.as_str()]);
    }
}

db_test!(a_full_import_ends_the_missing_and_keeps_history);
async fn a_full_import_ends_the_missing_and_keeps_history(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let (a, b, c) = (
        id("220102", "19600101", 11),
        id("220102", "19610202", 22),
        id("220102", "19620303", 33),
    );
    let fields = |date: &'static str| {
        [
            ("group", "城市低保"),
            ("region_code", "2201"),
            ("mode", "full"),
            ("effective_date", date),
        ]
    };
    let first = import(
        &clerk,
        &fields("2020-01-01"),
        "jan.xlsx",
        &roster(&[
            (&a, "甲", "2019-01-01"),
            (&b, "乙", "2019-01-01"),
            (&c, "丙", "2019-01-01"),
        ]),
    )
    .await;
    assert_eq!(first["counts"]["added"], 3);
    // In July, b is gone and c's row has a typo: only b ends.
    let july = import(
        &clerk,
        &fields("2020-07-01"),
        "jul.xlsx",
        &roster(&[(&a, "甲", "2019-01-01"), (&c, "丙", "2019-02-30")]),
    )
    .await;
    assert_eq!(
        (
            july["counts"]["ended"].as_i64(),
            july["counts"]["rejected"].as_i64()
        ),
        (Some(1), Some(1)),
        "{july}"
    );
    let gone = entries_of(&app, &b).await;
    assert_eq!(gone.len(), 1, "history is kept");
    assert_eq!(
        gone[0].valid_to.map(|d| d.to_string()),
        Some("2020-06-30".into())
    );
    assert_eq!(gone[0].ended_by_import_id, july["id"].as_i64());
    assert_eq!(entries_of(&app, &c).await[0].valid_to, None);
    assert_eq!(entries_of(&app, &a).await[0].valid_to, None);

    // b comes back in September: a new period, the old one stays as it was.
    let sept = import(
        &clerk,
        &fields("2020-09-01"),
        "sep.xlsx",
        &roster(&[
            (&a, "甲", "2019-01-01"),
            (&b, "乙", "2020-09-01"),
            (&c, "丙", "2019-01-01"),
        ]),
    )
    .await;
    assert_eq!(
        (
            sept["counts"]["added"].as_i64(),
            sept["counts"]["ended"].as_i64()
        ),
        (Some(1), Some(0)),
        "{sept}"
    );
    assert_eq!(entries_of(&app, &b).await.len(), 2);

    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("mode", "full")],
            "x.xlsx",
            &roster(&[]),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"][0]["field"], "group");
}

/// Copies a workbook, letting `rewrite` write the first sheet's XML anew.
fn with_sheet(book: Vec<u8>, rewrite: impl FnOnce(&[u8], &mut dyn Write)) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(book)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut rewrite = Some(rewrite);
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).unwrap();
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        out.start_file(name.clone(), opts).unwrap();
        match rewrite.take_if(|_| name == "xl/worksheets/sheet1.xml") {
            Some(f) => f(&data, &mut out),
            None => out.write_all(&data).unwrap(),
        }
    }
    out.finish().unwrap().into_inner()
}

fn truncated_sheet_xlsx(rows: usize) -> Vec<u8> {
    let mut people = Vec::new();
    for i in 0..rows {
        people.push(vec![
            id("220102", "19700101", (i % 1000) as u32).replace(
                "19700101",
                &format!("1970{:02}{:02}", 1 + i / 28 % 12, 1 + i % 28),
            ),
            format!("人{i}"),
            "220102".into(),
            "2020-01-01".into(),
        ]);
    }
    // Recompute valid check characters after the date change.
    for p in &mut people {
        let body = p[0][..17].to_owned();
        p[0] = format!("{body}{}", check_character(body.as_bytes()));
    }
    let mut all = vec![vec![
        "身份证号码".to_owned(),
        "姓名".into(),
        "区划代码".into(),
        "保障起始日期".into(),
    ]];
    all.extend(people);
    with_sheet(xlsx(&all), |data, out| {
        out.write_all(&data[..data.len() * 4 / 5]).unwrap();
    })
}

db_test!(a_file_broken_midway_lands_nothing);
async fn a_file_broken_midway_lands_nothing(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    // Several batches, so that some are written before the break is read.
    let rows = 3 * cancer_aid::roster::import::batch_rows(app.db.get_database_backend());
    let done = import(
        &clerk,
        &[("group", "城市低保")],
        "broken.xlsx",
        &truncated_sheet_xlsx(rows),
    )
    .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"].as_str().unwrap().contains("损坏"), "{done}");
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    assert_eq!(
        roster_import_error::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

db_test!(bad_files_are_refused_or_fail_cleanly);
async fn bad_files_are_refused_or_fail_cleanly(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let half = &NANGUAN[..NANGUAN.len() / 2];
    let res = clerk
        .upload("/api/v1/roster-imports", &[], "half.xlsx", half)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "file_corrupt");

    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[],
            "notes.xlsx",
            "这不是表格".as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "not_a_spreadsheet");

    let res = clerk
        .upload("/api/v1/roster-imports", &[], "empty.csv", b"")
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "file_empty");

    // An encrypted workbook is an OLE container with an EncryptedPackage stream.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend(vec![0u8; 512]);
    ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    let res = clerk
        .upload("/api/v1/roster-imports", &[], "secret.xlsx", &ole)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "file_password_protected");

    // A damaged .xls: its container is read at the door (for what it declares) and refused.
    let mut bad_xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bad_xls.extend(vec![7u8; 2048]);
    let res = clerk
        .upload("/api/v1/roster-imports", &[], "bad.xls", &bad_xls)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "file_corrupt");

    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet();
    let empty_book = book.save_to_buffer().unwrap();
    let done = import(&clerk, &[], "empty.xlsx", &empty_book).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().contains("身份证号码"),
        "{done}"
    );

    let no_id = xlsx(&[
        vec!["姓名".into(), "家庭人口".into()],
        vec!["张三".into(), "3".into()],
    ]);
    let done = import(&clerk, &[], "no-id.xlsx", &no_id).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().contains("没有身份证号码列"),
        "{done}"
    );

    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[
                ("effective_date", "2020-13-01"),
                ("mode", "all"),
                ("group", "富人"),
            ],
            "x.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"].as_array().unwrap().len(), 3);

    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

db_test!(a_sheet_inflating_to_hundreds_of_mib_fails_in_bounded_time_and_says_why);
async fn a_sheet_inflating_to_hundreds_of_mib_fails_in_bounded_time_and_says_why(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let bomb = with_sheet(roster(&[]), |data, out| {
        let text = std::str::from_utf8(data).unwrap();
        let (head, tail) = text.split_once("</sheetData>").unwrap();
        out.write_all(head.as_bytes()).unwrap();
        let pad = vec![b' '; 1024 * 1024];
        for _ in 0..300 {
            out.write_all(&pad).unwrap();
        }
        out.write_all(b"</sheetData>").unwrap();
        out.write_all(tail.as_bytes()).unwrap();
    });
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let done = import(&clerk, &[], "bomb.xlsx", &bomb).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // The spreadsheet library holds the white space whole: the parser process reaches its
    // memory limit, and the import fails saying so instead of the service growing by it.
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("内存超过上限"),
        "{done}"
    );
    assert_eq!(done["counts"]["accepted"], 0);
}

db_test!(uploads_over_the_limit_are_413);
async fn uploads_over_the_limit_are_413(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| s.max_upload_bytes = 4096)
        .await
        .unwrap();
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload("/api/v1/roster-imports", &[], "big.xlsx", NANGUAN)
        .await;
    res.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        roster_import::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

db_test!(only_roster_importers_upload_and_regions_are_scoped);
async fn only_roster_importers_upload_and_regions_are_scoped(app: TestApp) {
    let worker = app.as_role(Role::Caseworker).await;
    worker
        .upload("/api/v1/roster-imports", &[], "a.xlsx", NANGUAN)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.anonymous()
        .upload("/api/v1/roster-imports", &[], "a.xlsx", NANGUAN)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let yanbian = app
        .as_user("yanbian_clerk", &[Role::RosterImporter], "2224")
        .await;
    let res = yanbian
        .upload(
            "/api/v1/roster-imports",
            &[("region_code", "2201")],
            "a.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    let done = import(&yanbian, &[("group", "城市低保")], "a.xlsx", NANGUAN).await;
    assert_eq!(done["counts"]["accepted"], 0);
    let errors = yanbian
        .get(&format!("/api/v1/roster-imports/{}/errors", done["id"]))
        .await
        .json();
    assert!(
        errors["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "region_outside_scope")
    );

    let province = app.as_role(Role::RosterImporter).await;
    let mine = import(
        &province,
        &[("group", "城市低保"), ("region_code", "220102")],
        "a.xlsx",
        NANGUAN,
    )
    .await;
    yanbian
        .get(&format!("/api/v1/roster-imports/{}", mine["id"]))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let listed = province.get("/api/v1/roster-imports").await.json();
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["items"][0]["id"], mine["id"]);
}

db_test!(rejected_rows_download_as_a_workbook_to_fix_and_as_csv);
async fn rejected_rows_download_as_a_workbook_to_fix_and_as_csv(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let done = import(
        &clerk,
        &[("group", "城市低保"), ("region_code", "220102")],
        "a.xlsx",
        NANGUAN,
    )
    .await;
    let res = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?format=xlsx",
            done["id"]
        ))
        .await;
    res.assert_status(StatusCode::OK);
    assert!(
        res.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(res.body.clone())).unwrap();
    let fix = book.worksheet_range("待修正名册").unwrap();
    let header: Vec<String> = fix
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(header.contains(&"身份证号码".to_owned()) && header.contains(&"姓名".to_owned()));
    assert_eq!(fix.height(), 1 + 4, "one line per rejected row");
    let list = book.worksheet_range("错误说明").unwrap();
    assert_eq!(list.height(), 1 + 5, "one line per problem");

    // The fixed file goes back in: its rows are recognised again.
    let again = import(
        &clerk,
        &[("group", "城市低保"), ("region_code", "220102")],
        "fix.xlsx",
        &res.body,
    )
    .await;
    assert_eq!(again["status"], "succeeded");
    // The in-file duplicate is alone now and goes in; the three unfixed rows are refused again.
    assert_eq!(again["counts"]["rejected"], 3);
    assert_eq!(again["counts"]["accepted"], 1);

    let csv = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?format=csv",
            done["id"]
        ))
        .await;
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
    assert!(String::from_utf8_lossy(&csv.body).contains("id_number_is_number"));
    clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?format=pdf",
            done["id"]
        ))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

db_test!(the_template_has_the_recognised_headers);
async fn the_template_has_the_recognised_headers(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .get("/api/v1/roster-imports/template?format=xlsx")
        .await;
    res.assert_status(StatusCode::OK);
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(res.body.clone())).unwrap();
    let sheet = book.worksheet_range("名册").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for h in &header {
        assert!(
            cancer_aid::roster::columns::Field::from_header(h).is_some(),
            "{h}"
        );
    }
    assert_eq!(header.len(), 6);
    let csv = clerk
        .get("/api/v1/roster-imports/template?format=csv")
        .await;
    assert!(String::from_utf8_lossy(&csv.body).contains("身份证号码,姓名"));
}

db_test!(an_interrupted_import_is_marked_failed_and_runs_again);
async fn an_interrupted_import_is_marked_failed_and_runs_again(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let first = import(
        &clerk,
        &[("group", "城市低保"), ("region_code", "220102")],
        "a.xlsx",
        NANGUAN,
    )
    .await;
    // Simulate a crash mid-run: the row says running, with an old claim, and nothing landed.
    use sea_orm::{ActiveModelTrait, Set};
    let m = roster_import::Entity::find_by_id(first["id"].as_i64().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut copy: roster_import::ActiveModel = m.clone().into();
    copy.status = Set(entity::roster_import::Status::Running);
    copy.claimed_at = Set(Some(chrono::Utc::now() - chrono::Duration::hours(1)));
    copy.update(&app.db).await.unwrap();
    let swept = cancer_aid::roster::jobs::sweep_interrupted(&app.db, true, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let failed = clerk
        .get(&format!("/api/v1/roster-imports/{}", first["id"]))
        .await
        .json();
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("重新运行"));
    let res = clerk
        .call(
            axum::http::Method::POST,
            &format!("/api/v1/roster-imports/{}/retry", first["id"]),
        )
        .send()
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let again = clerk.wait_import(first["id"].as_i64().unwrap()).await;
    assert_eq!(again["status"], "succeeded");
    let res = clerk
        .call(
            axum::http::Method::POST,
            &format!("/api/v1/roster-imports/{}/retry", first["id"]),
        )
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
}

db_test!(two_instances_on_one_database_run_each_import_exactly_once);
async fn two_instances_on_one_database_run_each_import_exactly_once(app: TestApp) {
    let other = app.another_instance().await;
    let clerk = app.as_role(Role::RosterImporter).await;
    let mut ids = Vec::new();
    for day in 1..=6 {
        let date = format!("2020-06-{day:02}");
        let res = clerk
            .upload(
                "/api/v1/roster-imports",
                &[
                    ("group", "城市低保"),
                    ("region_code", "220102"),
                    ("effective_date", &date),
                ],
                "a.xlsx",
                NANGUAN,
            )
            .await;
        res.assert_status(StatusCode::ACCEPTED);
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    // Both instances' workers compete for the queue, and each drains it once more itself.
    let (a, b) = tokio::join!(
        cancer_aid::roster::jobs::drain(&app.db, &app.state.imports),
        cancer_aid::roster::jobs::drain(&other.db, &other.imports)
    );
    a.unwrap();
    b.unwrap();
    // The app's own worker may still hold one.
    for id in &ids {
        clerk.wait_validated(*id).await;
    }
    let instances = [app.state.imports.instance(), other.imports.instance()];
    let validations = |id: i64| {
        let db = app.db.clone();
        async move {
            entity::audit_log::Entity::find()
                .filter(
                    entity::audit_log::COLUMN
                        .action
                        .eq("roster_import.validate"),
                )
                .filter(entity::audit_log::COLUMN.entity_id.eq(id.to_string()))
                .count(&db)
                .await
                .unwrap()
        }
    };
    let imports = roster_import::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(imports.len(), 6);
    for i in &imports {
        assert_eq!(i.status, entity::roster_import::Status::Validated, "{i:?}");
        assert!(
            instances.contains(&i.claimed_by.as_deref().unwrap_or("")),
            "{i:?}"
        );
        assert_eq!(
            validations(i.id).await,
            1,
            "import {} was validated more than once",
            i.id
        );
    }
    // The first activated changes the roster; each of the others finds it changed and is
    // validated again, against the people the first added.
    for id in &ids {
        clerk.wait_import(*id).await;
    }
    let imports = roster_import::Entity::find().all(&app.db).await.unwrap();
    for i in &imports {
        assert_eq!(i.status, entity::roster_import::Status::Succeeded, "{i:?}");
    }

    // The first to run added the eight people; the others found them there.
    assert_eq!(imports.iter().map(|i| i.added).sum::<i64>(), 8);
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        8
    );
    assert_eq!(person::Entity::find().count(&app.db).await.unwrap(), 8);
}

/// An import row already claimed by `owner`, running, with a one-person CSV as its file.
pub async fn claimed_import(app: &TestApp, owner: &str) -> i64 {
    use entity::roster_import_file_part as file_part;
    use sea_orm::{ActiveModelTrait, Set};
    let id = crate::fixtures::id_number("220102", "19700101", 1);
    let csv = format!("身份证号码,姓名,区划代码\n{id},张三,220102\n");
    // The app's worker, just spawned, first marks every running import on SQLite as
    // interrupted (one process: any running import is a dead one); let it do so before this
    // one appears, or it would take this import, claimed by a live instance, for dead.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let now = chrono::Utc::now();
    let id = roster_import::ActiveModel {
        file_name: Set("r.csv".into()),
        sha256: Set("0".repeat(64)),
        file_size: Set(csv.len() as i64),
        format: Set("csv".into()),
        group_code: Set(Some("low_income_urban".into())),
        region_code: Set(Some("220102".into())),
        mode: Set("incremental".into()),
        effective_date: Set(now.date_naive()),
        fingerprint: Set("1".repeat(64)),
        status: Set(entity::roster_import::Status::Running),
        claimed_by: Set(Some(owner.to_owned())),
        claimed_at: Set(Some(now)),
        created_at: Set(now),
        started_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id;
    file_part::Entity::insert(file_part::ActiveModel {
        import_id: Set(id),
        part: Set(0),
        content: Set(csv.into_bytes()),
    })
    .exec_without_returning(&app.db)
    .await
    .unwrap();
    id
}

db_test!(only_the_instance_holding_the_claim_can_finish_an_import);
async fn only_the_instance_holding_the_claim_can_finish_an_import(app: TestApp) {
    // Instance B holds the claim (it took the import over after A's lease ran out); A's run,
    // still alive, reaches the end: it must roll back and leave the import to B.
    // B's registry (no worker of its own: the test runs B's import itself).
    let other = cancer_aid::roster::jobs::Progress::for_settings(&app.state.settings);
    let id = claimed_import(&app, other.instance()).await;
    cancer_aid::roster::import::run(&app.db, id, app.state.imports.clone())
        .await
        .unwrap();
    let row = roster_import::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.status,
        entity::roster_import::Status::Running,
        "{row:?}"
    );
    assert_eq!(row.claimed_by.as_deref(), Some(other.instance()));
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    let runs = || async {
        entity::audit_log::Entity::find()
            .filter(
                entity::audit_log::COLUMN
                    .action
                    .eq("roster_import.validate"),
            )
            .count(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(runs().await, 0);
    // The holder finishes it, once.
    cancer_aid::roster::import::run(&app.db, id, other.clone())
        .await
        .unwrap();
    let row = roster_import::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.code(), row.added), ("validated", 1), "{row:?}");
    assert_eq!(runs().await, 1);
    // A late run of A again changes nothing.
    cancer_aid::roster::import::run(&app.db, id, app.state.imports.clone())
        .await
        .unwrap();
    assert_eq!(runs().await, 1);
    // Validation changes nothing in the roster.
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

db_test!(a_full_import_without_a_region_ends_entries_only_inside_the_clerks_scope);
async fn a_full_import_without_a_region_ends_entries_only_inside_the_clerks_scope(app: TestApp) {
    // The province clerk lists two people: one in Changchun (2201), one in Yanbian (2224).
    let province = app.as_role(Role::RosterImporter).await;
    let two = format!(
        "身份证号码,姓名,行政区划代码\n{},张长春,220102\n{},李延边,222401\n",
        id("220102", "19600101", 11),
        id("222401", "19600101", 12)
    );
    let first = import(
        &province,
        &[("group", "城市低保"), ("effective_date", "2020-06-01")],
        "two.csv",
        two.as_bytes(),
    )
    .await;
    assert_eq!(first["counts"]["added"], 2, "{first}");

    // A Changchun clerk's full import of an empty roster without a region ends only Changchun
    // (confirmed, as a full import that accepts no row must be).
    let city = app
        .as_user("changchun_clerk", &[Role::RosterImporter], "2201")
        .await;
    let nobody = "身份证号码,姓名\n";
    let done = import(
        &city,
        &[
            ("group", "城市低保"),
            ("mode", "full"),
            ("effective_date", "2021-01-01"),
            ("confirm_full_replace", "true"),
            ("reason", "长春市名册整体迁出测试"),
        ],
        "none.csv",
        nobody.as_bytes(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["ended"], 1, "{done}");
    let changchun = entries_of(&app, &id("220102", "19600101", 11)).await;
    assert_eq!(
        changchun[0].valid_to.map(|d| d.to_string()),
        Some("2020-12-31".into())
    );
    let yanbian = entries_of(&app, &id("222401", "19600101", 12)).await;
    assert_eq!(
        yanbian[0].valid_to, None,
        "outside the clerk's scope: untouched"
    );
}

db_test!(a_full_import_that_accepts_nothing_or_ends_most_of_its_scope_needs_a_confirmation);
async fn a_full_import_that_accepts_nothing_or_ends_most_of_its_scope_needs_a_confirmation(
    app: TestApp,
) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let people: Vec<String> = (1..=6).map(|n| id("220102", "19600101", n)).collect();
    let six: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|p| (p.as_str(), "某人", "2019-01-01"))
        .collect();
    let full = |date: &'static str| {
        vec![
            ("group", "城市低保"),
            ("region_code", "220102"),
            ("mode", "full"),
            ("effective_date", date),
        ]
    };
    let first = import(&clerk, &full("2020-01-01"), "six.xlsx", &roster(&six)).await;
    assert_eq!(first["counts"]["added"], 6, "{first}");
    let open = || async {
        let mut n = 0;
        for p in &people {
            n += entries_of(&app, p)
                .await
                .iter()
                .filter(|e| e.valid_to.is_none())
                .count();
        }
        n
    };

    // The header-only file: validated, but its activation is refused without a
    // confirmation; nothing ended, and the message says what to do.
    let second = app
        .as_user("second-importer", &[Role::RosterImporter], "22")
        .await;
    let header_only = "身份证号码,姓名\n";
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &full("2020-07-01"),
            "empty.csv",
            header_only.as_bytes(),
        )
        .await;
    let empty = clerk
        .wait_validated(res.json()["id"].as_i64().unwrap())
        .await;
    assert_eq!(
        (
            empty["status"].as_str(),
            empty["counts"]["accepted"].as_i64(),
            empty["counts"]["ended"].as_i64()
        ),
        (Some("validated"), Some(0), Some(6)),
        "{empty}"
    );
    let activate = format!("/api/v1/roster-imports/{}/activate", empty["id"]);
    let res = second
        .post(&activate, &json!({"version": empty["version"]}))
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "confirmation_required");
    let why = res.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        why.contains("未接受任何一行") && why.contains("6 人") && why.contains("确认全量替换"),
        "{why}"
    );
    assert_eq!(open().await, 6, "nothing was ended");
    // Ticking the box without a reason is a field error, and nothing changes.
    let res = second
        .post(
            &activate,
            &json!({"version": empty["version"], "confirm_full_replace": true}),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json()["error"]["details"][0]["field"],
        "reason",
        "{}",
        res.json()
    );
    let res = second
        .post(
            &format!("/api/v1/roster-imports/{}/discard", empty["id"]),
            &json!({"version": empty["version"]}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["status"], "discarded");

    // Two of six listed: four would end, more than half: refused as well.
    let two = roster(&six[..2]);
    let refused = import(&clerk, &full("2020-07-01"), "two.xlsx", &two).await;
    assert_eq!(refused["status"], "validated", "{refused}");
    let res = second
        .post(
            &format!("/api/v1/roster-imports/{}/activate", refused["id"]),
            &json!({"version": refused["version"]}),
        )
        .await;
    assert_eq!(res.error_code(), "confirmation_required");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("6 人中的 4 人"),
        "{}",
        res.json()
    );
    assert_eq!(open().await, 6);

    // Ticking the box on the upload without a reason is a field error, and nothing is queued.
    let mut no_reason = full("2020-07-01");
    no_reason.push(("confirm_full_replace", "true"));
    let res = clerk
        .upload("/api/v1/roster-imports", &no_reason, "two.xlsx", &two)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json()["error"]["details"][0]["field"],
        "reason",
        "{}",
        res.json()
    );

    // Confirmed with a reason on the upload: a second person activates it, and the reason
    // is in the audit log.
    let mut confirmed = no_reason.clone();
    confirmed.push(("reason", "街道合并，四户迁出本区"));
    let done = import(&clerk, &confirmed, "two.xlsx", &two).await;
    assert_eq!(
        (done["status"].as_str(), done["counts"]["ended"].as_i64()),
        (Some("succeeded"), Some(4)),
        "{done}"
    );
    assert_eq!(open().await, 2);
    let audit = app
        .as_role(Role::Manager)
        .await
        .get("/api/v1/audit?action=roster_import.confirmed_destructive")
        .await
        .json();
    let item = &audit["items"][0];
    assert_eq!(item["entity_id"], done["id"].to_string(), "{audit}");
    assert_eq!(item["after"]["reason"], "街道合并，四户迁出本区", "{audit}");
    assert_eq!(
        (
            item["after"]["covered"].as_i64(),
            item["after"]["ended"].as_i64()
        ),
        (Some(6), Some(4)),
        "{audit}"
    );

    // An ordinary full import (one of two ended: not more than half) needs nothing.
    let one = roster(&six[..1]);
    let done = import(&clerk, &full("2020-09-01"), "one.xlsx", &one).await;
    assert_eq!(
        (done["status"].as_str(), done["counts"]["ended"].as_i64()),
        (Some("succeeded"), Some(1)),
        "{done}"
    );
}
