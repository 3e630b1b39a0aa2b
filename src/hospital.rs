//! Hospitals. Only designated ones (定点医院) may carry subsidised visits; the flag is data,
//! so a hospital that loses its designation keeps its past visits.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use entity::hospital;

use crate::audit::{self, Actor, Change};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult, FieldError, Msg};

/// A hospital as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HospitalView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The programme's code for it (unique).
    pub code: String,
    /// Where it is.
    pub region_code: String,
    /// Whether visits there may be subsidised.
    pub designated: bool,
    /// When registered.
    pub created_at: DateTime<Utc>,
}

impl From<&hospital::Model> for HospitalView {
    fn from(h: &hospital::Model) -> HospitalView {
        HospitalView {
            id: h.id,
            name: h.name.clone(),
            code: h.code.clone(),
            region_code: h.region_code.clone(),
            designated: h.designated,
            created_at: h.created_at,
        }
    }
}

/// A hospital to register, already checked.
#[derive(Debug, Clone)]
pub struct NewHospital {
    /// Name (1 to 100 characters).
    pub name: String,
    /// Code, as [`check_code`] returns it.
    pub code: String,
    /// Region.
    pub region: RegionCode,
    /// Designated or not.
    pub designated: bool,
}

/// Folds full-width forms and case, so that "ｈ２２０１" and "H2201" are one code.
pub fn check_code(raw: &str) -> Result<String, FieldError> {
    let code: String = raw.nfkc().collect::<String>().trim().to_uppercase();
    let ok = (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            Msg::new(
                "医院编码须为1到32个字母、数字或 - _ . 字符，如 H220104001。",
                "A hospital code has 1 to 32 letters, digits, '-', '_' or '.', such as H220104001.",
            ),
        ))
    }
}

/// Checks a hospital's name.
pub fn check_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if (1..=100).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new(
            "name",
            Msg::new(
                "请填写医院名称（最多100个字）。",
                "Give the hospital's name (at most 100 characters).",
            ),
        ))
    }
}

fn snapshot(h: &hospital::Model) -> serde_json::Value {
    serde_json::to_value(HospitalView::from(h)).unwrap_or_default()
}

/// Every hospital by code, or only the designated ones (or only the others).
pub async fn list(
    db: &DatabaseConnection,
    designated: Option<bool>,
) -> AppResult<Vec<HospitalView>> {
    let mut q = hospital::Entity::find().order_by_asc(hospital::COLUMN.code);
    if let Some(d) = designated {
        q = q.filter(hospital::COLUMN.designated.eq(d));
    }
    Ok(q.all(db).await?.iter().map(HospitalView::from).collect())
}

/// Registers a hospital; a code already in use is a 409.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewHospital,
) -> AppResult<HospitalView> {
    let now = actor.at;
    let txn = crate::db::begin_write(db).await?;
    let inserted = hospital::ActiveModel {
        name: Set(new.name),
        code: Set(new.code.clone()),
        region_code: Set(new.region.as_str().to_owned()),
        designated: Set(new.designated),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let h = match inserted {
        Ok(h) => h,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let existing = hospital::Entity::find()
                .filter(hospital::COLUMN.code.eq(new.code.as_str()))
                .one(db)
                .await?;
            return Err(AppError::Duplicate {
                code: "hospital_code_taken",
                message: Msg::new(
                    format!("医院编码“{}”已被使用。", new.code),
                    format!("The hospital code '{}' is already in use.", new.code),
                ),
                details: vec![FieldError::new(
                    "code",
                    Msg::new("编码已存在。", "This code exists."),
                )],
                existing: existing
                    .as_ref()
                    .map(snapshot)
                    .unwrap_or(serde_json::Value::Null),
            });
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        Change {
            action: "hospital.create",
            entity_type: "hospital",
            entity_id: h.id.to_string(),
            before: None,
            after: Some(snapshot(&h)),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        hospital.id = h.id,
        "Registered hospital {} {}",
        h.code,
        h.name
    );
    Ok(HospitalView::from(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fold_width_and_case() {
        assert_eq!(check_code(" ｈ２２０１０４００１ ").unwrap(), "H220104001");
        assert_eq!(check_code("h-22_01.3").unwrap(), "H-22_01.3");
        for bad in ["", "H 2201", "医院1", &"X".repeat(33)] {
            assert!(check_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  吉林省肿瘤医院 ").unwrap(), "吉林省肿瘤医院");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"院".repeat(101)).is_err());
    }
}
