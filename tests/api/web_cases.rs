//! The caseworkers' and approvers' pages through the router, on both databases: what they show
//! comes from the database, each refuses the roles it does not serve, and the subsidy preview
//! agrees with what saving grants.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use cancer_aid::domain::{Money, Role};
use cancer_aid::web::fmt;

use crate::db_test;
use crate::fixtures::id_number as id;
use crate::helpers::{Client, TestApp, TestResponse};

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");

async fn post_form(client: &Client<'_>, path: &str, body: &str) -> TestResponse {
    client
        .call(Method::POST, path)
        .raw("application/x-www-form-urlencoded", body.to_owned())
        .send()
        .await
}

fn html(res: &TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// The Nanguan roster, one designated hospital and a policy: returns the hospital's id.
async fn programme(app: &TestApp) -> i64 {
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[
                ("group", "城市低保"),
                ("region_code", "220102"),
                ("effective_date", "2020-06-01"),
            ],
            "nanguan.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let done = clerk.wait_import(res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let admin = app.as_role(Role::Admin).await;
    let hospital = admin
        .post(
            "/api/v1/hospitals",
            &json!({"name": "吉林大学第一医院", "code": "H-JDYY", "region_code": "220102", "designated": true}),
        )
        .await;
    hospital.assert_status(StatusCode::CREATED);
    admin
        .post(
            "/api/v1/policies",
            &json!({"group": "城市低保", "rate": "0.6", "deductible": "1000", "per_visit_cap": "20000",
                    "annual_cap": "30000", "effective_from": "2020-01-01"}),
        )
        .await
        .assert_status(StatusCode::CREATED);
    hospital.json()["id"].as_i64().unwrap()
}

fn visit(hospital_id: i64, invoice: &str) -> Value {
    json!({"hospital_id": hospital_id, "kind": "inpatient", "admitted_on": "2026-03-01",
           "discharged_on": "2026-03-10", "invoice_no": invoice, "total_cost": "30000.00",
           "insurance_paid": "15000", "critical_illness_paid": "3000",
           "medical_assistance_paid": "2000"})
}

db_test!(the_eligibility_page_gives_the_verdict_and_its_reasons_and_prefills_a_case);
async fn the_eligibility_page_gives_the_verdict_and_its_reasons_and_prefills_a_case(app: TestApp) {
    programme(&app).await;
    let patient = id("220102", "19700101", 57);
    let cw = app.as_user("cw.wang", &[Role::Caseworker], "2201").await;

    let blank = cw.get("/eligibility").await;
    blank.assert_status(StatusCode::OK);
    assert!(html(&blank).contains("<title>资格核查"), "{}", html(&blank));

    let ok = post_form(
        &cw,
        "/eligibility",
        &format!("id_number={patient}&date=2026-03-01&diagnosis=c34.1"),
    )
    .await;
    ok.assert_status(StatusCode::OK);
    let page = html(&ok);
    assert!(
        page.contains("符合救助条件") && !page.contains("不符合救助条件"),
        "{page}"
    );
    assert!(page.contains("买买提·吐尔逊"), "the roster's name: {page}");
    assert!(page.contains("城市低保"), "{page}");
    // A case is opened with the check's facts, posted: no ID number in any address.
    assert!(page.contains("action=\"/cases/new\""), "{page}");
    assert!(
        page.contains(&format!("name=\"id_number\" value=\"{patient}\"")),
        "{page}"
    );
    assert!(
        page.contains("name=\"diagnosis_code\" value=\"C34.1\""),
        "{page}"
    );
    assert!(!page.contains(&format!("?id_number={patient}")), "{page}");

    // A diagnosis outside the covered ranges: not eligible, with the rule's reason.
    let no = post_form(
        &cw,
        "/eligibility",
        &format!("id_number={patient}&date=2026-03-01&diagnosis=I10"),
    )
    .await;
    no.assert_status(StatusCode::OK);
    let page = html(&no);
    assert!(page.contains("不符合救助条件"), "{page}");
    let api = cw
        .get(&format!(
            "/api/v1/eligibility?id_number={patient}&date=2026-03-01&diagnosis=I10"
        ))
        .await
        .json();
    let reason = api["reasons"][0]["message"].as_str().unwrap();
    assert!(
        page.contains(&html_escape(reason)),
        "the API's reason {reason} in {page}"
    );
    assert!(
        !page.contains("id=\"open-case\""),
        "no case from a failed check"
    );

    // A mistyped ID: the field says what is wrong, and what was typed stays.
    let bad = post_form(
        &cw,
        "/eligibility",
        "id_number=220102197001010571&date=2026-03-01",
    )
    .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(&bad);
    assert!(page.contains("value=\"220102197001010571\""), "{page}");
    assert!(page.contains("id=\"id_number-error\""), "{page}");

    let english = cw
        .call(Method::POST, "/eligibility")
        .header("cookie", "lang=en")
        .raw(
            "application/x-www-form-urlencoded",
            format!("id_number={patient}&date=2026-03-01&diagnosis=I10"),
        )
        .send()
        .await;
    assert!(
        html(&english).contains("Not eligible"),
        "{}",
        html(&english)
    );

    // Pages a role does not serve refuse when typed in; nobody logged in goes to the login.
    let approver = app.as_role(Role::Approver).await;
    approver
        .get("/eligibility")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    approver
        .get("/cases/new")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let clerk = app.as_role(Role::RosterImporter).await;
    clerk
        .get("/cases")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    cw.get("/approvals")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let anon = app.anonymous().get("/cases").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.headers["location"], "/login?next=/cases");
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

db_test!(a_case_goes_through_the_pages_and_the_preview_matches_what_is_granted);
async fn a_case_goes_through_the_pages_and_the_preview_matches_what_is_granted(app: TestApp) {
    let hospital_id = programme(&app).await;
    let patient = id("220102", "19700101", 57);
    let cw = app.as_user("cw.wang", &[Role::Caseworker], "2201").await;

    let form = post_form(
        &cw,
        "/cases/new",
        &format!("id_number={patient}&name=%E4%B9%B0%E4%B9%B0%E6%8F%90%C2%B7%E5%90%90%E5%B0%94%E9%80%8A&diagnosis_code=C34.1&year=2026"),
    )
    .await;
    form.assert_status(StatusCode::OK);
    let page = html(&form);
    assert!(page.contains(&format!("value=\"{patient}\"")), "{page}");
    assert!(page.contains("data-api=\"/api/v1/cases\""), "{page}");
    assert!(
        page.contains("吉林大学第一医院"),
        "designated hospitals offered: {page}"
    );

    // Opened by someone who is also an approver: they may not decide it themselves.
    let both = app
        .as_user("cw.ap", &[Role::Caseworker, Role::Approver], "2201")
        .await;
    let opened = both
        .post(
            "/api/v1/cases",
            &json!({"id_number": patient, "name": "买买提·吐尔逊", "diagnosis_code": "C34.1",
                    "diagnosis_text": "肺癌", "hospital_id": hospital_id, "year": 2026}),
        )
        .await;
    opened.assert_status(StatusCode::CREATED);
    let case_id = opened.json()["id"].as_i64().unwrap();
    let version = opened.json()["version"].as_i64().unwrap();

    // A second check of the same person that year leads to the case, not to a second one.
    let again = post_form(
        &cw,
        "/eligibility",
        &format!("id_number={patient}&date=2026-03-01&diagnosis=C34.1"),
    )
    .await;
    let page = html(&again);
    assert!(
        page.contains(&format!("id=\"existing-case\" href=\"/cases/{case_id}\"")),
        "{page}"
    );
    assert!(!page.contains("id=\"open-case\""), "{page}");

    // The case list finds a person's cases by ID number, posted; not outside the region.
    let found = post_form(&cw, "/cases", &format!("id_number={patient}")).await;
    found.assert_status(StatusCode::OK);
    let page = html(&found);
    assert!(
        page.contains(&format!("href=\"/cases/{case_id}\"")),
        "{page}"
    );
    let other = id("220102", "19800101", 12);
    let none = html(&post_form(&cw, "/cases", &format!("id_number={other}")).await);
    assert!(
        !none.contains(&format!("href=\"/cases/{case_id}\"")),
        "{none}"
    );
    let far = app.as_user("cw.yanbian", &[Role::Caseworker], "2224").await;
    let page = html(&post_form(&far, "/cases", &format!("id_number={patient}")).await);
    assert!(
        !page.contains(&format!("href=\"/cases/{case_id}\"")),
        "{page}"
    );
    let bad = post_form(&cw, "/cases", "id_number=220102197001010571").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("value=\"220102197001010571\""));

    // The approver's list masks the ID number; the caseworker's case page shows it whole.
    let approver = app.as_user("ap.zhao", &[Role::Approver], "2201").await;
    let list = html(&approver.get("/cases?state=submitted").await);
    assert!(
        list.contains(&format!("href=\"/cases/{case_id}\"")),
        "{list}"
    );
    assert!(
        list.contains(&format!("{}********{}", &patient[..6], &patient[14..])),
        "{list}"
    );
    assert!(!list.contains(&patient), "masked on lists: {list}");
    let none = html(&approver.get("/cases?state=approved").await);
    assert!(
        !none.contains(&format!("href=\"/cases/{case_id}\"")),
        "the filter applies"
    );
    let bad_year = approver.get("/cases?year=20x6").await;
    bad_year.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad_year).contains("value=\"20x6\""));

    let shown = html(&cw.get(&format!("/cases/{case_id}")).await);
    assert!(shown.contains(&patient), "{shown}");
    assert!(
        shown.contains("待审批") || shown.contains("已提交"),
        "{shown}"
    );
    assert!(shown.contains("id=\"timeline\""), "{shown}");
    assert!(
        !shown.contains("id=\"record-visit\""),
        "no visit before approval"
    );

    let own_queue = html(&both.get("/approvals").await);
    assert!(
        own_queue.contains(&format!("id=\"queue-case-{case_id}\"")),
        "{own_queue}"
    );
    assert!(
        !own_queue.contains(&format!("data-api=\"/api/v1/cases/{case_id}/approve\"")),
        "never their own: {own_queue}"
    );
    let own_page = html(&both.get(&format!("/cases/{case_id}")).await);
    assert!(!own_page.contains("id=\"action-approve\""), "{own_page}");

    // The queue offers the decision with the version read; approving through the API (as
    // the page's form does) moves the case.
    let queue = html(&approver.get("/approvals").await);
    assert!(
        queue.contains(&format!("data-api=\"/api/v1/cases/{case_id}/approve\"")),
        "{queue}"
    );
    assert!(queue.contains(&format!("value=\"{version}\"")), "{queue}");
    approver
        .post(
            &format!("/api/v1/cases/{case_id}/approve"),
            &json!({"version": version}),
        )
        .await
        .assert_status(StatusCode::OK);
    let queue = html(&approver.get("/approvals").await);
    assert!(
        !queue.contains(&format!("id=\"queue-case-{case_id}\"")),
        "{queue}"
    );

    let shown = html(&cw.get(&format!("/cases/{case_id}")).await);
    assert!(shown.contains("id=\"record-visit\""), "{shown}");
    // The application and approval form to print: the group, the roster entry, each
    // person's opinion with its date, a box for the person in charge.
    let form = cw.get(&format!("/cases/{case_id}/form")).await;
    form.assert_status(StatusCode::OK);
    let form = html(&form);
    for expected in [
        "<h1>肿瘤患者救助申请审批表</h1>",
        "<tr><th>救助类别</th><td>城市低保</td></tr>",
        "买买提·吐尔逊",
        "<tr><th>审核人意见</th><td>已批准</td>",
        "<tr><th>负责人意见</th><td></td><td></td><td></td></tr>",
    ] {
        assert!(form.contains(expected), "no {expected} in {form}");
    }
    app.as_user("cw.yanbian.form", &[Role::Caseworker], "2224")
        .await
        .get(&format!("/cases/{case_id}/form"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let visit_form = cw.get(&format!("/cases/{case_id}/visits/new")).await;
    visit_form.assert_status(StatusCode::OK);
    assert!(html(&visit_form).contains(&format!(
        "data-preview=\"/api/v1/cases/{case_id}/visits/preview\""
    )));

    // The preview computes without saving; saving then grants exactly that.
    let preview = cw
        .post(
            &format!("/api/v1/cases/{case_id}/visits/preview"),
            &visit(hospital_id, "ZY-1"),
        )
        .await;
    preview.assert_status(StatusCode::OK);
    let preview = preview.json();
    assert_eq!(preview["subsidy"], "5400.00", "{preview}");
    assert_eq!(preview["out_of_pocket"], "10000.00", "{preview}");
    assert_eq!(preview["annual"]["cap_left"], "24600.00", "{preview}");
    let detail = cw.get(&format!("/api/v1/cases/{case_id}")).await.json();
    assert_eq!(
        detail["visits"]["count"], 0,
        "the preview saved nothing: {detail}"
    );
    let refused = cw
        .post(
            &format!("/api/v1/cases/{case_id}/visits/preview"),
            &json!({"hospital_id": hospital_id, "kind": "inpatient", "total_cost": "-5"}),
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = refused.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains(&"invoice_no".to_owned()) && fields.contains(&"total_cost".to_owned()),
        "{fields:?}"
    );

    let recorded = cw
        .post(
            &format!("/api/v1/cases/{case_id}/visits"),
            &visit(hospital_id, "ZY-1"),
        )
        .await;
    recorded.assert_status(StatusCode::CREATED);
    assert_eq!(recorded.json()["subsidy"], preview["subsidy"]);
    let visit_id = recorded.json()["id"].as_i64().unwrap();

    let shown = html(&cw.get(&format!("/cases/{case_id}")).await);
    assert!(shown.contains("5,400.00"), "money with separators: {shown}");
    assert!(shown.contains("24,600.00"), "the annual cap left: {shown}");
    assert!(shown.contains("ZY-1"), "{shown}");

    // The recorder may not approve their own subsidy; another approver sees it pending.
    let queue = html(&approver.get("/approvals").await);
    assert!(
        queue.contains(&format!("data-api=\"/api/v1/visits/{visit_id}/approve\"")),
        "{queue}"
    );
    assert!(queue.contains("5,400.00"), "{queue}");
    // Beside the button: the bill, what paid it, and the formula with its numbers, each
    // written from the recorded visit.
    let v = recorded.json();
    let m = |k: &str| fmt::money(Money::parse(v[k].as_str().unwrap()).unwrap());
    for expected in [
        format!("总费用 {}；医保 {}", m("total_cost"), m("insurance_paid")),
        format!("自付 {}", m("out_of_pocket")),
        format!("（自付 {} − 起付线 1,000.00）× ", m("out_of_pocket")),
        format!("→ 救助金 {}", m("subsidy")),
        "ZY-1".to_owned(),
        format!(
            "data-confirm=\"确认批准救助金：{} {} 元？\"",
            v["person_name"].as_str().unwrap(),
            m("subsidy")
        ),
    ] {
        assert!(queue.contains(&expected), "no {expected} in {queue}");
    }
    // The settlement slip to print and sign: the bill, the formula, the signature boxes.
    let slip = cw.get(&format!("/visits/{visit_id}/slip")).await;
    slip.assert_status(StatusCode::OK);
    let slip = html(&slip);
    for expected in [
        "<h1>肿瘤患者救助金结算单</h1>".to_owned(),
        format!("<strong>{}</strong>", m("subsidy")),
        format!("计算：（自付 {} − 起付线 1,000.00）", m("out_of_pocket")),
        "2026-03-01 至 2026-03-10".to_owned(),
        "患者（或代领人）签名".to_owned(),
        "审核人".to_owned(),
    ] {
        assert!(slip.contains(&expected), "no {expected} in {slip}");
    }
    app.as_user("cw.yanbian", &[Role::Caseworker], "2224")
        .await
        .get(&format!("/visits/{visit_id}/slip"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The case page: the group it rests on, the visit's dates and 自付, and a timeline with
    // the subsidy's steps and their reasons beside the case's.
    approver
        .post(
            &format!("/api/v1/visits/{visit_id}/void"),
            &json!({"reason": "发票重复报销"}),
        )
        .await
        .assert_status(StatusCode::OK);
    let shown = html(&cw.get(&format!("/cases/{case_id}")).await);
    assert!(
        shown.contains("<dd id=\"case-groups\">城市低保</dd>"),
        "{shown}"
    );
    assert!(shown.contains("2026-03-01 – 2026-03-10"), "{shown}");
    assert!(shown.contains(&m("out_of_pocket")), "{shown}");
    let timeline = &shown[shown.find("id=\"timeline\"").unwrap()..];
    let recorded_at = timeline
        .find("登记救助金 5,400.00 元")
        .expect("the recording");
    let voided_at = timeline.find("作废救助金 5,400.00 元").expect("the void");
    assert!(recorded_at < voided_at, "in time order: {timeline}");
    assert!(timeline.contains("原因：发票重复报销"), "{timeline}");
    assert!(
        timeline.contains("已批准"),
        "the case's own events stay: {timeline}"
    );

    // Another region's case is not there at all.
    let far = app.as_user("cw.far", &[Role::Caseworker], "2224").await;
    far.get(&format!("/cases/{case_id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

db_test!(a_rejected_case_shows_why_and_offers_a_resubmission_with_corrections);
async fn a_rejected_case_shows_why_and_offers_a_resubmission_with_corrections(app: TestApp) {
    let hospital_id = programme(&app).await;
    let patient = id("220102", "19700101", 57);
    let cw = app.as_user("cw.wang", &[Role::Caseworker], "2201").await;
    let opened = cw
        .post(
            "/api/v1/cases",
            &json!({"id_number": patient, "name": "买买提·吐尔逊", "diagnosis_code": "C34.1",
                    "hospital_id": hospital_id, "year": 2026}),
        )
        .await;
    opened.assert_status(StatusCode::CREATED);
    let case_id = opened.json()["id"].as_i64().unwrap();
    let approver = app.as_user("ap.zhao", &[Role::Approver], "2201").await;
    let before = html(&approver.get(&format!("/cases/{case_id}")).await);
    assert!(before.contains("id=\"action-reject\""), "{before}");
    assert!(
        !before.contains("id=\"action-resubmit\""),
        "not the approver's move: {before}"
    );
    approver
        .post(
            &format!("/api/v1/cases/{case_id}/reject"),
            &json!({"version": opened.json()["version"], "reason": "缺少病理报告"}),
        )
        .await
        .assert_status(StatusCode::OK);

    let page = html(&cw.get(&format!("/cases/{case_id}")).await);
    assert!(
        page.contains("缺少病理报告"),
        "the timeline says why: {page}"
    );
    assert!(page.contains("id=\"action-resubmit\""), "{page}");
    assert!(page.contains("id=\"fix-diagnosis_code\""), "{page}");
    assert!(!page.contains("id=\"action-approve\""), "{page}");
    let rejected = html(&cw.get("/cases?state=rejected").await);
    assert!(
        rejected.contains(&format!("href=\"/cases/{case_id}\"")),
        "{rejected}"
    );
}

db_test!(ended_coverage_is_shown_with_its_group_and_dates);
async fn ended_coverage_is_shown_with_its_group_and_dates(app: TestApp) {
    let patient = id("220102", "19610203", 8);
    let csv = format!(
        "姓名,身份证号码,救助类别,行政区划代码,保障起始日期,终止日期\n李桂英,{patient},农村低保,220102,2019-01-01,2021-03-31\n"
    );
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload(
            "/api/v1/roster-imports",
            &[("effective_date", "2019-01-01")],
            "ended.csv",
            csv.as_bytes(),
        )
        .await;
    res.assert_status(StatusCode::ACCEPTED);
    let done = clerk.wait_import(res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    let cw = app.as_user("cw.li", &[Role::Caseworker], "2201").await;
    let after = html(
        &post_form(
            &cw,
            "/eligibility",
            &format!("id_number={patient}&date=2021-06-01"),
        )
        .await,
    );
    assert!(after.contains("不符合救助条件"), "{after}");
    assert!(
        after.contains("<dd id=\"groups\">无（该日不在任何名册上）</dd>"),
        "{after}"
    );
    let table = &after[after
        .find("id=\"past-entries\"")
        .expect("the ended entry is shown")..];
    assert!(
        table.contains("<td>农村低保</td><td>李桂英</td>")
            && table.contains("2019-01-01 – 2021-03-31")
            && table.contains("已于以下日期终止：2021-03-31"),
        "{table}"
    );
    // Before it started: the same entry, said so.
    let before = html(
        &post_form(
            &cw,
            "/eligibility",
            &format!("id_number={patient}&date=2018-06-01"),
        )
        .await,
    );
    assert!(before.contains("自以下日期起保障：2019-01-01"), "{before}");
    // While covered, nothing is listed as not covering.
    let during = html(
        &post_form(
            &cw,
            "/eligibility",
            &format!("id_number={patient}&date=2020-06-01"),
        )
        .await,
    );
    assert!(!during.contains("past-entries"), "{during}");
    assert!(during.contains("<span class=\"badge ok\">农村低保</span>"));
}
