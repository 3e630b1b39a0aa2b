//! The second factor: a TOTP code (RFC 6238: 6 digits, 30 s, SHA-1, the kind every
//! authenticator app reads from a QR code) or, for a lost phone, a one-time recovery code.
//!
//! - Enrolment: a secret is stored unconfirmed; the user scans its QR code and types a code,
//!   which confirms it and hands out ten recovery codes, shown once.
//! - Login: a password login of an enrolled account opens a pending session that can only
//!   present a code ([`super::session::Stage::SecondFactor`]). With `CANCER_AID_REQUIRE_2FA`,
//!   an administrator, approver or manager without a second factor gets a session that can only
//!   enrol ([`super::session::Stage::Enrol`]).
//! - A code is good once: the last accepted time step is kept and only a later one passes, in a
//!   single conditional UPDATE, so two requests with the same code cannot both pass.
//! - Wrong codes count as failed logins ([`super::throttle`]), so six digits cannot be guessed.
//! - An administrator can remove a user's second factor (a lost phone and lost codes); the user
//!   enrols again.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use entity::session::Stage;
use entity::{recovery_code, user};

use super::session::{self, ClientInfo};
use super::{CurrentUser, throttle};
use crate::audit::{self, Actor, Change};
use crate::config::Settings;
use crate::domain::Role;
use crate::error::{AppError, AppResult, Msg};

/// The name authenticator apps show above the code.
pub const ISSUER: &str = "cancer-aid";
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;
/// Recovery codes avoid letters and digits that are easy to mistake (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The roles that decide money and data: with `CANCER_AID_REQUIRE_2FA` they must use a second
/// factor.
pub const REQUIRED_FOR: [Role; 3] = [Role::Admin, Role::Approver, Role::Manager];

/// Whether an account with these roles must use a second factor under these settings.
pub fn required(settings: &Settings, roles: &[Role]) -> bool {
    settings.require_2fa && roles.iter().any(|r| REQUIRED_FOR.contains(r))
}

/// What a login with the right password still owes.
pub fn stage_after_password(settings: &Settings, u: &user::Model) -> Stage {
    if u.totp_enabled_at.is_some() {
        Stage::SecondFactor
    } else if required(settings, &Role::parse_list(&u.roles).unwrap_or_default()) {
        Stage::Enrol
    } else {
        Stage::Full
    }
}

fn totp(secret_base32: &str, username: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| anyhow::anyhow!("a stored TOTP secret is not base32: {e:?}"))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(username.replace(':', "_"))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e:?}").into())
}

/// What the user needs to add the account to an authenticator app.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret, for typing in by hand (base32).
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code as a PNG, base64-encoded (for `<img src="data:image/png;base64,...">`).
    pub qr_png_base64: String,
}

fn enrolment_of(secret_base32: &str, username: &str) -> AppResult<Enrolment> {
    let t = totp(secret_base32, username)?;
    Ok(Enrolment {
        secret: secret_base32.to_owned(),
        otpauth_url: t.to_url().map_err(|e| anyhow::anyhow!("TOTP: {e:?}"))?,
        qr_png_base64: t.to_qr_base64().map_err(|e| anyhow::anyhow!("QR: {e:?}"))?,
    })
}

fn already_enrolled() -> AppError {
    AppError::conflict(
        "second_factor_enrolled",
        Msg::new(
            "已经绑定了动态验证码。如需换手机，请管理员先解除绑定。",
            "A second factor is already enrolled; to change phones, ask an administrator to \
             remove it first.",
        ),
    )
}

async fn account(db: &DatabaseConnection, user_id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user", user_id))
}

/// Starts (or restarts) an enrolment: a new unconfirmed secret for the user.
pub async fn start(db: &DatabaseConnection, user: &CurrentUser) -> AppResult<Enrolment> {
    let secret = Secret::generate().to_base32();
    // Only while no second factor is confirmed, in one statement: a confirmation racing this
    // restart keeps its own secret.
    let started = user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(secret.clone()))
        // The steps used with an old secret say nothing about the new one.
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::COLUMN.id.eq(user.id))
        .filter(user::COLUMN.totp_enabled_at.is_null())
        .exec(db)
        .await?;
    if started.rows_affected != 1 {
        return Err(already_enrolled());
    }
    enrolment_of(&secret, &user.username)
}

/// The enrolment under way, if any (to show its QR code again).
pub async fn pending(db: &DatabaseConnection, user: &CurrentUser) -> AppResult<Option<Enrolment>> {
    let u = account(db, user.id).await?;
    match (&u.totp_secret, u.totp_enabled_at) {
        (Some(secret), None) => Ok(Some(enrolment_of(secret, &user.username)?)),
        _ => Ok(None),
    }
}

/// Whether the user has a confirmed second factor, and how many unused recovery codes.
pub async fn status(db: &DatabaseConnection, user_id: i64) -> AppResult<(bool, u64)> {
    use sea_orm::PaginatorTrait;
    let u = account(db, user_id).await?;
    let left = recovery_code::Entity::find()
        .filter(recovery_code::COLUMN.user_id.eq(user_id))
        .filter(recovery_code::COLUMN.used_at.is_null())
        .count(db)
        .await?;
    Ok((u.totp_enabled_at.is_some(), left))
}

fn wrong_code() -> AppError {
    AppError::Unauthorized {
        code: "invalid_second_factor",
        message: Msg::new(
            "动态验证码不正确或已用过，请输入手机上显示的最新6位数字（或一个未用过的恢复码）。",
            "The code is wrong or was used already: type the newest 6 digits your phone shows \
             (or an unused recovery code).",
        ),
    }
}

fn digits_of(code: &str) -> Option<String> {
    let d: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (d.len() == 6 && d.chars().all(|c| c.is_ascii_digit())).then_some(d)
}

/// Accepts a TOTP code once: the step it matched must be later than the last one accepted.
async fn accept_totp(
    db: &DatabaseConnection,
    u: &user::Model,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let (Some(secret), Some(digits)) = (&u.totp_secret, digits_of(code)) else {
        return Ok(false);
    };
    let now = u64::try_from(now.timestamp()).unwrap_or_default();
    let Some(step) = totp(secret, &u.username)?.check(&digits, now) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let done = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::COLUMN.id.eq(u.id))
        .filter(
            sea_orm::Condition::any()
                .add(user::COLUMN.totp_last_step.is_null())
                .add(user::COLUMN.totp_last_step.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

fn recovery_hash(user_id: i64, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(format!("{user_id}:{normal}").as_bytes()))
}

/// Spends a recovery code: one UPDATE that only an unused code passes.
async fn accept_recovery(
    db: &DatabaseConnection,
    user_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let done = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .filter(recovery_code::COLUMN.user_id.eq(user_id))
        .filter(
            recovery_code::COLUMN
                .code_hash
                .eq(recovery_hash(user_id, code)),
        )
        .filter(recovery_code::COLUMN.used_at.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Finishes a login that owes its second factor: a TOTP code or an unused recovery code makes
/// the session full. Wrong codes are counted like wrong passwords.
pub async fn present(
    db: &DatabaseConnection,
    settings: &Settings,
    client: &ClientInfo,
    user: &CurrentUser,
    code: &str,
) -> AppResult<()> {
    let key = throttle::account_key(&user.username);
    throttle::check(db, settings, &key, &client.address, user.now).await?;
    throttle::take_attempt(db, settings, throttle::Kind::Account, &key, user.now).await?;
    let u = account(db, user.id).await?;
    let ok = u.totp_enabled_at.is_some()
        && (accept_totp(db, &u, code, user.now).await?
            || accept_recovery(db, u.id, code, user.now).await?);
    if !ok {
        throttle::record_failure(db, throttle::Kind::Address, &client.address, user.now).await?;
        return Err(wrong_code());
    }
    throttle::reset(db, throttle::Kind::Account, &key).await?;
    session::complete(db, settings, user.session_id, user.now).await?;
    tracing::info!(
        user.id = user.id,
        "User {} passed the second factor",
        user.username
    );
    Ok(())
}

fn new_recovery_code() -> String {
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// Confirms an enrolment with a code from the app: the second factor is on, the session (if it
/// was only allowed to enrol) becomes full, and the recovery codes are returned, once.
pub async fn confirm(
    db: &DatabaseConnection,
    settings: &Settings,
    client: &ClientInfo,
    user: &CurrentUser,
    code: &str,
) -> AppResult<Vec<String>> {
    let key = throttle::account_key(&user.username);
    throttle::check(db, settings, &key, &client.address, user.now).await?;
    let u = account(db, user.id).await?;
    if u.totp_enabled_at.is_some() {
        return Err(already_enrolled());
    }
    if u.totp_secret.is_none() {
        return Err(AppError::conflict(
            "no_enrolment_started",
            Msg::new(
                "请先生成二维码，再输入手机上的验证码。",
                "Start the enrolment (get the QR code) first, then type the code.",
            ),
        ));
    }
    // Counted only once there is a code to check: a refused request costs no attempt.
    throttle::take_attempt(db, settings, throttle::Kind::Account, &key, user.now).await?;
    if !accept_totp(db, &u, code, user.now).await? {
        throttle::record_failure(db, throttle::Kind::Address, &client.address, user.now).await?;
        return Err(wrong_code());
    }
    throttle::reset(db, throttle::Kind::Account, &key).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let txn = db.begin().await?;
    // Only the secret the code was checked against, and only while not yet confirmed: a
    // restart of the enrolment racing this confirmation cannot slip in another secret.
    let confirmed = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabledAt, Expr::value(user.now))
        .filter(user::COLUMN.id.eq(u.id))
        .filter(user::COLUMN.totp_enabled_at.is_null())
        .filter(user::COLUMN.totp_secret.eq(u.totp_secret.clone()))
        .exec(&txn)
        .await?;
    if confirmed.rows_affected != 1 {
        return Err(already_enrolled());
    }
    recovery_code::Entity::delete_many()
        .filter(recovery_code::COLUMN.user_id.eq(u.id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::insert_many(codes.iter().map(|c| recovery_code::ActiveModel {
        user_id: Set(u.id),
        code_hash: Set(recovery_hash(u.id, c)),
        used_at: Set(None),
        ..Default::default()
    }))
    .exec(&txn)
    .await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "user.second_factor_enrolled",
            entity_type: "user",
            entity_id: u.id.to_string(),
            before: None,
            after: Some(serde_json::json!({"second_factor": "totp"})),
        },
    )
    .await?;
    session::complete(&txn, settings, user.session_id, user.now).await?;
    txn.commit().await?;
    Ok(codes)
}

/// Removes a user's second factor (lost phone and lost codes) and ends their sessions; they
/// enrol again at their next login. Only an administrator whose scope covers the account.
pub async fn remove(
    db: &DatabaseConnection,
    cache: &session::SessionCache,
    actor: &Actor,
    scope: &crate::domain::RegionPrefix,
    user_id: i64,
) -> AppResult<()> {
    let u = crate::users::get(db, scope, user_id).await?;
    let txn = db.begin().await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::TotpSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            user::Column::TotpEnabledAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::COLUMN.id.eq(u.id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::COLUMN.user_id.eq(u.id))
        .exec(&txn)
        .await?;
    session::revoke_all(&txn, u.id).await?;
    audit::record(
        &txn,
        actor,
        Change {
            action: "user.second_factor_removed",
            entity_type: "user",
            entity_id: u.id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    cache.forget_user(u.id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_read_forgivingly() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(
            recovery_hash(7, &c),
            recovery_hash(7, &c.to_uppercase().replace('-', " "))
        );
        assert_ne!(recovery_hash(7, &c), recovery_hash(8, &c));
    }

    #[test]
    fn a_code_is_six_digits_spaces_allowed() {
        assert_eq!(digits_of("123 456").as_deref(), Some("123456"));
        assert_eq!(digits_of("12345"), None);
        assert_eq!(digits_of("abcdef"), None);
    }

    #[test]
    fn the_qr_code_holds_the_issuer_and_the_account() {
        let secret = Secret::generate().to_base32();
        let e = enrolment_of(&secret, "wang.fang").unwrap();
        assert!(
            e.otpauth_url
                .starts_with("otpauth://totp/cancer-aid:wang.fang?")
        );
        assert!(e.qr_png_base64.len() > 100);
    }
}
