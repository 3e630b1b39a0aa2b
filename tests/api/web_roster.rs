//! The roster pages through the router, on both databases.

use axum::http::{Method, StatusCode};

use cancer_aid::domain::Role;
use cancer_aid::domain::id_number::check_character;

use crate::db_test;
use crate::helpers::TestApp;
use crate::helpers::{Backend, Client, TestResponse, spawn_app_with};

const NANGUAN: &[u8] = include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx");

fn body(res: &TestResponse) -> String {
    String::from_utf8_lossy(&res.body).into_owned()
}

/// Text as a template writes it.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Uploads through the API and waits for the import; returns its id.
async fn import(client: &Client<'_>, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> i64 {
    let res = client
        .upload("/api/v1/roster-imports", fields, name, bytes)
        .await;
    assert!(
        res.status == StatusCode::ACCEPTED || res.status == StatusCode::OK,
        "{}",
        body(&res)
    );
    let id = res.json()["id"].as_i64().unwrap();
    client.wait_import(id).await;
    id
}

/// A one-sheet roster of `n` rows whose ID numbers all fail their check.
fn bad_rows(n: usize) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["身份证号码", "姓名", "区划代码"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=n as u32 {
        // A good number but for its check character.
        let body = format!("22010219800101{r:03}");
        let check = check_character(body.as_bytes());
        let wrong = if check == '0' { '1' } else { '0' };
        sheet.write_string(r, 0, format!("{body}{wrong}")).unwrap();
        sheet.write_string(r, 1, format!("测试{r}")).unwrap();
        sheet.write_string(r, 2, "220102").unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// The rows of the rejected-rows table.
fn error_rows(page: &str) -> usize {
    let Some(start) = page.find("<table id=\"error-rows\">") else {
        return 0;
    };
    let table = &page[start..];
    let table = &table[..table.find("</table>").unwrap()];
    table.matches("<tr><td>").count()
}

db_test!(the_history_and_the_result_show_the_real_import);
async fn the_history_and_the_result_show_the_real_import(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let fields = [
        ("group", "城市低保"),
        ("region_code", "220102"),
        ("effective_date", "2020-07-01"),
    ];
    let id = import(&clerk, &fields, "南关区.xlsx", NANGUAN).await;

    let list = clerk.get("/roster/imports").await;
    list.assert_status(StatusCode::OK);
    let page = body(&list);
    assert!(page.contains("<title>导入记录 · "), "{page}");
    assert!(
        page.contains(&format!("href=\"/roster/imports/{id}\"")),
        "{page}"
    );
    assert!(
        page.contains("南关区.xlsx") && page.contains("城市低保 · 长春市 南关区"),
        "{page}"
    );
    assert!(
        page.contains("2020-07-01") && page.contains("增量导入"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"badge ok\">已生效</span>"),
        "{page}"
    );
    // Accepted 8, rejected 4, skipped 2, added 8, as the import counted them.
    assert!(
        page.contains("<td class=\"num\">8</td>\n      <td class=\"num\"><span class=\"bad-text\">4</span></td>\n      <td class=\"num\">2</td>\n      <td class=\"num\">8</td>"),
        "{page}"
    );
    assert!(page.contains(">roster_importer<"), "who uploaded: {page}");
    // The status filter changes what is listed.
    let failed = body(&clerk.get("/roster/imports?status=failed").await);
    assert!(
        !failed.contains("南关区.xlsx") && failed.contains("暂无记录"),
        "{failed}"
    );

    let res = clerk.get(&format!("/roster/imports/{id}")).await;
    res.assert_status(StatusCode::OK);
    let page = body(&res);
    assert!(page.contains("<title>导入结果 · "), "{page}");
    let api = clerk
        .get(&format!("/api/v1/roster-imports/{id}"))
        .await
        .json();
    let sha = api["sha256"].as_str().unwrap();
    assert!(page.contains(&sha[..12]), "the short fingerprint: {page}");
    assert!(
        page.contains("<div class=\"value ok-text\" id=\"count-accepted\">8</div>"),
        "{page}"
    );
    assert!(
        page.contains("<div class=\"value bad-text\" id=\"count-rejected\">4</div>"),
        "{page}"
    );
    let errors = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors"))
        .await
        .json();
    // Every problem of the four rejected rows (row 12 has two).
    assert_eq!(
        error_rows(&page) as u64,
        errors["total"].as_u64().unwrap(),
        "{page}"
    );
    assert_eq!(error_rows(&page), 5, "{page}");
    let first = &errors["items"][0];
    assert!(
        page.contains(&html(first["message"].as_str().unwrap())),
        "{page}"
    );
    assert!(
        page.contains("南关区自强街道") && page.contains("<td class=\"num\">10</td>"),
        "{page}"
    );
    // A rejected value that is a valid ID number is masked on the page (whole in the file).
    for item in errors["items"].as_array().unwrap() {
        let value = item["value"].as_str().unwrap_or_default();
        if let Ok(valid) = cancer_aid::domain::IdNumber::parse(value) {
            assert!(
                !page.contains(valid.as_str()),
                "{value} shown whole: {page}"
            );
            assert!(page.contains(&valid.masked()), "{page}");
        }
    }
    assert!(
        page.contains(&format!(
            "href=\"/api/v1/roster-imports/{id}/errors?format=xlsx\""
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "href=\"/api/v1/roster-imports/{id}/errors?format=csv\""
        )),
        "{page}"
    );
    assert!(
        page.contains("id=\"import-progress\" hidden"),
        "no live progress once done"
    );
    // The links lead to the files.
    let xlsx = clerk
        .get(&format!("/api/v1/roster-imports/{id}/errors?format=xlsx"))
        .await;
    xlsx.assert_status(StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));

    // In English, the rejected rows' messages are English.
    let en = clerk
        .call(Method::GET, &format!("/roster/imports/{id}"))
        .header("cookie", "lang=en")
        .send()
        .await;
    let en_errors = clerk
        .call(Method::GET, &format!("/api/v1/roster-imports/{id}/errors"))
        .header("accept-language", "en")
        .send()
        .await
        .json();
    let en_page = body(&en);
    assert!(
        en_page.contains(&html(en_errors["items"][0]["message"].as_str().unwrap())),
        "{en_page}"
    );
    assert!(en_page.contains("Rejected rows"), "{en_page}");

    // The same file again is recognised, and its page says which import it repeats.
    let again = import(&clerk, &fields, "renamed.xlsx", NANGUAN).await;
    let page = body(&clerk.get(&format!("/roster/imports/{again}")).await);
    assert!(
        page.contains(&format!("<a href=\"/roster/imports/{id}\">#{id}</a>")),
        "{page}"
    );
    assert!(page.contains("同一文件"), "{page}");
}

db_test!(rejected_rows_come_a_page_at_a_time);
async fn rejected_rows_come_a_page_at_a_time(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let id = import(
        &clerk,
        &[("group", "low_income_urban")],
        "bad.xlsx",
        &bad_rows(55),
    )
    .await;
    let first = body(&clerk.get(&format!("/roster/imports/{id}")).await);
    assert_eq!(error_rows(&first), 50, "{first}");
    assert!(first.contains("第 1 / 2 · 共 55 条"), "{first}");
    assert!(
        first.contains(&format!(
            "href=\"/roster/imports/{id}?page=2\" rel=\"next\""
        )),
        "{first}"
    );
    assert!(
        !first.contains("<td class=\"num\">56</td>"),
        "the last row is on page 2"
    );
    let second = body(&clerk.get(&format!("/roster/imports/{id}?page=2")).await);
    assert_eq!(error_rows(&second), 5, "{second}");
    assert!(second.contains("<td class=\"num\">56</td>"), "{second}");
    assert!(
        second.contains(&format!(
            "href=\"/roster/imports/{id}?page=1\" rel=\"prev\""
        )),
        "{second}"
    );
}

db_test!(other_roles_are_refused_and_strangers_sent_to_log_in);
async fn other_roles_are_refused_and_strangers_sent_to_log_in(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let id = import(&clerk, &[("region_code", "220102")], "a.xlsx", NANGUAN).await;
    let worker = app.as_role(Role::Caseworker).await;
    for path in [
        "/roster/upload".to_owned(),
        "/roster/imports".to_owned(),
        format!("/roster/imports/{id}"),
    ] {
        let res = worker.get(&path).await;
        res.assert_status(StatusCode::FORBIDDEN);
        assert!(body(&res).contains("您的角色不能使用此页面"), "{path}");
        let anon = app.anonymous().get(&path).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(anon.headers["location"], format!("/login?next={path}"));
    }
    worker
        .upload("/roster/upload", &[], "a.xlsx", NANGUAN)
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // A clerk of another city neither lists nor opens it.
    let yanbian = app
        .as_user("clerk.yanbian", &[Role::RosterImporter], "2224")
        .await;
    yanbian
        .get(&format!("/roster/imports/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let list = body(&yanbian.get("/roster/imports").await);
    assert!(!list.contains(&format!("/roster/imports/{id}\"")), "{list}");
}

db_test!(the_upload_form_offers_the_clerks_region_and_the_template);
async fn the_upload_form_offers_the_clerks_region_and_the_template(app: TestApp) {
    let clerk = app
        .as_user("clerk.changchun", &[Role::RosterImporter], "2201")
        .await;
    let res = clerk.get("/roster/upload").await;
    res.assert_status(StatusCode::OK);
    let page = body(&res);
    assert!(page.contains("<title>上传名册 · "), "{page}");
    assert!(
        page.contains("<option value=\"2201\" selected>长春市（全市）</option>"),
        "the clerk's own scope is chosen: {page}"
    );
    assert!(
        page.contains("<strong id=\"scope\">长春市（全市）</strong>"),
        "the clerk's scope: {page}"
    );
    assert!(
        page.contains("accept=\".xlsx,.xlsm,.xls,.xlsb,.ods,.csv\""),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"low_income_urban\">城市低保</option>"),
        "{page}"
    );
    assert!(page.contains("value=\"incremental\" checked"), "{page}");
    let today = cancer_aid::clock::day_of(chrono::Utc::now()).to_string();
    assert!(
        page.contains(&format!(
            "name=\"effective_date\" value=\"{today}\" placeholder=\"YYYY-MM-DD\""
        )),
        "{page}"
    );
    assert!(
        page.contains("href=\"/api/v1/roster-imports/template?format=xlsx\""),
        "{page}"
    );
    assert!(
        page.contains("<script src=\"/static/roster.js\" defer>"),
        "{page}"
    );
    assert!(page.contains("<noscript>"), "{page}");
    let js = clerk.get("/static/roster.js").await;
    js.assert_status(StatusCode::OK);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body(&js).contains("/api/v1/roster-imports/"));
    let template = clerk
        .get("/api/v1/roster-imports/template?format=xlsx")
        .await;
    template.assert_status(StatusCode::OK);
}

db_test!(the_form_posted_without_javascript_imports_or_shows_why_not);
async fn the_form_posted_without_javascript_imports_or_shows_why_not(app: TestApp) {
    let clerk = app
        .as_user("clerk.nanguan", &[Role::RosterImporter], "220102")
        .await;
    let fields = [
        ("group", "low_income_urban"),
        ("region_code", "220102"),
        ("mode", "incremental"),
        ("effective_date", "2020-07-01"),
    ];
    let res = clerk
        .upload("/roster/upload", &fields, "南关区.xlsx", NANGUAN)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", body(&res));
    let to = res.headers["location"].to_str().unwrap().to_owned();
    let id: i64 = to
        .strip_prefix("/roster/imports/")
        .unwrap()
        .parse()
        .unwrap();
    let done = clerk.wait_import(id).await;
    assert_eq!(done["counts"]["accepted"], 8, "{done}");
    let page = body(&clerk.get(&to).await);
    assert!(
        page.contains("<div class=\"value ok-text\" id=\"count-accepted\">8</div>"),
        "{page}"
    );

    // Refused: each message by its field, and what was chosen stays.
    let bad = [
        ("group", ""),
        ("region_code", "220102"),
        ("mode", "full"),
        ("effective_date", "2020-13-01"),
    ];
    let res = clerk
        .upload("/roster/upload", &bad, "南关区.xlsx", NANGUAN)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let page = body(&res);
    assert!(page.contains("value=\"2020-13-01\""), "{page}");
    assert!(page.contains("value=\"full\" checked"), "{page}");
    assert!(page.contains("生效日期“2020-13-01”无效"), "{page}");
    let res = clerk
        .upload(
            "/roster/upload",
            &[("mode", "full")],
            "南关区.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(&res).contains("全量导入须选择救助类别"),
        "{}",
        body(&res)
    );
    // A region outside the clerk's scope.
    let res = clerk
        .upload(
            "/roster/upload",
            &[("region_code", "2224")],
            "a.xlsx",
            NANGUAN,
        )
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert!(body(&res).contains("不在您的数据范围"), "{}", body(&res));
    assert!(body(&res).contains("value=\"2224\""), "{}", body(&res));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_refused_on_the_form() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_upload_bytes = 4096)
        .await
        .unwrap();
    let clerk = app.as_role(Role::RosterImporter).await;
    let res = clerk
        .upload("/roster/upload", &[], "big.xlsx", NANGUAN)
        .await;
    res.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(&res).contains("上限为"), "{}", body(&res));
    assert!(
        body(&res).contains("id=\"roster-upload\""),
        "the form again"
    );
}

/// An import row as the worker leaves it, for states a test cannot wait for.
async fn stored_import(
    app: &crate::helpers::TestApp,
    by: i64,
    status: &str,
    error: Option<&str>,
) -> i64 {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    entity::roster_import::ActiveModel {
        file_name: Set("大文件.xlsx".into()),
        sha256: Set("ab".repeat(32)),
        file_size: Set(123_456_789),
        format: Set("xlsx".into()),
        group_code: Set(None),
        region_code: Set(Some("220102".into())),
        mode: Set("full".into()),
        effective_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
        fingerprint: Set(format!("{status}-fingerprint")),
        status: Set(entity::roster_import::Status::parse(status).expect("an import status")),
        rows_total: Set(1_000_000),
        rows_done: Set(250_000),
        accepted: Set(0),
        rejected: Set(0),
        skipped: Set(0),
        added: Set(0),
        updated: Set(0),
        ended: Set(0),
        error: Set(error.map(str::to_owned)),
        claimed_by: Set(Some("elsewhere".into())),
        claimed_at: Set(Some(now)),
        created_by: Set(Some(by)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

db_test!(a_running_import_shows_its_progress_and_a_failed_one_why);
async fn a_running_import_shows_its_progress_and_a_failed_one_why(app: TestApp) {
    let clerk = app.as_role(Role::RosterImporter).await;
    let me = clerk.get("/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap();
    let running = stored_import(&app, me, "running", None).await;
    let page = body(&clerk.get(&format!("/roster/imports/{running}")).await);
    assert!(
        page.contains("<span class=\"badge wait\" id=\"import-status\">校验中</span>"),
        "{page}"
    );
    assert!(
        page.contains("id=\"import-progress\" aria-live=\"polite\""),
        "shown: {page}"
    );
    assert!(page.contains("max=\"1000000\" value=\"250000\""), "{page}");
    assert!(page.contains("250,000 / 1,000,000"), "{page}");
    // An .xlsx that declares no size (its dimension says one row): the rows read, never "/ 1".
    {
        use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
        let mut m = entity::roster_import::Entity::find_by_id(running)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        m.rows_total = Set(1);
        m.rows_done = Set(56_000);
        m.update(&app.db).await.unwrap();
    }
    let no_size = body(&clerk.get(&format!("/roster/imports/{running}")).await);
    assert!(
        no_size.contains("<span id=\"rows-text\">56,000（文件未声明总行数）</span>"),
        "{no_size}"
    );
    assert!(!no_size.contains("/ 1<"), "{no_size}");
    assert!(!no_size.contains("max=\"1\""), "{no_size}");
    assert!(page.contains(&format!("data-id=\"{running}\"")), "{page}");
    assert!(
        page.contains("<script src=\"/static/roster.js\" defer>"),
        "{page}"
    );
    assert!(
        page.contains("全量导入") && page.contains("123,456,789 B"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"errors\""),
        "no rejected rows before the end"
    );
    let list = body(&clerk.get("/roster/imports?status=running").await);
    assert!(
        list.contains("大文件.xlsx") && list.contains("校验中"),
        "{list}"
    );

    let failed = stored_import(&app, me, "failed", Some("文件为空。 / The file is empty.")).await;
    let page = body(&clerk.get(&format!("/roster/imports/{failed}")).await);
    assert!(page.contains("<p class=\"error\">文件为空。</p>"), "{page}");
    assert!(!page.contains("The file is empty."), "{page}");
    assert!(
        page.contains(&format!(
            "data-api=\"/api/v1/roster-imports/{failed}/retry\""
        )),
        "{page}"
    );
    assert!(page.contains("id=\"import-progress\" hidden"), "{page}");
    let en = clerk
        .call(Method::GET, &format!("/roster/imports/{failed}"))
        .header("cookie", "lang=en")
        .send()
        .await;
    assert!(
        body(&en).contains("<p class=\"error\">The file is empty.</p>"),
        "{}",
        body(&en)
    );
}
