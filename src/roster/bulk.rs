//! PostgreSQL statements for the import writer (`super::store::PgStore`).
//!
//! An import writes up to a million rows in one transaction. New rows go in with `COPY`, whose
//! text PostgreSQL reads with no planning and no per-row casts; a plain multi-row insert of
//! the entries, one `jsonb` array per batch, cost three times as much server time. Updates and
//! look-ups carry a batch as a single JSON array parameter unpacked with
//! `jsonb_array_elements` (`jsonb`, not `json`, whose `->>` parses the element again for every
//! field: twice as slow), so their text is the same batch after batch and is prepared once;
//! thousand-value `IN` lists were planned afresh for every batch.

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

/// `(r->>i)::type` for each column: JSON null becomes SQL NULL on the way.
fn pg_fields(cols: &[Col], offset: usize) -> Vec<String> {
    cols.iter()
        .enumerate()
        .map(|(i, c)| format!("(r->>{})::{}", i + offset, c.pg_type))
        .collect()
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

/// `UPDATE table SET cols = ... FROM <$1 rows>`, matching `key` to each row's first value.
pub fn update_sql(table: &str, key: Col, cols: &[Col]) -> String {
    let sets: Vec<String> = cols
        .iter()
        .zip(pg_fields(cols, 1))
        .map(|(c, f)| format!("{} = {f}", c.name))
        .collect();
    format!(
        "UPDATE {table} SET {} FROM jsonb_array_elements($1::jsonb) AS r WHERE {table}.{} = (r->>0)::{}",
        sets.join(", "),
        key.name,
        key.pg_type
    )
}

/// `select WHERE key IN <$1 keys>`; `select` ends where the `WHERE` clause would begin, and the
/// keys come as one-element rows.
pub fn select_in_sql(select: &str, key: Col) -> String {
    format!(
        "{select} WHERE {} IN (SELECT (r->>0)::{} FROM jsonb_array_elements($1::jsonb) AS r)",
        key.name, key.pg_type
    )
}

/// `CREATE TEMP TABLE` with the columns, for rows that must pass through SQL on their way in.
pub fn staging_sql(table: &str, cols: &[Col]) -> String {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("{} {}", c.name, c.pg_type))
        .collect();
    format!(
        "CREATE TEMP TABLE {table} ({}) ON COMMIT DROP",
        defs.join(", ")
    )
}

/// Appends the rows in `COPY ... FROM STDIN` text format: tab-separated, `\N` for NULL,
/// backslash escapes for the characters the format gives a meaning.
pub fn copy_text(rows: &[Vec<Value>], out: &mut Vec<u8>) {
    use std::io::Write;
    let escaped = |out: &mut Vec<u8>, s: &str| {
        for b in s.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    };
    for row in rows {
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                out.push(b'\t');
            }
            match v {
                Value::String(Some(s)) => escaped(out, s),
                Value::BigInt(Some(i)) => {
                    let _ = write!(out, "{i}");
                }
                Value::Int(Some(i)) => {
                    let _ = write!(out, "{i}");
                }
                Value::Bool(Some(b)) => out.push(if *b { b't' } else { b'f' }),
                Value::ChronoDate(Some(d)) => {
                    let _ = write!(out, "{d}");
                }
                Value::ChronoDateTimeUtc(Some(t)) => {
                    out.extend_from_slice(t.to_rfc3339().as_bytes())
                }
                Value::Json(Some(j)) => escaped(out, &j.to_string()),
                v if is_null(v) => out.extend_from_slice(b"\\N"),
                other => unreachable!("bulk statements do not carry {other:?}"),
            }
        }
        out.push(b'\n');
    }
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
    fn copy_text_escapes_what_the_format_reads() {
        let rows = vec![vec![
            Value::String(Some("a\tb\\c\nd".into())),
            Value::String(None),
            Value::BigInt(Some(-3)),
            Value::ChronoDate(Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 31).unwrap())),
            Value::Json(Some(Box::new(serde_json::json!({"k": "x\ty"})))),
        ]];
        let mut out = Vec::new();
        copy_text(&rows, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\\\\c\\nd\t\\N\t-3\t2020-01-31\t{\"k\":\"x\\\\ty\"}\n"
        );
    }
}
