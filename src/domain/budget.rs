//! A budget line's use: what is left, how full it is (with the warnings at 80 % and 95 %), and
//! when it runs out at the pace of the year so far. Pure: the day is passed in.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::{Label, Lang, Money};

/// The largest amount a line may have (ten billion yuan): more is a typing mistake, and a
/// saturated figure would be a line without a limit.
pub const MAX_LINE: Money = Money::from_fen(1_000_000_000_000);

/// How full a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Under 80 %.
    Normal,
    /// 80 % or more committed.
    Warning,
    /// 95 % or more committed.
    Critical,
    /// All of it committed: approval is refused until the line is raised.
    Exhausted,
}

impl Label for Level {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Level::Normal => lang.pick("正常", "Normal"),
            Level::Warning => lang.pick("已用 80% 以上", "Over 80 % used"),
            Level::Critical => lang.pick("已用 95% 以上", "Over 95 % used"),
            Level::Exhausted => lang.pick("已用完", "Used up"),
        }
    }
}

/// A line's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetUse {
    /// The line's amount.
    pub amount: Money,
    /// Committed by approved subsidies.
    pub committed: Money,
}

impl BudgetUse {
    /// What is not committed yet (never below zero: a line lowered under its commitments has
    /// nothing left).
    pub fn left(self) -> Money {
        Money::from_fen((self.amount.fen() - self.committed.fen()).max(0))
    }

    /// Committed, in whole per cent of the amount (rounded down; a line of zero is full).
    pub fn percent(self) -> i64 {
        if self.amount.fen() <= 0 {
            return 100;
        }
        (i128::from(self.committed.fen()) * 100 / i128::from(self.amount.fen())) as i64
    }

    /// How full it is.
    pub fn level(self) -> Level {
        match self.percent() {
            _ if self.committed >= self.amount => Level::Exhausted,
            p if p >= 95 => Level::Critical,
            p if p >= 80 => Level::Warning,
            _ => Level::Normal,
        }
    }

    /// Whether `more` still fits.
    pub fn fits(self, more: Money) -> bool {
        self.committed.fen().saturating_add(more.fen()) <= self.amount.fen()
    }

    /// The first day of the month in which the line runs out at the pace of the year so far
    /// (committed over the days from 1 January to `today`); None when it lasts the year, when
    /// nothing is committed yet, or when `today` is outside the line's year.
    pub fn runs_out(self, year: i32, today: NaiveDate) -> Option<NaiveDate> {
        if today.year() != year || self.committed.fen() <= 0 {
            return None;
        }
        if self.committed >= self.amount {
            return today.with_day(1);
        }
        let days = i64::from(today.ordinal());
        // Days until the rest is committed at the same pace, rounded up.
        let left = i128::from(self.left().fen()) * i128::from(days);
        let more = (left + i128::from(self.committed.fen()) - 1) / i128::from(self.committed.fen());
        let end = today.checked_add_days(Days::new(u64::try_from(more).ok()?))?;
        (end.year() == year).then(|| end.with_day(1)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(amount: i64, committed: i64) -> BudgetUse {
        BudgetUse {
            amount: Money::from_yuan(amount),
            committed: Money::from_yuan(committed),
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn levels_warn_at_80_and_95_and_stop_at_100() {
        assert_eq!(used(1000, 799).level(), Level::Normal);
        assert_eq!(used(1000, 800).level(), Level::Warning);
        assert_eq!(used(1000, 950).level(), Level::Critical);
        assert_eq!(used(1000, 1000).level(), Level::Exhausted);
        assert_eq!(used(1000, 1200).left(), Money::ZERO);
        assert!(used(1000, 900).fits(Money::from_yuan(100)));
        assert!(!used(1000, 900).fits(Money::from_fen(10_001)));
        assert_eq!(used(0, 0).level(), Level::Exhausted);
    }

    #[test]
    fn a_line_runs_out_in_the_month_its_pace_reaches_it() {
        // Half used by 1 July (day 182): the rest goes in another 182 days, at the end of the
        // year: 30 December.
        assert_eq!(
            used(1000, 500).runs_out(2026, day("2026-07-01")),
            Some(day("2026-12-01"))
        );
        // Three quarters by 1 April (day 91): a month more.
        assert_eq!(
            used(1000, 750).runs_out(2026, day("2026-04-01")),
            Some(day("2026-05-01"))
        );
        assert_eq!(used(1000, 100).runs_out(2026, day("2026-03-01")), None);
        assert_eq!(used(1000, 0).runs_out(2026, day("2026-03-01")), None);
        assert_eq!(used(1000, 500).runs_out(2025, day("2026-03-01")), None);
        assert_eq!(
            used(1000, 1000).runs_out(2026, day("2026-03-15")),
            Some(day("2026-03-01"))
        );
    }
}
