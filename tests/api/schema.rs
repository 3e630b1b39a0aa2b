//! The data model itself: what the migrations create and what the database enforces.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use entity::{annual_grant, person, region, roster_entry, session, visit};

use crate::db_test;
use crate::helpers::TestApp;

fn person(id_number: &str) -> person::ActiveModel {
    person::ActiveModel {
        id_number: Set(id_number.to_owned()),
        name: Set("测试".to_owned()),
        sex: Set("female".to_owned()),
        birth_date: Set(NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()),
        region_code: Set("220102".to_owned()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

db_test!(regions_are_seeded_with_jilin_and_successors);
async fn regions_are_seeded_with_jilin_and_successors(app: TestApp) {
    let count = region::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(count, 73);
    let province = region::Entity::find_by_id("22")
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(province.name, "吉林省");
    assert_eq!(province.level, "province");
    let old = region::Entity::find_by_id("220381")
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.successor_code.as_deref(), Some("220184"));
    let cities = region::Entity::find()
        .filter(region::COLUMN.level.eq("city"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(cities, 9);
}

db_test!(a_person_exists_once_per_id_number);
async fn a_person_exists_once_per_id_number(app: TestApp) {
    person("11010519491231002X").insert(&app.db).await.unwrap();
    let dup = person("11010519491231002X").insert(&app.db).await;
    assert!(matches!(
        dup.unwrap_err().sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ));
}

db_test!(foreign_keys_are_enforced);
async fn foreign_keys_are_enforced(app: TestApp) {
    let orphan = session::ActiveModel {
        token_hash: Set("x".repeat(64)),
        user_id: Set(424242),
        created_at: Set(Utc::now()),
        expires_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await;
    assert!(orphan.is_err(), "a session of no user must be refused");
}

fn entry(person_id: i64) -> roster_entry::ActiveModel {
    roster_entry::ActiveModel {
        person_id: Set(person_id),
        group_code: Set("low_income_urban".to_owned()),
        region_code: Set("220102".to_owned()),
        name_on_roster: Set("测试".to_owned()),
        valid_from: Set(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

// On PostgreSQL a trigger per statement keeps this, not a foreign key (migration 000004).
db_test!(a_roster_entry_needs_its_person_and_keeps_them);
async fn a_roster_entry_needs_its_person_and_keeps_them(app: TestApp) {
    let orphan = entry(424242).insert(&app.db).await;
    assert!(orphan.is_err(), "an entry of nobody must be refused");
    let p = person("11010519491231002X").insert(&app.db).await.unwrap();
    let e = entry(p.id).insert(&app.db).await.unwrap();
    let mut moved: roster_entry::ActiveModel = e.clone().into();
    moved.person_id = Set(p.id + 1000);
    assert!(
        moved.update(&app.db).await.is_err(),
        "an entry moved to nobody"
    );
    let gone = person::Entity::delete_by_id(p.id).exec(&app.db).await;
    assert!(
        gone.is_err(),
        "a person with roster entries cannot be deleted"
    );
    let mut renumbered: person::ActiveModel = p.clone().into();
    renumbered.id = Set(p.id + 1000);
    assert!(renumbered.update(&app.db).await.is_err());
    let after = roster_entry::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(after, vec![e]);
    assert!(
        person::Entity::find_by_id(p.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_some()
    );
}

db_test!(money_is_exact_integer_fen_beyond_float_precision);
async fn money_is_exact_integer_fen_beyond_float_precision(app: TestApp) {
    let p = person("440524188001010014").insert(&app.db).await.unwrap();
    // 2^53 + 1 fen: a float would round it.
    let fen: i64 = 9_007_199_254_740_993;
    annual_grant::ActiveModel {
        person_id: Set(p.id),
        year: Set(2026),
        granted_fen: Set(fen),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let back = annual_grant::Entity::find_by_id((p.id, 2026))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.granted_fen, fen);
    let dup = annual_grant::ActiveModel {
        person_id: Set(p.id),
        year: Set(2026),
        granted_fen: Set(1),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await;
    assert!(dup.is_err(), "one row per person and year");
    // Every table of the model is there.
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 0);
}
