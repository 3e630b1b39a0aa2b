//! The public notice's (公示) rules, from the settings: how long it runs, how names are masked
//! on it, the telephone for complaints, and which days are working days. Pure: no clock, no
//! database.

use chrono::{Days, NaiveDate};

use crate::domain::WorkCalendar;

/// How long a notice runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticePeriod {
    /// This many calendar days, the first day included (`3`).
    Days(u32),
    /// This many working days, the first included when it is one (`7w`): Monday to Friday,
    /// less the holidays and plus the exchanged working days of `NoticeRules::calendar`.
    WorkingDays(u32),
}

impl std::str::FromStr for NoticePeriod {
    type Err = String;

    fn from_str(s: &str) -> Result<NoticePeriod, String> {
        let s = s.trim().to_ascii_lowercase();
        let (digits, working) = match s.strip_suffix('w') {
            Some(d) => (d, true),
            None => (s.strip_suffix('d').unwrap_or(&s), false),
        };
        let n: u32 = digits
            .parse()
            .ok()
            .filter(|n| (1..=60).contains(n))
            .ok_or_else(|| {
                format!("'{s}': a number of days from 1 to 60, with w for working days (3, 7w)")
            })?;
        Ok(if working {
            NoticePeriod::WorkingDays(n)
        } else {
            NoticePeriod::Days(n)
        })
    }
}

impl NoticePeriod {
    /// The last day of a notice that starts on `from`; working days are the calendar's.
    pub fn until(self, from: NaiveDate, calendar: &WorkCalendar) -> NaiveDate {
        match self {
            // The parser allows 1 to 60; a zero made in code counts as one.
            NoticePeriod::Days(n) => from + Days::new(u64::from(n.max(1)) - 1),
            NoticePeriod::WorkingDays(n) => {
                let mut day = from;
                let mut counted = 0;
                loop {
                    if calendar.is_working(day) {
                        counted += 1;
                        if counted >= n.max(1) {
                            return day;
                        }
                    }
                    day = day + Days::new(1);
                }
            }
        }
    }
}

/// How a name is shown on a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMask {
    /// The first and last characters, the rest starred: 张*明, 欧**锋; a two-character name
    /// keeps its first: 李*.
    Middle,
    /// The surname (the first character) only: 张**.
    Surname,
}

impl std::str::FromStr for NameMask {
    type Err = String;

    fn from_str(s: &str) -> Result<NameMask, String> {
        match s.trim() {
            "middle" => Ok(NameMask::Middle),
            "surname" => Ok(NameMask::Surname),
            other => Err(format!("'{other}': middle or surname")),
        }
    }
}

impl NameMask {
    /// A name as the notice shows it.
    pub fn apply(self, name: &str) -> String {
        let chars: Vec<char> = name.trim().chars().collect();
        let n = chars.len();
        let stars = |k: usize| "*".repeat(k);
        match (self, n) {
            (_, 0) => String::new(),
            (_, 1) => "*".to_owned(),
            (NameMask::Middle, 2) => format!("{}*", chars[0]),
            (NameMask::Middle, _) => format!("{}{}{}", chars[0], stars(n - 2), chars[n - 1]),
            (NameMask::Surname, _) => format!("{}{}", chars[0], stars(n - 1)),
        }
    }
}

/// An ID number as a notice shows it: the first six (the county it was issued in) and the last
/// four characters.
pub fn notice_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// The notice's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRules {
    /// `CANCER_AID_NOTICE_PERIOD`: `3` (calendar days) or `7w` (working days; the default).
    pub period: NoticePeriod,
    /// `CANCER_AID_NOTICE_NAME_MASK`: `middle` (default) or `surname`.
    pub name_mask: NameMask,
    /// `CANCER_AID_NOTICE_PHONE`: the telephone for complaints printed on the notice.
    pub phone: String,
    /// `CANCER_AID_NOTICE_ISSUER`: who publishes it (default 红十字会).
    pub issuer: String,
    /// `CANCER_AID_HOLIDAYS` and `CANCER_AID_WORKDAYS`: the public holidays and the weekend
    /// days made working days, for periods in working days.
    pub calendar: WorkCalendar,
}

impl Default for NoticeRules {
    fn default() -> NoticeRules {
        NoticeRules {
            period: NoticePeriod::WorkingDays(7),
            name_mask: NameMask::Middle,
            phone: "12345".to_owned(),
            issuer: "红十字会".to_owned(),
            calendar: WorkCalendar::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_period_in_calendar_or_working_days_ends_on_its_last_day() {
        let p: NoticePeriod = "3".parse().unwrap();
        let plain = WorkCalendar::default();
        assert_eq!(p.until(day("2026-12-07"), &plain), day("2026-12-09"));
        let w: NoticePeriod = "7w".parse().unwrap();
        // Monday 7 December: seven working days end on Tuesday the 15th.
        assert_eq!(w.until(day("2026-12-07"), &plain), day("2026-12-15"));
        // Started on a Saturday: the first working day is Monday.
        assert_eq!(w.until(day("2026-12-05"), &plain), day("2026-12-15"));
        // Over a holiday: 2027-02-06..13 off, Sunday the 14th worked. From Thursday 4
        // February: the 4th, 5th, 14th, 15th, 16th, 17th and 18th.
        let cal = WorkCalendar::parse("2027-02-06..2027-02-13", "2027-02-14").unwrap();
        assert_eq!(w.until(day("2027-02-04"), &cal), day("2027-02-18"));
        assert_eq!(w.until(day("2027-02-04"), &plain), day("2027-02-12"));
        // Calendar days do not care.
        assert_eq!(p.until(day("2027-02-06"), &cal), day("2027-02-08"));
        assert!("0".parse::<NoticePeriod>().is_err());
        assert!("seven".parse::<NoticePeriod>().is_err());
        assert!("61w".parse::<NoticePeriod>().is_err());
    }

    #[test]
    fn names_and_ids_are_masked_by_the_rule() {
        assert_eq!(NameMask::Middle.apply("张三明"), "张*明");
        assert_eq!(NameMask::Middle.apply("欧阳小锋"), "欧**锋");
        assert_eq!(NameMask::Middle.apply("李四"), "李*");
        assert_eq!(NameMask::Surname.apply("张三明"), "张**");
        assert_eq!(NameMask::Surname.apply("李四"), "李*");
        assert_eq!(NameMask::Middle.apply("王"), "*");
        assert_eq!(notice_id("220102199001011234"), "220102********1234");
        assert_eq!(notice_id("22010219900101123X"), "220102********123X");
        assert_eq!(notice_id("123"), "***");
    }
}
