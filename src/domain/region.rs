//! Administrative division codes (行政区划代码, GB/T 2260) and the prefixes that scope data.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::{Lang, Localized};

/// Why a text is not a region code or prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Not six digits (or, for a prefix, two, four or six).
    #[error("'{0}' is not a region code: use the 6-digit code (a scope may be 2, 4 or 6 digits)")]
    Malformed(String),
}

impl Localized for RegionError {
    fn code(&self) -> &'static str {
        "invalid_region_code"
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (RegionError::Malformed(v), Lang::Zh) => {
                format!("“{v}”不是有效的行政区划代码：应为6位数字（数据范围可为2、4或6位）。")
            }
        }
    }
}

fn clean(raw: &str) -> String {
    if raw.is_ascii() {
        return raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    }
    raw.nfkc().filter(|c| !c.is_whitespace()).collect()
}

fn all_digits_of_len(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with("00")
}

/// A 6-digit county-level region code such as `220102`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses six digits, after folding full-width digits and dropping spaces.
    pub fn parse(raw: &str) -> Result<RegionCode, RegionError> {
        let s = clean(raw);
        if all_digits_of_len(&s, &[6]) {
            Ok(RegionCode(s))
        } else {
            Err(RegionError::Malformed(raw.trim().to_owned()))
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province: the first two digits (Jilin is `22`).
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// The city: the first four digits (`2201` is Changchun).
    pub fn city(&self) -> &str {
        &self.0[..4]
    }

    /// The county: all six digits.
    pub fn county(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RegionCode::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A data scope: a province (2 digits), a city (4) or a county (6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionPrefix(String);

impl RegionPrefix {
    /// Parses a prefix of 2, 4 or 6 digits.
    pub fn parse(raw: &str) -> Result<RegionPrefix, RegionError> {
        let s = clean(raw);
        if all_digits_of_len(&s, &[2, 4, 6]) {
            Ok(RegionPrefix(s))
        } else {
            Err(RegionError::Malformed(raw.trim().to_owned()))
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a region lies inside this scope.
    pub fn contains(&self, code: &RegionCode) -> bool {
        code.as_str().starts_with(&self.0)
    }

    /// Whether another scope lies wholly inside this one.
    pub fn covers(&self, other: &RegionPrefix) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl fmt::Display for RegionPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RegionPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegionPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RegionPrefix::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_has_province_city_and_county() {
        let c = RegionCode::parse("２２０１０２").unwrap();
        assert_eq!(
            (c.province(), c.city(), c.county()),
            ("22", "2201", "220102")
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        for raw in [
            "",
            "2201",
            "22010",
            "2201023",
            "22010a",
            "000000",
            "二二〇一〇二",
        ] {
            assert!(RegionCode::parse(raw).is_err(), "{raw:?}");
        }
        for raw in ["2", "220", "22010", "2201023", "ab", "00"] {
            assert!(RegionPrefix::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_prefix_contains_its_regions_only() {
        let jilin = RegionPrefix::parse("22").unwrap();
        let changchun = RegionPrefix::parse("2201").unwrap();
        let nanguan = RegionCode::parse("220102").unwrap();
        let yanji = RegionCode::parse("222401").unwrap();
        assert!(jilin.contains(&nanguan) && jilin.contains(&yanji));
        assert!(changchun.contains(&nanguan) && !changchun.contains(&yanji));
        assert!(jilin.covers(&changchun) && !changchun.covers(&jilin));
    }

    proptest! {
        #[test]
        fn every_code_lies_in_its_own_province_and_city(code in "[1-9][0-9]{5}") {
            let c = RegionCode::parse(&code).unwrap();
            prop_assert!(RegionPrefix::parse(c.province()).unwrap().contains(&c));
            prop_assert!(RegionPrefix::parse(c.city()).unwrap().contains(&c));
            prop_assert!(RegionPrefix::parse(c.county()).unwrap().contains(&c));
        }
    }
}
