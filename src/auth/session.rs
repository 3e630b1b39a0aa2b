//! Login sessions: a random token given to the client once, its SHA-256 kept in the database.
//! The same session serves the API (`Authorization: Bearer`) and the web UI (a cookie).
//!
//! A session ends when it is older than `CANCER_AID_SESSION_HOURS`, when it was not used for
//! `CANCER_AID_SESSION_IDLE_MINUTES`, at logout, or when its user (or an administrator) ends
//! it. Its last use is written at most once a minute ([`TOUCH_EVERY`]), so a busy user does
//! not cost a write per request; the idle timeout is exact to within that minute.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use entity::session::Stage;
use entity::{session, user};

use super::{CurrentUser, password, second_factor, throttle};
use crate::config::Settings;
use crate::domain::{RegionPrefix, Role};
use crate::error::{AppError, AppResult, Msg};

/// How often a session's last use is written.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// How long a login that still owes its second factor (or its enrolment) may take.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// The longest user agent kept with a session.
const USER_AGENT_CHARS: usize = 200;

/// Where a login comes from: the client's address and what it calls itself.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client's address (behind a trusted proxy, the one it forwards).
    pub address: String,
    /// The `User-Agent` header, if any (shortened).
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// A client at an address, with the user agent it sent.
    pub fn new(address: impl Into<String>, user_agent: Option<&str>) -> ClientInfo {
        ClientInfo {
            address: address.into(),
            user_agent: user_agent.map(|ua| {
                ua.chars()
                    .filter(|c| !c.is_control())
                    .take(USER_AGENT_CHARS)
                    .collect()
            }),
        }
    }
}

/// A successful password check: the token to present, who it belongs to, and whether the
/// login is complete or still owes a second factor.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The bearer token (shown once; only its hash is stored).
    pub token: String,
    /// The user it logs in.
    pub user: CurrentUser,
    /// `Full`, or what the login still owes.
    pub stage: Stage,
}

/// A session as found by its token: the user and how far the login has got.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user (with the session's id).
    pub user: CurrentUser,
    /// Only a `Full` session acts for the user.
    pub stage: Stage,
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
pub fn current_user(
    u: &user::Model,
    session_id: i64,
    now: DateTime<Utc>,
) -> AppResult<CurrentUser> {
    let roles = Role::parse_list(&u.roles).map_err(|e| anyhow::anyhow!("user {}: {e}", u.id))?;
    let region =
        RegionPrefix::parse(&u.region_prefix).map_err(|e| anyhow::anyhow!("user {}: {e}", u.id))?;
    Ok(CurrentUser {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles,
        region,
        session_id,
        now,
    })
}

/// Checks a username and password and opens a session: a full one, or, for an account with
/// a second factor (or one that must enrol one), a pending one that can only finish the login.
///
/// Guessing is slowed by [`throttle`]: while the name or the address must wait, the attempt is
/// refused (429) before any password is checked. An unknown name is checked against a dummy
/// hash and counted like a wrong password, so neither the answer nor its timing tells whether
/// the account exists.
pub async fn login(
    db: &DatabaseConnection,
    settings: &Settings,
    client: &ClientInfo,
    username: &str,
    password_text: &str,
    now: DateTime<Utc>,
) -> AppResult<LoginOutcome> {
    let account = throttle::account_key(username);
    throttle::check(db, settings, &account, &client.address, now).await?;
    let found = user::Entity::find()
        .filter(user::COLUMN.username.eq(username.trim()))
        .one(db)
        .await?;
    let stored = found
        .as_ref()
        .map_or_else(password::dummy_hash, |u| u.password_hash.clone());
    let ok = password::verify(password_text.to_owned(), stored).await?;
    let Some(u) = found.filter(|_| ok) else {
        throttle::record_failure(db, throttle::Kind::Account, &account, now).await?;
        throttle::record_failure(db, throttle::Kind::Address, &client.address, now).await?;
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
    let stage = second_factor::stage_after_password(settings, &u);
    if stage == Stage::Full {
        throttle::reset(db, throttle::Kind::Account, &account).await?;
    }
    let token = new_token();
    let ttl = match stage {
        Stage::Full => settings.session_ttl,
        Stage::SecondFactor | Stage::Enrol => PENDING_TTL.min(settings.session_ttl),
    };
    let inserted = session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(u.id),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(ttl).unwrap_or_default()),
        last_seen_at: Set(Some(now)),
        client: Set(Some(client.address.clone())),
        user_agent: Set(client.user_agent.clone()),
        stage: Set(stage),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let user = current_user(&u, inserted.id, now)?;
    tracing::info!(user.id = u.id, ?stage, "User {} logged in", u.username);
    Ok(LoginOutcome { token, user, stage })
}

/// Makes a pending session a full one (the second factor was presented, or enrolled), for
/// the whole `CANCER_AID_SESSION_HOURS` from now.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    settings: &Settings,
    session_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let ttl = chrono::Duration::from_std(settings.session_ttl).unwrap_or_default();
    let done = session::Entity::update_many()
        .col_expr(session::Column::Stage, Expr::value(Stage::Full))
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .col_expr(session::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(session::COLUMN.id.eq(session_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        // Ended meanwhile (logout, an administrator): the login starts again.
        return Err(AppError::Unauthorized {
            code: "invalid_token",
            message: Msg::new(
                "登录已失效，请重新登录。",
                "The session has ended; log in again.",
            ),
        });
    }
    Ok(())
}

/// The rules a session is judged by: the idle limit (zero: none).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// A session unused this long has ended.
    pub idle: Duration,
}

impl Limits {
    /// The limits of the settings.
    pub fn of(settings: &Settings) -> Limits {
        Limits {
            idle: settings.session_idle,
        }
    }

    fn idle_over(&self, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        !self.idle.is_zero()
            && (now - last_seen)
                .to_std()
                .is_ok_and(|since| since >= self.idle)
    }

    /// How stale a session's recorded last use may get before it is written again: a minute,
    /// or a quarter of a shorter idle limit, so that a session in use never looks idle.
    fn touch_every(&self) -> Duration {
        if self.idle.is_zero() {
            TOUCH_EVERY
        } else {
            TOUCH_EVERY.min(self.idle / 4)
        }
    }
}

/// What a live session row says.
struct Found {
    auth: Authenticated,
    expires_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
}

/// The session of a token hash, if live: not expired, not idle too long, its account active.
/// An idle session is deleted; a live one's last use is written if it is older than a minute.
async fn find(
    db: &DatabaseConnection,
    limits: Limits,
    hash: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Found>> {
    let found = session::Entity::find()
        .filter(session::COLUMN.token_hash.eq(hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((s, Some(u))) = found else {
        return Ok(None);
    };
    // A session opened before last uses were recorded counts as used now: an upgrade does
    // not log everyone out.
    let last_seen = s.last_seen_at.unwrap_or(now);
    if limits.idle_over(last_seen, now) {
        session::Entity::delete_by_id(s.id).exec(db).await?;
        return Ok(None);
    }
    if s.expires_at <= now || !u.active {
        return Ok(None);
    }
    let stale = (now - last_seen)
        .to_std()
        .is_ok_and(|d| d >= limits.touch_every());
    let last_seen = if stale || s.last_seen_at.is_none() {
        touch(db, s.id, now).await?;
        now
    } else {
        last_seen
    };
    Ok(Some(Found {
        auth: Authenticated {
            user: current_user(&u, s.id, now)?,
            stage: s.stage,
        },
        expires_at: s.expires_at,
        last_seen,
    }))
}

async fn touch(db: &DatabaseConnection, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::COLUMN.id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A session as its user sees it in the list of their sessions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Id, to end it with.
    pub id: i64,
    /// When the login happened.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to within a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The address it logged in from.
    pub client: Option<String>,
    /// The browser or program it logged in with.
    pub user_agent: Option<String>,
    /// Whether this is the session asking.
    pub current: bool,
    /// A login whose password was right but whose second factor (or enrolment) is still
    /// owed: if it was not the user, someone knows their password.
    pub pending: bool,
}

/// The live sessions of a user, the latest first.
pub async fn list_of_user(
    db: &DatabaseConnection,
    limits: Limits,
    user_id: i64,
    current: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Vec<SessionView>> {
    let rows = session::Entity::find()
        .filter(session::COLUMN.user_id.eq(user_id))
        .filter(session::COLUMN.expires_at.gt(now))
        .order_by_desc(session::COLUMN.created_at)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|s| !limits.idle_over(s.last_seen_at.unwrap_or(now), now))
        .map(|s| SessionView {
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at.unwrap_or(s.created_at),
            expires_at: s.expires_at,
            client: s.client,
            user_agent: s.user_agent,
            current: Some(s.id) == current,
            pending: s.stage != Stage::Full,
        })
        .collect())
}

/// Ends one session of a user; a session of anyone else is not found (404), so ids of
/// other users' sessions cannot be probed.
pub async fn end_one(
    db: &DatabaseConnection,
    cache: &SessionCache,
    user_id: i64,
    session_id: i64,
) -> AppResult<()> {
    let done = session::Entity::delete_many()
        .filter(session::COLUMN.id.eq(session_id))
        .filter(session::COLUMN.user_id.eq(user_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("session", session_id));
    }
    cache.forget_session(session_id);
    Ok(())
}

/// Ends every session of a user, here and in this instance's cache; how many there were.
pub async fn end_all(
    db: &DatabaseConnection,
    cache: &SessionCache,
    actor: &crate::audit::Actor,
    user_id: i64,
) -> AppResult<u64> {
    // The sessions and the audit row that says who ended them, together or not at all.
    let txn = crate::db::begin_write(db).await?;
    let done = session::Entity::delete_many()
        .filter(session::COLUMN.user_id.eq(user_id))
        .exec(&txn)
        .await?;
    crate::audit::record(
        &txn,
        actor,
        crate::audit::Change {
            action: "user.sessions_ended",
            entity_type: "user",
            entity_id: user_id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "ended": done.rows_affected })),
        },
    )
    .await?;
    txn.commit().await?;
    cache.forget_user(user_id);
    Ok(done.rows_affected)
}

/// Sessions confirmed in the last few seconds (`CANCER_AID_SESSION_CACHE_SECONDS`, default
/// 5), so that a busy service does not ask the database who is calling on every request: on
/// SQLite that round trip costs as much as a whole eligibility look-up. An entry never
/// outlives its session's expiry nor its idle limit. Logout, ending a session, deactivation
/// and changes of password, roles or scope made through this process drop the entries at once;
/// another instance sharing the database notices within the time-to-live. Zero turns the cache
/// off.
#[derive(Clone, Default)]
pub struct SessionCache {
    inner: Arc<RwLock<HashMap<String, Cached>>>,
    ttl: Duration,
    limits: Limits,
}

struct Cached {
    auth: Authenticated,
    expires_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    confirmed: Instant,
}

/// Entries kept before stale ones are swept out.
const CACHE_SWEEP_AT: usize = 10_000;

impl SessionCache {
    /// A cache whose entries are trusted for `ttl`, judging sessions by `limits`.
    pub fn new(ttl: Duration, limits: Limits) -> SessionCache {
        SessionCache {
            inner: Arc::default(),
            ttl,
            limits,
        }
    }

    /// The session behind a token at `now`, at whatever stage: from the cache when confirmed
    /// recently, else from the database (and then remembered). The user carries `now` as the
    /// instant of the request.
    pub async fn lookup(
        &self,
        db: &DatabaseConnection,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<Authenticated>> {
        let hash = token_hash(token);
        let limits = self.limits;
        if self.ttl.is_zero() {
            return Ok(find(db, limits, &hash, now).await?.map(|f| f.auth));
        }
        if let Ok(map) = self.inner.read()
            && let Some(c) = map.get(&hash)
            && c.confirmed.elapsed() < self.ttl
            && c.expires_at > now
            && !limits.idle_over(c.last_seen, now)
        {
            let mut auth = c.auth.clone();
            auth.user.now = now;
            return Ok(Some(auth));
        }
        let found = find(db, limits, &hash, now).await?;
        if let Ok(mut map) = self.inner.write() {
            match &found {
                Some(f) => {
                    if map.len() >= CACHE_SWEEP_AT {
                        let ttl = self.ttl;
                        map.retain(|_, c| c.confirmed.elapsed() < ttl);
                    }
                    map.insert(
                        hash,
                        Cached {
                            auth: f.auth.clone(),
                            expires_at: f.expires_at,
                            last_seen: f.last_seen,
                            confirmed: Instant::now(),
                        },
                    );
                }
                None => {
                    map.remove(&hash);
                }
            }
        }
        Ok(found.map(|f| f.auth))
    }

    /// Forgets the session of a token (logout).
    pub fn forget(&self, token: &str) {
        if let Ok(mut map) = self.inner.write() {
            map.remove(&token_hash(token));
        }
    }

    /// Forgets one session by its id (ended from the list of sessions, or its stage changed).
    pub fn forget_session(&self, session_id: i64) {
        if let Ok(mut map) = self.inner.write() {
            map.retain(|_, c| c.auth.user.session_id != session_id);
        }
    }

    /// Forgets every session of a user (deactivated, or password, roles or scope changed).
    pub fn forget_user(&self, user_id: i64) {
        if let Ok(mut map) = self.inner.write() {
            map.retain(|_, c| c.auth.user.id != user_id);
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

/// Ends every session of a user inside a change of the account (deactivation, password
/// change); the caller drops the cache's entries after the commit.
pub async fn revoke_all<C: ConnectionTrait>(db: &C, user_id: i64) -> AppResult<()> {
    session::Entity::delete_many()
        .filter(session::COLUMN.user_id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
