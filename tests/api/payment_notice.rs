//! The public notice (公示) of payment batches through the real router on both databases: what
//! it shows and never shows, the period that holds the bank file back, objections that hold a
//! line out until resolved, and the settings that shape it.

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::{Value, json};

use cancer_aid::domain::Role;
use cancer_aid::payment::{NameMask, NoticePeriod};
use entity::audit_log;

use crate::db_test;
use crate::fixtures::visits::*;
use crate::helpers::TestApp;
use crate::payments::{approve_as_second_manager, approved_subsidies, period, set_payee};

/// An approved batch of one subsidy for each of two patients; its id and number.
async fn approved_batch(app: &TestApp) -> (i64, String) {
    standard_policy(app, "low_income_urban").await;
    let h = hospital(app, "H1", true).await;
    let worker = app.as_role(Role::Caseworker).await;
    for seq in [1, 2] {
        let (case_id, _) = approved_subsidies(app, seq, h, 1).await;
        set_payee(&worker, case_id, None).await;
    }
    let b = app
        .as_role(Role::Manager)
        .await
        .post("/api/v1/payment-batches", &period())
        .await
        .json();
    let id = b["id"].as_i64().unwrap();
    approve_as_second_manager(app, id).await;
    (id, b["batch_no"].as_str().unwrap().to_owned())
}

fn date(v: &Value) -> NaiveDate {
    v.as_str().unwrap().parse().unwrap()
}

db_test!(a_notice_masks_people_and_holds_the_bank_file_until_it_has_run);
async fn a_notice_masks_people_and_holds_the_bank_file_until_it_has_run(app: TestApp) {
    let (id, batch_no) = approved_batch(&app).await;
    let manager = app.as_role(Role::Manager).await;
    let base = format!("/api/v1/payment-batches/{id}");
    let export = format!("{base}/export?layout=fixed_gbk");
    let detail = manager.get(&base).await.json();
    let second_line = detail["lines"][1]["id"].as_i64().unwrap();

    // No objection and no bank file before the notice.
    let object = json!({"line_id": second_line, "reason": "群众反映其家庭收入较高"});
    let res = manager.post(&format!("{base}/objections"), &object).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "notice_not_running");
    let res = manager.get(&export).await;
    assert_eq!(res.error_code(), "notice_required");

    // The notice: masked names and ID numbers, the county, the group, the amount; its period
    // starts today and runs seven working days.
    let res = manager.get(&format!("{base}/notice?format=json")).await;
    res.assert_status(StatusCode::OK);
    let n = res.json();
    let today = app.state.clock.today();
    assert_eq!(date(&n["from"]), today);
    assert_eq!(
        date(&n["until"]),
        NoticePeriod::WorkingDays(7).until(today, &Default::default())
    );
    let first = &n["entries"][0];
    assert_eq!(first["name"], "患*1");
    assert_eq!(first["id_number"].as_str().unwrap().len(), 18);
    assert!(first["id_number"].as_str().unwrap().contains("********"));
    assert_eq!(first["place"], "南关区");
    assert_eq!(first["group"], "城市低保");
    assert_eq!(n["totals"]["count"], 2);
    assert_eq!(n["batch"]["batch_no"], batch_no.as_str());
    let page = manager.get(&format!("{base}/notice")).await;
    page.assert_status(StatusCode::OK);
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    for shown in [
        "肿瘤患者救助金发放公示",
        batch_no.as_str(),
        "12345",
        "患*2",
        "南关区",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
    for hidden in ["患者1", "C34", "肺恶性肿瘤", &id_number(1)] {
        assert!(!html.contains(hidden), "{hidden} is on the notice");
    }
    let sheet = manager.get(&format!("{base}/notice?format=xlsx")).await;
    sheet.assert_status(StatusCode::OK);
    // The workbook says what the JSON says, under titles that match its columns.
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(sheet.body.to_vec())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0)
        .unwrap()
        .unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let top = rows.iter().position(|r| r[0] == "序号").unwrap();
    assert_eq!(rows[top][..3], ["序号", "编号", "姓名"]);
    assert_eq!(rows[top][6], "金额（元）");
    for (i, e) in n["entries"].as_array().unwrap().iter().enumerate() {
        let row = &rows[top + 1 + i];
        assert_eq!(row[1], e["line_id"].to_string());
        assert_eq!(row[2], e["name"].as_str().unwrap());
        assert_eq!(row[6], e["amount"].as_str().unwrap());
    }
    assert_eq!(rows[top + 3][0], "合计 2 笔");
    assert_eq!(rows[top + 3][6], n["totals"]["amount"].as_str().unwrap());
    manager
        .get(&format!("{base}/notice?format=pdf"))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // An objection during the period holds its line; the bank file waits for the period.
    let res = manager.post(&format!("{base}/objections"), &object).await;
    res.assert_status(StatusCode::CREATED);
    let objection = res.json()["id"].as_i64().unwrap();
    let detail = manager.get(&base).await.json();
    assert_eq!(detail["lines"][1]["held"], true);
    let res = manager.get(&export).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "notice_running");

    // After the period: no new objection, and no bank file while one is open.
    app.move_clock(app.state.clock.now() + Duration::days(12))
        .await;
    let manager = app.as_role(Role::Manager).await;
    let res = manager.post(&format!("{base}/objections"), &object).await;
    assert_eq!(res.error_code(), "notice_not_running");
    let res = manager.get(&export).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "objections_open");

    // Upheld: the line leaves the batch, whose totals drop; the file has the other line.
    let resolve = format!("{base}/objections/{objection}/resolve");
    let res = manager
        .post(&resolve, &json!({"decision": "maybe", "reason": ""}))
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"].as_array().unwrap().len(), 2);
    let res = manager
        .post(
            &resolve,
            &json!({"decision": "upheld", "reason": "经入户核实，家庭收入超标"}),
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["state"], "upheld");
    manager
        .post(
            &resolve,
            &json!({"decision": "dismissed", "reason": "再次处理"}),
        )
        .await
        .assert_status(StatusCode::CONFLICT);
    let detail = manager.get(&base).await.json();
    assert_eq!(detail["totals"]["count"], 1);
    let res = manager.get(&export).await;
    res.assert_status(StatusCode::OK);
    let (text, _, _) = encoding_rs::GBK.decode(&res.body);
    let payments = text.lines().filter(|l| l.starts_with('D')).count();
    assert_eq!(payments, 1, "{text}");

    // Every step is audited.
    for action in [
        "payment_batch.notice",
        "payment_batch.objection",
        "payment_batch.objection_resolve",
    ] {
        let rows = audit_log::Entity::find()
            .filter(audit_log::COLUMN.action.eq(action))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{action}");
    }
}

db_test!(the_notice_period_and_masking_follow_the_settings);
async fn the_notice_period_and_masking_follow_the_settings(app: TestApp) {
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.notice.period = NoticePeriod::Days(3);
        s.notice.name_mask = NameMask::Surname;
        s.notice.phone = "0431-88880000".to_owned();
    })
    .await
    .expect("the same backend again");
    let (id, _) = approved_batch(&app).await;
    let manager = app.as_role(Role::Manager).await;
    let base = format!("/api/v1/payment-batches/{id}");
    let n = manager
        .get(&format!("{base}/notice?format=json"))
        .await
        .json();
    let today = app.state.clock.today();
    assert_eq!(date(&n["until"]), today + Duration::days(2));
    assert_eq!(n["entries"][0]["name"], "患**");
    assert_eq!(n["phone"], "0431-88880000");
    // Three days later the period is over and the bank file can go.
    app.move_clock(app.state.clock.now() + Duration::days(3))
        .await;
    app.as_role(Role::Manager)
        .await
        .get(&format!("{base}/export?layout=delimited_utf8"))
        .await
        .assert_status(StatusCode::OK);
}

db_test!(a_period_in_working_days_skips_the_listed_holidays);
async fn a_period_in_working_days_skips_the_listed_holidays(app: TestApp) {
    let today = app.state.clock.today();
    // The seven days after today are a holiday.
    let holidays = format!(
        "{}..{}",
        today + Duration::days(1),
        today + Duration::days(7)
    );
    let calendar = cancer_aid::domain::WorkCalendar::parse(&holidays, "").unwrap();
    let app = crate::helpers::spawn_app_with(app.backend, |s| {
        s.notice.period = NoticePeriod::WorkingDays(3);
        s.notice.calendar = calendar;
    })
    .await
    .expect("the same backend again");
    let (id, _) = approved_batch(&app).await;
    let n = app
        .as_role(Role::Manager)
        .await
        .get(&format!("/api/v1/payment-batches/{id}/notice?format=json"))
        .await
        .json();
    let until = date(&n["until"]);
    // Without the holiday three working days end within four days of today, whatever today
    // is; with it, at least two of them come after the holiday.
    let plain = NoticePeriod::WorkingDays(3).until(today, &Default::default());
    assert!(plain <= today + Duration::days(4), "{plain}");
    assert!(until >= today + Duration::days(9), "{until}");
    for d in 1..=7 {
        assert_ne!(until, today + Duration::days(d), "not on a holiday");
    }
}
