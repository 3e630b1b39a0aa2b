//! `serve --demo`: on an empty database, the users, hospitals and policies a visitor needs to
//! try every part of the programme. Passwords are fixed and listed in the README, because a
//! demo is for showing, not for real data.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use entity::user;

use crate::audit::Actor;
use crate::auth::password_rules::NewPassword;
use crate::domain::subsidy::Terms;
use crate::domain::{Amount, Group, Money, Rate, RegionCode, RegionPrefix, Role};
use crate::hospital::{self, NewHospital};
use crate::policy::{self, NewPolicy};
use crate::roster::import::{self, Mode, Upload};
use crate::roster::parser::Parser;
use crate::roster::upload::UploadedFile;
use crate::users::{self, NewUser};

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
pub async fn seed(
    db: &DatabaseConnection,
    parser: &Parser,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
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

    for (name, code, region) in DEMO_HOSPITALS {
        let new = NewHospital {
            name: (*name).to_owned(),
            code: (*code).to_owned(),
            region: RegionCode::parse(region)?,
            designated: true,
        };
        hospital::create(db, &actor, new)
            .await
            .map_err(|e| anyhow::anyhow!("demo hospital {code}: {e}"))?;
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
    println!(
        "Demo data ready: {} hospitals, {} policies, {} rosters queued for import. Open http://127.0.0.1:3000",
        DEMO_HOSPITALS.len(),
        DEMO_POLICIES.len(),
        DEMO_ROSTERS.len()
    );
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
        include_bytes!("../fixtures/roster_urban_nanguan_2020-06.xlsx"),
        Some("城市低保"),
        Some("220102"),
        "2020-07-01",
    ),
    (
        "roster_rural_2020.xlsx",
        include_bytes!("../fixtures/roster_rural_2020.xlsx"),
        None,
        None,
        "2020-07-01",
    ),
    (
        "roster_extreme_hardship_2021.xls",
        include_bytes!("../fixtures/roster_extreme_hardship_2021.xls"),
        None,
        None,
        "2021-07-01",
    ),
    (
        "roster_entitled_care_yanbian_gbk.csv",
        include_bytes!("../fixtures/roster_entitled_care_yanbian_gbk.csv"),
        None,
        None,
        "2020-07-01",
    ),
];
