//! Set-at-a-time statements for the import writer.
//!
//! An import writes up to a million rows in one transaction. Built with the query builder, with
//! thousand-value `IN` lists that PostgreSQL plans afresh for every batch, the writing took up to
//! twenty times as long as the parsing. Here a batch is a handful of statements whose text is
//! the same batch after batch, so both drivers prepare each one once per connection: SQLite gets
//! multi-row `VALUES` with bound parameters, PostgreSQL a single JSON array parameter that it
//! unpacks with `jsonb_array_elements` (`jsonb`, not `json`, whose `->>` parses the
//! element again for every field: twice as slow).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

/// SQLite binds at most 32766 parameters per statement.
const SQLITE_MAX_PARAMS: usize = 32_000;

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

fn names(cols: &[Col]) -> String {
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
fn pg_rows(rows: &[Vec<Value>]) -> Value {
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
    Value::String(Some(out))
}

fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2 + 2);
    s.push('(');
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s.push(')');
    s
}

fn sqlite_chunk(width: usize) -> usize {
    (SQLITE_MAX_PARAMS / width.max(1)).max(1)
}

/// `INSERT INTO table (cols) <rows> suffix`, where `suffix` may hold `ON CONFLICT ...` and
/// `RETURNING ...`; returns the returned rows.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    cols: &[Col],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> Result<Vec<QueryResult>, DbErr> {
    let mut out = Vec::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let backend = conn.get_database_backend();
    let returning = suffix.contains("RETURNING");
    match backend {
        DbBackend::Postgres => {
            let sql = format!(
                "INSERT INTO {table} ({}) SELECT {} FROM jsonb_array_elements($1::jsonb) AS r {suffix}",
                names(cols),
                pg_fields(cols, 0).join(", ")
            );
            let stmt = Statement::from_sql_and_values(backend, sql, [pg_rows(&rows)]);
            run(conn, stmt, returning, &mut out).await?;
        }
        _ => {
            let one = placeholders(cols.len());
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<Vec<Value>> = rows.by_ref().take(sqlite_chunk(cols.len())).collect();
                let tuples = vec![one.as_str(); chunk.len()].join(",");
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES {tuples} {suffix}",
                    names(cols)
                );
                let values: Vec<Value> = chunk.into_iter().flatten().collect();
                let stmt = Statement::from_sql_and_values(backend, sql, values);
                run(conn, stmt, returning, &mut out).await?;
            }
        }
    }
    Ok(out)
}

/// Sets `cols` of the rows whose `key` is each row's first value; returns the rows changed.
pub async fn update<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    key: Col,
    cols: &[Col],
    rows: Vec<Vec<Value>>,
) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    let mut changed = 0;
    match backend {
        DbBackend::Postgres => {
            let sets: Vec<String> = cols
                .iter()
                .zip(pg_fields(cols, 1))
                .map(|(c, f)| format!("{} = {f}", c.name))
                .collect();
            let sql = format!(
                "UPDATE {table} SET {} FROM jsonb_array_elements($1::jsonb) AS r WHERE {table}.{} = (r->>0)::{}",
                sets.join(", "),
                key.name,
                key.pg_type
            );
            let stmt = Statement::from_sql_and_values(backend, sql, [pg_rows(&rows)]);
            changed += conn.execute_raw(stmt).await?.rows_affected();
        }
        _ => {
            let width = cols.len() + 1;
            let one = placeholders(width);
            let sets: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} = u.column{}", c.name, i + 2))
                .collect();
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<Vec<Value>> = rows.by_ref().take(sqlite_chunk(width)).collect();
                let tuples = vec![one.as_str(); chunk.len()].join(",");
                let sql = format!(
                    "UPDATE {table} SET {} FROM (VALUES {tuples}) AS u WHERE {table}.{} = u.column1",
                    sets.join(", "),
                    key.name
                );
                let values: Vec<Value> = chunk.into_iter().flatten().collect();
                let stmt = Statement::from_sql_and_values(backend, sql, values);
                changed += conn.execute_raw(stmt).await?.rows_affected();
            }
        }
    }
    Ok(changed)
}

/// `select WHERE column IN (values)`, however many values there are; `select` ends where
/// the `WHERE` clause would begin.
pub async fn select_in<C: ConnectionTrait>(
    conn: &C,
    select: &str,
    key: Col,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let mut out = Vec::new();
    if values.is_empty() {
        return Ok(out);
    }
    let backend = conn.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            let sql = format!(
                "{select} WHERE {} IN (SELECT (r->>0)::{} FROM jsonb_array_elements($1::jsonb) AS r)",
                key.name, key.pg_type
            );
            // One-element rows, so that the same `(r->>0)` cast reads every kind of key.
            let rows: Vec<Vec<Value>> = values.into_iter().map(|v| vec![v]).collect();
            let stmt = Statement::from_sql_and_values(backend, sql, [pg_rows(&rows)]);
            out = conn.query_all_raw(stmt).await?;
        }
        _ => {
            let mut values = values.into_iter().peekable();
            while values.peek().is_some() {
                let chunk: Vec<Value> = values.by_ref().take(SQLITE_MAX_PARAMS).collect();
                let sql = format!(
                    "{select} WHERE {} IN {}",
                    key.name,
                    placeholders(chunk.len())
                );
                let stmt = Statement::from_sql_and_values(backend, sql, chunk);
                out.extend(conn.query_all_raw(stmt).await?);
            }
        }
    }
    Ok(out)
}

async fn run<C: ConnectionTrait>(
    conn: &C,
    stmt: Statement,
    returning: bool,
    out: &mut Vec<QueryResult>,
) -> Result<(), DbErr> {
    if returning {
        out.extend(conn.query_all_raw(stmt).await?);
    } else {
        conn.execute_raw(stmt).await?;
    }
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
        let Value::String(Some(text)) = pg_rows(&rows) else {
            panic!("text expected")
        };
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0][0], 7);
        assert_eq!(back[0][1], "买买提·\"吐尔逊\"\\\n");
        assert_eq!(back[0][2], "2020-01-31");
        assert!(back[0][3].is_null() && back[0][5].is_null() && back[1][0].is_null());
        let doc: serde_json::Value = serde_json::from_str(back[0][4].as_str().unwrap()).unwrap();
        assert_eq!(doc["户主"], "a\"b");
    }
}
