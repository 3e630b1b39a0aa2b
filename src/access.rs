//! Who may do what: every rule of access, declared once.
//!
//! A rule names the roles that may use a route (or that anyone, or anyone logged in, may)
//! and how far the user's region scope must reach: their own region, or the whole province.
//! The API's route table (`api::routes`) gives every route one of these rules and enforces it
//! before the handler runs; the pages ask the same rules (`web::WebUser::require`) and the
//! menu shows a page to exactly the users its rule admits. `docs/access.md` is generated from
//! the route table, and a test walks every route for every role in two scopes against it.
//!
//! Inside the rule, region scope still bounds every record a handler reads: that is the
//! query's work (`CurrentUser::scope`), where a record outside the scope answers as one that
//! does not exist.

use crate::auth::CurrentUser;
use crate::domain::{RegionPrefix, Role};
use crate::error::{AppError, Msg};

/// Who a rule admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, logged in or not (health, the API description, logging in).
    Anyone,
    /// Any logged-in user, whatever their roles.
    SignedIn,
    /// A user in the middle of logging in: the password was right, and the session may still
    /// owe its second factor or its enrolment (finishing the login).
    LoggingIn,
    /// A logged-in user holding one of these roles.
    Roles(&'static [Role]),
}

/// How far the user's region scope must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any scope: the user acts inside their own region.
    Region,
    /// The whole province: the route changes (or reads) what holds for every region, such
    /// as a group's subsidy policy, the hospital list or the audit log.
    Province,
}

/// One rule of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Who is admitted.
    pub who: Who,
    /// How far their scope must reach.
    pub reach: Reach,
}

impl Access {
    const fn roles(roles: &'static [Role]) -> Access {
        Access {
            who: Who::Roles(roles),
            reach: Reach::Region,
        }
    }

    const fn province_wide(self) -> Access {
        Access {
            who: self.who,
            reach: Reach::Province,
        }
    }

    /// Whether a route under this rule needs a logged-in user.
    pub fn needs_login(&self) -> bool {
        self.who != Who::Anyone
    }

    /// Whether a user with these roles and this scope is admitted.
    pub fn admits(&self, roles: &[Role], scope: &RegionPrefix, province: &RegionPrefix) -> bool {
        let role_ok = match self.who {
            Who::Anyone | Who::SignedIn | Who::LoggingIn => true,
            Who::Roles(allowed) => allowed.iter().any(|r| roles.contains(r)),
        };
        let reach_ok = match self.reach {
            Reach::Region => true,
            Reach::Province => scope.covers(province),
        };
        role_ok && reach_ok
    }

    /// Refuses a user the rule does not admit, saying which role or scope is missing.
    pub fn check(&self, user: &CurrentUser, province: &RegionPrefix) -> Result<(), AppError> {
        if let Who::Roles(allowed) = self.who
            && !user.has_any(allowed)
        {
            return Err(role_required(allowed));
        }
        if !self.admits(&user.roles, &user.region, province) {
            return Err(province_required(&user.region, province));
        }
        Ok(())
    }

    /// The roles admitted, for the generated table: `None` when the rule names no role.
    pub fn roles_named(&self) -> Option<&'static [Role]> {
        match self.who {
            Who::Roles(r) => Some(r),
            _ => None,
        }
    }
}

fn role_required(roles: &[Role]) -> AppError {
    let zh = roles
        .iter()
        .map(|r| r.label_zh())
        .collect::<Vec<_>>()
        .join("或");
    let en = roles
        .iter()
        .map(|r| r.label_en())
        .collect::<Vec<_>>()
        .join(" or ");
    AppError::Forbidden {
        code: "role_required",
        message: Msg::new(
            format!("此操作需要{zh}角色，您的账号没有该权限。"),
            format!("This needs the role {en}, which your account does not have."),
        ),
    }
}

fn province_required(scope: &RegionPrefix, province: &RegionPrefix) -> AppError {
    AppError::Forbidden {
        code: "province_scope_required",
        message: Msg::new(
            format!(
                "此操作影响全省，只有数据范围为全省（{province}）的用户可以进行；您的范围是 {scope}。"
            ),
            format!(
                "This acts on the whole province; only users whose scope is the province ({province}) may do it. Yours is {scope}."
            ),
        ),
    }
}

use Role::{Admin, Approver, Caseworker, Manager, RosterImporter};

/// Anyone: health, the API description, logging in.
pub const PUBLIC: Access = Access {
    who: Who::Anyone,
    reach: Reach::Region,
};
/// Any logged-in user: who am I, logging out.
pub const SIGNED_IN: Access = Access {
    who: Who::SignedIn,
    reach: Reach::Region,
};
/// A session that passed its password, finished or not: presenting the second factor,
/// enrolling one.
pub const LOGGING_IN: Access = Access {
    who: Who::LoggingIn,
    reach: Reach::Region,
};
/// Administrators, each inside their scope (users of their region).
pub const ADMIN: Access = Access::roles(&[Admin]);
/// Administrators of the whole province: the hospital list and the subsidy policies hold for
/// every region, so a county's administrator must not change them.
pub const PROVINCE_ADMIN: Access = Access::roles(&[Admin]).province_wide();
/// The audit log covers every region's records.
pub const AUDIT_READER: Access = Access::roles(&[Admin, Manager]).province_wide();
/// The access log (who read whose data): province administrators, who answer for it.
pub const ACCESS_LOG_READER: Access = Access::roles(&[Admin]).province_wide();
/// Reading the hospital list and the policies: everyone who works with cases and money.
pub const REFERENCE_READER: Access = SIGNED_IN;
/// Civil-affairs staff who import rosters.
pub const ROSTER_IMPORTER: Access = Access::roles(&[RosterImporter, Admin]);
/// Reading a person's roster entries and their history, household data included.
pub const ROSTER_READER: Access = Access::roles(&[RosterImporter, Admin, Caseworker, Approver]);
/// Checking eligibility.
pub const ELIGIBILITY_READER: Access = Access::roles(&[Caseworker, Approver, Manager]);
/// Opening cases and recording visits.
pub const CASEWORKER: Access = Access::roles(&[Caseworker]);
/// Deciding cases and subsidies.
pub const APPROVER: Access = Access::roles(&[Approver]);
/// Reading cases.
pub const CASE_READER: Access = Access::roles(&[Caseworker, Approver, Manager]);
/// Withdrawing a case: its opener (a caseworker) or an approver.
pub const CASE_WITHDRAWER: Access = Access::roles(&[Caseworker, Approver]);
/// Closing an approved case.
pub const CASE_CLOSER: Access = Access::roles(&[Approver, Manager]);
/// Reading visits and statements.
pub const VISIT_READER: Access = Access::roles(&[Caseworker, Approver, Manager, Admin]);
/// Spending reports and paying subsidies.
pub const MANAGER: Access = Access::roles(&[Manager, Admin]);
/// Reversing a paid subsidy: managers only.
pub const SUBSIDY_REVERSER: Access = Access::roles(&[Manager]);
/// Who sets how a case is paid: the caseworker at the counter, or a manager.
pub const PAYEE_EDITOR: Access = Access::roles(&[Caseworker, Manager]);
/// Who drafts, approves (a second one) and cancels payment batches.
pub const PAYMENT_MANAGER: Access = Access::roles(&[Manager]);
/// Budget lines, read inside one's region: managers.
pub const BUDGET_READER: Access = Access::roles(&[Manager]);
/// Budget lines set and raised: managers of the whole province, who answer for the budget.
pub const BUDGET_SETTER: Access = Access::roles(&[Manager]).province_wide();

/// The pages' own rules, where a page serves fewer roles than its API (the menu reads these).
pub mod pages {
    use super::{Access, Role};

    /// The eligibility check at the counter, and opening a case from it.
    pub const ELIGIBILITY: Access = super::CASEWORKER;
    /// The case list and a case's page.
    pub const CASES: Access = Access::roles(&[Role::Caseworker, Role::Approver]);
    /// The approvals queue.
    pub const APPROVALS: Access = super::APPROVER;
    /// A person's roster history: the roles that read roster entries, as its API admits
    /// (linked from the eligibility result and the case page, whose roles it all admits).
    pub const ROSTER_HISTORY: Access = super::ROSTER_READER;
    /// Users, hospitals and policies pages.
    pub const ADMIN: Access = super::ADMIN;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_rules_need_the_whole_province() {
        let province = RegionPrefix::parse("22").unwrap();
        let county = RegionPrefix::parse("2224").unwrap();
        assert!(PROVINCE_ADMIN.admits(&[Admin], &province, &province));
        assert!(!PROVINCE_ADMIN.admits(&[Admin], &county, &province));
        assert!(!PROVINCE_ADMIN.admits(&[Manager], &province, &province));
        assert!(ADMIN.admits(&[Admin], &county, &province));
        assert!(SIGNED_IN.admits(&[Caseworker], &county, &province));
        assert!(!PUBLIC.needs_login() && SIGNED_IN.needs_login());
    }
}
