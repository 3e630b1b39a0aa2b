//! Login sessions: a random token given to the client once, its SHA-256 kept in the database.
//! The same session serves the API (`Authorization: Bearer`) and the web UI (a cookie).

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use entity::{session, user};

use super::{CurrentUser, password};
use crate::config::Settings;
use crate::domain::{RegionPrefix, Role};
use crate::error::{AppError, AppResult, Msg};

/// A successful login: the token to present and who it belongs to.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The bearer token (shown once; only its hash is stored).
    pub token: String,
    /// The user it logs in.
    pub user: CurrentUser,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn invalid_credentials() -> AppError {
    AppError::Unauthorized {
        code: "invalid_credentials",
        message: Msg::new(
            "用户名或密码不正确。",
            "The username or password is not correct.",
        ),
    }
}

/// Turns a user row into the user of a request; a row with unreadable roles or region is
/// refused rather than guessed at.
pub fn current_user(u: &user::Model) -> AppResult<CurrentUser> {
    let roles = Role::parse_list(&u.roles).map_err(|e| anyhow::anyhow!("user {}: {e}", u.id))?;
    let region =
        RegionPrefix::parse(&u.region_prefix).map_err(|e| anyhow::anyhow!("user {}: {e}", u.id))?;
    Ok(CurrentUser {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles,
        region,
    })
}

/// Checks a username and password and opens a session.
///
/// Failed attempts are counted per account; after `login_max_failures` in a row the account
/// is locked for `login_lock`, which slows guessing to a crawl without a lock-out for good.
pub async fn login(
    db: &DatabaseConnection,
    settings: &Settings,
    username: &str,
    password_text: &str,
) -> AppResult<LoginOutcome> {
    let now = Utc::now();
    let found = user::Entity::find()
        .filter(user::COLUMN.username.eq(username.trim()))
        .one(db)
        .await?;
    let Some(u) = found else {
        password::verify(password_text.to_owned(), password::dummy_hash()).await?;
        return Err(invalid_credentials());
    };
    if let Some(until) = u.locked_until
        && until > now
    {
        let minutes = (until - now).num_minutes() + 1;
        return Err(AppError::TooManyRequests {
            code: "login_locked",
            message: Msg::new(
                format!("密码错误次数过多，账号已临时锁定，请{minutes}分钟后再试。"),
                format!(
                    "Too many failed logins: the account is locked for {minutes} more minutes."
                ),
            ),
        });
    }
    let ok = password::verify(password_text.to_owned(), u.password_hash.clone()).await?;
    let mut active: user::ActiveModel = u.clone().into();
    if !ok {
        let failures = u.failed_logins + 1;
        if failures >= settings.login_max_failures {
            let lock = chrono::Duration::from_std(settings.login_lock).unwrap_or_default();
            active.failed_logins = Set(0);
            active.locked_until = Set(Some(now + lock));
        } else {
            active.failed_logins = Set(failures);
        }
        active.update(db).await?;
        // A short pause on every failure makes scripted guessing slower still.
        tokio::time::sleep(Duration::from_millis(200)).await;
        return Err(invalid_credentials());
    }
    if !u.active {
        return Err(AppError::Unauthorized {
            code: "account_disabled",
            message: Msg::new(
                "该账号已停用，请联系系统管理员。",
                "This account is disabled; ask an administrator.",
            ),
        });
    }
    if u.failed_logins != 0 || u.locked_until.is_some() {
        active.failed_logins = Set(0);
        active.locked_until = Set(None);
        active.update(db).await?;
    }
    let user = current_user(&u)?;
    let token = new_token();
    let ttl = chrono::Duration::from_std(settings.session_ttl).unwrap_or_default();
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(u.id),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        ..Default::default()
    }
    .insert(db)
    .await?;
    tracing::info!(user.id = u.id, "User {} logged in", u.username);
    Ok(LoginOutcome { token, user })
}

/// The user behind a token, if the session is live and the account active.
pub async fn lookup(db: &DatabaseConnection, token: &str) -> AppResult<Option<CurrentUser>> {
    let found = session::Entity::find()
        .filter(session::COLUMN.token_hash.eq(token_hash(token)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((s, Some(u))) if s.expires_at > Utc::now() && u.active => Ok(Some(current_user(&u)?)),
        _ => Ok(None),
    }
}

/// Ends the session of a token.
pub async fn logout(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    session::Entity::delete_many()
        .filter(session::COLUMN.token_hash.eq(token_hash(token)))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub async fn revoke_all<C: sea_orm::ConnectionTrait>(db: &C, user_id: i64) -> AppResult<()> {
    session::Entity::delete_many()
        .filter(session::COLUMN.user_id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
