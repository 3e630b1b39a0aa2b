//! A login session; only the SHA-256 of its token is stored.
use sea_orm::entity::prelude::*;

/// How far a session has got: only a `Full` session acts for its user; the others may only
/// finish the login (present a second factor, or enrol one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Stage {
    /// Logged in.
    #[sea_orm(string_value = "full")]
    Full,
    /// The password was right; the TOTP code (or a recovery code) is still owed.
    #[sea_orm(string_value = "second_factor")]
    SecondFactor,
    /// The password was right; the account must enrol a second factor before anything else.
    #[sea_orm(string_value = "enrol")]
    Enrol,
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub user_id: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Null on sessions opened before idle timeouts existed: they count from `created_at`.
    pub last_seen_at: Option<DateTimeUtc>,
    pub client: Option<String>,
    pub user_agent: Option<String>,
    pub stage: Stage,
    #[sea_orm(belongs_to, from = "user_id", to = "id")]
    pub user: HasOne<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
