//! PostgreSQL statements for the import's validation (`super::store::PgStore`).
//!
//! A validation stages up to a million rows in one transaction. Staged rows and rejected rows
//! go in with binary `COPY`, which PostgreSQL reads with no planning, no per-row casts and no
//! text to parse; a plain multi-row insert, one `jsonb` array per batch, cost three times as
//! much server time. Look-ups carry a batch as a single JSON array parameter unpacked with
//! `jsonb_array_elements` (`jsonb`, not `json`, whose `->>` parses the element again for every
//! field: twice as slow), so their text is the same batch after batch and is prepared once;
//! thousand-value `IN` lists were planned afresh for every batch.

use chrono::Datelike;
use sea_orm::Value;

/// A column written by a bulk statement, with the type PostgreSQL casts its JSON text to.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    name: &'static str,
    pg_type: &'static str,
}

impl Col {
    /// The column's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// A column and its PostgreSQL type (`text`, `bigint`, `date`, `timestamptz`, `json`).
pub const fn col(name: &'static str, pg_type: &'static str) -> Col {
    Col { name, pg_type }
}

/// The columns' names, comma-separated.
pub fn names(cols: &[Col]) -> String {
    cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

fn fits(row: &[Value], cols: &[Col]) -> Result<(), String> {
    if row.len() == cols.len() {
        Ok(())
    } else {
        Err(format!(
            "a row of {} values for {} columns",
            row.len(),
            cols.len()
        ))
    }
}

/// Whether the value is the NULL of one of the kinds the import writes.
pub fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::String(None)
            | Value::BigInt(None)
            | Value::Int(None)
            | Value::Bool(None)
            | Value::ChronoDate(None)
            | Value::ChronoDateTimeUtc(None)
            | Value::Json(None)
    )
}

/// Appends a value as JSON; text goes through serde_json for the escaping.
fn push_json(out: &mut String, v: &Value) {
    use std::fmt::Write;
    let quoted = |out: &mut String, s: &str| {
        out.push_str(&serde_json::to_string(s).expect("a string serialises"));
    };
    match v {
        Value::String(Some(s)) => quoted(out, s),
        Value::BigInt(Some(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Int(Some(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Bool(Some(b)) => out.push_str(if *b { "true" } else { "false" }),
        Value::ChronoDate(Some(d)) => {
            let _ = write!(out, "\"{d}\"");
        }
        Value::ChronoDateTimeUtc(Some(t)) => {
            let _ = write!(out, "\"{}\"", t.to_rfc3339());
        }
        // As its text, so that `->>` hands PostgreSQL the document to cast back.
        Value::Json(Some(j)) => quoted(out, &j.to_string()),
        v if is_null(v) => out.push_str("null"),
        other => unreachable!("bulk statements do not carry {other:?}"),
    }
}

/// The rows as one JSON array of arrays, written straight into text: no tree of values.
pub fn pg_rows(rows: &[Vec<Value>]) -> String {
    let mut out = String::with_capacity(rows.len() * 128);
    out.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_json(&mut out, v);
        }
        out.push(']');
    }
    out.push(']');
    out
}

/// `select WHERE key IN <$1 keys>`; `select` ends where the `WHERE` clause would begin, and the
/// keys come as one-element rows. Written as an index look-up per key (a `LATERAL` subquery
/// that `OFFSET 0` keeps from being flattened into a join): as `key IN (...)` PostgreSQL was
/// free to plan a batch of thousands of keys as a join over the whole table.
pub fn select_in_sql(select: &str, key: Col) -> String {
    format!(
        "SELECT t.* FROM (SELECT DISTINCT (r->>0)::{ty} AS k \
         FROM jsonb_array_elements($1::jsonb) AS r) AS keys \
         CROSS JOIN LATERAL ({select} WHERE {name} = keys.k OFFSET 0) AS t",
        ty = key.pg_type,
        name = key.name,
    )
}

/// Appends the rows in `COPY ... FROM STDIN (FORMAT binary)` format: the server parses no
/// text for them (in text format, reading the dates, numbers and timestamps of a million
/// rows was a tenth of its work). Each value must be of its column's type; NULL is any kind's.
pub fn copy_binary(cols: &[Col], rows: &[Vec<Value>], out: &mut Vec<u8>) -> Result<(), String> {
    // PostgreSQL counts dates and timestamps from 2000-01-01.
    const EPOCH_DAYS: i64 = 10_957;
    const EPOCH_MICROS: i64 = EPOCH_DAYS * 86_400_000_000;
    fn field(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), String> {
        let len = i32::try_from(bytes.len()).map_err(|_| "a value over 2 GB".to_owned())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
    let width = i16::try_from(cols.len()).map_err(|_| "too many columns".to_owned())?;
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for row in rows {
        fits(row, cols)?;
        out.extend_from_slice(&width.to_be_bytes());
        for (c, v) in cols.iter().zip(row) {
            match (c.pg_type, v) {
                (_, v) if is_null(v) => out.extend_from_slice(&(-1i32).to_be_bytes()),
                ("text" | "json", Value::String(Some(s))) => field(out, s.as_bytes())?,
                ("json", Value::Json(Some(j))) => field(out, j.to_string().as_bytes())?,
                ("bigint", Value::BigInt(Some(i))) => field(out, &i.to_be_bytes())?,
                ("bool", Value::Bool(Some(b))) => field(out, &[u8::from(*b)])?,
                ("date", Value::ChronoDate(Some(d))) => {
                    let days = i64::from(d.num_days_from_ce()) - 719_163 - EPOCH_DAYS;
                    field(out, &(days as i32).to_be_bytes())?
                }
                ("timestamptz", Value::ChronoDateTimeUtc(Some(t))) => {
                    field(out, &(t.timestamp_micros() - EPOCH_MICROS).to_be_bytes())?
                }
                (ty, v) => return Err(format!("{v:?} does not fit the {ty} column {}", c.name)),
            }
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_rows_are_valid_json_with_nulls_escapes_and_documents() {
        let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 31).unwrap();
        let rows = vec![
            vec![
                Value::BigInt(Some(7)),
                Value::String(Some("买买提·\"吐尔逊\"\\\n".into())),
                Value::ChronoDate(Some(date)),
                Value::ChronoDate(None),
                Value::Json(Some(Box::new(serde_json::json!({"户主": "a\"b"})))),
                Value::Json(None),
            ],
            vec![Value::BigInt(None)],
        ];
        let text = pg_rows(&rows);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0][0], 7);
        assert_eq!(back[0][1], "买买提·\"吐尔逊\"\\\n");
        assert_eq!(back[0][2], "2020-01-31");
        assert!(back[0][3].is_null() && back[0][5].is_null() && back[1][0].is_null());
        let doc: serde_json::Value = serde_json::from_str(back[0][4].as_str().unwrap()).unwrap();
        assert_eq!(doc["户主"], "a\"b");
    }

    #[test]
    fn copy_binary_writes_what_postgresql_reads() {
        let cols = [
            col("a", "text"),
            col("b", "bigint"),
            col("c", "date"),
            col("d", "timestamptz"),
            col("e", "json"),
        ];
        let at = chrono::DateTime::parse_from_rfc3339("2000-01-02T00:00:00.000001Z")
            .unwrap()
            .to_utc();
        let rows = vec![vec![
            Value::String(Some("a\tb".into())),
            Value::BigInt(Some(-3)),
            Value::ChronoDate(Some(chrono::NaiveDate::from_ymd_opt(1999, 12, 31).unwrap())),
            Value::ChronoDateTimeUtc(Some(at)),
            Value::String(None),
        ]];
        let mut out = Vec::new();
        copy_binary(&cols, &rows, &mut out).unwrap();
        let mut want = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend_from_slice(&[0, 5]);
        want.extend_from_slice(&[0, 0, 0, 3, b'a', b'\t', b'b']);
        want.extend_from_slice(&[0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 253]);
        want.extend_from_slice(&[0, 0, 0, 4, 255, 255, 255, 255]);
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(&86_400_000_001i64.to_be_bytes());
        want.extend_from_slice(&[255, 255, 255, 255, 255, 255]);
        assert_eq!(out, want);
        let wrong = vec![vec![Value::BigInt(Some(1)); 5]];
        assert!(copy_binary(&cols, &wrong, &mut Vec::new()).is_err());
    }
}
