//! ID numbers never reach the server's logs: a whole working day (import, eligibility, roster
//! entries, a case, a visit, statements, downloads, errors) through the real router, with every
//! log line of every crate at debug level captured, and no valid 18-character ID number in
//! them. A binary of its own, because it installs the process's log subscriber.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

#[path = "../api/conformance.rs"]
mod conformance;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use cancer_aid::domain::id_number::check_character;
use cancer_aid::domain::{IdNumber, Role};

/// Everything logged in this process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
}

fn id(region: &str, birth: &str, seq: u32) -> String {
    let body = format!("{region}{birth}{seq:03}");
    format!("{body}{}", check_character(body.as_bytes()))
}

/// Every valid ID number in a text: 18 characters (17 digits and a digit or X) that pass the
/// check digit and hold a real birth date, not part of a longer run of digits.
fn id_numbers_in(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 18 <= b.len() {
        let before_ok = i == 0 || !b[i - 1].is_ascii_digit();
        let candidate = &b[i..i + 18];
        let shape = candidate[..17].iter().all(u8::is_ascii_digit)
            && (candidate[17].is_ascii_digit() || candidate[17] == b'X' || candidate[17] == b'x');
        let after_ok = b.get(i + 18).is_none_or(|c| !c.is_ascii_digit());
        if before_ok && shape && after_ok {
            let s = String::from_utf8_lossy(candidate).into_owned();
            if IdNumber::parse(&s).is_ok() {
                found.push(s);
            }
        }
        i += 1;
    }
    found
}

db_test!(a_working_day_leaves_no_id_number_in_the_logs);
async fn a_working_day_leaves_no_id_number_in_the_logs(app: TestApp) {
    let log = captured();
    tracing::debug!("capturing");
    let (known, other) = (id("220102", "19700101", 1), id("220102", "19700101", 2));
    // The roster: one good row, one with a wrong check digit (a rejected row quoting it).
    let bad = format!("{}0", &other[..17]);
    let csv = format!("身份证号码,姓名,区划代码\n{known},张三,220102\n{bad},李四,220102\n");
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("group", "城市低保"), ("region_code", "220102")],
            "r.csv",
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let import = clerk.wait_import(res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(import["status"], "succeeded", "{import}");
    let errors = clerk
        .get(&format!(
            "/api/v1/roster-imports/{}/errors?format=csv",
            import["id"]
        ))
        .await;
    errors.assert_status(StatusCode::OK);

    let worker = app.as_role(Role::Caseworker).await;
    // The old forms, with the number in the address, and the recommended ones.
    worker
        .get(&format!("/api/v1/eligibility?id_number={known}"))
        .await
        .assert_status(StatusCode::OK);
    let check = worker
        .post("/api/v1/eligibility", &json!({"id_number": known}))
        .await;
    check.assert_status(StatusCode::OK);
    let person_id = check.json()["person"]["id"]
        .as_i64()
        .expect("the person's id");
    worker
        .get(&format!("/api/v1/roster-entries?id_number={known}"))
        .await
        .assert_status(StatusCode::OK);
    worker
        .post(
            "/api/v1/roster-entries/search",
            &json!({"id_number": known}),
        )
        .await
        .assert_status(StatusCode::OK);
    worker
        .get(&format!("/api/v1/persons/{bad}/statement"))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    worker
        .get(&format!("/api/v1/persons/{other}/statement"))
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // A case, approved, and a visit.
    let admin = app.as_role(Role::Admin).await;
    let hospital = admin
        .post(
            "/api/v1/hospitals",
            &json!({"code": "H1", "name": "医院", "region_code": "220104", "designated": true}),
        )
        .await;
    hospital.assert_status(StatusCode::CREATED);
    let hospital_id = hospital.json()["id"].as_i64().unwrap();
    admin
        .post(
            "/api/v1/policies",
            &json!({"group": "low_income_urban", "rate": "0.60", "deductible": "1000",
                    "per_visit_cap": "10000", "annual_cap": "30000", "effective_from": "2015-01-01"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    let case = worker
        .post(
            "/api/v1/cases",
            &json!({"id_number": known, "name": "张三", "diagnosis_code": "C34.1", "hospital_id": hospital_id}),
        )
        .await;
    case.assert_status(StatusCode::CREATED);
    let case_id = case.json()["id"].as_i64().unwrap();
    let approver = app.as_role(Role::Approver).await;
    approver
        .post(
            &format!("/api/v1/cases/{case_id}/approve"),
            &json!({"version": 1}),
        )
        .await
        .assert_status(StatusCode::OK);
    let today = cancer_aid::clock::day_of(chrono::Utc::now()).to_string();
    worker
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &json!({"hospital_id": hospital_id, "kind": "outpatient", "visit_date": today,
                    "invoice_no": "FP-1", "total_cost": "5000", "insurance_paid": "0",
                    "critical_illness_paid": "0", "medical_assistance_paid": "0"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    worker
        .get(&format!("/api/v1/persons/{known}/statement"))
        .await
        .assert_status(StatusCode::OK);
    let statement = worker
        .get(&format!("/api/v1/persons/{person_id}/statement"))
        .await;
    statement.assert_status(StatusCode::OK);
    assert_eq!(statement.json()["id_number"], known.as_str());
    worker
        .get(&format!(
            "/api/v1/persons/{person_id}/statement?format=xlsx"
        ))
        .await
        .assert_status(StatusCode::OK);
    // The eligibility page.
    worker
        .call(Method::POST, "/eligibility")
        .raw(
            "application/x-www-form-urlencoded",
            format!("id_number={known}"),
        )
        .send()
        .await
        .assert_status(StatusCode::OK);

    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(text.contains("DEBUG"), "debug lines are captured: {text}");
    assert!(
        text.contains("/api/v1/persons/{person}/statement"),
        "requests are logged by route"
    );
    let leaked = id_numbers_in(&text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| leaked.iter().any(|n| l.contains(n.as_str())))
        .take(5)
        .collect();
    assert!(
        leaked.is_empty(),
        "ID numbers in the log: {leaked:?}\n{}",
        lines.join("\n")
    );
}
