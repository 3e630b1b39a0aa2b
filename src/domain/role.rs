//! What a user may do. A user holds one or more roles.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Lang, Localized};

/// A role in the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 经办人: checks eligibility, opens cases, records visits.
    Caseworker,
    /// 审核人: approves or rejects cases and subsidies, never their own.
    Approver,
    /// 民政工作人员: imports the rosters.
    RosterImporter,
    /// 管理人员: reads and exports spending totals; pays subsidies.
    Manager,
    /// 系统管理员: users, hospitals, policies, the audit log.
    Admin,
}

/// A role code that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}': use caseworker, approver, roster_importer, manager or admin")]
pub struct RoleError(pub String);

impl Localized for RoleError {
    fn code(&self) -> &'static str {
        "unknown_role"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Zh => format!(
                "未知角色“{}”：可用 caseworker、approver、roster_importer、manager、admin。",
                self.0
            ),
        }
    }
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 5] = [
        Role::Caseworker,
        Role::Approver,
        Role::RosterImporter,
        Role::Manager,
        Role::Admin,
    ];

    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Approver => "approver",
            Role::RosterImporter => "roster_importer",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The label shown in the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Caseworker => "经办人",
            Role::Approver => "审核人",
            Role::RosterImporter => "民政工作人员",
            Role::Manager => "管理人员",
            Role::Admin => "系统管理员",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Role::Caseworker => "Caseworker",
            Role::Approver => "Approver",
            Role::RosterImporter => "Civil-affairs clerk",
            Role::Manager => "Manager",
            Role::Admin => "Administrator",
        }
    }

    /// Parses one role code.
    pub fn parse(raw: &str) -> Result<Role, RoleError> {
        let s = raw.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| RoleError(s.to_owned()))
    }

    /// Parses a comma-separated list into a sorted set without repeats; an empty list is
    /// refused because a user without a role could do nothing.
    pub fn parse_list(raw: &str) -> Result<Vec<Role>, RoleError> {
        let mut roles = raw
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()?;
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(RoleError(raw.trim().to_owned()));
        }
        Ok(roles)
    }

    /// The stored form of a set of roles.
    pub fn join(roles: &[Role]) -> String {
        roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_lists_parse_sorted_and_unique() {
        assert_eq!(
            Role::parse_list("approver, caseworker,approver").unwrap(),
            vec![Role::Caseworker, Role::Approver]
        );
        assert_eq!(
            Role::join(&[Role::Caseworker, Role::Admin]),
            "caseworker,admin"
        );
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Ok(r));
        }
    }

    #[test]
    fn unknown_and_empty_roles_are_refused() {
        assert_eq!(
            Role::parse_list("caseworker,boss"),
            Err(RoleError("boss".into()))
        );
        assert!(Role::parse_list(" , ").is_err());
        assert!(Role::parse("Admin").is_err());
    }
}
