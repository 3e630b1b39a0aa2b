//! Who is asking and what they may do: passwords, sessions, roles and region scope.

pub mod password;
pub mod password_rules;
pub mod second_factor;
pub mod session;
pub mod throttle;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition};

use crate::audit::Actor;
use crate::domain::{RegionCode, RegionPrefix, Role};
use crate::error::{AppError, AppResult};

pub use session::{LoginOutcome, login};

/// A logged-in user, as loaded from a live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user's id.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// The name shown in the UI.
    pub display_name: String,
    /// Roles held (at least one).
    pub roles: Vec<Role>,
    /// The region prefix that bounds what the user sees ("22" = the whole province).
    pub region: RegionPrefix,
    /// The session the request came with.
    pub session_id: i64,
    /// The instant of the request, read once from the service's clock: every change and
    /// every "today" of the request is taken from it.
    pub now: DateTime<Utc>,
}

impl CurrentUser {
    /// Whether the user holds a role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the user holds any of the roles.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            name: self.username.clone(),
            at: self.now,
        }
    }

    /// The day of the request, in the service's time zone.
    pub fn today(&self) -> NaiveDate {
        crate::clock::day_of(self.now)
    }

    /// The condition that keeps a query inside the user's region: every region-bound query
    /// goes through this, so none can forget the scope.
    pub fn scope<C: ColumnTrait>(&self, region_column: C) -> Condition {
        // Qualified by its table, so a query that joins another table with a region column
        // is not ambiguous.
        Condition::all().add(crate::db::region_within(
            Expr::col((region_column.entity_name(), region_column)),
            &self.region,
        ))
    }

    /// Refuses a region outside the user's scope, as if the thing did not exist (404),
    /// so that scope does not leak what exists elsewhere.
    pub fn ensure_in_scope(
        &self,
        code: &RegionCode,
        entity: &'static str,
        id: impl ToString,
    ) -> AppResult<()> {
        if self.region.contains(code) {
            Ok(())
        } else {
            Err(AppError::not_found(entity, id))
        }
    }
}
