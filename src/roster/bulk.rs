//! Set-at-a-time statements for the import writer.
//!
//! An import writes up to a million rows in one transaction. Built with the query builder, with
//! thousand-value `IN` lists that PostgreSQL plans afresh for every batch, the writing took up to
//! twenty times as long as the parsing. Here a batch is a handful of statements whose text is
//! the same batch after batch, so both drivers prepare each one once per connection: SQLite gets
//! multi-row `VALUES` with bound parameters, PostgreSQL a single JSON array parameter that it
//! unpacks with `json_array_elements`.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

/// SQLite binds at most 32766 parameters per statement.
const SQLITE_MAX_PARAMS: usize = 32_000;

/// A column written by a bulk statement, with the type PostgreSQL casts its JSON text to.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    name: &'static str,
    pg_type: &'static str,
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

fn json_of(v: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::String(s) => s.map_or(J::Null, J::String),
        Value::BigInt(i) => i.map_or(J::Null, J::from),
        Value::Int(i) => i.map_or(J::Null, J::from),
        Value::Bool(b) => b.map_or(J::Null, J::Bool),
        Value::ChronoDate(d) => d.map_or(J::Null, |d| J::String(d.to_string())),
        Value::ChronoDateTimeUtc(t) => t.map_or(J::Null, |t| J::String(t.to_rfc3339())),
        // Stored as its text so that `->>` hands PostgreSQL the document to cast back.
        Value::Json(j) => j.map_or(J::Null, |j| J::String(j.to_string())),
        other => unreachable!("bulk statements do not carry {other:?}"),
    }
}

fn pg_rows(rows: Vec<Vec<Value>>) -> Value {
    let doc: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| serde_json::Value::Array(r.into_iter().map(json_of).collect()))
        .collect();
    Value::String(Some(serde_json::Value::Array(doc).to_string()))
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
                "INSERT INTO {table} ({}) SELECT {} FROM json_array_elements($1::json) AS r {suffix}",
                names(cols),
                pg_fields(cols, 0).join(", ")
            );
            let stmt = Statement::from_sql_and_values(backend, sql, [pg_rows(rows)]);
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
                "UPDATE {table} SET {} FROM json_array_elements($1::json) AS r WHERE {table}.{} = (r->>0)::{}",
                sets.join(", "),
                key.name,
                key.pg_type
            );
            let stmt = Statement::from_sql_and_values(backend, sql, [pg_rows(rows)]);
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
                "{select} WHERE {} IN (SELECT v::{} FROM json_array_elements_text($1::json) AS v)",
                key.name, key.pg_type
            );
            let list = serde_json::Value::Array(values.into_iter().map(json_of).collect());
            let stmt = Statement::from_sql_and_values(
                backend,
                sql,
                [Value::String(Some(list.to_string()))],
            );
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
