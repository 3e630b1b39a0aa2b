//! Which days are working days (工作日): Monday to Friday, less the public holidays the State
//! Council announces each year, plus the weekend days it makes working days in exchange (调休).
//! The service does not know a year's calendar by itself: the branch lists the holidays and the
//! exchanged working days in its settings. Pure: no clock.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The longest run of days one entry may name (the longest holiday is eight or nine days).
pub const MAX_RANGE_DAYS: u64 = 31;

/// The most days a calendar may list, holidays and working days together.
pub const MAX_DAYS: usize = 1_000;

/// Working days: Monday to Friday, less `off`, plus `on`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    off: BTreeSet<NaiveDate>,
    on: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// A calendar from the holidays and the exchanged working days, each a list of
    /// `YYYY-MM-DD` days and `YYYY-MM-DD..YYYY-MM-DD` ranges (both ends included) separated by
    /// commas. The message says which entry is wrong and how to write it.
    pub fn parse(holidays: &str, working: &str) -> Result<WorkCalendar, String> {
        let off = days(holidays)?;
        let on = days(working)?;
        if let Some(d) = off.intersection(&on).next() {
            return Err(format!(
                "{d} is listed both as a holiday and as a working day"
            ));
        }
        if off.len() + on.len() > MAX_DAYS {
            return Err(format!("at most {MAX_DAYS} days in all"));
        }
        Ok(WorkCalendar { off, on })
    }

    /// Whether `d` is a working day.
    pub fn is_working(&self, d: NaiveDate) -> bool {
        if self.on.contains(&d) {
            return true;
        }
        !self.off.contains(&d) && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }
}

fn day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{}': a day is written YYYY-MM-DD", s.trim()))
}

fn days(list: &str) -> Result<BTreeSet<NaiveDate>, String> {
    let mut out = BTreeSet::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once("..") {
            None => {
                out.insert(day(entry)?);
            }
            Some((a, b)) => {
                let (first, last) = (day(a)?, day(b)?);
                let span = (last - first).num_days();
                if span < 0 || span as u64 >= MAX_RANGE_DAYS {
                    return Err(format!(
                        "'{entry}': a range runs forward, at most {MAX_RANGE_DAYS} days"
                    ));
                }
                for i in 0..=span as u64 {
                    out.insert(first + Days::new(i));
                }
            }
        }
        if out.len() > MAX_DAYS {
            return Err(format!("at most {MAX_DAYS} days in all"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn holidays_and_exchanged_weekends_change_the_working_days() {
        // 2027's Spring Festival as such a notice would list it (the days are an example).
        let cal = WorkCalendar::parse("2027-02-06..2027-02-13", "2027-02-14, 2027-02-20").unwrap();
        assert!(!cal.is_working(d("2027-02-08")), "a Monday of the holiday");
        assert!(
            cal.is_working(d("2027-02-14")),
            "a Sunday made a working day"
        );
        assert!(cal.is_working(d("2027-02-15")), "an ordinary Monday");
        assert!(!cal.is_working(d("2027-02-21")), "an ordinary Sunday");
        assert!(WorkCalendar::default().is_working(d("2027-02-08")));
    }

    #[test]
    fn a_wrong_entry_is_named() {
        for (holidays, working, says) in [
            ("2027-02-30", "", "2027-02-30"),
            ("2027-02-13..2027-02-06", "", "runs forward"),
            ("2027-01-01..2027-03-01", "", "31 days"),
            ("2027-02-08", "2027-02-08", "both"),
            ("tomorrow", "", "YYYY-MM-DD"),
        ] {
            let e = WorkCalendar::parse(holidays, working).unwrap_err();
            assert!(e.contains(says), "{holidays} / {working}: {e}");
        }
        assert_eq!(WorkCalendar::parse(" , ", ""), Ok(WorkCalendar::default()));
    }
}
