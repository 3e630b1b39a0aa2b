//! The share of the out-of-pocket cost a policy pays: a decimal in (0, 1], never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Lang, Localized};

/// Why a text is not a subsidy rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not a decimal number.
    #[error("'{0}' is not a rate: write a decimal such as 0.60")]
    Malformed(String),
    /// Zero, negative or above one.
    #[error("the rate {0} is out of range: it must be more than 0 and at most 1 (such as 0.60)")]
    OutOfRange(String),
    /// More decimals than a policy ever needs.
    #[error("the rate {0} has more than {max} decimals", max = Rate::MAX_DECIMALS)]
    TooPrecise(String),
}

impl Localized for RateError {
    fn code(&self) -> &'static str {
        match self {
            RateError::Malformed(_) => "invalid_rate",
            RateError::OutOfRange(_) => "rate_out_of_range",
            RateError::TooPrecise(_) => "rate_too_precise",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (RateError::Malformed(v), Lang::Zh) => {
                format!("“{v}”不是有效的救助比例：请填写小数，如 0.60。")
            }
            (RateError::OutOfRange(v), Lang::Zh) => {
                format!("救助比例 {v} 超出范围：须大于0且不超过1，如 0.60。")
            }
            (RateError::TooPrecise(v), Lang::Zh) => format!(
                "救助比例 {v} 的小数位过多：最多{}位小数。",
                Rate::MAX_DECIMALS
            ),
        }
    }
}

/// A subsidy rate: more than 0, at most 1, with at most four decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    /// Four decimals express any percentage to a hundredth; more is a typing slip.
    pub const MAX_DECIMALS: u32 = 4;

    /// Checks a decimal.
    pub fn new(d: Decimal) -> Result<Rate, RateError> {
        let d = d.normalize();
        if d <= Decimal::ZERO || d > Decimal::ONE {
            return Err(RateError::OutOfRange(d.to_string()));
        }
        if d.scale() > Rate::MAX_DECIMALS {
            return Err(RateError::TooPrecise(d.to_string()));
        }
        Ok(Rate(d))
    }

    /// Parses a rate as typed: "0.6", "0.60", "1".
    pub fn parse(raw: &str) -> Result<Rate, RateError> {
        let s = raw.trim();
        let valid_shape = !s.is_empty()
            && s.trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.');
        if !valid_shape {
            return Err(RateError::Malformed(s.to_owned()));
        }
        let d = Decimal::from_str(s).map_err(|_| RateError::Malformed(s.to_owned()))?;
        Rate::new(d)
    }

    /// The exact decimal.
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// At least two decimals, as accountants write a ratio: 0.60, 1.00, 0.675.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0;
        if d.scale() < 2 {
            d.rescale(2);
        }
        write!(f, "{d}")
    }
}

impl FromStr for Rate {
    type Err = RateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rate::parse(s)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A string ("0.60") or the integer 1; a JSON fraction is refused, as for money, because it
/// has already passed through a binary float.
impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => Rate::parse(&s).map_err(serde::de::Error::custom),
            Raw::Int(i) => Rate::new(Decimal::from(i)).map_err(serde::de::Error::custom),
            Raw::Float(f) => Err(serde::de::Error::custom(format!(
                "write the rate {f} as a string, such as \"0.60\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rates_parse_and_show_with_two_decimals() {
        assert_eq!(Rate::parse("0.6").unwrap().to_string(), "0.60");
        assert_eq!(Rate::parse(" 0.60 ").unwrap().value(), dec!(0.6));
        assert_eq!(Rate::parse("1").unwrap().to_string(), "1.00");
        assert_eq!(Rate::parse("0.675").unwrap().to_string(), "0.675");
        assert_eq!(Rate::parse("0.0001").unwrap().to_string(), "0.0001");
        assert_eq!(Rate::parse("0.6000000").unwrap().to_string(), "0.60");
    }

    #[test]
    fn zero_negative_above_one_and_odd_text_are_refused() {
        for bad in ["0", "0.00", "-0.5", "1.01", "2"] {
            assert!(
                matches!(Rate::parse(bad), Err(RateError::OutOfRange(_))),
                "{bad}"
            );
        }
        for bad in ["", "60%", "abc", "1e-1", "0,6"] {
            assert!(
                matches!(Rate::parse(bad), Err(RateError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Rate::parse("0.12345"),
            Err(RateError::TooPrecise(_))
        ));
        assert_eq!(Rate::parse("60%").unwrap_err().code(), "invalid_rate");
        assert!(
            Rate::parse("1.5")
                .unwrap_err()
                .message(Lang::Zh)
                .contains("不超过1")
        );
    }

    #[test]
    fn json_takes_strings_and_refuses_fractions() {
        assert_eq!(
            serde_json::from_str::<Rate>("\"0.7\"").unwrap().to_string(),
            "0.70"
        );
        assert_eq!(
            serde_json::from_str::<Rate>("1").unwrap().to_string(),
            "1.00"
        );
        assert!(serde_json::from_str::<Rate>("0.7").is_err());
        assert_eq!(
            serde_json::to_string(&Rate::parse("0.8").unwrap()).unwrap(),
            "\"0.80\""
        );
    }
}
