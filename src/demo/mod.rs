//! `serve --demo`: on an empty database, the users, hospitals and policies a visitor needs to
//! try every part of the programme, and a working year of activity: a few thousand people on
//! the rosters ([`people`]) and the cases, visits, subsidies and payments of last year and this
//! year up to today ([`year`]), so every page and chart has something to show. Passwords are
//! fixed and listed in the README, because a demo is for showing, not for real data.

pub mod people;
pub mod year;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use entity::{user, visit};

use crate::audit::Actor;
use crate::auth::CurrentUser;
use crate::auth::password_rules::NewPassword;
use crate::domain::subsidy::Terms;
use crate::domain::{Amount, Group, Money, Rate, RegionCode, RegionPrefix, Role};
use crate::hospital::{self, NewHospital};
use crate::policy::{self, NewPolicy};
use crate::roster::import::{self, Mode, Upload};
use crate::roster::upload::UploadedFile;
use crate::state::AppState;
use crate::users::{self, NewUser};

/// How many people the generated roster holds.
pub const PEOPLE: usize = 3_000;
/// How many cases the year opens among them.
pub const CASES: usize = 600;

/// The demo accounts: username, password, roles, region, display name.
pub const DEMO_USERS: &[(&str, &str, &[Role], &str, &str)] = &[
    (
        "caseworker",
        "caseworker-demo",
        &[Role::Caseworker],
        "2201",
        "长春经办人",
    ),
    (
        "caseworker2",
        "caseworker2-demo",
        &[Role::Caseworker],
        "2224",
        "延边经办人",
    ),
    (
        "approver",
        "approver-demo",
        &[Role::Approver],
        "22",
        "省审核人",
    ),
    (
        "importer",
        "importer-demo",
        &[Role::RosterImporter],
        "22",
        "民政导入员",
    ),
    (
        "manager",
        "manager-demo",
        &[Role::Manager],
        "22",
        "项目管理人员",
    ),
    // A payment batch is approved by a manager other than its drafter.
    (
        "finance",
        "finance-demo",
        &[Role::Manager],
        "22",
        "财务复核人",
    ),
    (
        "admin",
        "admin-demo-pass",
        &[Role::Admin],
        "22",
        "系统管理员",
    ),
];

/// Designated hospitals: name, code, region.
const DEMO_HOSPITALS: &[(&str, &str, &str)] = &[
    ("吉林大学第一医院", "H220104001", "220104"),
    ("吉林省肿瘤医院", "H220106001", "220106"),
    ("吉林市中心医院", "H220204001", "220204"),
    ("延边大学附属医院", "H222401001", "222401"),
];

/// A default policy per group: rate, deductible, per-visit cap, annual cap (yuan).
const DEMO_POLICIES: &[(Group, &str, i64, i64, i64)] = &[
    (Group::LowIncomeUrban, "0.60", 1_000, 10_000, 30_000),
    (Group::LowIncomeRural, "0.60", 1_000, 10_000, 30_000),
    (Group::ExtremeHardship, "0.80", 0, 15_000, 50_000),
    (Group::EntitledCare, "0.70", 500, 12_000, 40_000),
];

/// Seeds the demo data when the database has no users yet; otherwise does nothing.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    let parser = state.imports.parser();
    let now = state.clock.now();
    if user::Entity::find().count(db).await? > 0 {
        tracing::info!("Demo data not seeded: the database already has users");
        return Ok(());
    }
    let actor = Actor::system("demo", now);
    println!("Demo accounts (username / password / role / region):");
    for (name, password, roles, region, display) in DEMO_USERS {
        users::create(
            db,
            &actor,
            NewUser {
                username: (*name).to_owned(),
                display_name: (*display).to_owned(),
                password: NewPassword::parse(password, name)
                    .map_err(|e| anyhow::anyhow!("demo account {name}: {}", e.message.en))?,
                roles: roles.to_vec(),
                region: RegionPrefix::parse(region)?,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo user {name}: {e}"))?;
        println!(
            "  {name:<12} {password:<18} {:<16} {region}",
            Role::join(roles)
        );
    }

    let mut hospitals = Vec::new();
    for (name, code, region) in DEMO_HOSPITALS {
        let new = NewHospital {
            name: (*name).to_owned(),
            code: (*code).to_owned(),
            region: RegionCode::parse(region)?,
            designated: true,
        };
        let h = hospital::create(db, &actor, new)
            .await
            .map_err(|e| anyhow::anyhow!("demo hospital {code}: {e}"))?;
        hospitals.push(h.id);
    }
    let from = NaiveDate::from_ymd_opt(2015, 1, 1).expect("a valid date");
    for (group, rate, deductible, per_visit, annual) in DEMO_POLICIES {
        let new = NewPolicy {
            group: *group,
            terms: Terms {
                rate: Rate::parse(rate)?,
                deductible: Amount::new(Money::from_yuan(*deductible))?,
                per_visit_cap: Amount::new(Money::from_yuan(*per_visit))?,
                annual_cap: Amount::new(Money::from_yuan(*annual))?,
            },
            effective_from: from,
            effective_to: None,
        };
        policy::create(db, &actor, new)
            .await
            .map_err(|e| anyhow::anyhow!("demo policy for {group}: {e}"))?;
    }

    // The fixture rosters, uploaded by the demo clerk; the worker imports them at start.
    let clerk = users::find_by_username(db, "importer")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the demo importer is missing"))?;
    let clerk_actor = Actor {
        id: Some(clerk.id),
        name: clerk.username.clone(),
        at: now,
    };
    for (file_name, bytes, group, region, date) in DEMO_ROSTERS {
        let upload = Upload {
            file_name: (*file_name).to_owned(),
            file: UploadedFile::from_bytes(bytes).await?,
            group: group.map(Group::parse).transpose()?,
            region: region.map(RegionPrefix::parse).transpose()?,
            mode: Mode::Incremental,
            effective_date: NaiveDate::parse_from_str(date, "%Y-%m-%d")?,
            confirmation: None,
            activate: true,
        };
        import::submit(
            db,
            parser,
            &clerk_actor,
            &RegionPrefix::parse("22")?,
            upload,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo roster {file_name}: {e}"))?;
    }
    let started = std::time::Instant::now();
    let year = state.clock.today().year();
    let people = people::people(PEOPLE, year);
    if !import_people(state, &clerk_actor, &people).await? {
        println!(
            "Demo rosters queued; the generated roster waits for a second person's activation (CANCER_AID_IMPORT_APPROVAL), so no cases were made."
        );
        return Ok(());
    }
    let desk = year::Desk {
        changchun: desk_user(db, "caseworker", now).await?,
        yanbian: desk_user(db, "caseworker2", now).await?,
        approver: desk_user(db, "approver", now).await?,
        manager: desk_user(db, "manager", now).await?,
    };
    let tally = year::fill(state, &desk, &people, &hospitals, CASES).await?;
    budget_lines(db, &desk.manager, year).await?;
    println!(
        "Demo data ready in {:.1} s: {} hospitals, {} policies, {} people on the rosters, {} cases, {} visits ({} paid, {} reversed). Open http://127.0.0.1:3000",
        started.elapsed().as_secs_f64(),
        DEMO_HOSPITALS.len(),
        DEMO_POLICIES.len(),
        people.len(),
        tally.cases,
        tally.visits,
        tally.paid,
        tally.reversals,
    );
    Ok(())
}

/// Imports the generated people as the demo clerk would, at once (the worker has not started
/// yet); false when the import waits for a second person.
async fn import_people(
    state: &AppState,
    clerk: &Actor,
    people: &[people::Person],
) -> anyhow::Result<bool> {
    let upload = Upload {
        file_name: "demo_roster.csv".to_owned(),
        file: UploadedFile::from_bytes(&people::roster_csv(people)).await?,
        group: None,
        region: None,
        mode: Mode::Incremental,
        effective_date: state.clock.today(),
        confirmation: None,
        activate: true,
    };
    let (view, queued) = import::submit(
        &state.db,
        state.imports.parser(),
        clerk,
        &RegionPrefix::parse("22")?,
        upload,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo roster: {e}"))?;
    use entity::roster_import::Status;
    let status = |id| async move {
        anyhow::Ok(
            entity::roster_import::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the demo roster's import vanished"))?
                .status,
        )
    };
    if queued && crate::roster::jobs::claim(&state.db, &state.imports, view.id).await? {
        import::run(&state.db, view.id, state.imports.clone()).await?;
        return Ok(status(view.id).await? == Status::Succeeded);
    }
    // A worker already running (in tests) claimed it first: wait for its outcome. Validated
    // is a step on the way to activation, or where it stops for a second person.
    let mut validated_for = 0;
    for _ in 0..1200 {
        match status(view.id).await? {
            Status::Succeeded => return Ok(true),
            Status::Queued | Status::Running => {}
            Status::Validated if validated_for < 30 => validated_for += 1,
            _ => return Ok(false),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the demo roster's import did not finish in two minutes")
}

/// A demo account as the signed-in user of a request at `now`.
async fn desk_user(
    db: &DatabaseConnection,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<CurrentUser> {
    let u = users::find_by_username(db, name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the demo account {name} is missing"))?;
    Ok(CurrentUser {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles: Role::parse_list(&u.roles)?,
        region: RegionPrefix::parse(&u.region_prefix)?,
        session_id: 0,
        now,
    })
}

/// This year's budget lines, one per city and group, sized so that most have room and a few
/// show the 80 % and 95 % warnings.
async fn budget_lines(
    db: &DatabaseConnection,
    manager: &CurrentUser,
    year: i32,
) -> anyhow::Result<()> {
    let granted = visit::Entity::find()
        .filter(visit::COLUMN.year.eq(year))
        .filter(
            visit::COLUMN
                .status
                .is_in([visit::Status::Approved, visit::Status::Paid]),
        )
        .filter(visit::COLUMN.reverses_visit_id.is_null())
        .all(db)
        .await?;
    let mut by_line: BTreeMap<(String, String), i64> = BTreeMap::new();
    for v in granted {
        *by_line
            .entry((v.region_code[..4].to_owned(), v.group_code.clone()))
            .or_default() += v.subsidy_fen;
    }
    // Used shares in turn: 55 %, 70 %, 83 %, 96 %.
    for (n, ((city, group), fen)) in by_line.into_iter().enumerate() {
        let used = [55, 70, 83, 96][n % 4];
        let yuan = (fen / used / 1_000 + 2) * 1_000;
        crate::budget::create(
            db,
            manager,
            crate::budget::LineInput {
                year,
                region: RegionPrefix::parse(&city)?,
                group: Group::parse(&group)?,
                amount: Money::from_yuan(yuan),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo budget line {city} {group}: {e}"))?;
    }
    Ok(())
}

/// The fixture rosters: file, group, region, effective date. Compiled in, so the demo runs
/// from any folder.
type DemoRoster = (
    &'static str,
    &'static [u8],
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);
const DEMO_ROSTERS: &[DemoRoster] = &[
    (
        "roster_urban_nanguan_2020-06.xlsx",
        include_bytes!("../../fixtures/roster_urban_nanguan_2020-06.xlsx"),
        Some("城市低保"),
        Some("220102"),
        "2020-07-01",
    ),
    (
        "roster_rural_2020.xlsx",
        include_bytes!("../../fixtures/roster_rural_2020.xlsx"),
        None,
        None,
        "2020-07-01",
    ),
    (
        "roster_extreme_hardship_2021.xls",
        include_bytes!("../../fixtures/roster_extreme_hardship_2021.xls"),
        None,
        None,
        "2021-07-01",
    ),
    (
        "roster_entitled_care_yanbian_gbk.csv",
        include_bytes!("../../fixtures/roster_entitled_care_yanbian_gbk.csv"),
        None,
        None,
        "2020-07-01",
    ),
];
