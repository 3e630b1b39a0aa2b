//! Dates as clerks type them: Excel date cells and serial numbers, and text such as
//! 2020-06-01, 2020/6/1, 2020.06.01, 2020.06, 2020年6月1日, 2020年6月 or 202006. A month
//! without a day means its first day. A number that could be two dates is refused, never guessed.

use chrono::{Duration, NaiveDate};
use unicode_normalization::UnicodeNormalization;

use super::read::Cell;

/// Why a cell is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not a date in any known form, or a day that does not exist.
    Invalid,
    /// A number that reads as two different dates (2020.1: January, or October typed as 2020.10?).
    Ambiguous {
        /// The first reading.
        first: NaiveDate,
        /// The second reading.
        second: NaiveDate,
    },
}

const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

fn ymd(y: i64, m: i64, d: i64) -> Option<NaiveDate> {
    let y = i32::try_from(y).ok().filter(|y| YEARS.contains(y))?;
    NaiveDate::from_ymd_opt(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// An Excel serial day number in the 1900 system (day 1 = 1900-01-01, with Excel's phantom
/// 1900-02-29, so day 61 onwards counts from 1899-12-30).
pub fn from_serial(serial: f64) -> Option<NaiveDate> {
    if !(61.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(Duration::days(serial.floor() as i64))
        .filter(|d| YEARS.contains(&chrono::Datelike::year(d)))
}

/// Reads a date cell; `Ok(None)` for an empty cell.
pub fn parse_cell(cell: &Cell) -> Result<Option<NaiveDate>, DateError> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Int(i) => parse_integer(*i).map(Some),
        Cell::Float(f) => parse_number(*f).map(Some),
        Cell::Text(t) => {
            let t = t.trim();
            if t.is_empty() {
                Ok(None)
            } else {
                parse_text(t).map(Some)
            }
        }
        Cell::Bool(_) | Cell::Error(_) => Err(DateError::Invalid),
    }
}

/// 20200601, 202006 or an Excel serial number.
fn parse_integer(i: i64) -> Result<NaiveDate, DateError> {
    match i {
        10_000_000..=99_999_999 => {
            ymd(i / 10_000, i / 100 % 100, i % 100).ok_or(DateError::Invalid)
        }
        100_000..=999_999 => ymd(i / 100, i % 100, 1).ok_or(DateError::Invalid),
        _ => from_serial(i as f64).ok_or(DateError::Invalid),
    }
}

/// A number in a General cell: 2020.06 (June 2020), 2020.0601, or a serial number.
fn parse_number(f: f64) -> Result<NaiveDate, DateError> {
    if !f.is_finite() {
        return Err(DateError::Invalid);
    }
    if f.fract() == 0.0 {
        return parse_integer(f as i64);
    }
    // The shortest text that reads back as this float is what Excel kept of what was typed.
    let text = format!("{f}");
    let Some((year, frac)) = text.split_once('.') else {
        return Err(DateError::Invalid);
    };
    let Ok(y) = year.parse::<i64>() else {
        return Err(DateError::Invalid);
    };
    if !YEARS.contains(&(y as i32)) {
        // A fractional serial number (a date with a time).
        return from_serial(f).ok_or(DateError::Invalid);
    }
    let digit = |s: &str| s.parse::<i64>().unwrap_or(-1);
    match frac.len() {
        // "2020.1" is January, or October whose trailing zero the number format dropped.
        1 => {
            let m = digit(frac);
            let single = ymd(y, m, 1);
            let tens = ymd(y, m * 10, 1);
            match (single, tens) {
                (Some(a), Some(b)) => Err(DateError::Ambiguous {
                    first: a,
                    second: b,
                }),
                (Some(a), None) => Ok(a),
                _ => Err(DateError::Invalid),
            }
        }
        2 => ymd(y, digit(frac), 1).ok_or(DateError::Invalid),
        // "2020.061": June 1st or June 10th with its zero dropped?
        3 => {
            let (m, d) = (digit(&frac[..2]), digit(&frac[2..]));
            match (ymd(y, m, d), ymd(y, m, d * 10)) {
                (Some(a), Some(b)) => Err(DateError::Ambiguous {
                    first: a,
                    second: b,
                }),
                (Some(a), None) | (None, Some(a)) => Ok(a),
                _ => Err(DateError::Invalid),
            }
        }
        4 => ymd(y, digit(&frac[..2]), digit(&frac[2..])).ok_or(DateError::Invalid),
        _ => Err(DateError::Invalid),
    }
}

/// Text dates; typed text keeps every digit, so "2020.1" is January without doubt.
pub fn parse_text(raw: &str) -> Result<NaiveDate, DateError> {
    // The common spelling, YYYY-MM-DD, without the allocations and splitting below.
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *raw.as_bytes() {
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |ds: &[u8]| ds.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
            return ymd(n(&digits[..4]), n(&digits[4..6]), n(&digits[6..]))
                .ok_or(DateError::Invalid);
        }
    }
    let s: String = if raw.is_ascii() {
        raw.trim().to_owned()
    } else {
        raw.nfkc().collect::<String>().trim().to_owned()
    };
    // A date with a time: keep the date.
    let s = s
        .split(['T', ' '])
        .next()
        .unwrap_or_default()
        .trim_end_matches('日')
        .to_owned();
    if s.chars().all(|c| c.is_ascii_digit()) {
        return match s.len() {
            8 | 6 => parse_integer(s.parse().map_err(|_| DateError::Invalid)?),
            _ => Err(DateError::Invalid),
        };
    }
    let parts: Vec<&str> = s
        .split(['-', '/', '.', '年', '月'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts
        .iter()
        .any(|p| !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 4)
    {
        return Err(DateError::Invalid);
    }
    let n = |i: usize| parts[i].parse::<i64>().unwrap_or(-1);
    let date = match parts.len() {
        3 if parts[0].len() == 4 => ymd(n(0), n(1), n(2)),
        2 if parts[0].len() == 4 => ymd(n(0), n(1), 1),
        _ => None,
    };
    date.ok_or(DateError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_text_form_of_design_md_parses() {
        for (raw, want) in [
            ("2020-06-01", d(2020, 6, 1)),
            ("2020/6/1", d(2020, 6, 1)),
            ("2020.06.01", d(2020, 6, 1)),
            ("2020.06", d(2020, 6, 1)),
            ("2020年6月1日", d(2020, 6, 1)),
            ("2020年6月", d(2020, 6, 1)),
            ("202006", d(2020, 6, 1)),
            ("20200615", d(2020, 6, 15)),
            ("２０２０－０６－０１", d(2020, 6, 1)),
            ("2020-06-01 00:00:00", d(2020, 6, 1)),
            ("2020.1", d(2020, 1, 1)),
            ("2020.10", d(2020, 10, 1)),
        ] {
            assert_eq!(parse_text(raw), Ok(want), "{raw}");
        }
    }

    #[test]
    fn impossible_and_unreadable_text_is_refused() {
        for raw in [
            "2020-02-30",
            "2020-13-01",
            "20201301",
            "June 2020",
            "20-6-1",
            "2020",
            "1899-12-31",
            "abc",
        ] {
            assert_eq!(parse_text(raw), Err(DateError::Invalid), "{raw}");
        }
    }

    #[test]
    fn numbers_in_general_cells() {
        assert_eq!(parse_cell(&Cell::Float(2020.06)), Ok(Some(d(2020, 6, 1))));
        assert_eq!(parse_cell(&Cell::Float(2020.12)), Ok(Some(d(2020, 12, 1))));
        assert_eq!(parse_cell(&Cell::Float(2020.2)), Ok(Some(d(2020, 2, 1))));
        assert_eq!(
            parse_cell(&Cell::Float(2020.0615)),
            Ok(Some(d(2020, 6, 15)))
        );
        assert_eq!(parse_cell(&Cell::Int(202006)), Ok(Some(d(2020, 6, 1))));
        assert_eq!(parse_cell(&Cell::Int(20200601)), Ok(Some(d(2020, 6, 1))));
        // 43983 is 2020-06-01 as an Excel serial number.
        assert_eq!(parse_cell(&Cell::Int(43983)), Ok(Some(d(2020, 6, 1))));
        assert_eq!(parse_cell(&Cell::Float(43983.5)), Ok(Some(d(2020, 6, 1))));
        assert_eq!(parse_cell(&Cell::Empty), Ok(None));
        assert_eq!(parse_cell(&Cell::Text("  ".into())), Ok(None));
    }

    #[test]
    fn a_number_that_reads_as_two_dates_is_never_guessed() {
        assert_eq!(
            parse_cell(&Cell::Float(2020.1)),
            Err(DateError::Ambiguous {
                first: d(2020, 1, 1),
                second: d(2020, 10, 1)
            })
        );
        assert!(matches!(
            parse_cell(&Cell::Float(2020.061)),
            Err(DateError::Ambiguous { .. })
        ));
        assert_eq!(parse_cell(&Cell::Float(2020.13)), Err(DateError::Invalid));
    }
}
