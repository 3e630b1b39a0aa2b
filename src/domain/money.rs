//! Money: exact decimals in code, strings in JSON, integer fen in the database. Never a float.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Lang, Localized};

/// Why a value is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number.
    #[error("'{0}' is not an amount: write yuan with up to two decimals, such as 1234.50")]
    Malformed(String),
    /// More than two decimals, where fen are the smallest unit.
    #[error("'{0}' has more than two decimals: amounts are in yuan to the fen")]
    TooPrecise(String),
    /// Negative where only zero or more makes sense.
    #[error("'{0}' is negative: amounts here must be zero or more")]
    Negative(String),
    /// Beyond what any account could hold.
    #[error("'{0}' is too large")]
    Overflow(String),
}

impl Localized for MoneyError {
    fn code(&self) -> &'static str {
        match self {
            MoneyError::Malformed(_) => "invalid_amount",
            MoneyError::TooPrecise(_) => "amount_too_precise",
            MoneyError::Negative(_) => "amount_negative",
            MoneyError::Overflow(_) => "amount_too_large",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (MoneyError::Malformed(v), Lang::Zh) => {
                format!("“{v}”不是有效金额：请以元为单位填写，最多两位小数，如 1234.50。")
            }
            (MoneyError::TooPrecise(v), Lang::Zh) => {
                format!("金额“{v}”超过两位小数：金额精确到分。")
            }
            (MoneyError::Negative(v), Lang::Zh) => format!("金额“{v}”为负数：此处金额不能小于0。"),
            (MoneyError::Overflow(v), Lang::Zh) => format!("金额“{v}”过大。"),
        }
    }
}

/// A signed amount of money, held as whole fen (分).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// From whole fen, as stored in the database.
    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// From whole yuan.
    pub fn from_yuan(yuan: i64) -> Money {
        Money(yuan.saturating_mul(100))
    }

    /// Whole fen, as stored in the database.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// A computed value rounded half-up (四舍五入) to the fen. `round_dp` alone would round
    /// half to even, which is not how the programme's accountants round.
    pub fn from_decimal_rounded(d: Decimal) -> Result<Money, MoneyError> {
        // `checked_mul`: a 29-digit amount overflows the decimal itself, which `*` would panic on.
        let fen = d
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or_else(|| MoneyError::Overflow(d.to_string()))?;
        i64::try_from(fen)
            .map(Money)
            .map_err(|_| MoneyError::Overflow(d.to_string()))
    }

    /// An entered value, which must already be exact to the fen.
    pub fn from_decimal_exact(d: Decimal) -> Result<Money, MoneyError> {
        if d.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise(d.to_string()));
        }
        Money::from_decimal_rounded(d)
    }

    /// Parses yuan as typed: "1234.5", "1234.50", " 12 ".
    pub fn parse(raw: &str) -> Result<Money, MoneyError> {
        let s = raw.trim();
        let valid_shape = !s.is_empty()
            && s.trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.');
        if !valid_shape {
            return Err(MoneyError::Malformed(s.to_owned()));
        }
        let d = Decimal::from_str(s).map_err(|_| MoneyError::Malformed(s.to_owned()))?;
        Money::from_decimal_exact(d)
    }

    /// The amount in yuan as an exact decimal with two places.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// The amount in 万元 (ten thousand yuan), rounded half-up to two places, as managers read it:
    /// 76,195,900.00 yuan is 7619.59.
    pub fn to_wan(self) -> Decimal {
        Decimal::new(self.0, 6).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    }

    /// Whether below zero (a reversal).
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Sum that refuses to overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Difference that refuses to overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The amount with its sign flipped, for reversals.
    pub fn negated(self) -> Money {
        Money(-self.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a string ("1234.50") or a JSON integer (1234); a JSON fraction is refused, because
/// it has already passed through a binary float.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => Money::parse(&s).map_err(serde::de::Error::custom),
            Raw::Int(i) => Ok(Money::from_yuan(i)),
            Raw::Float(f) => Err(serde::de::Error::custom(format!(
                "write the amount {f} as a string, such as \"1234.50\""
            ))),
        }
    }
}

/// An amount that cannot be negative: costs, reimbursements, caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Amount(Money);

impl Amount {
    /// Zero yuan.
    pub const ZERO: Amount = Amount(Money::ZERO);

    /// Refuses a negative amount.
    pub fn new(m: Money) -> Result<Amount, MoneyError> {
        if m.is_negative() {
            Err(MoneyError::Negative(m.to_string()))
        } else {
            Ok(Amount(m))
        }
    }

    /// From stored fen; negative fen are refused.
    pub fn from_fen(fen: i64) -> Result<Amount, MoneyError> {
        Amount::new(Money::from_fen(fen))
    }

    /// Parses yuan as typed; negative and over-precise values are refused.
    pub fn parse(raw: &str) -> Result<Amount, MoneyError> {
        Amount::new(Money::parse(raw)?)
    }

    /// The signed money it is.
    pub fn money(self) -> Money {
        self.0
    }

    /// Whole fen.
    pub fn fen(self) -> i64 {
        self.0.fen()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Amount::new(Money::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_is_half_up_not_half_even() {
        assert_eq!(Money::from_decimal_rounded(dec!(0.125)).unwrap().fen(), 13);
        assert_eq!(Money::from_decimal_rounded(dec!(0.135)).unwrap().fen(), 14);
        assert_eq!(Money::from_decimal_rounded(dec!(2.345)).unwrap().fen(), 235);
        assert_eq!(
            Money::from_decimal_rounded(dec!(2.3449)).unwrap().fen(),
            234
        );
        assert_eq!(
            Money::from_decimal_rounded(dec!(-0.125)).unwrap().fen(),
            -13
        );
    }

    #[test]
    fn parsing_is_exact_to_the_fen() {
        assert_eq!(Money::parse("1234.5").unwrap().fen(), 123450);
        assert_eq!(Money::parse(" 1234.50 ").unwrap().fen(), 123450);
        assert_eq!(Money::parse("0").unwrap().fen(), 0);
        assert_eq!(Money::parse("1.230").unwrap().fen(), 123);
        assert!(matches!(
            Money::parse("1.234"),
            Err(MoneyError::TooPrecise(_))
        ));
        for bad in ["", "abc", "1,234.00", "1e3", "¥12", "12元", "NaN"] {
            assert!(
                matches!(Money::parse(bad), Err(MoneyError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Money::parse("99999999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn wan_is_rounded_half_up_to_two_places() {
        assert_eq!(
            Money::from_fen(7_619_590_000).to_wan().to_string(),
            "7619.59"
        );
        assert_eq!(
            Money::from_fen(4_125_000_000).to_wan().to_string(),
            "4125.00"
        );
        assert_eq!(Money::from_fen(5_000).to_wan().to_string(), "0.01");
        assert_eq!(Money::from_fen(4_999).to_wan().to_string(), "0.00");
    }

    #[test]
    fn json_is_a_string_with_two_decimals() {
        assert_eq!(
            serde_json::to_string(&Money::from_fen(123450)).unwrap(),
            "\"1234.50\""
        );
        assert_eq!(
            serde_json::to_string(&Money::from_fen(-5)).unwrap(),
            "\"-0.05\""
        );
        let m: Money = serde_json::from_str("\"1234.5\"").unwrap();
        assert_eq!(m.fen(), 123450);
        let m: Money = serde_json::from_str("12").unwrap();
        assert_eq!(m.fen(), 1200);
        assert!(serde_json::from_str::<Money>("12.5").is_err());
    }

    #[test]
    fn amounts_refuse_negatives() {
        assert!(Amount::parse("-0.01").is_err());
        assert!(serde_json::from_str::<Amount>("\"-1\"").is_err());
        assert_eq!(Amount::parse("0.01").unwrap().fen(), 1);
        assert!(Amount::from_fen(-1).is_err());
    }

    proptest! {
        #[test]
        fn fen_round_trip_through_text_and_json(fen in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
            prop_assert_eq!(Money::from_decimal_exact(m.to_decimal()).unwrap(), m);
        }

        #[test]
        fn rounding_moves_less_than_half_a_fen(mills in -10_000_000i64..10_000_000) {
            let d = Decimal::new(mills, 3);
            let m = Money::from_decimal_rounded(d).unwrap();
            let diff = (m.to_decimal() - d).abs();
            prop_assert!(diff <= dec!(0.005));
            // Ties go away from zero.
            if diff == dec!(0.005) {
                prop_assert!(m.to_decimal().abs() > d.abs());
            }
        }
    }
}
