//! Login sessions: a random token given to the client once, its SHA-256 kept in the database.
//! The same session serves the API (`Authorization: Bearer`) and the web UI (a cookie).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use entity::{session, user};

use super::{CurrentUser, password, throttle};
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
/// `client` is the caller's address. Guessing is slowed by [`throttle`]: while the name or the
/// address must wait, the attempt is refused (429) before any password is checked. An unknown
/// name is checked against a dummy hash and counted like a wrong password, so neither the
/// answer nor its timing tells whether the account exists.
pub async fn login(
    db: &DatabaseConnection,
    settings: &Settings,
    client: &str,
    username: &str,
    password_text: &str,
) -> AppResult<LoginOutcome> {
    let now = Utc::now();
    let account = throttle::account_key(username);
    throttle::check(db, settings, &account, client).await?;
    let found = user::Entity::find()
        .filter(user::COLUMN.username.eq(username.trim()))
        .one(db)
        .await?;
    let stored = found
        .as_ref()
        .map_or_else(password::dummy_hash, |u| u.password_hash.clone());
    let ok = password::verify(password_text.to_owned(), stored).await?;
    let Some(u) = found.filter(|_| ok) else {
        throttle::record_failure(db, throttle::Kind::Account, &account).await?;
        throttle::record_failure(db, throttle::Kind::Address, client).await?;
        // A short pause on every failure makes scripted guessing slower still.
        tokio::time::sleep(Duration::from_millis(200)).await;
        return Err(invalid_credentials());
    };
    if !u.active {
        return Err(AppError::Unauthorized {
            code: "account_disabled",
            message: Msg::new(
                "该账号已停用，请联系系统管理员。",
                "This account is disabled; ask an administrator.",
            ),
        });
    }
    throttle::reset(db, throttle::Kind::Account, &account).await?;
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
    Ok(find(db, &token_hash(token)).await?.map(|(user, _)| user))
}

async fn find(
    db: &DatabaseConnection,
    hash: &str,
) -> AppResult<Option<(CurrentUser, DateTime<Utc>)>> {
    let found = session::Entity::find()
        .filter(session::COLUMN.token_hash.eq(hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((s, Some(u))) if s.expires_at > Utc::now() && u.active => {
            Ok(Some((current_user(&u)?, s.expires_at)))
        }
        _ => Ok(None),
    }
}

/// Sessions confirmed in the last few seconds (`CANCER_AID_SESSION_CACHE_SECONDS`, default
/// 5), so that a busy service does not ask the database who is calling on every request: on
/// SQLite that round trip costs as much as a whole eligibility look-up. An entry never
/// outlives its session's expiry. Logout, deactivation and changes of password, roles or
/// scope made through this process drop the user's entries at once; another instance sharing
/// the database notices within the time-to-live. Zero turns the cache off.
#[derive(Clone, Default)]
pub struct SessionCache {
    inner: Arc<RwLock<HashMap<String, Cached>>>,
    ttl: Duration,
}

struct Cached {
    user: CurrentUser,
    expires_at: DateTime<Utc>,
    confirmed: Instant,
}

/// Entries kept before stale ones are swept out.
const CACHE_SWEEP_AT: usize = 10_000;

impl SessionCache {
    /// A cache whose entries are trusted for `ttl`.
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache {
            inner: Arc::default(),
            ttl,
        }
    }

    /// The user behind a token: from the cache when confirmed recently, else from the
    /// database (and then remembered).
    pub async fn lookup(
        &self,
        db: &DatabaseConnection,
        token: &str,
    ) -> AppResult<Option<CurrentUser>> {
        let hash = token_hash(token);
        if self.ttl.is_zero() {
            return Ok(find(db, &hash).await?.map(|(user, _)| user));
        }
        if let Ok(map) = self.inner.read()
            && let Some(c) = map.get(&hash)
            && c.confirmed.elapsed() < self.ttl
            && c.expires_at > Utc::now()
        {
            return Ok(Some(c.user.clone()));
        }
        let found = find(db, &hash).await?;
        if let Ok(mut map) = self.inner.write() {
            match &found {
                Some((user, expires_at)) => {
                    if map.len() >= CACHE_SWEEP_AT {
                        let ttl = self.ttl;
                        map.retain(|_, c| c.confirmed.elapsed() < ttl);
                    }
                    map.insert(
                        hash,
                        Cached {
                            user: user.clone(),
                            expires_at: *expires_at,
                            confirmed: Instant::now(),
                        },
                    );
                }
                None => {
                    map.remove(&hash);
                }
            }
        }
        Ok(found.map(|(user, _)| user))
    }

    /// Forgets the session of a token (logout).
    pub fn forget(&self, token: &str) {
        if let Ok(mut map) = self.inner.write() {
            map.remove(&token_hash(token));
        }
    }

    /// Forgets every session of a user (deactivated, or password, roles or scope changed).
    pub fn forget_user(&self, user_id: i64) {
        if let Ok(mut map) = self.inner.write() {
            map.retain(|_, c| c.user.id != user_id);
        }
    }
}

/// Ends a session here and in this instance's cache, so that every way out (API, page) is gone
/// at once.
pub async fn logout(db: &DatabaseConnection, cache: &SessionCache, token: &str) -> AppResult<()> {
    cache.forget(token);
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
