//! Spending totals: every figure of the report checked against plain SQL over the same rows,
//! the exports, the summary, scope, roles and bad input.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement, TransactionTrait, Value,
};
use serde_json::Value as Json;

use cancer_aid::domain::Role;
use entity::{hospital, visit};

use crate::db_test;
use crate::helpers::{Client, TestApp, person_with_case, recorder};

const COUNTIES: [&str; 7] = [
    "220102", "220104", "220182", "220202", "220284", "222401", "222405",
];
const GROUPS: [&str; 4] = [
    "low_income_urban",
    "low_income_rural",
    "extreme_hardship",
    "entitled_care",
];
const STATUSES: [&str; 7] = [
    "approved", "paid", "paid", "pending", "approved", "voided", "paid",
];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// One visit row to insert; `reverses` names an earlier entry of the same list.
#[derive(Debug, Clone)]
struct Entry {
    person: usize,
    hospital: usize,
    group: &'static str,
    county: &'static str,
    kind: &'static str,
    on: NaiveDate,
    status: &'static str,
    fen: i64,
    reverses: Option<usize>,
}

/// Inserts people, hospitals, one case per person and the entries, as the visits API will.
async fn insert(app: &TestApp, people: usize, hospitals: usize, entries: &[Entry]) {
    let by = recorder(app).await;
    let now = Utc::now();
    let txn = app.db.begin().await.unwrap();
    let mut persons = Vec::new();
    let mut cases = Vec::new();
    for i in 0..people {
        let (person_id, case_id) = person_with_case(
            &txn,
            format!("2201021980{:08}", i),
            format!("患者{i}"),
            COUNTIES[i % COUNTIES.len()],
            2024,
            by,
        )
        .await;
        persons.push(person_id);
        cases.push(case_id);
    }
    let mut hospital_ids = Vec::new();
    for i in 0..hospitals {
        let h = hospital::ActiveModel {
            name: Set(format!("吉林省第{}人民医院", i + 1)),
            code: Set(format!("H{:03}", i + 1)),
            region_code: Set(COUNTIES[i % COUNTIES.len()].into()),
            designated: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .unwrap();
        hospital_ids.push(h.id);
    }
    let mut ids: Vec<i64> = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let inpatient = e.kind == "inpatient";
        let v = visit::ActiveModel {
            case_id: Set(cases[e.person]),
            person_id: Set(persons[e.person]),
            hospital_id: Set(hospital_ids[e.hospital]),
            policy_id: Set(None),
            group_code: Set(e.group.into()),
            region_code: Set(e.county.into()),
            kind: Set(entity::visit::Kind::parse(e.kind).expect("a visit kind")),
            admitted_on: Set(inpatient.then(|| e.on - chrono::Days::new(5))),
            discharged_on: Set(inpatient.then_some(e.on)),
            visit_date: Set((!inpatient).then_some(e.on)),
            counted_on: Set(e.on),
            year: Set(e.on.year()),
            invoice_no: Set(e.reverses.is_none().then(|| format!("INV{n:05}"))),
            total_cost_fen: Set(e.fen.max(0) * 3),
            insurance_paid_fen: Set(e.fen.max(0)),
            critical_illness_paid_fen: Set(0),
            medical_assistance_paid_fen: Set(0),
            out_of_pocket_fen: Set(e.fen.max(0) * 2),
            subsidy_fen: Set(e.fen),
            cap_reason: Set(None),
            status: Set(entity::visit::Status::parse(e.status).expect("a visit status")),
            reverses_visit_id: Set(e.reverses.map(|i| ids[i])),
            recorded_by: Set(by),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .unwrap();
        ids.push(v.id);
    }
    txn.commit().await.unwrap();
}

/// Three years of visits over 7 counties in 3 cities, 4 groups, 6 hospitals, both kinds and
/// every status: odd amounts, zero subsidies, very large ones, people who change group and
/// county, and reversals (whole and partial, some in a later month or year, some pending).
fn many_entries() -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let start = day(2023, 1, 1);
    for i in 0..260usize {
        let person = (i * 7) % 45;
        let on = start + chrono::Days::new(((i * 37) % 1095) as u64);
        // Some people change group and county from one visit to the next.
        let moved = person % 5 == 0 && i % 2 == 0;
        let fen = match i % 13 {
            0 => 0,
            1 => 123_456_789_015,
            _ => ((i as i64) * 1_234_567) % 5_000_000 + 1,
        };
        out.push(Entry {
            person,
            hospital: (i * 5) % 6,
            group: GROUPS[(person + usize::from(moved)) % 4],
            county: COUNTIES[(person + 2 * usize::from(moved)) % COUNTIES.len()],
            kind: if i % 3 == 0 {
                "outpatient"
            } else {
                "inpatient"
            },
            on,
            status: STATUSES[i % STATUSES.len()],
            fen,
            reverses: None,
        });
        if i % 9 == 4 && fen > 0 {
            let original = out.last().unwrap().clone();
            let later = (i / 9) % 3;
            out.push(Entry {
                on: original.on + chrono::Days::new(later as u64 * 40),
                status: ["paid", "approved", "pending"][(i / 9) % 3],
                fen: if i % 2 == 0 { -fen } else { -(fen / 2) },
                reverses: Some(out.len() - 1),
                ..original
            });
        }
    }
    out
}

/// A statement in the backend's placeholder style (`?` becomes `$n` on PostgreSQL).
fn stmt(app: &TestApp, sql: &str, values: Vec<Value>) -> Statement {
    let backend = app.db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::new();
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The report's query, and the same filter as plain SQL conditions.
#[derive(Debug, Clone)]
struct Ask {
    from: NaiveDate,
    to: NaiveDate,
    group_by: Vec<&'static str>,
    status: Vec<&'static str>,
    groups: Vec<&'static str>,
    region: &'static str,
}

impl Ask {
    fn year(y: i32, group_by: &[&'static str]) -> Ask {
        Ask {
            from: day(y, 1, 1),
            to: day(y, 12, 31),
            group_by: group_by.to_vec(),
            status: vec!["approved", "paid"],
            groups: vec![],
            region: "22",
        }
    }

    fn url(&self, format: &str) -> String {
        let mut url = format!(
            "/api/v1/reports/spending?from={}&to={}&group_by={}&status={}&format={format}",
            self.from,
            self.to,
            self.group_by.join(","),
            self.status.join(",")
        );
        if !self.groups.is_empty() {
            url.push_str(&format!("&group={}", self.groups.join(",")));
        }
        if self.region != "22" {
            url.push_str(&format!("&region={}", self.region));
        }
        url
    }

    /// `WHERE ...` of the plain queries, with its values.
    fn conditions(&self) -> (String, Vec<Value>) {
        let mut sql = "counted_on >= ? AND counted_on <= ? AND region_code LIKE ?".to_owned();
        let mut values: Vec<Value> = vec![
            self.from.into(),
            self.to.into(),
            format!("{}%", self.region).into(),
        ];
        sql.push_str(&format!(
            " AND status IN ({})",
            vec!["?"; self.status.len()].join(", ")
        ));
        values.extend(self.status.iter().map(|s| Value::from(*s)));
        if !self.groups.is_empty() {
            sql.push_str(&format!(
                " AND group_code IN ({})",
                vec!["?"; self.groups.len()].join(", ")
            ));
            values.extend(self.groups.iter().map(|s| Value::from(*s)));
        }
        (sql, values)
    }
}

/// 万元 to two places, half-up, by integer arithmetic (independent of `Money::to_wan`).
fn wan(fen: i64) -> String {
    let hundredths = (fen.abs() + 5_000) / 10_000;
    let sign = if fen < 0 && hundredths > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Yuan to the fen, from integer fen.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Patients, visits and fen of the visits matching `extra` conditions, by plain SQL.
async fn plain_figures(
    app: &TestApp,
    ask: &Ask,
    extra: &str,
    extra_values: Vec<Value>,
) -> (i64, i64, i64) {
    let (mut cond, mut values) = ask.conditions();
    cond.push_str(extra);
    values.extend(extra_values);
    let sql = format!(
        "SELECT COUNT(DISTINCT CASE WHEN subsidy_fen > 0 THEN person_id END) AS p, \
                COUNT(CASE WHEN subsidy_fen > 0 THEN 1 END) AS v, \
                CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT) AS s \
         FROM visits WHERE {cond}"
    );
    let r = app
        .db
        .query_one_raw(stmt(app, &sql, values))
        .await
        .unwrap()
        .unwrap();
    (
        r.try_get("", "p").unwrap(),
        r.try_get("", "v").unwrap(),
        r.try_get("", "s").unwrap(),
    )
}

fn last_of_month(y: i32, m: u32) -> NaiveDate {
    let next = if m == 12 {
        day(y + 1, 1, 1)
    } else {
        day(y, m + 1, 1)
    };
    next.pred_opt().unwrap()
}

/// The report row's keys as plain conditions.
fn row_conditions(row: &Json, keys: &[&str]) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut values: Vec<Value> = Vec::new();
    for k in keys {
        match *k {
            "year" => {
                let y = row["year"].as_i64().unwrap() as i32;
                sql.push_str(" AND counted_on >= ? AND counted_on <= ?");
                values.extend([day(y, 1, 1).into(), day(y, 12, 31).into()]);
            }
            "month" => {
                let m = row["month"].as_str().unwrap();
                let (y, mo) = m.split_once('-').unwrap();
                let (y, mo): (i32, u32) = (y.parse().unwrap(), mo.parse().unwrap());
                sql.push_str(" AND counted_on >= ? AND counted_on <= ?");
                values.extend([day(y, mo, 1).into(), last_of_month(y, mo).into()]);
            }
            "group" => {
                sql.push_str(" AND group_code = ?");
                values.push(row["group"].as_str().unwrap().into());
            }
            "city" => {
                let city = row["city"].as_str().unwrap();
                assert!(city.ends_with("00") && city.len() == 6, "{city}");
                sql.push_str(" AND region_code LIKE ?");
                values.push(format!("{}%", &city[..4]).into());
            }
            "county" => {
                sql.push_str(" AND region_code = ?");
                values.push(row["county"].as_str().unwrap().into());
            }
            "hospital" => {
                sql.push_str(" AND hospital_id = ?");
                values.push(row["hospital"].as_i64().unwrap().into());
            }
            "visit_kind" => {
                sql.push_str(" AND kind = ?");
                values.push(row["visit_kind"].as_str().unwrap().into());
            }
            other => panic!("unknown key {other}"),
        }
    }
    (sql, values)
}

/// The key tuples that must appear: one per combination found among the plain rows.
async fn plain_keys(app: &TestApp, ask: &Ask) -> BTreeSet<Vec<String>> {
    let (cond, values) = ask.conditions();
    let sql = format!(
        "SELECT counted_on, group_code, region_code, hospital_id, kind FROM visits WHERE {cond}"
    );
    let rows = app.db.query_all_raw(stmt(app, &sql, values)).await.unwrap();
    rows.iter()
        .map(|r| {
            let on: NaiveDate = r.try_get("", "counted_on").unwrap();
            let group: String = r.try_get("", "group_code").unwrap();
            let county: String = r.try_get("", "region_code").unwrap();
            let hospital: i64 = r.try_get("", "hospital_id").unwrap();
            let kind: String = r.try_get("", "kind").unwrap();
            ask.group_by
                .iter()
                .map(|k| match *k {
                    "year" => on.year().to_string(),
                    "month" => on.format("%Y-%m").to_string(),
                    "group" => group.clone(),
                    "city" => format!("{}00", &county[..4]),
                    "county" => county.clone(),
                    "hospital" => hospital.to_string(),
                    "visit_kind" => kind.clone(),
                    _ => unreachable!(),
                })
                .collect()
        })
        .collect()
}

fn row_keys(row: &Json, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| match &row[*k] {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            other => panic!("key {k} missing in {row}: {other}"),
        })
        .collect()
}

/// Asks for the report and checks every figure against plain SQL; returns the report.
async fn check(app: &TestApp, client: &Client<'_>, ask: &Ask) -> Json {
    let res = client.get(&ask.url("json")).await;
    res.assert_status(StatusCode::OK);
    let report = res.json();
    let rows = report["rows"].as_array().unwrap();

    let (p, v, s) = plain_figures(app, ask, "", vec![]).await;
    let total = &report["total"];
    assert_eq!(total["patients"], p, "total patients, {ask:?}");
    assert_eq!(total["visits"], v, "total visits, {ask:?}");
    assert_eq!(total["subsidy"], yuan(s), "total subsidy, {ask:?}");
    assert_eq!(total["subsidy_wan"], wan(s), "total 万元, {ask:?}");

    let mut sum_visits = 0;
    let mut sum_fen = 0;
    for row in rows {
        let (extra, values) = row_conditions(row, &ask.group_by);
        let (p, v, s) = plain_figures(app, ask, &extra, values).await;
        assert_eq!(row["patients"], p, "patients of {row}, {ask:?}");
        assert_eq!(row["visits"], v, "visits of {row}, {ask:?}");
        assert_eq!(row["subsidy"], yuan(s), "subsidy of {row}, {ask:?}");
        assert_eq!(row["subsidy_wan"], wan(s), "万元 of {row}, {ask:?}");
        for k in &ask.group_by {
            assert!(row[format!("{k}_label")].is_string(), "{k}_label in {row}");
        }
        sum_visits += v;
        sum_fen += s;
    }
    if ask.group_by.is_empty() {
        assert!(rows.is_empty());
    } else {
        let got: Vec<Vec<String>> = rows.iter().map(|r| row_keys(r, &ask.group_by)).collect();
        let unique: BTreeSet<Vec<String>> = got.iter().cloned().collect();
        assert_eq!(unique.len(), got.len(), "each combination once");
        assert_eq!(
            unique,
            plain_keys(app, ask).await,
            "every combination, {ask:?}"
        );
        assert_eq!(sum_visits, v, "rows add up to the total's visits");
        assert_eq!(sum_fen, s, "rows add up to the total's subsidy");
    }
    assert_eq!(
        report["filters"]["group_by"],
        serde_json::json!(ask.group_by),
        "filters echo the keys in order"
    );
    report
}

db_test!(every_figure_agrees_with_plain_sql_to_the_fen);
async fn every_figure_agrees_with_plain_sql_to_the_fen(app: TestApp) {
    let entries = many_entries();
    insert(&app, 45, 6, &entries).await;
    let manager = app.as_role(Role::Manager).await;

    let all_keys = [
        "year",
        "month",
        "group",
        "city",
        "county",
        "hospital",
        "visit_kind",
    ];
    let mut asks: Vec<Ask> = all_keys.iter().map(|k| Ask::year(2024, &[*k])).collect();
    asks.push(Ask::year(2024, &["group", "county"]));
    asks.push(Ask::year(2024, &["county", "group"]));
    asks.push(Ask::year(2025, &all_keys));
    asks.push(Ask::year(2025, &["visit_kind", "hospital", "month"]));
    asks.push(Ask::year(2025, &[]));
    asks.push(Ask {
        from: day(2023, 1, 1),
        to: day(2025, 12, 31),
        group_by: vec!["year", "city", "group"],
        status: vec!["pending", "approved", "paid", "voided"],
        groups: vec![],
        region: "22",
    });
    asks.push(Ask {
        from: day(2024, 3, 15),
        to: day(2024, 11, 2),
        group_by: vec!["month", "county"],
        status: vec!["paid"],
        groups: vec!["low_income_urban", "extreme_hardship"],
        region: "2201",
    });
    asks.push(Ask {
        from: day(2023, 6, 1),
        to: day(2025, 5, 31),
        group_by: vec!["group", "hospital"],
        status: vec!["approved", "paid", "pending"],
        groups: vec![],
        region: "222401",
    });
    let mut checked_rows = 0;
    for ask in &asks {
        let report = check(&app, &manager, ask).await;
        checked_rows += report["rows"].as_array().unwrap().len();
    }
    assert!(
        checked_rows > 200,
        "the data exercises many rows ({checked_rows})"
    );

    // Distinct people: the total is less than the rows' sum once people span groups.
    let three_years = Ask {
        from: day(2023, 1, 1),
        to: day(2025, 12, 31),
        ..Ask::year(2025, &["group"])
    };
    let by_group = check(&app, &manager, &three_years).await;
    let sum: i64 = by_group["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["patients"].as_i64().unwrap())
        .sum();
    assert!(
        sum > by_group["total"]["patients"].as_i64().unwrap(),
        "{by_group}"
    );

    // Labels come from the regions table, the groups and the hospitals.
    let r = check(
        &app,
        &manager,
        &Ask::year(2024, &["city", "county", "group", "visit_kind"]),
    )
    .await;
    let first = &r["rows"][0];
    assert_eq!(first["city"], "220100");
    assert_eq!(first["city_label"], "长春市");
    assert_eq!(first["county"], "220102");
    assert_eq!(first["county_label"], "南关区");
    assert_eq!(first["group_label"], "城市低保");
    assert_eq!(first["visit_kind_label"], "住院");
    assert_eq!(r["filters"]["region_label"], "吉林省");
    let h = check(&app, &manager, &Ask::year(2024, &["hospital"])).await;
    assert!(
        h["rows"][0]["hospital_label"]
            .as_str()
            .unwrap()
            .starts_with("吉林省第")
    );
    assert!(
        h["rows"][0]["hospital_code"]
            .as_str()
            .unwrap()
            .starts_with('H')
    );
    let m = check(&app, &manager, &Ask::year(2024, &["month"])).await;
    assert_eq!(m["rows"][0]["month"], "2024-01");
    assert_eq!(m["rows"][0]["month_label"], "2024年1月");
}

db_test!(reversals_net_in_under_their_own_status_and_date);
async fn reversals_net_in_under_their_own_status_and_date(app: TestApp) {
    let e = |on: NaiveDate,
             status: &'static str,
             fen: i64,
             reverses: Option<usize>,
             group: &'static str| Entry {
        person: 0,
        hospital: 0,
        group,
        county: "220102",
        kind: "inpatient",
        on,
        status,
        fen,
        reverses,
    };
    let entries = vec![
        e(day(2025, 1, 10), "paid", 100_000, None, "low_income_urban"),
        e(
            day(2025, 2, 3),
            "paid",
            -100_000,
            Some(0),
            "low_income_urban",
        ),
        e(day(2025, 3, 1), "pending", 50_000, None, "low_income_urban"),
        e(day(2025, 3, 2), "voided", 30_000, None, "low_income_urban"),
        e(day(2025, 3, 5), "approved", 0, None, "low_income_urban"),
        e(
            day(2025, 4, 1),
            "approved",
            7_619_590_000,
            None,
            "entitled_care",
        ),
        e(day(2025, 5, 1), "pending", -2_000, Some(5), "entitled_care"),
    ];
    insert(&app, 1, 1, &entries).await;
    let manager = app.as_role(Role::Manager).await;
    let report = check(&app, &manager, &Ask::year(2025, &["month"])).await;
    assert_eq!(
        report["total"],
        serde_json::json!({"patients": 1, "visits": 2, "subsidy": "76195900.00", "subsidy_wan": "7619.59"})
    );
    let rows = report["rows"].as_array().unwrap();
    let months: Vec<&str> = rows.iter().map(|r| r["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2025-01", "2025-02", "2025-03", "2025-04"]);
    assert_eq!(
        rows[1]["subsidy"], "-1000.00",
        "the reversal counts in its own month"
    );
    assert_eq!(rows[1]["visits"], 0);
    assert_eq!(rows[1]["patients"], 0);
    assert_eq!(rows[2]["visits"], 0, "a zero subsidy is no visit");

    let with_pending = Ask {
        status: vec!["pending", "approved", "paid"],
        ..Ask::year(2025, &["group"])
    };
    let r = check(&app, &manager, &with_pending).await;
    assert_eq!(r["total"]["subsidy"], "76196380.00");
    assert_eq!(r["total"]["visits"], 3);
    assert_eq!(r["total"]["patients"], 1, "one person across two groups");
    assert_eq!(r["rows"][0]["patients"], 1);
    assert_eq!(r["rows"][1]["patients"], 1);
    assert_eq!(
        r["rows"][0]["group"], "low_income_urban",
        "groups in display order"
    );
    assert_eq!(r["rows"][1]["group"], "entitled_care");
}

db_test!(a_manager_sees_only_their_region);
async fn a_manager_sees_only_their_region(app: TestApp) {
    insert(&app, 45, 6, &many_entries()).await;
    let changchun = app.as_user("cc_manager", &[Role::Manager], "2201").await;
    let res = changchun
        .get("/api/v1/reports/spending?from=2023-01-01&to=2025-12-31&group_by=county")
        .await;
    res.assert_status(StatusCode::OK);
    let body = res.json();
    let ask = Ask {
        from: day(2023, 1, 1),
        to: day(2025, 12, 31),
        group_by: vec!["county"],
        status: vec!["approved", "paid"],
        groups: vec![],
        region: "2201",
    };
    let (p, v, s) = plain_figures(&app, &ask, "", vec![]).await;
    assert_eq!(body["total"]["patients"], p);
    assert_eq!(body["total"]["visits"], v);
    assert_eq!(body["total"]["subsidy"], yuan(s));
    assert_eq!(body["filters"]["region"], "2201");
    assert_eq!(body["filters"]["region_label"], "长春市");
    for row in body["rows"].as_array().unwrap() {
        assert!(row["county"].as_str().unwrap().starts_with("2201"), "{row}");
    }
    // A part of the scope is fine, also written as a six-digit city code; outside it is not.
    let narrow = changchun
        .get("/api/v1/reports/spending?from=2023-01-01&to=2025-12-31&region=220100")
        .await
        .json();
    assert_eq!(narrow["total"], body["total"]);
    changchun
        .get("/api/v1/reports/spending?region=220102")
        .await
        .assert_status(StatusCode::OK);
    let outside = changchun.get("/api/v1/reports/spending?region=2202").await;
    outside.assert_status(StatusCode::FORBIDDEN);
    assert!(
        outside.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2201")
    );

    // Managers and administrators only.
    app.as_role(Role::Admin)
        .await
        .get("/api/v1/reports/spending")
        .await
        .assert_status(StatusCode::OK);
    for role in [Role::Caseworker, Role::Approver, Role::RosterImporter] {
        let c = app.as_role(role).await;
        c.get("/api/v1/reports/spending")
            .await
            .assert_status(StatusCode::FORBIDDEN);
        c.get("/api/v1/reports/summary")
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    app.anonymous()
        .get("/api/v1/reports/spending")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

db_test!(bad_input_says_what_is_allowed);
async fn bad_input_says_what_is_allowed(app: TestApp) {
    let manager = app.as_role(Role::Manager).await;
    let fails = |res: &crate::helpers::TestResponse, field: &str, needle: &str| {
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.json();
        assert_eq!(body["error"]["code"], "validation_failed");
        let details = body["error"]["details"].as_array().unwrap();
        let d = details
            .iter()
            .find(|d| d["field"] == field)
            .unwrap_or_else(|| panic!("{body}"));
        assert!(d["message"].as_str().unwrap().contains(needle), "{body}");
    };
    let res = manager
        .get("/api/v1/reports/spending?group_by=group,province")
        .await;
    fails(&res, "group_by", "visit_kind（就诊类型）");
    let res = manager
        .call(
            axum::http::Method::GET,
            "/api/v1/reports/spending?group_by=region",
        )
        .header("accept-language", "en")
        .send()
        .await;
    fails(
        &res,
        "group_by",
        "use year, month, group, city, county, hospital, visit_kind",
    );
    fails(
        &manager
            .get("/api/v1/reports/spending?group_by=group,group")
            .await,
        "group_by",
        "重复",
    );
    fails(
        &manager
            .get("/api/v1/reports/spending?from=2025-02-30")
            .await,
        "from",
        "YYYY-MM-DD",
    );
    fails(
        &manager.get("/api/v1/reports/spending?to=2025/12/31").await,
        "to",
        "YYYY-MM-DD",
    );
    fails(
        &manager
            .get("/api/v1/reports/spending?from=2025-12-31&to=2025-01-01")
            .await,
        "from",
        "不晚于",
    );
    fails(
        &manager
            .get("/api/v1/reports/spending?status=approved,refunded")
            .await,
        "status",
        "pending",
    );
    fails(
        &manager.get("/api/v1/reports/spending?group=低收入").await,
        "group",
        "城市低保",
    );
    fails(
        &manager.get("/api/v1/reports/spending?format=pdf").await,
        "format",
        "xlsx",
    );
    fails(
        &manager.get("/api/v1/reports/spending?region=abc").await,
        "region",
        "6位",
    );
    fails(
        &manager.get("/api/v1/reports/summary?year=20x5").await,
        "year",
        "2000",
    );
    fails(
        &manager.get("/api/v1/reports/summary?top=0").await,
        "top",
        "1到50",
    );
    // Several problems are reported at once.
    let res = manager
        .get("/api/v1/reports/spending?from=x&group_by=y&status=z")
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["details"].as_array().unwrap().len(), 3);
    // Without dates the report covers this year.
    let this_year = manager.get("/api/v1/reports/spending").await.json();
    let y = cancer_aid::clock::day_of(chrono::Utc::now()).year();
    assert_eq!(this_year["filters"]["from"], format!("{y}-01-01"));
    assert_eq!(this_year["filters"]["to"], format!("{y}-12-31"));
    assert_eq!(
        this_year["filters"]["status"],
        serde_json::json!(["approved", "paid"])
    );
    assert_eq!(this_year["total"]["subsidy"], "0.00");
}

fn sheet_xml(book: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(book)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

db_test!(the_report_downloads_as_a_workbook_and_as_csv);
async fn the_report_downloads_as_a_workbook_and_as_csv(app: TestApp) {
    insert(&app, 45, 6, &many_entries()).await;
    let manager = app.as_role(Role::Manager).await;
    let ask = Ask::year(2024, &["group", "county"]);
    let json = check(&app, &manager, &ask).await;
    let rows = json["rows"].as_array().unwrap();

    let res = manager.get(&ask.url("xlsx")).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(
        res.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = res.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("attachment") && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(res.body.clone())).unwrap();
    let sheet = book.worksheet_range("支出统计").unwrap();
    let cell = |r: usize, c: usize| sheet.get((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        cell(0, 0).to_string(),
        "肿瘤患者救助支出统计（2024年1月1日至2024年12月31日）"
    );
    let filters = cell(1, 0).to_string();
    assert!(
        filters.contains("吉林省")
            && filters.contains("已审核、已支付")
            && filters.contains("救助类别、县（市、区）"),
        "{filters}"
    );
    let header: Vec<String> = (0..6).map(|c| cell(2, c).to_string()).collect();
    assert_eq!(
        header,
        [
            "救助类别",
            "县（市、区）",
            "人数",
            "人次",
            "救助金额（元）",
            "救助金额（万元）"
        ]
    );
    for (i, row) in rows.iter().enumerate() {
        let r = 3 + i;
        assert_eq!(cell(r, 0).to_string(), row["group_label"].as_str().unwrap());
        assert_eq!(
            cell(r, 1).to_string(),
            row["county_label"].as_str().unwrap()
        );
        assert_eq!(
            cell(r, 2),
            Data::Float(row["patients"].as_i64().unwrap() as f64)
        );
        assert_eq!(
            cell(r, 3),
            Data::Float(row["visits"].as_i64().unwrap() as f64)
        );
        let yuan: f64 = row["subsidy"].as_str().unwrap().parse().unwrap();
        assert_eq!(cell(r, 4), Data::Float(yuan));
    }
    let total_row = 3 + rows.len();
    assert_eq!(cell(total_row, 0).to_string(), "合计");
    assert_eq!(
        cell(total_row, 2),
        Data::Float(json["total"]["patients"].as_i64().unwrap() as f64)
    );
    let total_yuan: f64 = json["total"]["subsidy"].as_str().unwrap().parse().unwrap();
    assert_eq!(cell(total_row, 4), Data::Float(total_yuan));
    let wan: f64 = json["total"]["subsidy_wan"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(cell(total_row, 5), Data::Float(wan));
    assert_eq!(sheet.height(), total_row + 1, "nothing after the total row");
    // Frozen below the header, thousands separators with two decimals, title merged.
    let xml = sheet_xml(&res.body, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(r#"ySplit="3""#) && xml.contains(r#"state="frozen""#),
        "{xml}"
    );
    assert!(xml.contains(r#"<mergeCell ref="A1:F1"/>"#), "{xml}");
    assert!(sheet_xml(&res.body, "xl/styles.xml").contains(r##"formatCode="#,##0.00""##));

    let res = manager.get(&ask.url("csv")).await;
    res.assert_status(StatusCode::OK);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(res.body.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(res.body[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "救助类别",
            "县（市、区）",
            "人数",
            "人次",
            "救助金额（元）",
            "救助金额（万元）"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len() + 1);
    for (rec, row) in records.iter().zip(rows) {
        assert_eq!(&rec[0], row["group_label"].as_str().unwrap());
        assert_eq!(&rec[2], row["patients"].to_string());
        assert_eq!(
            &rec[4],
            row["subsidy"].as_str().unwrap(),
            "exact yuan in the CSV"
        );
        assert_eq!(&rec[5], row["subsidy_wan"].as_str().unwrap());
    }
    let last = records.last().unwrap();
    assert_eq!(&last[0], "合计");
    assert_eq!(&last[4], json["total"]["subsidy"].as_str().unwrap());

    // English on request; with no keys, a single label column.
    let res = manager
        .call(axum::http::Method::GET, &Ask::year(2024, &[]).url("csv"))
        .header("accept-language", "en")
        .send()
        .await;
    let text = String::from_utf8(res.body[3..].to_vec()).unwrap();
    assert!(
        text.starts_with("Item,Patients,Visits,Subsidy (yuan)"),
        "{text}"
    );
    assert!(text.contains("\nTotal,"), "{text}");
    let res = manager.get(&Ask::year(2024, &[]).url("xlsx")).await;
    res.assert_status(StatusCode::OK);
}

db_test!(the_summary_has_the_year_by_group_by_month_and_top_hospitals);
async fn the_summary_has_the_year_by_group_by_month_and_top_hospitals(app: TestApp) {
    insert(&app, 45, 6, &many_entries()).await;
    let manager = app.as_role(Role::Manager).await;
    let res = manager.get("/api/v1/reports/summary?year=2024&top=3").await;
    res.assert_status(StatusCode::OK);
    let s = res.json();
    assert_eq!(s["year"], 2024);
    let year = check(&app, &manager, &Ask::year(2024, &[])).await;
    assert_eq!(s["total"], year["total"]);

    let groups: Vec<&str> = s["by_group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, GROUPS, "every group, in display order");
    let by_group = check(&app, &manager, &Ask::year(2024, &["group"])).await;
    for row in by_group["rows"].as_array().unwrap() {
        let same = s["by_group"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == row["group"])
            .unwrap();
        assert_eq!(same, row);
    }

    let months = s["by_month"].as_array().unwrap();
    assert_eq!(months.len(), 12, "every month, zeros included");
    assert_eq!(months[0]["month"], "2024-01");
    assert_eq!(months[11]["month"], "2024-12");
    let fen = |v: &Json| -> i64 { v.as_str().unwrap().replace('.', "").parse().unwrap() };
    let month_sum: i64 = months.iter().map(|m| fen(&m["subsidy"])).sum();
    assert_eq!(month_sum, fen(&s["total"]["subsidy"]));

    let top = s["top_hospitals"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let by_hospital = check(&app, &manager, &Ask::year(2024, &["hospital"])).await;
    let mut all: Vec<i64> = by_hospital["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| fen(&r["subsidy"]))
        .collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<i64> = top.iter().map(|r| fen(&r["subsidy"])).collect();
    assert_eq!(got, all[..3], "largest subsidy first");
    assert!(top[0]["hospital_label"].is_string());

    // An empty year is all zeros, still with every group and month.
    let empty = manager
        .get("/api/v1/reports/summary?year=2030")
        .await
        .json();
    assert_eq!(empty["total"]["subsidy"], "0.00");
    assert_eq!(empty["by_month"].as_array().unwrap().len(), 12);
    assert_eq!(empty["by_group"].as_array().unwrap().len(), 4);
    assert!(empty["top_hospitals"].as_array().unwrap().is_empty());
}
