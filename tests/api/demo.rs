use std::collections::BTreeMap;

use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};

use entity::roster_import::Status;
use entity::{
    annual_grant, budget_line, case, hospital, roster_entry, roster_import, subsidy_policy, user,
    visit,
};

use crate::db_test;
use crate::helpers::TestApp;

db_test!(the_demo_seeds_accounts_hospitals_policies_rosters_and_a_working_year);
async fn the_demo_seeds_accounts_hospitals_policies_rosters_and_a_working_year(app: TestApp) {
    cancer_aid::demo::seed(&app.state).await.unwrap();
    cancer_aid::roster::jobs::drain(&app.db, &app.state.imports)
        .await
        .unwrap();
    // The test app's own worker may still be finishing one of them.
    for _ in 0..300 {
        let all = roster_import::Entity::find().all(&app.db).await.unwrap();
        if all
            .iter()
            .all(|i| matches!(i.status, Status::Succeeded | Status::Failed))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        cancer_aid::demo::DEMO_USERS.len() as u64
    );
    assert_eq!(hospital::Entity::find().count(&app.db).await.unwrap(), 4);
    assert_eq!(
        subsidy_policy::Entity::find().count(&app.db).await.unwrap(),
        4
    );
    let imports = roster_import::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(
        imports.len(),
        5,
        "four fixture rosters and the generated one"
    );
    assert!(
        imports.iter().all(|i| i.status == Status::Succeeded),
        "{imports:?}"
    );
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        8 + 5 + 4 + 3 + cancer_aid::demo::PEOPLE as u64
    );

    // A working year: cases in every state, subsidies in every status, reversals among them.
    let cases = case::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(cases.len(), cancer_aid::demo::CASES);
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cases {
        *states.entry(format!("{:?}", c.state)).or_default() += 1;
    }
    assert_eq!(states.len(), 5, "every case state: {states:?}");
    let years: std::collections::BTreeSet<i32> = cases.iter().map(|c| c.year).collect();
    assert_eq!(years.len(), 2, "last year and this year");
    let visits = visit::Entity::find().all(&app.db).await.unwrap();
    assert!(visits.len() > 1_500, "{} visits", visits.len());
    for s in [
        visit::Status::Pending,
        visit::Status::Approved,
        visit::Status::Paid,
        visit::Status::Voided,
    ] {
        assert!(visits.iter().any(|v| v.status == s), "no {s:?} subsidy");
    }
    let reversals: Vec<&visit::Model> = visits
        .iter()
        .filter(|v| v.reverses_visit_id.is_some())
        .collect();
    assert!(!reversals.is_empty(), "reversals included");
    // The annual ledger agrees with the subsidies it counts, person by person.
    let mut granted: BTreeMap<(i64, i32), i64> = BTreeMap::new();
    for v in visits.iter().filter(|v| v.status != visit::Status::Voided) {
        *granted.entry((v.person_id, v.year)).or_default() += v.subsidy_fen;
    }
    for g in annual_grant::Entity::find().all(&app.db).await.unwrap() {
        assert_eq!(
            granted.get(&(g.person_id, g.year)).copied().unwrap_or(0),
            g.granted_fen,
            "person {} in {}",
            g.person_id,
            g.year
        );
    }
    // This year's budget lines, with room left and warnings among them.
    let year = chrono::Datelike::year(&app.state.clock.today());
    let lines = budget_line::Entity::find()
        .filter(budget_line::COLUMN.year.eq(year))
        .all(&app.db)
        .await
        .unwrap();
    assert!(lines.len() >= 6, "{lines:?}");
    assert!(lines.iter().all(|l| l.committed_fen <= l.amount_fen));
    assert!(lines.iter().all(|l| l.paid_fen > 0), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.committed_fen * 100 >= l.amount_fen * 80),
        "a line past its 80 % warning: {lines:?}"
    );

    // The manager's dashboard opens on this year's figures, not zeros.
    let token = app.login("manager", "manager-demo").await;
    let manager = app.with_token(&token);
    let summary = manager
        .get(&format!("/api/v1/reports/summary?year={year}"))
        .await;
    summary.assert_status(axum::http::StatusCode::OK);
    let patients = summary.json()["total"]["patients"].as_i64().unwrap();
    assert!(patients > 100, "{}", summary.json());

    // Each demo user's home page opens on its to-do list, counted as the lists count.

    let count_of = |page: &str, id: &str| -> String {
        let at = page
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}"));
        let rest = &page[at..];
        let start =
            rest.find("<strong class=\"count\">").unwrap() + "<strong class=\"count\">".len();
        rest[start..start + rest[start..].find('<').unwrap()].to_owned()
    };
    let total =
        |json: serde_json::Value| cancer_aid::web::fmt::count(json["total"].as_i64().unwrap());
    let approver = app.login("approver", "approver-demo").await;
    let pending = app
        .with_token(&approver)
        .get("/api/v1/visits?status=pending&per_page=1")
        .await
        .json();
    assert_ne!(pending["total"], 0);
    assert_eq!(
        count_of(&home(&app, &approver).await, "todo-subsidies-to-decide"),
        total(pending)
    );
    let caseworker = app.login("caseworker", "caseworker-demo").await;
    let rejected = app
        .with_token(&caseworker)
        .get(&format!(
            "/api/v1/cases?state=rejected&year={year}&per_page=1"
        ))
        .await
        .json();
    assert_eq!(
        count_of(&home(&app, &caseworker).await, "todo-cases-rejected"),
        total(rejected)
    );
    let approved = manager
        .get("/api/v1/visits?status=approved&per_page=1")
        .await
        .json();
    assert_ne!(approved["total"], 0);
    assert_eq!(
        count_of(&home(&app, &token).await, "todo-subsidies-to-pay"),
        total(approved),
        "no batch holds any of them yet"
    );

    // A second start changes nothing.
    cancer_aid::demo::seed(&app.state).await.unwrap();
    assert_eq!(
        roster_import::Entity::find().count(&app.db).await.unwrap(),
        5
    );
    assert_eq!(
        case::Entity::find().count(&app.db).await.unwrap(),
        cancer_aid::demo::CASES as u64
    );
    for (name, password, ..) in cancer_aid::demo::DEMO_USERS {
        app.login(name, password).await;
    }
}

async fn home(app: &TestApp, token: &str) -> String {
    let res = app.with_token(token).get("/").await;
    res.assert_status(axum::http::StatusCode::OK);
    String::from_utf8_lossy(&res.body).into_owned()
}
