//! `serve --demo`: on an empty database, the users, hospitals and policies a visitor needs to
//! try every part of the programme. Passwords are fixed and listed in the README, because a
//! demo is for showing, not for real data.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};

use entity::{hospital, subsidy_policy, user};

use crate::audit::{self, Actor, Change};
use crate::domain::{Group, Money, RegionPrefix, Role};
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
    ("admin", "admin-demo", &[Role::Admin], "22", "系统管理员"),
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
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    if user::Entity::find().count(db).await? > 0 {
        tracing::info!("Demo data not seeded: the database already has users");
        return Ok(());
    }
    let actor = Actor::system("demo");
    println!("Demo accounts (username / password / role / region):");
    for (name, password, roles, region, display) in DEMO_USERS {
        users::create(
            db,
            &actor,
            NewUser {
                username: (*name).to_owned(),
                display_name: (*display).to_owned(),
                password: (*password).to_owned(),
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

    let now = Utc::now();
    let txn = db.begin().await?;
    for (name, code, region) in DEMO_HOSPITALS {
        let h = hospital::ActiveModel {
            name: Set((*name).to_owned()),
            code: Set((*code).to_owned()),
            region_code: Set((*region).to_owned()),
            designated: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &actor,
            Change {
                action: "hospital.create",
                entity_type: "hospital",
                entity_id: h.id.to_string(),
                before: None,
                after: Some(serde_json::json!({"name": h.name, "code": h.code, "region_code": h.region_code, "designated": true})),
            },
        )
        .await?;
    }
    let from = NaiveDate::from_ymd_opt(2015, 1, 1).expect("a valid date");
    for (group, rate, deductible, per_visit, annual) in DEMO_POLICIES {
        let p = subsidy_policy::ActiveModel {
            group_code: Set(group.code().to_owned()),
            rate: Set((*rate).to_owned()),
            deductible_fen: Set(Money::from_yuan(*deductible).fen()),
            per_visit_cap_fen: Set(Money::from_yuan(*per_visit).fen()),
            annual_cap_fen: Set(Money::from_yuan(*annual).fen()),
            effective_from: Set(from),
            effective_to: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &actor,
            Change {
                action: "policy.create",
                entity_type: "policy",
                entity_id: p.id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "group": group.code(), "rate": rate,
                    "deductible": Money::from_yuan(*deductible),
                    "per_visit_cap": Money::from_yuan(*per_visit),
                    "annual_cap": Money::from_yuan(*annual),
                    "effective_from": from,
                })),
            },
        )
        .await?;
    }
    txn.commit().await?;
    println!(
        "Demo data ready: {} hospitals, {} policies. Open http://127.0.0.1:3000",
        DEMO_HOSPITALS.len(),
        DEMO_POLICIES.len()
    );
    Ok(())
}
