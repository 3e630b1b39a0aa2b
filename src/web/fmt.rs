//! How the pages write money, 万元, dates and ID numbers, so every page writes them alike.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::{IdNumber, Money};

/// `1234567.8` → `1,234,567.80`: yuan with two decimals and thousands separators.
pub fn money(m: Money) -> String {
    grouped(m.to_decimal().round_dp(2), 2)
}

/// Yuan in 万元 with two decimals and separators (`76,195,900.00` yuan → `7,619.59`), as
/// managers read totals.
pub fn wan(m: Money) -> String {
    grouped(m.to_wan().round_dp(2), 2)
}

/// A whole number with thousands separators.
pub fn count(n: impl Into<i128>) -> String {
    grouped(Decimal::from_i128_with_scale(n.into(), 0), 0)
}

fn grouped(d: Decimal, dp: u32) -> String {
    let text = format!("{:.*}", dp as usize, d.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 1);
    if d.is_sign_negative() && !d.is_zero() {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A moment as the clerk's wall clock shows it: `2026-11-29 14:05`.
pub fn at(t: &DateTime<Utc>) -> String {
    crate::clock::local(*t).format("%Y-%m-%d %H:%M").to_string()
}

/// An ID number as lists show it (`220102********1234`): whole only where the work needs it.
pub fn masked_id(raw: &str) -> String {
    if raw.contains('*') {
        // Masked already (views mask for roles that do not need the whole number).
        return raw.to_owned();
    }
    match IdNumber::parse(raw) {
        Ok(id) => id.masked(),
        Err(_) => "*".repeat(raw.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_separators_and_two_decimals() {
        assert_eq!(money(Money::from_fen(123_456_780)), "1,234,567.80");
        assert_eq!(money(Money::from_fen(5)), "0.05");
        assert_eq!(money(Money::from_fen(-100_000)), "-1,000.00");
        assert_eq!(money(Money::ZERO), "0.00");
        assert_eq!(wan(Money::from_fen(7_619_590_000)), "7,619.59");
        assert_eq!(count(18_089u32), "18,089");
        assert_eq!(count(999u32), "999");
    }

    #[test]
    fn lists_mask_id_numbers() {
        assert_eq!(masked_id("11010519491231002X"), "110105********002X");
        assert_eq!(masked_id("110105********002X"), "110105********002X");
    }
}
