//! Who may activate a validated import (maker-checker).
//!
//! An import whose plan is destructive (a full import that ends anyone, or one that changes
//! more than a set share of the people covered in its scope) is activated by a second person:
//! a roster importer or administrator other than the uploader, whose scope covers the
//! import's. `CANCER_AID_IMPORT_APPROVAL` says whether this holds for every import (`always`),
//! for destructive ones (`destructive`, the default) or for none (`never`).

use std::str::FromStr;

use super::import::Mode;

/// The branch's rule for second persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Approval {
    /// Every import is activated by a second person.
    Always,
    /// Destructive imports are (the default).
    #[default]
    Destructive,
    /// The uploader activates every import (a branch with one clerk).
    Never,
}

impl FromStr for Approval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "always" => Ok(Approval::Always),
            "destructive" => Ok(Approval::Destructive),
            "never" => Ok(Approval::Never),
            other => Err(format!("{other} is not always, destructive or never")),
        }
    }
}

/// What a validated import would do to its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub mode: Mode,
    /// People covered in the scope when it was validated.
    pub covered: i64,
    /// Entries it would change.
    pub updated: i64,
    /// Entries it would end.
    pub ended: i64,
}

impl Plan {
    /// A full import that ends anyone, or changes (updates or ends) more than `percent` % of
    /// the people covered in its scope.
    pub fn destructive(self, percent: u32) -> bool {
        let changed = self.updated + self.ended;
        (self.mode == Mode::Full && self.ended > 0)
            || (self.covered > 0 && changed * 100 > i64::from(percent) * self.covered)
    }
}

impl Approval {
    /// Whether the plan needs a second person to activate it.
    pub fn needs_second(self, plan: Plan, percent: u32) -> bool {
        match self {
            Approval::Always => true,
            Approval::Destructive => plan.destructive(percent),
            Approval::Never => false,
        }
    }

    /// The configured code.
    pub fn code(self) -> &'static str {
        match self {
            Approval::Always => "always",
            Approval::Destructive => "destructive",
            Approval::Never => "never",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(mode: Mode, covered: i64, updated: i64, ended: i64) -> Plan {
        Plan {
            mode,
            covered,
            updated,
            ended,
        }
    }

    #[test]
    fn a_full_import_that_ends_anyone_is_destructive() {
        assert!(plan(Mode::Full, 1000, 0, 1).destructive(20));
        assert!(!plan(Mode::Full, 1000, 0, 0).destructive(20));
        assert!(!plan(Mode::Incremental, 1000, 0, 0).destructive(20));
    }

    #[test]
    fn changing_more_than_the_share_of_a_scope_is_destructive() {
        assert!(!plan(Mode::Incremental, 100, 20, 0).destructive(20));
        assert!(plan(Mode::Incremental, 100, 21, 0).destructive(20));
        // Adding people to an empty scope changes nobody's coverage.
        assert!(!plan(Mode::Incremental, 0, 0, 0).destructive(20));
    }

    #[test]
    fn the_setting_decides_who_activates() {
        let small = plan(Mode::Incremental, 100, 1, 0);
        let big = plan(Mode::Full, 100, 0, 5);
        assert!(Approval::Always.needs_second(small, 20));
        assert!(!Approval::Destructive.needs_second(small, 20));
        assert!(Approval::Destructive.needs_second(big, 20));
        assert!(!Approval::Never.needs_second(big, 20));
        assert_eq!("never".parse::<Approval>(), Ok(Approval::Never));
        assert!("sometimes".parse::<Approval>().is_err());
    }
}
