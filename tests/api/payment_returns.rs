//! The bank's return file (回盘) through the real router on both databases: lines marked paid
//! or failed, each once; rows that match no line, another amount or the same line twice are
//! listed and applied to nothing; files of another batch or with control lines that disagree
//! are refused whole; failed subsidies go into a later batch; a paid one can be reversed.

use axum::http::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use entity::payment_return;

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::TestApp;
use crate::payments::{
    approve_as_second_manager, approved_subsidies, exported, fen, period, set_payee,
};

const ACCOUNT: &str = "6222020200000000006";

/// One row of a return file: line reference, amount in fen, paid, bank serial, reason.
struct Row<'a>(i64, i64, bool, &'a str, &'a str);

/// A return file in the `fixed_gbk` layout; `declared` overrides the control lines' count and
/// total.
fn gbk_return(
    app: &TestApp,
    batch_no: &str,
    rows: &[Row<'_>],
    declared: Option<(i64, i64)>,
) -> Vec<u8> {
    // The bank pays on the day it answers: today, after the file was sent.
    let today = app.state.clock.today().format("%Y%m%d").to_string();
    let count = rows.len() as i64;
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let (count, total) = declared.unwrap_or((count, total));
    let mut out = format!("H{batch_no:<20}{count:08}{total:015}{today}\r\n").into_bytes();
    for Row(id, amount, paid, serial, reason) in rows {
        let result = if *paid { 'S' } else { 'F' };
        out.extend(
            format!("D{id:012}{ACCOUNT:<32}{amount:015}{result}{serial:<32}{today}").into_bytes(),
        );
        let (reason, _, _) = encoding_rs::GBK.encode(reason);
        out.extend_from_slice(&reason);
        out.extend_from_slice(b"\r\n");
    }
    out.extend(format!("T{count:08}{total:015}\r\n").into_bytes());
    out
}

/// An exported batch of `n` subsidies of one case: (batch id, batch number, lines as
/// (line id, visit id, amount in fen)).
async fn exported_batch(
    app: &TestApp,
    n: u32,
    layout: &str,
) -> (i64, String, Vec<(i64, i64, i64)>) {
    standard_policy(app, "low_income_urban").await;
    let h = hospital(app, "H1", true).await;
    let (case_id, _) = approved_subsidies(app, 1, h, n).await;
    set_payee(&app.as_role(Role::Caseworker).await, case_id, None).await;
    let b = app
        .as_role(Role::Manager)
        .await
        .post("/api/v1/payment-batches", &period())
        .await
        .json();
    let id = b["id"].as_i64().unwrap();
    approve_as_second_manager(app, id).await;
    exported(app, id, layout).await;
    let detail = app
        .as_role(Role::Manager)
        .await
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .json();
    let lines = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_i64().unwrap(),
                l["visit_id"].as_i64().unwrap(),
                fen(&l["amount"]),
            )
        })
        .collect();
    (id, b["batch_no"].as_str().unwrap().to_owned(), lines)
}

fn verdicts(v: &Value) -> Vec<&str> {
    v["problem_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["verdict"].as_str().unwrap())
        .collect()
}

db_test!(a_return_file_settles_each_line_once_and_lists_what_it_cannot_match);
async fn a_return_file_settles_each_line_once_and_lists_what_it_cannot_match(app: TestApp) {
    let (id, batch_no, lines) = exported_batch(&app, 3, "fixed_gbk").await;
    let manager = app.as_role(Role::Manager).await;
    let path = format!("/api/v1/payment-batches/{id}/return-file");
    let [(l0, v0, a0), (l1, v1, a1), (l2, v2, a2)] = lines[..] else {
        panic!("three lines: {lines:?}")
    };
    let returns = || async { payment_return::Entity::find().count(&app.db).await.unwrap() };
    // A budget line over the three subsidies: the bank's payments are consumed from it.
    let res = manager
        .post(
            "/api/v1/budget-lines",
            &json!({"year": year(), "region_code": "2201", "group": "low_income_urban",
                    "amount": "100000"}),
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(fen(&res.json()["committed"]), a0 + a1 + a2);
    let bank_file = manager
        .get(&format!(
            "/api/v1/payment-batches/{id}/export?layout=fixed_gbk"
        ))
        .await
        .body;

    // Another batch's file, or one whose control lines disagree with its rows, is refused
    // whole and changes nothing.
    let other = gbk_return(
        &app,
        "PB19990101-00001",
        &[Row(l0, a0, true, "BK1", "")],
        None,
    );
    let res = manager.upload(&path, &[], "return.txt", &other).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "return_file_wrong_batch");
    assert_eq!(res.json()["error"]["details"][0]["field"], "file");
    let short = gbk_return(
        &app,
        &batch_no,
        &[Row(l0, a0, true, "BK1", "")],
        Some((3, a0)),
    );
    let res = manager.upload(&path, &[], "return.txt", &short).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "return_file_control_mismatch");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 笔")
    );
    // More rows than the batch can have (three lines: at most 2 × 3 + 1,000) is no return
    // file of it: refused while it is read, nothing kept.
    let flood: Vec<Row<'_>> = (0..1_007)
        .map(|i| Row(1_000_000 + i, 1, true, "BK", ""))
        .collect();
    let res = manager
        .upload(
            &path,
            &[],
            "return.txt",
            &gbk_return(&app, &batch_no, &flood, None),
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_code(), "return_file_too_long");
    assert_eq!(returns().await, 0);

    // Outside the manager's region the batch does not exist.
    let yanbian = app.as_user("yanbian-mgr", &[Role::Manager], "2224").await;
    yanbian
        .upload(&path, &[], "return.txt", &other)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Paid, failed, another amount, and a reference that is no line of the batch.
    let file = gbk_return(
        &app,
        &batch_no,
        &[
            Row(l0, a0, true, "BK0001", ""),
            Row(l1, a1, false, "", "账户已冻结"),
            Row(l2, a2 + 1, true, "BK0003", ""),
            Row(999_999, 100, true, "BK0009", ""),
        ],
        None,
    );
    let res = manager.upload(&path, &[], "回盘.txt", &file).await;
    res.assert_status(StatusCode::OK);
    let r = res.json();
    assert_eq!(r["rows"], 4);
    assert_eq!(r["paid"]["count"], 1);
    assert_eq!(fen(&r["paid"]["amount"]), a0);
    assert_eq!(r["failed"]["count"], 1);
    assert_eq!(r["problems"], 2);
    assert_eq!(r["open_lines"], 1);
    assert_eq!(r["batch"]["state"], "exported");
    assert_eq!(verdicts(&r), ["amount_mismatch", "unmatched"]);
    let budget = manager.get("/api/v1/budget-lines").await.json();
    assert_eq!(fen(&budget[0]["paid"]), a0, "{budget}");
    // The file sent is the same file after the bank answered, failed line and all.
    let again = manager
        .get(&format!(
            "/api/v1/payment-batches/{id}/export?layout=fixed_gbk"
        ))
        .await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.body, bank_file);
    let message = r["problem_rows"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("金额") && message.contains("元"),
        "{message}"
    );

    // The paid subsidy is paid, with the bank's serial and day; the failed one is payable
    // again and goes into the next batch; the one still open cannot be paid by hand.
    let visit = |v: i64| {
        let manager = &manager;
        async move { manager.get(&format!("/api/v1/visits/{v}")).await.json() }
    };
    let paid = visit(v0).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment_ref"], "BK0001");
    assert_eq!(paid["paid_on"], app.state.clock.today().to_string());
    assert_eq!(visit(v1).await["status"], "approved");
    let detail = manager
        .get(&format!("/api/v1/payment-batches/{id}"))
        .await
        .json();
    let line1 = &detail["lines"][1];
    assert_eq!(line1["outcome"], "failed");
    assert_eq!(line1["fail_reason"], "账户已冻结");
    assert_eq!(line1["released"], true);
    let res = manager
        .post(
            &format!("/api/v1/visits/{v2}/pay"),
            &json!({"payment_ref": "T1", "paid_on": day(12, 30)}),
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "in_payment_batch");
    let next = manager.post("/api/v1/payment-batches", &period()).await;
    next.assert_status(StatusCode::CREATED);
    let next = next.json();
    assert_eq!(
        next["totals"]["count"], 1,
        "only the failed subsidy: {next}"
    );
    let next_lines = manager
        .get(&format!("/api/v1/payment-batches/{}", next["id"]))
        .await
        .json();
    assert_eq!(next_lines["lines"][0]["visit_id"], v1);

    // The same file again pays nothing twice.
    let res = manager.upload(&path, &[], "回盘.txt", &file).await;
    res.assert_status(StatusCode::OK);
    let again = res.json();
    assert_eq!(again["paid"]["count"], 0);
    assert_eq!(again["failed"]["count"], 0);
    assert_eq!(
        verdicts(&again),
        [
            "already_settled",
            "already_settled",
            "amount_mismatch",
            "unmatched"
        ]
    );
    assert_eq!(visit(v0).await["payment_ref"], "BK0001");

    // The corrected row settles the last line: the batch is reconciled, and takes no more.
    let last = gbk_return(&app, &batch_no, &[Row(l2, a2, true, "BK0003", "")], None);
    let res = manager.upload(&path, &[], "回盘2.txt", &last).await;
    res.assert_status(StatusCode::OK);
    let done = res.json();
    assert_eq!(done["batch"]["state"], "reconciled");
    assert_eq!(done["open_lines"], 0);
    assert_eq!(visit(v2).await["status"], "paid");
    manager
        .upload(&path, &[], "回盘2.txt", &last)
        .await
        .assert_status(StatusCode::CONFLICT);

    // Every file is kept with its problems, readable later page by page.
    let first_return = r["id"].as_i64().unwrap();
    let kept = manager
        .get(&format!(
            "/api/v1/payment-batches/{id}/returns/{first_return}?per_page=1&page=2"
        ))
        .await;
    kept.assert_status(StatusCode::OK);
    assert_eq!(verdicts(&kept.json()), ["unmatched"]);

    // A subsidy the bank paid can still be reversed.
    manager
        .post(
            &format!("/api/v1/visits/{v0}/reverse"),
            &json!({"reason": "患者退回"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
}

db_test!(a_return_workbook_is_read_by_its_titles);
async fn a_return_workbook_is_read_by_its_titles(app: TestApp) {
    use rust_xlsxwriter::Workbook;
    let (id, batch_no, lines) = exported_batch(&app, 2, "xlsx").await;
    let [(l0, v0, a0), (l1, _, a1)] = lines[..] else {
        panic!("two lines: {lines:?}")
    };
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    let today = app.state.clock.today().to_string();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let above = [
        ("批次号", batch_no.clone()),
        ("笔数", "2".to_owned()),
        ("金额（元）", yuan(a0 + a1)),
    ];
    for (r, (k, v)) in above.iter().enumerate() {
        sheet.write_string(r as u32, 0, *k).unwrap();
        sheet.write_string(r as u32, 1, v).unwrap();
    }
    // The bank's own column order, with a column of its own in between.
    let titles = [
        "银行流水号",
        "序号（付款参考号）",
        "备注",
        "金额（元）",
        "处理结果",
        "收款账号",
        "入账日期",
        "失败原因",
    ];
    for (c, t) in titles.iter().enumerate() {
        sheet.write_string(4, c as u16, *t).unwrap();
    }
    let rows = [
        [
            "W001".to_owned(),
            l0.to_string(),
            "x".into(),
            yuan(a0),
            "成功".into(),
            ACCOUNT.into(),
            today.clone(),
            "".into(),
        ],
        [
            "".to_owned(),
            l1.to_string(),
            "".into(),
            yuan(a1),
            "失败".into(),
            "6222020200000000014".into(),
            today.clone(),
            "户名不符".into(),
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(5 + r as u32, c as u16, v).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let manager = app.as_role(Role::Manager).await;
    let res = manager
        .upload(
            &format!("/api/v1/payment-batches/{id}/return-file"),
            &[],
            "回盘.xlsx",
            &bytes,
        )
        .await;
    res.assert_status(StatusCode::OK);
    let r = res.json();
    assert_eq!(r["layout"], "xlsx");
    assert_eq!(r["paid"]["count"], 1);
    assert_eq!(verdicts(&r), ["account_mismatch"], "{r}");
    assert!(
        r["problem_rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("账号"),
        "{r}"
    );
    let paid = manager.get(&format!("/api/v1/visits/{v0}")).await.json();
    assert_eq!(paid["payment_ref"], "W001");
}

db_test!(a_return_file_lists_twice_named_unreadable_and_no_longer_payable_rows);
async fn a_return_file_lists_twice_named_unreadable_and_no_longer_payable_rows(app: TestApp) {
    let (id, batch_no, lines) = exported_batch(&app, 4, "fixed_gbk").await;
    let manager = app.as_role(Role::Manager).await;
    let path = format!("/api/v1/payment-batches/{id}/return-file");
    let [(l0, _, a0), (l1, v1, a1), (l2, v2, a2), (l3, v3, _)] = lines[..] else {
        panic!("four lines: {lines:?}")
    };
    // A subsidy changed behind the batch's back (by hand in the database): the bank's payment
    // of it is listed, not applied.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        &format!("UPDATE visits SET status = 'voided' WHERE id = {v2}"),
    )
    .await
    .unwrap();
    let rows = [
        Row(l0, a0, true, "BK1", ""),
        Row(l0, a0, true, "BK1B", ""),
        Row(l1, a1, true, "BK2", ""),
        Row(l2, a2, true, "BK3", ""),
    ];
    let readable: i64 = rows.iter().map(|r| r.1).sum();
    let mut file = gbk_return(&app, &batch_no, &rows, Some((5, readable)));
    // A fifth row whose amount is not a number, before the trailer.
    let today = app.state.clock.today().format("%Y%m%d").to_string();
    let trailer = file.len() - format!("T{:08}{readable:015}\r\n", 5).len();
    let bad = format!(
        "D{l3:012}{ACCOUNT:<32}{:<15}S{:<32}{today}\r\n",
        "12X45", "BK4"
    );
    file.splice(trailer..trailer, bad.into_bytes());

    let res = manager.upload(&path, &[], "回盘.txt", &file).await;
    res.assert_status(StatusCode::OK);
    let r = res.json();
    assert_eq!(r["rows"], 5, "{r}");
    assert_eq!(r["paid"]["count"], 1, "only the one row that applies: {r}");
    assert_eq!(
        verdicts(&r),
        ["duplicate", "duplicate", "not_payable", "unreadable"],
        "{r}"
    );
    let visit = |v: i64| {
        let manager = &manager;
        async move { manager.get(&format!("/api/v1/visits/{v}")).await.json() }
    };
    assert_eq!(visit(v1).await["status"], "paid");
    assert_eq!(visit(v2).await["status"], "voided");
    assert_eq!(visit(v3).await["status"], "approved");
    assert_eq!(
        r["open_lines"], 3,
        "l0, l2 and l3 wait for a corrected row: {r}"
    );
    assert_eq!(r["batch"]["state"], "exported");
}
