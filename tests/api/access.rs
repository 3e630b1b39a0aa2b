//! Every route of the route table, for each of the five roles in two scopes (the province and a
//! county), against its declared rule (`cancer_aid::access`): admitted means neither 401 nor
//! 403 (nor 404 for a record inside the scope), refused means exactly 403; a record of another
//! county answers 404 to the county's users. The table in `docs/access.md` is generated from
//! the same declaration and must match it.

use axum::http::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use cancer_aid::access::{Access, Reach, Who};
use cancer_aid::api::{RouteSpec, route_table};
use cancer_aid::domain::{RegionPrefix, Role};
use entity::{roster_import, user, visit};

use crate::db_test;
use crate::fixtures::visits::{day, hospital, outpatient, patient, standard_policy};
use crate::helpers::{Client, TestApp};

/// The county of the county users, and the records on either side of its border.
const COUNTY: &str = "220102";

/// Ids of records the walk addresses: one inside the county, one outside it.
struct Records {
    case: (i64, i64),
    visit: (i64, i64),
    import: (i64, i64),
    batch: (i64, i64),
    user: (i64, i64),
    policy: i64,
    id_number: (String, String),
}

async fn import_in(app: &TestApp, region: &str) -> i64 {
    let now = chrono::Utc::now();
    roster_import::ActiveModel {
        file_name: Set(format!("{region}.xlsx")),
        sha256: Set("0".repeat(64)),
        file_size: Set(1),
        format: Set("xlsx".into()),
        group_code: Set(Some("low_income_urban".into())),
        region_code: Set(Some(region.into())),
        mode: Set("incremental".into()),
        effective_date: Set(now.date_naive()),
        fingerprint: Set(format!("{region:0>64}")),
        status: Set(entity::roster_import::Status::Succeeded),
        created_at: Set(now),
        finished_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

/// A drafted payment batch of the region, with no lines, drafted by nobody the walk logs in as.
async fn batch_in(app: &TestApp, region: &str) -> i64 {
    let now = chrono::Utc::now();
    entity::payment_batch::ActiveModel {
        batch_no: Set(format!("PB-{region}")),
        state: Set(entity::payment_batch::State::Draft),
        version: Set(1),
        region_code: Set(region.into()),
        filters: Set(serde_json::json!({})),
        line_count: Set(0),
        total_fen: Set(0),
        drafted_by: Set(0),
        drafted_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

async fn user_in(app: &TestApp, name: &str, region: &str) -> i64 {
    app.create_user(name, &[Role::Caseworker], region).await;
    user::Entity::find()
        .filter(user::COLUMN.username.eq(name))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn records(app: &TestApp) -> Records {
    let h = hospital(app, "H1", true).await;
    let policy = standard_policy(app, "low_income_urban").await;
    let (_, inside_case) = patient(app, 1, "low_income_urban", "approved").await;
    let outside_case = crate::scope::yanbian_case(app).await;
    let worker = app.as_role(Role::Caseworker).await;
    for (case, invoice) in [(inside_case, "A-1"), (outside_case, "B-1")] {
        worker
            .post(
                &format!("/api/v1/cases/{case}/visits"),
                &outpatient(h, invoice, &day(3, 1), "5000"),
            )
            .await
            .assert_status(StatusCode::CREATED);
    }
    let visits = visit::Entity::find().all(&app.db).await.unwrap();
    let visit_of = |case: i64| visits.iter().find(|v| v.case_id == case).unwrap().id;
    let id_of = |case: i64| async move {
        let c = entity::case::Entity::find_by_id(case)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        entity::person::Entity::find_by_id(c.person_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id_number
    };
    Records {
        case: (inside_case, outside_case),
        visit: (visit_of(inside_case), visit_of(outside_case)),
        import: (import_in(app, COUNTY).await, import_in(app, "222401").await),
        batch: (batch_in(app, COUNTY).await, batch_in(app, "222401").await),
        user: (
            user_in(app, "someone_inside", COUNTY).await,
            user_in(app, "someone_outside", "222401").await,
        ),
        policy,
        id_number: (id_of(inside_case).await, id_of(outside_case).await),
    }
}

/// The route's path with its parameters filled in, inside the scope or outside it; `None`
/// when the route addresses no record that has a region.
fn address(route: &RouteSpec, r: &Records, inside: bool) -> Option<String> {
    let pick = |(a, b): (i64, i64)| if inside { a } else { b };
    let p = route.path.as_str();
    let filled = if p.starts_with("/api/v1/cases/{id}") {
        p.replace("{id}", &pick(r.case).to_string())
    } else if p.starts_with("/api/v1/visits/{id}") {
        p.replace("{id}", &pick(r.visit).to_string())
    } else if p.starts_with("/api/v1/payment-batches/{id}") && names_a_child(p) {
        // A batch's return file or objection: walked with one that does not exist, inside
        // the scope only (their own tests read real ones).
        if !inside {
            return None;
        }
        p.replace("{id}", &r.batch.0.to_string())
            .replace("{return_id}", "0")
            .replace("{objection_id}", "0")
    } else if p.starts_with("/api/v1/payment-batches/{id}") {
        p.replace("{id}", &pick(r.batch).to_string())
    } else if p == "/api/v1/budget-lines/{id}" {
        // Budget lines are set by the province: walked with one that does not exist, for the
        // roles (tests/api/budget.rs reads real ones).
        return inside.then(|| p.replace("{id}", "0"));
    } else if p.starts_with("/api/v1/roster-imports/{id}") {
        p.replace("{id}", &pick(r.import).to_string())
    } else if p.starts_with("/api/v1/users/{id}") {
        p.replace("{id}", &pick(r.user).to_string())
    } else if p.starts_with("/api/v1/persons/{person}") {
        let id = if inside {
            &r.id_number.0
        } else {
            &r.id_number.1
        };
        p.replace("{person}", id)
    } else if p.starts_with("/api/v1/policies/{id}") {
        // Policies hold for the whole province: no region of their own.
        return inside.then(|| p.replace("{id}", &r.policy.to_string()));
    } else if p == "/api/v1/auth/sessions/{id}" {
        // One's own session, whose id the walker does not hold: tests/api/sessions.rs.
        return None;
    } else if p.contains('{') {
        panic!("the access walk does not know how to fill {p}: add it to `address`");
    } else if p == "/api/v1/eligibility" || p == "/api/v1/roster-entries" {
        // Look-ups answer an unknown person as nobody: their scope test is tests/api/scope.rs.
        let id = if inside { &r.id_number.0 } else { return None };
        format!("{p}?id_number={id}")
    } else {
        return inside.then(|| p.to_owned());
    };
    Some(filled)
}

/// Whether a route is walked with a record that does not exist (a batch's return file or
/// objection, a budget line): for the roles only.
fn names_a_child(path: &str) -> bool {
    path.contains("{return_id}")
        || path.contains("{objection_id}")
        || path == "/api/v1/budget-lines/{id}"
}

async fn call(client: &Client<'_>, route: &RouteSpec, path: &str) -> StatusCode {
    let mut c = client.call(route.method.clone(), path);
    if route.method != Method::GET {
        c = c.json(&json!({}));
    }
    c.send().await.status
}

/// Logging out ends the walker's session: walked last.
fn walk_order(mut routes: Vec<RouteSpec>) -> Vec<RouteSpec> {
    routes.sort_by_key(|r| r.path == "/api/v1/auth/logout");
    routes
}

db_test!(every_route_admits_exactly_its_rule);
async fn every_route_admits_exactly_its_rule(app: TestApp) {
    let r = records(&app).await;
    let province = app.state.settings.province.clone();
    let routes = walk_order(route_table());
    for role in Role::ALL {
        for scope in [province.as_str(), COUNTY] {
            let name = format!("walk_{}_{scope}", role.code());
            let client = app.as_user(&name, &[role], scope).await;
            let region = RegionPrefix::parse(scope).unwrap();
            for route in &routes {
                let admitted = route.access.admits(&[role], &region, &province);
                if let Some(path) = address(route, &r, true) {
                    let status = call(&client, route, &path).await;
                    let at = format!(
                        "{role:?} of {scope}: {} {path} answered {status}",
                        route.method
                    );
                    if admitted && names_a_child(&route.path) {
                        assert!(
                            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status),
                            "{at}, but its rule {:?} admits it",
                            route.access
                        );
                    } else if admitted {
                        assert!(
                            ![
                                StatusCode::UNAUTHORIZED,
                                StatusCode::FORBIDDEN,
                                StatusCode::NOT_FOUND
                            ]
                            .contains(&status),
                            "{at}, but its rule {:?} admits it",
                            route.access
                        );
                    } else {
                        assert_eq!(
                            status,
                            StatusCode::FORBIDDEN,
                            "{at}, but its rule {:?} refuses it",
                            route.access
                        );
                    }
                }
                // A record of another county: not found for the county's users.
                if let Some(path) = address(route, &r, false)
                    && route.method == Method::GET
                    && admitted
                {
                    let status = call(&client, route, &path).await;
                    let expected_missing = scope == COUNTY;
                    assert_eq!(
                        status == StatusCode::NOT_FOUND,
                        expected_missing,
                        "{role:?} of {scope}: GET {path} answered {status}"
                    );
                }
            }
        }
    }
    // Without a session, only the public routes answer.
    for route in &routes {
        if let Some(path) = address(route, &r, true) {
            let status = call(&app.anonymous(), route, &path).await;
            if route.access.needs_login() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", route.method);
            } else {
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{} {path}", route.method);
            }
        }
    }
}

/// The table of `docs/access.md`, from the route table.
fn access_table() -> String {
    let mut out = String::from(
        "| Method | Route | Caseworker | Approver | Roster importer | Manager | Admin | Scope |\n|---|---|---|---|---|---|---|---|\n",
    );
    for route in route_table().iter().filter(|r| r.documented) {
        let cells: Vec<&str> = Role::ALL
            .iter()
            .map(|role| match route.access.who {
                Who::Anyone => "anyone",
                Who::SignedIn => "yes",
                Who::LoggingIn => "yes (also before the second factor)",
                Who::Roles(_)
                    if route.access.admits(
                        &[*role],
                        &RegionPrefix::parse("22").unwrap(),
                        &RegionPrefix::parse("22").unwrap(),
                    ) =>
                {
                    "yes"
                }
                Who::Roles(_) => "—",
            })
            .collect();
        let scope = match route.access {
            Access {
                who: Who::Anyone, ..
            } => "—",
            Access {
                reach: Reach::Province,
                ..
            } => "province only",
            Access {
                reach: Reach::Region,
                ..
            } => "own region",
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {scope} |\n",
            route.method,
            route.path,
            cells.join(" | ")
        ));
    }
    out
}

#[test]
fn the_access_table_in_the_docs_is_generated_from_the_route_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/access.md");
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let begin = "<!-- generated: access table -->\n";
    let end = "<!-- end of generated table -->";
    let table = access_table();
    if std::env::var("UPDATE_DOCS").is_ok() {
        let (head, rest) = doc
            .split_once(begin)
            .expect("docs/access.md has the begin marker");
        let (_, tail) = rest
            .split_once(end)
            .expect("docs/access.md has the end marker");
        std::fs::write(path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
        return;
    }
    let current = doc
        .split_once(begin)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(t, _)| t)
        .unwrap_or_default();
    assert_eq!(
        current, table,
        "docs/access.md is out of date: run UPDATE_DOCS=1 cargo test --test api the_access_table"
    );
}
