//! User accounts: creation, changes and listing, each change audited in its transaction.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use serde::Serialize;

use entity::user;

use crate::audit::{self, Actor, Change};
use crate::auth::password_rules::NewPassword;
use crate::auth::{password, session};
use crate::domain::{RegionPrefix, Role};
use crate::error::{AppError, AppResult, FieldError, Msg};

/// A user as shown by the API: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Roles held.
    #[schema(value_type = Vec<String>, example = json!(["manager"]))]
    pub roles: Vec<Role>,
    /// Data scope.
    pub region_prefix: String,
    /// Whether the account may log in.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> UserView {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: Role::parse_list(&u.roles).unwrap_or_default(),
            region_prefix: u.region_prefix.clone(),
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

fn snapshot(u: &user::Model) -> serde_json::Value {
    serde_json::to_value(UserView::from(u)).unwrap_or_default()
}

/// A new account, already checked.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name: 3 to 32 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// Name shown in the UI (the username when empty).
    pub display_name: String,
    /// Checked by [`NewPassword::parse`].
    pub password: NewPassword,
    /// At least one role.
    pub roles: Vec<Role>,
    /// Data scope.
    pub region: RegionPrefix,
}

/// A change to an account; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New password (ends every session of the user).
    pub password: Option<NewPassword>,
    /// New roles.
    pub roles: Option<Vec<Role>>,
    /// New scope.
    pub region: Option<RegionPrefix>,
    /// Enable or disable (disabling ends every session of the user).
    pub active: Option<bool>,
}

/// Checks a username's shape.
pub fn check_username(name: &str) -> Result<(), FieldError> {
    let ok = (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            Msg::new(
                "用户名须为3到32个字母、数字或 . _ - 字符。",
                "A username has 3 to 32 letters, digits, '.', '_' or '-'.",
            ),
        ))
    }
}

/// Creates an account.
pub async fn create(db: &DatabaseConnection, actor: &Actor, new: NewUser) -> AppResult<UserView> {
    let hash = password::hash(new.password.expose().to_owned()).await?;
    let now = actor.at;
    let display_name = if new.display_name.trim().is_empty() {
        new.username.clone()
    } else {
        new.display_name.trim().to_owned()
    };
    let txn = crate::db::begin_write(db).await?;
    let inserted = user::ActiveModel {
        username: Set(new.username.clone()),
        display_name: Set(display_name),
        password_hash: Set(hash),
        roles: Set(Role::join(&new.roles)),
        region_prefix: Set(new.region.as_str().to_owned()),
        active: Set(true),
        // Unused since login throttles (see `auth::throttle`); kept for older databases.
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let u = match inserted {
        Ok(u) => u,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::Conflict {
                code: "username_taken",
                message: Msg::new(
                    format!("用户名“{}”已存在，请换一个。", new.username),
                    format!("The username '{}' is taken; choose another.", new.username),
                ),
                details: vec![FieldError::new(
                    "username",
                    Msg::new("用户名已存在。", "This username is taken."),
                )],
            });
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        Change {
            action: "user.create",
            entity_type: "user",
            entity_id: u.id.to_string(),
            before: None,
            after: Some(snapshot(&u)),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(user.id = u.id, "Created user {}", u.username);
    Ok(UserView::from(&u))
}

/// Every account, by username.
pub async fn list(db: &DatabaseConnection, scope: &RegionPrefix) -> AppResult<Vec<UserView>> {
    let rows = user::Entity::find()
        .order_by_asc(user::COLUMN.username)
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter(|u| within(scope, u))
        .map(UserView::from)
        .collect())
}

/// Whether an administrator of `scope` may see and change the account: only accounts whose own
/// scope lies inside theirs, so a county's administrator cannot take over the province's.
fn within(scope: &RegionPrefix, u: &user::Model) -> bool {
    RegionPrefix::parse(&u.region_prefix).is_ok_and(|r| scope.covers(&r))
}

/// The names people know users by (display name, else login name), by user id.
pub async fn names<C: ConnectionTrait>(
    db: &C,
    mut ids: Vec<i64>,
) -> AppResult<HashMap<i64, String>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let users = user::Entity::find()
        .filter(user::COLUMN.id.is_in(ids))
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let name = if u.display_name.is_empty() {
                u.username
            } else {
                u.display_name
            };
            (u.id, name)
        })
        .collect())
}

/// One account.
pub async fn get(db: &DatabaseConnection, scope: &RegionPrefix, id: i64) -> AppResult<UserView> {
    let u = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| within(scope, u))
        .ok_or_else(|| AppError::not_found("user", id))?;
    Ok(UserView::from(&u))
}

/// When each user last logged in, as far as the sessions still held tell (logging out or
/// expiry forgets a session, so a user without one has no known last login).
pub async fn last_logins(db: &DatabaseConnection) -> AppResult<HashMap<i64, DateTime<Utc>>> {
    use entity::session as stored;
    let rows: Vec<(i64, DateTime<Utc>)> = stored::Entity::find()
        .select_only()
        .column(stored::Column::UserId)
        .column(stored::Column::CreatedAt)
        // A login that never gave its second factor is not a login.
        .filter(sea_orm::ColumnTrait::eq(
            &stored::Column::Stage,
            stored::Stage::Full,
        ))
        .into_tuple()
        .all(db)
        .await?;
    let mut last = HashMap::new();
    for (user_id, at) in rows {
        last.entry(user_id)
            .and_modify(|t: &mut DateTime<Utc>| *t = (*t).max(at))
            .or_insert(at);
    }
    Ok(last)
}

/// Finds an account by username.
pub async fn find_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::COLUMN.username.eq(username))
        .one(db)
        .await?)
}

/// Changes an account.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: &RegionPrefix,
    id: i64,
    patch: UserPatch,
) -> AppResult<UserView> {
    let hash = match patch.password.clone() {
        Some(p) => Some(password::hash(p.expose().to_owned()).await?),
        None => None,
    };
    let txn = crate::db::begin_write(db).await?;
    let before = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|u| within(scope, u))
        .ok_or_else(|| AppError::not_found("user", id))?;
    let mut m: user::ActiveModel = before.clone().into();
    if let Some(name) = patch.display_name {
        m.display_name = Set(name.trim().to_owned());
    }
    if let Some(h) = hash.clone() {
        m.password_hash = Set(h);
    }
    if let Some(roles) = &patch.roles {
        m.roles = Set(Role::join(roles));
    }
    if let Some(region) = &patch.region {
        m.region_prefix = Set(region.as_str().to_owned());
    }
    if let Some(active) = patch.active {
        m.active = Set(active);
    }
    m.updated_at = Set(actor.at);
    let after = m.update(&txn).await?;
    if hash.is_some() || patch.active == Some(false) {
        session::revoke_all(&txn, id).await?;
    }
    let mut after_json = snapshot(&after);
    if hash.is_some() {
        // Say that the password changed, never what it is.
        after_json["password_changed"] = serde_json::Value::Bool(true);
    }
    audit::record(
        &txn,
        actor,
        Change {
            action: "user.update",
            entity_type: "user",
            entity_id: id.to_string(),
            before: Some(snapshot(&before)),
            after: Some(after_json),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(UserView::from(&after))
}
