//! The resident ID number (公民身份号码, GB 11643-1999).
//!
//! Only the normalised 18-character form exists as an `IdNumber`: parsing trims, folds
//! full-width characters (NFKC), drops spaces, upper-cases `x`, converts the old 15-digit form
//! and checks the ISO 7064 MOD 11-2 check character and the birth date.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::{Lang, Localized, RegionCode};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Why a text is not a resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Nothing was given.
    #[error("the ID number is empty")]
    Empty,
    /// Neither 18 nor 15 characters after normalising.
    #[error("an ID number has 18 characters (or 15 in the old form), not {0}")]
    WrongLength(usize),
    /// A character other than a digit (or a final X).
    #[error("character {position} of the ID number, '{found}', is not a digit")]
    InvalidCharacter {
        /// 1-based position in the normalised text.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// Characters 7 to 14 are not a calendar date.
    #[error("the birth date in the ID number, {0}, is not a real date")]
    InvalidBirthDate(String),
    /// The last character does not match the first 17.
    #[error("the check character is {found} but should be {expected}: a digit was mistyped")]
    BadCheckCharacter {
        /// The check character the first 17 digits call for.
        expected: char,
        /// The one that was typed.
        found: char,
    },
}

impl Localized for IdNumberError {
    fn code(&self) -> &'static str {
        match self {
            IdNumberError::Empty => "id_number_missing",
            IdNumberError::WrongLength(_) => "id_number_length",
            IdNumberError::InvalidCharacter { .. } => "id_number_character",
            IdNumberError::InvalidBirthDate(_) => "id_number_birth_date",
            IdNumberError::BadCheckCharacter { .. } => "id_number_check",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (IdNumberError::Empty, Lang::Zh) => "身份证号码为空，请填写。".into(),
            (IdNumberError::WrongLength(n), Lang::Zh) => {
                format!("身份证号码应为18位（旧号码为15位），现为{n}位，请核对。")
            }
            (IdNumberError::InvalidCharacter { position, found }, Lang::Zh) => {
                format!("身份证号码第{position}位“{found}”不是数字，请核对。")
            }
            (IdNumberError::InvalidBirthDate(d), Lang::Zh) => {
                format!("身份证号码中的出生日期{d}不是有效日期，请核对。")
            }
            (IdNumberError::BadCheckCharacter { expected, found }, Lang::Zh) => format!(
                "身份证号码校验位为{found}，按前17位应为{expected}，可能有数字录错，请核对。"
            ),
        }
    }
}

/// Sex, as encoded by the parity of the sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Odd sequence number.
    Male,
    /// Even sequence number.
    Female,
}

impl Sex {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// The label shown in the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A valid, normalised 18-character resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

/// The check character for the first 17 digits (ISO 7064 MOD 11-2).
pub fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize] as char
}

/// Trims, folds full-width forms (NFKC), removes every space and upper-cases `x`.
pub fn normalise(raw: &str) -> String {
    // Almost every cell is plain ASCII, which NFKC leaves as it is: skip the table look-ups.
    if raw.is_ascii() {
        return raw
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .map(|c| if c == 'x' { 'X' } else { c })
            .collect();
    }
    raw.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == 'x' { 'X' } else { c })
        .collect()
}

fn first_non_digit(chars: impl Iterator<Item = char>) -> Option<(usize, char)> {
    chars
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
        .map(|(i, c)| (i + 1, c))
}

/// YYYYMMDD as a calendar date; the caller has checked that these are ASCII digits. (chrono's
/// `parse_from_str` reads its format string on every call, which shows on a million rows.)
fn date_of_digits(d: &str) -> Option<NaiveDate> {
    let n = |r: std::ops::Range<usize>| d.get(r)?.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(n(0..4)? as i32, n(4..6)?, n(6..8)?)
}

impl IdNumber {
    /// Parses an ID number as typed, in either the 18- or the 15-character form.
    pub fn parse(raw: &str) -> Result<IdNumber, IdNumberError> {
        let s = normalise(raw);
        let len = s.chars().count();
        let s18 = match len {
            0 => return Err(IdNumberError::Empty),
            18 => {
                if let Some((position, found)) = first_non_digit(s.chars().take(17)) {
                    return Err(IdNumberError::InvalidCharacter { position, found });
                }
                let last = s.chars().last().unwrap_or(' ');
                if !(last.is_ascii_digit() || last == 'X') {
                    return Err(IdNumberError::InvalidCharacter {
                        position: 18,
                        found: last,
                    });
                }
                s
            }
            15 => {
                if let Some((position, found)) = first_non_digit(s.chars()) {
                    return Err(IdNumberError::InvalidCharacter { position, found });
                }
                // The 15-digit form has a two-digit year of the 1900s and no check character.
                let mut body = format!("{}19{}", &s[..6], &s[6..]);
                let check = check_character(body.as_bytes());
                body.push(check);
                body
            }
            n => {
                if let Some((position, found)) = first_non_digit(s.chars()) {
                    let last_is_x = position == n && found == 'X';
                    if !last_is_x {
                        return Err(IdNumberError::InvalidCharacter { position, found });
                    }
                }
                return Err(IdNumberError::WrongLength(n));
            }
        };
        let birth = &s18[6..14];
        if date_of_digits(birth).is_none() {
            return Err(IdNumberError::InvalidBirthDate(birth.to_owned()));
        }
        let expected = check_character(&s18.as_bytes()[..17]);
        let found = s18.as_bytes()[17] as char;
        if expected != found {
            return Err(IdNumberError::BadCheckCharacter { expected, found });
        }
        Ok(IdNumber(s18))
    }

    /// The normalised 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region code the number was issued in (its first six digits).
    pub fn region_code(&self) -> Option<RegionCode> {
        RegionCode::parse(&self.0[..6]).ok()
    }

    /// The birth date in characters 7 to 14; valid by construction.
    pub fn birth_date(&self) -> NaiveDate {
        date_of_digits(&self.0[6..14]).unwrap_or_default()
    }

    /// Sex from the parity of the 17th digit.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The form shown on lists: region and last four kept, the birth date hidden.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for IdNumber {
    type Err = IdNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        IdNumber::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standards_examples_are_valid() {
        for raw in ["11010519491231002X", "440524188001010014"] {
            let id = IdNumber::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(id.as_str(), raw);
        }
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        let id = IdNumber::parse("440524188001010014").unwrap();
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1880, 1, 1).unwrap()
        );
        assert_eq!(id.region_code().unwrap().as_str(), "440524");
    }

    #[test]
    fn spaces_full_width_digits_and_lowercase_x_are_normalised() {
        for raw in [
            " 11010519491231002x ",
            "110105 19491231 002X",
            "１１０１０５１９４９１２３１００２Ｘ",
            "１１０１０５１９４９１２３１００２ｘ",
            "110105\u{3000}19491231002X",
        ] {
            assert_eq!(
                IdNumber::parse(raw).map(|i| i.to_string()),
                Ok("11010519491231002X".to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn fifteen_digit_numbers_convert_to_eighteen() {
        // 110105491231002 is the old form of 11010519491231002X.
        let id = IdNumber::parse("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn bad_numbers_say_what_is_wrong() {
        let cases: &[(&str, IdNumberError)] = &[
            ("", IdNumberError::Empty),
            ("   ", IdNumberError::Empty),
            ("1101051949123100", IdNumberError::WrongLength(16)),
            ("1101051949123100211", IdNumberError::WrongLength(19)),
            (
                "110105194912310021",
                IdNumberError::BadCheckCharacter {
                    expected: 'X',
                    found: '1',
                },
            ),
            (
                "11010519491331002X",
                IdNumberError::InvalidBirthDate("19491331".into()),
            ),
            (
                "1101051949123A002X",
                IdNumberError::InvalidCharacter {
                    position: 14,
                    found: 'A',
                },
            ),
            (
                "11010519491231002Y",
                IdNumberError::InvalidCharacter {
                    position: 18,
                    found: 'Y',
                },
            ),
            (
                "11010549123100X",
                IdNumberError::InvalidCharacter {
                    position: 15,
                    found: 'X',
                },
            ),
            (
                "110105490231002",
                IdNumberError::InvalidBirthDate("19490231".into()),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(IdNumber::parse(raw).as_ref(), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn messages_are_in_chinese_by_default() {
        let e = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(e.code(), "id_number_check");
        assert!(e.message(Lang::Zh).contains("校验位"));
        assert!(e.message(Lang::En).contains("check character"));
    }

    #[test]
    fn serde_round_trips_and_rejects_bad_numbers() {
        let id: IdNumber = serde_json::from_str("\"11010519491231002x\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"11010519491231002X\""
        );
        assert!(serde_json::from_str::<IdNumber>("\"110105194912310021\"").is_err());
    }

    fn any_valid_body() -> impl Strategy<Value = String> {
        (
            "[1-6][0-9]{5}",
            (1900i32..2025, 1u32..=12, 1u32..=28),
            "[0-9]{3}",
        )
            .prop_map(|(region, (y, m, d), seq)| format!("{region}{y:04}{m:02}{d:02}{seq}"))
    }

    proptest! {
        #[test]
        fn a_computed_check_character_always_validates(body in any_valid_body()) {
            let check = check_character(body.as_bytes());
            let full = format!("{body}{check}");
            let id = IdNumber::parse(&full).unwrap();
            prop_assert_eq!(id.as_str(), full.as_str());
            prop_assert_eq!(IdNumber::parse(&full.to_lowercase()).unwrap(), id);
        }

        #[test]
        fn any_single_digit_change_is_caught(body in any_valid_body(), pos in 0usize..17, delta in 1u8..10) {
            let check = check_character(body.as_bytes());
            let mut bytes = format!("{body}{check}").into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            // MOD 11-2 detects every single-digit error; a date made impossible is caught too.
            prop_assert!(IdNumber::parse(&changed).is_err());
        }

        #[test]
        fn fifteen_digit_form_keeps_region_date_and_sex(
            region in "[1-6][0-9]{5}", (y, m, d) in (0u32..100, 1u32..=12, 1u32..=28), seq in "[0-9]{3}"
        ) {
            let old = format!("{region}{y:02}{m:02}{d:02}{seq}");
            let id = IdNumber::parse(&old).unwrap();
            prop_assert_eq!(&id.as_str()[..6], region.as_str());
            prop_assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1900 + y as i32, m, d).unwrap());
            let odd = (seq.as_bytes()[2] - b'0') % 2 == 1;
            prop_assert_eq!(id.sex() == Sex::Male, odd);
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC{0,24}") {
            let _ = IdNumber::parse(&raw);
        }
    }
}
