//! The managers' pages through the router, on both databases: the dashboard's figures and
//! charts and the spending report's table agree with the reports API on the same visits, the
//! downloads carry the page's filters, other roles are refused and bad filters are explained.

use axum::http::{Method, StatusCode};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
use serde_json::Value;

use cancer_aid::domain::{Money, Role};
use cancer_aid::web::fmt;
use entity::{hospital, visit};

use crate::db_test;
use crate::helpers::{Client, TestApp, TestResponse, person_with_case, recorder};

fn html(res: &TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// One visit row: person, hospital, group, county, kind, counting date, status, subsidy in
/// fen, and the earlier entry it reverses.
type Entry = (
    usize,
    usize,
    &'static str,
    &'static str,
    &'static str,
    (i32, u32, u32),
    &'static str,
    i64,
    Option<usize>,
);

const PEOPLE: [&str; 4] = ["220102", "220104", "222401", "220202"];

/// Months and groups with money, one without (a pending visit does not count by default), a
/// voided one, another year, and a November that a reversal drives below zero.
const VISITS: [Entry; 9] = [
    (
        0,
        0,
        "low_income_urban",
        "220102",
        "inpatient",
        (2025, 1, 15),
        "approved",
        123_456_789,
        None,
    ),
    (
        1,
        1,
        "low_income_rural",
        "220104",
        "outpatient",
        (2025, 3, 2),
        "paid",
        500_000,
        None,
    ),
    (
        0,
        1,
        "low_income_urban",
        "220102",
        "outpatient",
        (2025, 3, 20),
        "paid",
        250_050,
        None,
    ),
    (
        2,
        0,
        "extreme_hardship",
        "222401",
        "inpatient",
        (2025, 7, 31),
        "pending",
        99_900,
        None,
    ),
    (
        3,
        1,
        "entitled_care",
        "220202",
        "inpatient",
        (2025, 10, 10),
        "paid",
        1_000_000,
        None,
    ),
    (
        3,
        1,
        "entitled_care",
        "220202",
        "inpatient",
        (2025, 11, 2),
        "paid",
        -1_000_000,
        Some(4),
    ),
    (
        3,
        0,
        "entitled_care",
        "220202",
        "outpatient",
        (2025, 12, 31),
        "paid",
        3_000_000,
        None,
    ),
    (
        1,
        0,
        "low_income_rural",
        "220104",
        "inpatient",
        (2024, 12, 31),
        "paid",
        777,
        None,
    ),
    (
        2,
        0,
        "extreme_hardship",
        "222401",
        "inpatient",
        (2025, 5, 5),
        "voided",
        300_000,
        None,
    ),
];

fn day((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Inserts people, two hospitals, a case per person and the visits, as the visits API writes
/// them (the reports tests do the same at scale).
async fn visits(app: &TestApp) {
    let by = recorder(app).await;
    let now = Utc::now();
    let txn = app.db.begin().await.unwrap();
    let mut people = Vec::new();
    for (i, county) in PEOPLE.iter().enumerate() {
        let ids = person_with_case(
            &txn,
            format!("{county}19800101{i:03}X"),
            format!("患者{i}"),
            county,
            2025,
            by,
        )
        .await;
        people.push(ids);
    }
    let mut hospitals = Vec::new();
    for (i, name) in ["吉林大学第一医院", "长春市中心医院"].iter().enumerate() {
        let h = hospital::ActiveModel {
            name: Set((*name).into()),
            code: Set(format!("H{i:03}")),
            region_code: Set("220102".into()),
            designated: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .unwrap();
        hospitals.push(h.id);
    }
    let mut ids: Vec<i64> = Vec::new();
    for (n, (who, h, group, county, kind, on, status, fen, reverses)) in VISITS.iter().enumerate() {
        let on = day(*on);
        let inpatient = *kind == "inpatient";
        let v = visit::ActiveModel {
            case_id: Set(people[*who].1),
            person_id: Set(people[*who].0),
            hospital_id: Set(hospitals[*h]),
            policy_id: Set(None),
            group_code: Set((*group).into()),
            region_code: Set((*county).into()),
            kind: Set(entity::visit::Kind::parse(kind).expect("a visit kind")),
            admitted_on: Set(inpatient.then(|| on - chrono::Days::new(5))),
            discharged_on: Set(inpatient.then_some(on)),
            visit_date: Set((!inpatient).then_some(on)),
            counted_on: Set(on),
            year: Set(on.year()),
            invoice_no: Set(reverses.is_none().then(|| format!("INV{n:05}"))),
            total_cost_fen: Set(fen.max(&0) * 3),
            insurance_paid_fen: Set(*fen.max(&0)),
            critical_illness_paid_fen: Set(0),
            medical_assistance_paid_fen: Set(0),
            out_of_pocket_fen: Set(fen.max(&0) * 2),
            subsidy_fen: Set(*fen),
            cap_reason: Set(None),
            status: Set(entity::visit::Status::parse(status).expect("a visit status")),
            reverses_visit_id: Set(reverses.map(|i| ids[i])),
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

fn money(v: &Value) -> Money {
    Money::parse(v.as_str().unwrap_or_else(|| panic!("an amount: {v}"))).unwrap()
}

/// The four figure cells of a line, as the pages write them.
fn cells(line: &Value) -> String {
    let m = money(&line["subsidy"]);
    format!(
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        fmt::count(line["patients"].as_i64().unwrap()),
        fmt::count(line["visits"].as_i64().unwrap()),
        fmt::money(m),
        fmt::wan(m),
    )
}

/// The part of `page` from the element `id` to the end of the element (`close`).
fn element<'a>(page: &'a str, id: &str, close: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let end = page[start..].find(close).expect("the element ends") + start;
    &page[start..end]
}

/// One bar of a chart, by its key.
fn bar<'a>(svg: &'a str, key: &str) -> &'a str {
    let start = svg
        .find(&format!("data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no bar {key} in {svg}"));
    let end = svg[start..].find("</g>").unwrap() + start;
    &svg[start..end]
}

db_test!(the_dashboard_shows_the_years_totals_and_charts_as_the_api_counts_them);
async fn the_dashboard_shows_the_years_totals_and_charts_as_the_api_counts_them(app: TestApp) {
    visits(&app).await;
    let manager = app.as_role(Role::Manager).await;
    let res = manager.get("/dashboard?year=2025").await;
    res.assert_status(StatusCode::OK);
    let page = html(&res);
    assert!(page.contains("<title>统计概览 · "), "{page}");
    let api = manager.get("/api/v1/reports/summary?year=2025").await;
    api.assert_status(StatusCode::OK);
    let s = api.json();

    let total = &s["total"];
    let subsidy = money(&total["subsidy"]);
    assert_eq!(
        subsidy,
        Money::from_fen(123_456_789 + 500_000 + 250_050 + 3_000_000)
    );
    for (id, text) in [
        (
            "total-patients",
            fmt::count(total["patients"].as_i64().unwrap()),
        ),
        (
            "total-visits",
            fmt::count(total["visits"].as_i64().unwrap()),
        ),
        ("total-wan", fmt::wan(subsidy)),
        ("total-yuan", fmt::money(subsidy)),
    ] {
        assert!(
            page.contains(&format!("id=\"{id}\">{text}<")),
            "{id} {text}: {page}"
        );
    }
    assert!(page.contains(">1,272,068.39<"), "yuan with separators");
    assert!(page.contains(">127.21<"), "and in 万元");

    // Twelve bars, each with the month's subsidy in 万元, a title and a description.
    let months = element(&page, "chart-months", "</svg>");
    assert!(
        months.contains("role=\"img\"")
            && months.contains("<title id=\"chart-months-title\">2025 各月救助金额</title>")
    );
    assert!(months.contains("<desc id=\"chart-months-desc\">"));
    let by_month = s["by_month"].as_array().unwrap();
    assert_eq!(by_month.len(), 12);
    assert_eq!(months.matches("<rect ").count(), 12);
    for m in by_month {
        let key = m["month"].as_str().unwrap();
        let b = bar(months, key);
        assert!(
            b.contains(&format!(">{}</text>", fmt::wan(money(&m["subsidy"])))),
            "{key}: {b}"
        );
    }
    assert!(
        bar(months, "2025-03").contains(">0.75</text>")
            && bar(months, "2025-03").contains(">3月</text>")
    );
    assert!(
        bar(months, "2025-11").contains(">-1.00</text>"),
        "a reversal drives November below zero"
    );
    assert!(
        bar(months, "2025-07").contains(">0.00</text>"),
        "pending money does not count"
    );

    let groups = element(&page, "chart-groups", "</svg>");
    let by_group = s["by_group"].as_array().unwrap();
    assert_eq!(by_group.len(), 4);
    for g in by_group {
        let b = bar(groups, g["group"].as_str().unwrap());
        assert!(
            b.contains(&format!(">{}</text>", fmt::wan(money(&g["subsidy"])))),
            "{b}"
        );
        assert!(
            b.contains(&format!(">{}</text>", g["group_label"].as_str().unwrap())),
            "{b}"
        );
    }
    assert!(bar(groups, "low_income_urban").contains(">123.71</text>"));

    // The figures as tables too, and the largest hospitals.
    let table = element(&page, "months", "</table>");
    for m in by_month {
        assert!(
            table.contains(&format!(
                "<td>{}</td>{}",
                m["month_label"].as_str().unwrap(),
                cells(m)
            )),
            "{table}"
        );
    }
    let hospitals = element(&page, "hospitals", "</table>");
    for h in s["top_hospitals"].as_array().unwrap() {
        assert!(
            hospitals.contains(&format!(
                "<td>{}</td>{}",
                h["hospital_label"].as_str().unwrap(),
                cells(h)
            )),
            "{hospitals}"
        );
    }
    assert!(
        page.contains(
            "href=\"/reports/spending?from=2025-01-01&#38;to=2025-12-31&#38;group_by=month\""
        ),
        "{page}"
    );

    // In English, with the switch's cookie.
    let en = manager
        .call(Method::GET, "/dashboard?year=2025")
        .header("cookie", "lang=en")
        .send()
        .await;
    let en = html(&en);
    assert!(en.contains("<title>Dashboard · "), "{en}");
    assert!(bar(element(&en, "chart-months", "</svg>"), "2025-03").contains(">Mar</text>"));
    assert!(en.contains(">Urban low-income</text>"));

    // Without a year: this year, with the year's own figures.
    let now = manager.get("/dashboard").await;
    now.assert_status(StatusCode::OK);
    let year = cancer_aid::clock::day_of(chrono::Utc::now()).year();
    assert!(
        html(&now).contains(&format!("id=\"year\" name=\"year\" value=\"{year}\"")),
        "{}",
        html(&now)
    );
}

db_test!(the_dashboard_counts_only_the_managers_region_and_explains_a_bad_year);
async fn the_dashboard_counts_only_the_managers_region_and_explains_a_bad_year(app: TestApp) {
    visits(&app).await;
    let local = app.as_user("manager.cc", &[Role::Manager], "2201").await;
    let page = html(&local.get("/dashboard?year=2025").await);
    let s = local.get("/api/v1/reports/summary?year=2025").await.json();
    let subsidy = money(&s["total"]["subsidy"]);
    assert_eq!(
        subsidy,
        Money::from_fen(123_456_789 + 500_000 + 250_050),
        "Changchun only"
    );
    assert!(
        page.contains(&format!("id=\"total-yuan\">{}<", fmt::money(subsidy))),
        "{page}"
    );
    assert!(
        bar(element(&page, "chart-groups", "</svg>"), "entitled_care").contains(">0.00</text>")
    );

    let bad = local.get("/dashboard?year=20x5").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&bad);
    assert!(
        text.contains("年度“20x5”无效：请填写2000到2100之间的四位年份。"),
        "{text}"
    );
    assert!(text.contains("value=\"20x5\""), "what was typed stays");
    assert!(!text.contains("chart-months"));
}

/// The page's table agrees with the API's JSON for the same filters, line by line, and its
/// download links give the API's files for those filters.
async fn same_as_the_api(client: &Client<'_>, web: &str, api: &str, keys: &[&str]) -> String {
    let res = client.get(&format!("/reports/spending?{web}")).await;
    res.assert_status(StatusCode::OK);
    let page = html(&res);
    let json = client.get(&format!("/api/v1/reports/spending?{api}")).await;
    json.assert_status(StatusCode::OK);
    let report = json.json();
    let table = element(&page, "report-table", "</table>");
    let rows = report["rows"].as_array().unwrap();
    let body = table
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    assert_eq!(body.matches("<tr>").count(), rows.len(), "{web}: {table}");
    for row in rows {
        let labels: String = keys
            .iter()
            .map(|k| format!("<td>{}</td>", row[format!("{k}_label")].as_str().unwrap()))
            .collect();
        let line = format!("<tr>{labels}{}</tr>", cells(row));
        assert!(body.contains(&line), "{web}: no {line} in {body}");
    }
    let total = format!("合计</th>{}</tr>", cells(&report["total"]));
    assert!(table.contains(&total), "{web}: no {total} in {table}");

    for format in ["xlsx", "csv"] {
        let link = element(&page, &format!("download-{format}"), ">");
        let href = link
            .split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&#38;", "&");
        let file = client.get(&href).await;
        file.assert_status(StatusCode::OK);
        let direct = client
            .get(&format!("/api/v1/reports/spending?{api}&format={format}"))
            .await;
        direct.assert_status(StatusCode::OK);
        assert_eq!(file.headers["content-type"], direct.headers["content-type"]);
        if format == "csv" {
            assert_eq!(
                String::from_utf8_lossy(&file.body),
                String::from_utf8_lossy(&direct.body),
                "{href} carries the filters of {api}"
            );
        } else {
            assert!(
                href.ends_with("&format=xlsx") && href.contains("from="),
                "{href}"
            );
        }
    }
    page
}

db_test!(the_spending_table_and_its_downloads_match_the_api_for_the_same_filters);
async fn the_spending_table_and_its_downloads_match_the_api_for_the_same_filters(app: TestApp) {
    visits(&app).await;
    let manager = app.as_role(Role::Manager).await;
    let page = same_as_the_api(
        &manager,
        "from=2025-01-01&to=2025-12-31&group_by=group&group_by=month",
        "from=2025-01-01&to=2025-12-31&group_by=group,month",
        &["group", "month"],
    )
    .await;
    assert!(page.contains("<title>支出报表 · "), "{page}");
    assert!(page.contains("<td>城市低保</td><td>2025年1月</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">1,234,567.89</td><td class=\"num\">123.46</td>"), "{page}");
    assert!(page.contains("value=\"group\" checked") && page.contains("value=\"month\" checked"));
    assert!(page.contains("value=\"approved\" checked") && page.contains("value=\"paid\" checked"));
    assert!(
        !page.contains("value=\"pending\" checked"),
        "the default statuses are shown"
    );
    let xlsx = element(&page, "download-xlsx", ">");
    assert!(
        xlsx.contains("/api/v1/reports/spending?from=2025-01-01&#38;to=2025-12-31&#38;group_by=group%2Cmonth&#38;status=approved%2Cpaid&#38;region=22&#38;format=xlsx"),
        "{xlsx}"
    );

    // Other statuses, another order of keys, part of the year.
    same_as_the_api(
        &manager,
        "from=2025-01-01&to=2025-06-30&group_by=county&group_by=visit_kind&status=paid&status=voided&status=pending",
        "from=2025-01-01&to=2025-06-30&group_by=county,visit_kind&status=paid,voided,pending",
        &["county", "visit_kind"],
    )
    .await;
    // Some groups, a city, two years by hospital.
    let some = same_as_the_api(
        &manager,
        "from=2024-01-01&to=2025-12-31&group_by=year&group_by=hospital&group=low_income_rural&group=low_income_urban&region=2201",
        "from=2024-01-01&to=2025-12-31&group_by=year,hospital&group=low_income_rural,low_income_urban&region=2201",
        &["year", "hospital"],
    )
    .await;
    assert!(
        some.contains("value=\"low_income_rural\" checked")
            && !some.contains("value=\"entitled_care\" checked")
    );
    assert!(some.contains("<option value=\"2201\" selected>长春市（全市）</option>"));
    // No keys: the total line alone.
    let total = same_as_the_api(
        &manager,
        "from=2025-01-01&to=2025-12-31",
        "from=2025-01-01&to=2025-12-31",
        &[],
    )
    .await;
    assert!(
        total.contains("<th scope=\"row\" colspan=\"1\">合计</th>"),
        "{total}"
    );

    // The menu's link: this year, by group.
    let first = manager.get("/reports/spending").await;
    first.assert_status(StatusCode::OK);
    let first = html(&first);
    let year = cancer_aid::clock::day_of(chrono::Utc::now()).year();
    assert!(
        first.contains(&format!("value=\"{year}-01-01\""))
            && first.contains(&format!("value=\"{year}-12-31\"")),
        "{first}"
    );
    assert!(first.contains("value=\"group\" checked"));
}

db_test!(bad_filters_are_explained_on_the_page_with_what_was_typed);
async fn bad_filters_are_explained_on_the_page_with_what_was_typed(app: TestApp) {
    visits(&app).await;
    let manager = app.as_user("manager.cc", &[Role::Manager], "2201").await;
    let res = manager
        .get("/reports/spending?from=2025-13-01&to=2025-02-30&group_by=province&status=unknown&group=nobody")
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(&res);
    let api = manager
        .get("/api/v1/reports/spending?from=2025-13-01&to=2025-02-30&group_by=province&status=unknown&group=nobody")
        .await;
    api.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let details = api.json()["error"]["details"].as_array().unwrap().clone();
    assert!(details.len() >= 5, "{details:?}");
    for d in &details {
        let field = d["field"].as_str().unwrap();
        let message = d["message"].as_str().unwrap();
        assert!(
            page.contains(&format!("<li>{message}</li>")),
            "{message}: {page}"
        );
        assert!(
            element(&page, &format!("{field}-error"), "</p>").contains(message),
            "{field} shows its message"
        );
    }
    assert!(
        page.contains("id=\"from\" name=\"from\" value=\"2025-13-01\""),
        "what was typed stays"
    );
    assert!(page.contains("value=\"2025-02-30\""));
    assert!(!page.contains("report-table") && !page.contains("download-xlsx"));

    let late = manager
        .get("/reports/spending?from=2025-12-01&to=2025-01-01")
        .await;
    late.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&late).contains("起始日期2025-12-01晚于截止日期2025-01-01"),
        "{}",
        html(&late)
    );

    // Outside the manager's own region: refused, the form kept.
    let far = manager
        .get("/reports/spending?from=2025-01-01&region=2224")
        .await;
    far.assert_status(StatusCode::FORBIDDEN);
    let far = html(&far);
    assert!(far.contains("您只能查看数据范围2201以内的统计。"), "{far}");
    assert!(far.contains("value=\"2224\""));
}

db_test!(only_managers_get_the_pages);
async fn only_managers_get_the_pages(app: TestApp) {
    let anon = app.anonymous();
    for path in ["/dashboard", "/reports/spending"] {
        let res = anon.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers["location"], format!("/login?next={path}"));
    }
    for role in [Role::Caseworker, Role::Approver, Role::RosterImporter] {
        let c = app.as_role(role).await;
        for path in ["/dashboard?year=2025", "/reports/spending"] {
            let res = c.get(path).await;
            res.assert_status(StatusCode::FORBIDDEN);
            assert!(
                html(&res).contains("您的角色不能使用此页面。"),
                "{role:?} {path}"
            );
        }
    }
    let manager = app.as_role(Role::Manager).await;
    let home = html(&manager.get("/").await);
    assert!(home.contains("href=\"/dashboard\"") && home.contains("href=\"/reports/spending\""));
}

/// What the visits above add up to, for one year and the statuses that count, by a key.
fn expected_fen(
    year: i32,
    statuses: &[&str],
    key: impl Fn(&Entry) -> String,
) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    for v in VISITS
        .iter()
        .filter(|v| v.5.0 == year && statuses.contains(&v.6))
    {
        *out.entry(key(v)).or_default() += v.7;
    }
    out
}

db_test!(the_dashboard_compares_with_last_year_and_shows_money_in_the_pipeline_by_region);
async fn the_dashboard_compares_with_last_year_and_shows_money_in_the_pipeline_by_region(
    app: TestApp,
) {
    visits(&app).await;
    let manager = app.as_role(Role::Manager).await;
    let s = manager
        .get("/api/v1/reports/summary?year=2025")
        .await
        .json();
    let all = |year, statuses: &[&str]| {
        Money::from_fen(
            expected_fen(year, statuses, |_| String::new())
                .values()
                .sum(),
        )
    };
    assert_eq!(
        money(&s["last_year"]["subsidy"]),
        all(2024, &["approved", "paid"])
    );
    assert_eq!(money(&s["pending"]["subsidy"]), all(2025, &["pending"]));
    assert_eq!(
        money(&s["awaiting_payment"]["subsidy"]),
        all(2025, &["approved"])
    );
    let cities = expected_fen(2025, &["approved", "paid"], |v| v.3[..4].to_owned());
    let rows = s["by_city"].as_array().unwrap();
    assert_eq!(rows.len(), cities.len(), "{rows:?}");
    for r in rows {
        let code = &r["city"].as_str().unwrap()[..4];
        assert_eq!(
            money(&r["subsidy"]),
            Money::from_fen(cities[code]),
            "{code}"
        );
    }
    let counties = expected_fen(2025, &["approved", "paid"], |v| v.3.to_owned());
    assert_eq!(s["by_county"].as_array().unwrap().len(), counties.len());

    let page = html(&manager.get("/dashboard?year=2025").await);
    assert!(
        element(&page, "last-year-wan", "</td>")
            .contains(&fmt::wan(all(2024, &["approved", "paid"]))),
        "{page}"
    );
    assert!(element(&page, "pending", "</tr>").contains(&fmt::money(all(2025, &["pending"]))));
    assert!(
        element(&page, "awaiting-payment", "</tr>").contains(&fmt::money(all(2025, &["approved"])))
    );
    // Counties are named with their city; the largest city comes first.
    let counties_table = element(&page, "counties", "</table>");
    assert!(
        counties_table.contains("<td>长春市 南关区</td>"),
        "{counties_table}"
    );
    let cities_table = element(&page, "cities", "</table>");
    let first = cities.iter().max_by_key(|(_, fen)| **fen).unwrap().0;
    let first_name = if first == "2201" {
        "长春市"
    } else {
        "吉林市"
    };
    let body = cities_table.split("<tbody>").nth(1).unwrap();
    assert!(
        body.trim_start()
            .starts_with(&format!("<tr><td>{first_name}</td>")),
        "{body}"
    );
}
