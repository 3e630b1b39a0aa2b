//! The data model itself: what the migrations create and what the database enforces.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use entity::{annual_grant, person, region, session, visit};

use crate::db_test;

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

db_test!(
    async fn regions_are_seeded_with_jilin_and_successors(app) {
        let count = region::Entity::find().count(&app.db).await.unwrap();
        assert_eq!(count, 73);
        let province = region::Entity::find_by_id("22").one(&app.db).await.unwrap().unwrap();
        assert_eq!(province.name, "吉林省");
        assert_eq!(province.level, "province");
        let old = region::Entity::find_by_id("220381").one(&app.db).await.unwrap().unwrap();
        assert_eq!(old.successor_code.as_deref(), Some("220184"));
        let cities = region::Entity::find()
            .filter(region::COLUMN.level.eq("city"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(cities, 9);
    }
);

db_test!(
    async fn a_person_exists_once_per_id_number(app) {
        person("11010519491231002X").insert(&app.db).await.unwrap();
        let dup = person("11010519491231002X").insert(&app.db).await;
        assert!(matches!(
            dup.unwrap_err().sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ));
    }
);

db_test!(
    async fn foreign_keys_are_enforced(app) {
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
);

db_test!(
    async fn money_is_exact_integer_fen_beyond_float_precision(app) {
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
);
