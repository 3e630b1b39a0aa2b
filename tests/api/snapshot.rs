//! Whole answers compared with reviewed snapshots (`tests/api/snapshots/`), in place of long
//! field-by-field comparisons. What differs from run to run is replaced first: record ids
//! and user ids by `[id]`, times by `[time]`, and the year the fixtures work in by `YYYY`, so
//! the same snapshot holds on SQLite and PostgreSQL, today and next year.
//!
//! A changed answer fails the test with a diff; `cargo insta review` (or `INSTA_UPDATE=always`)
//! accepts a deliberate change, which is then reviewed in the commit like code.

use serde_json::{Map, Value};

/// The answer with what varies between runs replaced.
pub fn stable(v: &Value, year: i32) -> Value {
    walk(None, v, &year.to_string())
}

fn walk(key: Option<&str>, v: &Value, year: &str) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), walk(Some(k), v, year)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| walk(key, i, year)).collect()),
        Value::Number(n) if key.is_some_and(is_id) && n.is_i64() => Value::from("[id]"),
        Value::Number(n) if key == Some("year") && n.to_string() == year => Value::from("YYYY"),
        Value::String(_) if key.is_some_and(|k| k.ends_with("_at")) => Value::from("[time]"),
        Value::String(s) if s.starts_with(year) => Value::from(format!("YYYY{}", &s[4..])),
        other => other.clone(),
    }
}

/// Keys that hold a record's or a user's id.
fn is_id(key: &str) -> bool {
    key == "id" || key.ends_with("_id") || key.ends_with("_by")
}
