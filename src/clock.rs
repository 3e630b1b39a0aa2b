//! The service's one clock. Handlers and background jobs read it from the state and hand
//! the instant (or the day) to the services they call, so no service reads the time itself
//! and a test can set the day: the turn of a year, an expired session, a policy that starts
//! tomorrow.

use std::sync::{Arc, Mutex, PoisonError};

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Where the time comes from: the system, or (in tests) a clock that follows the system
/// until it is set to an instant, and then stands there until set again.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Option<DateTime<Utc>>>>>);

impl Clock {
    /// The system clock: what the service runs on.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that follows the system until [`Clock::set`] (every clone follows).
    pub fn settable() -> Clock {
        Clock(Some(Arc::new(Mutex::new(None))))
    }

    /// A clock that stands at `at` until set again.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(Some(at)))))
    }

    /// Stops a settable clock at `at`, or moves it there (every clone follows). The system
    /// clock cannot be set: asking is a bug in a test, so it panics.
    pub fn set(&self, at: DateTime<Utc>) {
        let cell = self.0.as_ref().expect("only a settable clock can be set");
        *cell.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
    }

    /// The instant now.
    pub fn now(&self) -> DateTime<Utc> {
        let set = self
            .0
            .as_ref()
            .and_then(|cell| *cell.lock().unwrap_or_else(PoisonError::into_inner));
        set.unwrap_or_else(Utc::now)
    }

    /// Today, in the service's time zone: the day visits, policies and years are counted in.
    pub fn today(&self) -> NaiveDate {
        day_of(self.now())
    }
}

/// The programme's time zone when the settings name none: the branches are in China.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The programme's time zone (`CANCER_AID_TIME_ZONE`), set once at start-up; not the server's,
/// which is often UTC: "today", the day a visit counts on and every time shown are the clerks'.
static ZONE: OnceLock<Tz> = OnceLock::new();

/// Sets the programme's time zone; refused once another is in use.
pub fn set_zone(tz: Tz) -> Result<(), String> {
    let now = *ZONE.get_or_init(|| tz);
    if now == tz {
        Ok(())
    } else {
        Err(format!("the time zone is {now} already"))
    }
}

/// The programme's time zone.
pub fn zone() -> Tz {
    *ZONE.get_or_init(|| DEFAULT_ZONE)
}

/// An instant on the programme's wall clock.
pub fn local(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&zone())
}

/// The day an instant falls on in the programme's time zone.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    local(at).date_naive()
}

/// The first instant of a day in the programme's time zone.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone()
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// How a page or a file names the zone: 北京时间 for China's, else its IANA name.
pub fn zone_label() -> String {
    match zone() {
        Tz::Asia__Shanghai | Tz::Asia__Chongqing | Tz::PRC => "北京时间".to_owned(),
        other => other.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_set_and_its_clones_follow() {
        let at: DateTime<Utc> = "2025-12-31T15:00:00Z".parse().unwrap();
        let clock = Clock::fixed(at);
        let copy = clock.clone();
        assert_eq!(copy.now(), at);
        let later: DateTime<Utc> = "2026-01-02T03:00:00Z".parse().unwrap();
        clock.set(later);
        assert_eq!(copy.now(), later);
        assert_eq!(copy.today(), day_of(later));
    }

    #[test]
    fn a_settable_clock_follows_the_system_until_set() {
        let clock = Clock::settable();
        let before = Utc::now();
        assert!(clock.now() >= before);
        let at: DateTime<Utc> = "2020-02-29T12:00:00Z".parse().unwrap();
        clock.set(at);
        assert_eq!(clock.now(), at);
    }

    #[test]
    fn the_day_is_the_programmes_not_the_servers() {
        // 20:00 UTC is 04:00 the next morning in Changchun.
        let at: DateTime<Utc> = "2026-12-06T20:00:00Z".parse().unwrap();
        assert_eq!(zone(), DEFAULT_ZONE);
        assert_eq!(day_of(at), "2026-12-07".parse::<NaiveDate>().unwrap());
        assert_eq!(
            start_of(day_of(at)),
            "2026-12-06T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(zone_label(), "北京时间");
        assert!(
            set_zone(chrono_tz::Europe::Paris).is_err(),
            "not changed once in use"
        );
    }

    #[test]
    fn the_system_clock_moves() {
        let before = Utc::now();
        assert!(Clock::system().now() >= before);
    }
}
