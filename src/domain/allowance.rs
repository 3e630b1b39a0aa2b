//! The annual cap of a person and what is left of it (docs/domain.md, "Caps"). Every place
//! that shows or applies the cap calls this module: eligibility, recording and its preview,
//! the case page and the statement.
//!
//! A person in several groups gets, for each visit, the policy that pays the most
//! (`visit::record`); whichever it is, the visit is capped by that policy's annual cap, so
//! nothing ever takes the year's grants above the largest cap among the policies in force for
//! the person's groups. That largest cap is the person's annual cap. A group without a policy
//! adds nothing; with no policy in force for any group there is no cap to show (and no visit
//! can be recorded).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{Group, Money};

/// A policy's annual cap, as the cap rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyCap {
    /// The policy's group.
    pub group: Group,
    /// The most one person may get in a calendar year under it.
    pub annual_cap: Money,
    /// From when; of two policies of a group in force at once, the later one counts.
    pub effective_from: NaiveDate,
}

/// The annual cap of a person in `groups` under the policies in force (`caps`): the largest
/// cap among the groups' policies; none when no group has a policy in force.
pub fn annual_cap(groups: &[Group], caps: &[PolicyCap]) -> Option<Money> {
    groups
        .iter()
        .filter_map(|g| {
            caps.iter()
                .filter(|c| c.group == *g)
                .max_by_key(|c| c.effective_from)
                .map(|c| c.annual_cap)
        })
        .max()
}

/// A person's year: the cap, what was granted and what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Allowance {
    /// The annual cap (none: no policy is in force for the person's groups).
    pub annual_cap: Option<Money>,
    /// Granted in the year: the figure the cap is checked against.
    pub granted: Money,
    /// What is left of the cap, never below zero (a policy with a lower cap may take over in
    /// a year in which more was already granted).
    pub cap_left: Option<Money>,
}

impl Allowance {
    /// The allowance of a person in `groups` under `caps` who was granted `granted`.
    pub fn new(groups: &[Group], caps: &[PolicyCap], granted: Money) -> Allowance {
        let annual_cap = annual_cap(groups, caps);
        Allowance {
            annual_cap,
            granted,
            cap_left: annual_cap.map(|cap| {
                cap.checked_sub(granted)
                    .filter(|m| !m.is_negative())
                    .unwrap_or(Money::ZERO)
            }),
        }
    }

    /// Whether nothing is left of the cap.
    pub fn used_up(&self) -> bool {
        self.cap_left == Some(Money::ZERO)
    }
}

/// The day a year's cap is read on: today within the year, else the year's last day (a past
/// year) or first day (a future one). The policies and groups of that day apply.
pub fn reading_day(year: i32, today: NaiveDate) -> NaiveDate {
    let (first, last) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    );
    match (first, last) {
        (Some(first), Some(last)) => today.clamp(first, last),
        // A year chrono cannot represent: nothing is recorded in it anyway.
        _ => today.with_year(year).unwrap_or(today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cap(group: Group, yuan: i64, from: &str) -> PolicyCap {
        PolicyCap {
            group,
            annual_cap: Money::from_yuan(yuan),
            effective_from: d(from),
        }
    }

    #[test]
    fn two_groups_of_which_one_has_a_policy_are_capped_by_it() {
        let groups = [Group::LowIncomeUrban, Group::ExtremeHardship];
        let caps = [cap(Group::LowIncomeUrban, 30_000, "2020-01-01")];
        let a = Allowance::new(&groups, &caps, Money::from_yuan(29_000));
        assert_eq!(a.annual_cap, Some(Money::from_yuan(30_000)));
        assert_eq!(a.cap_left, Some(Money::from_yuan(1_000)));
        assert!(!a.used_up());
        assert!(Allowance::new(&groups, &caps, Money::from_yuan(31_000)).used_up());
    }

    #[test]
    fn no_policy_means_no_cap_to_show() {
        let a = Allowance::new(&[Group::LowIncomeUrban], &[], Money::from_yuan(5));
        assert_eq!((a.annual_cap, a.cap_left), (None, None));
        assert!(!a.used_up());
        // A policy of a group the person is not in does not count.
        let caps = [cap(Group::ExtremeHardship, 1, "2020-01-01")];
        assert_eq!(annual_cap(&[Group::LowIncomeUrban], &caps), None);
    }

    #[test]
    fn of_two_policies_of_a_group_the_later_counts() {
        let caps = [
            cap(Group::LowIncomeUrban, 50_000, "2015-01-01"),
            cap(Group::LowIncomeUrban, 30_000, "2025-01-01"),
        ];
        assert_eq!(
            annual_cap(&[Group::LowIncomeUrban], &caps),
            Some(Money::from_yuan(30_000))
        );
    }

    #[test]
    fn the_reading_day_stays_inside_the_year() {
        let today = d("2026-12-07");
        assert_eq!(reading_day(2026, today), today);
        assert_eq!(reading_day(2025, today), d("2025-12-31"));
        assert_eq!(reading_day(2027, today), d("2027-01-01"));
    }

    fn any_group() -> impl Strategy<Value = Group> {
        proptest::sample::select(Group::ALL.to_vec())
    }

    proptest! {
        /// Whatever the groups and policies, no policy the person could be paid under allows
        /// more than the cap, and the cap is one of those policies' caps.
        #[test]
        fn the_cap_bounds_every_policy_the_person_could_be_paid_under(
            groups in proptest::collection::vec(any_group(), 0..4),
            caps in proptest::collection::vec((any_group(), 0i64..100_000), 0..5),
            granted in 0i64..200_000,
        ) {
            // At most one policy of a group is in force on a day (the policy rules see to it).
            let mut caps: Vec<PolicyCap> = caps
                .into_iter()
                .map(|(g, yuan)| cap(g, yuan, "2020-01-01"))
                .collect();
            caps.sort_by_key(|c| c.group);
            caps.dedup_by_key(|c| c.group);
            let a = Allowance::new(&groups, &caps, Money::from_yuan(granted));
            let usable: Vec<Money> = caps
                .iter()
                .filter(|c| groups.contains(&c.group))
                .map(|c| c.annual_cap)
                .collect();
            prop_assert_eq!(a.annual_cap.is_some(), !usable.is_empty());
            if let Some(cap) = a.annual_cap {
                prop_assert!(usable.iter().all(|c| *c <= cap));
                prop_assert!(usable.contains(&cap));
                let left = a.cap_left.unwrap();
                prop_assert!(!left.is_negative());
                prop_assert_eq!(
                    left,
                    (cap.checked_sub(Money::from_yuan(granted)).unwrap()).max(Money::ZERO)
                );
            }
        }
    }
}
