//! Reading request fields one at a time into domain types, so that every mistake in a body is
//! reported with its field and its code in one answer, instead of serde stopping at the first.

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::{Amount, Label, Lang, Money, Rate, choices};
use crate::error::{Msg, Problems};
use crate::fields::label;

/// Reports a missing field.
pub fn missing(field: &str, what_zh: &str, problems: &mut Problems) {
    problems.push(
        "required",
        field,
        Msg::new(
            format!("请填写{what_zh}。"),
            format!("{} is required.", label(field, Lang::En)),
        ),
    );
}

/// A state or kind given by its code (a list filter, a visit's kind): None when absent or
/// blank. An unknown code is refused with the codes the field takes, each with its name.
pub fn coded<T: entity::Coded + Label>(what_zh: &str, raw: Option<&str>) -> Result<Option<T>, Msg> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    T::all()
        .iter()
        .copied()
        .find(|v| v.code() == s)
        .map(Some)
        .ok_or_else(|| {
            Msg::new(
                format!("{what_zh}“{s}”无效：可用 {}。", choices::<T>(Lang::Zh)),
                format!("'{s}' is not valid here: use {}.", choices::<T>(Lang::En)),
            )
        })
}

/// An amount of yuan: a string such as "1234.50" (or a whole JSON number); a JSON fraction is
/// refused because it has already been through a binary float.
pub fn amount(
    field: &str,
    what_zh: &str,
    v: Option<&Value>,
    problems: &mut Problems,
) -> Option<Amount> {
    let parsed = match v {
        None | Some(Value::Null) => {
            missing(field, what_zh, problems);
            return None;
        }
        Some(Value::String(s)) => Amount::parse(s),
        Some(Value::Number(n)) if n.is_i64() => {
            Amount::new(Money::from_yuan(n.as_i64().unwrap_or_default()))
        }
        Some(Value::Number(n)) => {
            problems.push(
                "amount_not_a_string",
                field,
                Msg::new(
                    format!("{what_zh}请以字符串填写，如 \"{n}\"：带小数的数字会失去精度。"),
                    format!(
                        "Write the {} as a string, such as \"{n}\": a JSON fraction loses precision.",
                        label(field, Lang::En).to_lowercase()
                    ),
                ),
            );
            return None;
        }
        Some(other) => Amount::parse(&other.to_string()),
    };
    parsed.map_err(|e| problems.push_err(field, &e)).ok()
}

/// A rate: "0.60" (or the JSON integer 1).
pub fn rate(field: &str, v: Option<&Value>, problems: &mut Problems) -> Option<Rate> {
    let parsed = match v {
        None | Some(Value::Null) => {
            missing(field, "救助比例", problems);
            return None;
        }
        Some(Value::String(s)) => Rate::parse(s),
        Some(Value::Number(n)) if n.is_i64() => Rate::parse(&n.to_string()),
        Some(Value::Number(n)) => {
            problems.push(
                "rate_not_a_string",
                field,
                Msg::new(
                    format!("救助比例请以字符串填写，如 \"{n}\"。"),
                    format!(
                        "Write the {} as a string, such as \"{n}\".",
                        label(field, Lang::En).to_lowercase()
                    ),
                ),
            );
            return None;
        }
        Some(other) => Rate::parse(&other.to_string()),
    };
    parsed.map_err(|e| problems.push_err(field, &e)).ok()
}

/// A date written YYYY-MM-DD; `None` when absent or empty (or malformed, which is reported).
pub fn date(field: &str, raw: Option<&str>, problems: &mut Problems) -> Option<NaiveDate> {
    let s = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            problems.push(
                "invalid_date",
                field,
                Msg::new(
                    format!(
                        "{}“{s}”不是有效日期：请用 YYYY-MM-DD，如 2025-03-01。",
                        label(field, Lang::Zh)
                    ),
                    format!(
                        "{} '{s}' is not a date: use YYYY-MM-DD, such as 2025-03-01.",
                        label(field, Lang::En)
                    ),
                ),
            );
            None
        }
    }
}

/// A date that must be there.
pub fn required_date(
    field: &str,
    what_zh: &str,
    raw: Option<&str>,
    problems: &mut Problems,
) -> Option<NaiveDate> {
    if raw.is_none_or(|s| s.trim().is_empty()) {
        missing(field, what_zh, problems);
        return None;
    }
    date(field, raw, problems)
}

/// A text of 1 to `max` characters after trimming.
pub fn text(
    field: &str,
    what_zh: &str,
    raw: Option<&str>,
    max: usize,
    problems: &mut Problems,
) -> Option<String> {
    let s = raw.map(str::trim).unwrap_or_default();
    if s.is_empty() {
        missing(field, what_zh, problems);
        return None;
    }
    if s.chars().count() > max {
        problems.push(
            "too_long",
            field,
            Msg::new(
                format!("{what_zh}最多{max}个字符。"),
                format!("{} has at most {max} characters.", label(field, Lang::En)),
            ),
        );
        return None;
    }
    Some(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_strings_or_whole_numbers() {
        let mut p = Problems::new();
        assert_eq!(
            amount("x", "金额", Some(&json!("12.5")), &mut p).map(|a| a.fen()),
            Some(1250)
        );
        assert_eq!(
            amount("x", "金额", Some(&json!(12)), &mut p).map(|a| a.fen()),
            Some(1200)
        );
        assert!(p.is_empty());
        assert_eq!(amount("x", "金额", Some(&json!(12.5)), &mut p), None);
        assert_eq!(amount("x", "金额", Some(&json!("1.005")), &mut p), None);
        assert_eq!(amount("x", "金额", Some(&json!("-1")), &mut p), None);
        assert_eq!(amount("x", "金额", None, &mut p), None);
        assert_eq!(
            p.codes(),
            [
                "amount_not_a_string",
                "amount_too_precise",
                "amount_negative",
                "required"
            ]
        );
    }

    #[test]
    fn dates_are_iso_and_empty_means_absent() {
        let mut p = Problems::new();
        assert_eq!(date("d", Some(""), &mut p), None);
        assert!(p.is_empty());
        assert_eq!(date("d", Some("2025/03/01"), &mut p), None);
        assert_eq!(required_date("d", "日期", None, &mut p), None);
        assert_eq!(p.codes(), ["invalid_date", "required"]);
    }
}
