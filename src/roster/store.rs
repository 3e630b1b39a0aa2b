//! Where the validation's statements go: the same few operations on each database, each done
//! the way that database does them fastest. Validation reads people and entries and writes
//! only the staged plan and the rejected rows (`roster::activate` applies the plan).
//!
//! - PostgreSQL ([`PgStore`]): the import's pooled connection through sqlx, a batch in a
//!   handful of round trips: new rows by `COPY`, look-ups set at a time ([`super::bulk`]).
//! - SQLite ([`SqliteStore`]): the import's own pooled connection, driven through its raw
//!   handle with one-row statements prepared once. SQLite runs in-process, so a row costs no
//!   round trip; what costs is the driver around it: through sqlx every value of a million
//!   rows was boxed, sent to the connection's worker thread and freed there, and the writer
//!   spent more time on that than SQLite on its B-trees.

use chrono::{NaiveDate, SecondsFormat};
use rusqlite::types::{ToSqlOutput, ValueRef};
use sea_orm::sqlx::postgres::{PgConnection, PgRow};
use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use sea_orm::{DbBackend, DbErr, Statement, Value};
use sea_query_sqlx::SqlxValues;

use super::bulk::{self, Col};
use crate::domain::Group;

/// What the writer needs of an existing entry to decide whether a row continues it; the
/// fields are the `roster_entries` columns of the same names.
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub id: i64,
    pub person_id: i64,
    pub group_code: String,
    pub region_code: String,
    pub name_on_roster: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub extra: Option<serde_json::Value>,
    /// Set while the entry is ended by a full import: a row listing the person again reopens it.
    pub ended_by_import_id: Option<i64>,
}

const EXISTING: &str = "SELECT id, person_id, group_code, region_code, name_on_roster, \
     valid_from, valid_to, extra, ended_by_import_id FROM roster_entries";

/// (id, id_number, name, region_code) of a person.
pub type PersonRow = (i64, String, String, String);

/// The operations of an import's transaction; rows are values in the order of their columns.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// The database, for statements built by SeaORM.
    fn backend(&self) -> DbBackend;
    /// Inserts rows.
    async fn insert(
        &mut self,
        table: &str,
        cols: &[Col],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), DbErr>;
    /// The people with these ID numbers.
    async fn persons(&mut self, id_numbers: Vec<String>) -> Result<Vec<PersonRow>, DbErr>;
    /// Every entry of these people.
    async fn entries_of(&mut self, person_ids: Vec<i64>) -> Result<Vec<Existing>, DbErr>;
    /// (entry id, person id) of the scope's entries that started before `effective` and still
    /// cover it.
    async fn current_entries(
        &mut self,
        group: Group,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<Vec<(i64, i64)>, DbErr>;
    /// How many people hold an entry of the scope (of `group`, or of any group) that started
    /// before `effective` and still covers it: counted by the database, not fetched.
    async fn covered(
        &mut self,
        group: Option<Group>,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<i64, DbErr>;
    /// Any other statement, built by SeaORM for this database.
    /// Runs one statement; answers the rows it changed.
    async fn execute(&mut self, stmt: Statement) -> Result<u64, DbErr>;
}

/// The import's PostgreSQL connection, inside its transaction: new rows go in by `COPY`.
pub struct PgStore<'a> {
    conn: &'a mut PgConnection,
    buf: Vec<u8>,
}

fn pg_err(e: sqlx::Error) -> DbErr {
    DbErr::Custom(format!("PostgreSQL: {e}"))
}

impl<'a> PgStore<'a> {
    /// A store on the connection; the caller owns the transaction.
    pub fn new(conn: &'a mut PgConnection) -> Self {
        PgStore {
            conn,
            buf: Vec::new(),
        }
    }

    async fn copy(&mut self, table: &str, cols: &[Col], rows: &[Vec<Value>]) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        bulk::copy_binary(cols, rows, &mut self.buf).map_err(DbErr::Custom)?;
        let sql = format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            bulk::names(cols)
        );
        let mut copy = self.conn.copy_in_raw(&sql).await.map_err(pg_err)?;
        if let Err(e) = copy.send(self.buf.as_slice()).await {
            let _ = copy.abort(e.to_string()).await;
            return Err(pg_err(e));
        }
        copy.finish().await.map_err(pg_err).map(|_| ())
    }

    async fn fetch(&mut self, sql: &str, rows: &[Vec<Value>]) -> Result<Vec<PgRow>, DbErr> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(bulk::pg_rows(rows))
            .fetch_all(&mut *self.conn)
            .await
            .map_err(pg_err)
    }

    fn keys(keys: impl IntoIterator<Item = Value>) -> Vec<Vec<Value>> {
        keys.into_iter().map(|k| vec![k]).collect()
    }
}

impl Store for PgStore<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn insert(
        &mut self,
        table: &str,
        cols: &[Col],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), DbErr> {
        self.copy(table, cols, &rows).await
    }

    async fn persons(&mut self, id_numbers: Vec<String>) -> Result<Vec<PersonRow>, DbErr> {
        if id_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let sql = bulk::select_in_sql(
            "SELECT id, id_number, name, region_code FROM persons",
            bulk::col("id_number", "text"),
        );
        let keys = Self::keys(id_numbers.into_iter().map(|k| Value::String(Some(k))));
        self.fetch(&sql, &keys)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(pg_err)
    }

    async fn entries_of(&mut self, person_ids: Vec<i64>) -> Result<Vec<Existing>, DbErr> {
        if person_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = bulk::select_in_sql(EXISTING, bulk::col("person_id", "bigint"));
        let keys = Self::keys(person_ids.into_iter().map(|k| Value::BigInt(Some(k))));
        self.fetch(&sql, &keys)
            .await?
            .iter()
            .map(|r| {
                Ok(Existing {
                    id: r.try_get(0)?,
                    person_id: r.try_get(1)?,
                    group_code: r.try_get(2)?,
                    region_code: r.try_get(3)?,
                    name_on_roster: r.try_get(4)?,
                    valid_from: r.try_get(5)?,
                    valid_to: r.try_get(6)?,
                    extra: r.try_get(7)?,
                    ended_by_import_id: r.try_get(8)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(pg_err)
    }

    async fn current_entries(
        &mut self,
        group: Group,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<Vec<(i64, i64)>, DbErr> {
        // A region prefix is digits only, so it needs no escaping inside the pattern.
        sqlx::query_as(
            "SELECT id, person_id FROM roster_entries WHERE group_code = $1 \
             AND region_code LIKE $2 AND valid_from < $3 \
             AND (valid_to IS NULL OR valid_to >= $3)",
        )
        .bind(group.code())
        .bind(format!("{prefix}%"))
        .bind(effective)
        .fetch_all(&mut *self.conn)
        .await
        .map_err(pg_err)
    }

    async fn covered(
        &mut self,
        group: Option<Group>,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<i64, DbErr> {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT person_id) FROM roster_entries \
             WHERE ($1::text IS NULL OR group_code = $1) \
             AND region_code LIKE $2 AND valid_from < $3 \
             AND (valid_to IS NULL OR valid_to >= $3)",
        )
        .bind(group.map(|g| g.code()))
        .bind(format!("{prefix}%"))
        .bind(effective)
        .fetch_one(&mut *self.conn)
        .await
        .map_err(pg_err)
    }

    async fn execute(&mut self, stmt: Statement) -> Result<u64, DbErr> {
        let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
        sqlx::query_with(AssertSqlSafe(stmt.sql), SqlxValues(values))
            .execute(&mut *self.conn)
            .await
            .map(|r| r.rows_affected())
            .map_err(pg_err)
    }
}

/// The SQLite connection of the import, inside its `BEGIN IMMEDIATE` transaction.
pub struct SqliteStore<'a> {
    conn: &'a rusqlite::Connection,
    /// The writer stamps every row with the same instant: format it once.
    stamp: Option<(chrono::DateTime<chrono::Utc>, String)>,
}

fn sqlite_err(e: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("SQLite: {e}"))
}

/// YYYY-MM-DD, as sqlx writes a date (`%F`), without chrono's format-string interpreter: three
/// dates a row.
fn iso_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    if !(0..=9999).contains(&d.year()) {
        return d.format("%F").to_string();
    }
    let (y, m, day) = (d.year() as u32, d.month(), d.day());
    let digits = [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        m / 10,
        m % 10,
        day / 10,
        day % 10,
    ]
    .map(|n| char::from(b'0' + n as u8));
    let [a, b, c, e, f, g, h, i] = digits;
    [a, b, c, e, '-', f, g, '-', h, i].iter().collect()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn names(cols: &[Col]) -> String {
    cols.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
}

impl<'a> SqliteStore<'a> {
    /// A store on the connection; the caller owns the transaction.
    pub fn new(conn: &'a rusqlite::Connection) -> Self {
        SqliteStore { conn, stamp: None }
    }

    /// Binds values the way sqlx stores them, so that SeaORM reads them back unchanged.
    fn bind(&mut self, stmt: &mut rusqlite::Statement<'_>, values: &[Value]) -> Result<(), DbErr> {
        for (i, v) in values.iter().enumerate() {
            let text;
            let out = match v {
                Value::String(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
                Value::BigInt(Some(n)) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*n)),
                Value::Int(Some(n)) => {
                    ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*n)))
                }
                Value::Bool(Some(b)) => {
                    ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b)))
                }
                Value::ChronoDate(Some(d)) => {
                    text = iso_date(*d);
                    ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
                }
                Value::ChronoDateTimeUtc(Some(t)) => {
                    if self.stamp.as_ref().is_none_or(|(at, _)| at != t) {
                        let s = t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
                        self.stamp = Some((*t, s));
                    }
                    let s = &self.stamp.as_ref().expect("set above").1;
                    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
                }
                Value::Json(Some(j)) => {
                    text = j.to_string();
                    ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
                }
                v if bulk::is_null(v) => ToSqlOutput::Borrowed(ValueRef::Null),
                other => {
                    return Err(DbErr::Custom(format!(
                        "the import does not write {other:?}"
                    )));
                }
            };
            stmt.raw_bind_parameter(i + 1, out).map_err(sqlite_err)?;
        }
        Ok(())
    }

    fn run(&mut self, sql: &str, rows: Vec<Vec<Value>>) -> Result<u64, DbErr> {
        let conn = self.conn;
        let mut stmt = conn.prepare_cached(sql).map_err(sqlite_err)?;
        let mut changed = 0;
        for row in rows {
            self.bind(&mut stmt, &row)?;
            changed += stmt.raw_execute().map_err(sqlite_err)? as u64;
        }
        Ok(changed)
    }
}

impl Store for SqliteStore<'_> {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn insert(
        &mut self,
        table: &str,
        cols: &[Col],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), DbErr> {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names(cols),
            placeholders(cols.len())
        );
        self.run(&sql, rows).map(|_| ())
    }

    async fn persons(&mut self, id_numbers: Vec<String>) -> Result<Vec<PersonRow>, DbErr> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, id_number, name, region_code FROM persons WHERE id_number = ?",
            )
            .map_err(sqlite_err)?;
        let mut out = Vec::new();
        for k in id_numbers {
            let mut rows = stmt.query([k]).map_err(sqlite_err)?;
            while let Some(r) = rows.next().map_err(sqlite_err)? {
                out.push((
                    r.get(0).map_err(sqlite_err)?,
                    r.get(1).map_err(sqlite_err)?,
                    r.get(2).map_err(sqlite_err)?,
                    r.get(3).map_err(sqlite_err)?,
                ));
            }
        }
        Ok(out)
    }

    async fn entries_of(&mut self, person_ids: Vec<i64>) -> Result<Vec<Existing>, DbErr> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{EXISTING} WHERE person_id = ?"))
            .map_err(sqlite_err)?;
        let date = |s: String| {
            NaiveDate::parse_from_str(&s, "%F")
                .map_err(|e| DbErr::Custom(format!("a stored date '{s}': {e}")))
        };
        let mut out = Vec::new();
        for id in person_ids {
            let mut rows = stmt.query([id]).map_err(sqlite_err)?;
            while let Some(r) = rows.next().map_err(sqlite_err)? {
                let extra: Option<String> = r.get(7).map_err(sqlite_err)?;
                let valid_to: Option<String> = r.get(6).map_err(sqlite_err)?;
                out.push(Existing {
                    id: r.get(0).map_err(sqlite_err)?,
                    person_id: r.get(1).map_err(sqlite_err)?,
                    group_code: r.get(2).map_err(sqlite_err)?,
                    region_code: r.get(3).map_err(sqlite_err)?,
                    name_on_roster: r.get(4).map_err(sqlite_err)?,
                    valid_from: date(r.get(5).map_err(sqlite_err)?)?,
                    valid_to: valid_to.map(date).transpose()?,
                    extra: extra
                        .map(|t| serde_json::from_str(&t))
                        .transpose()
                        .map_err(|e| DbErr::Custom(format!("stored extra data: {e}")))?,
                    ended_by_import_id: r.get(8).map_err(sqlite_err)?,
                });
            }
        }
        Ok(out)
    }

    async fn current_entries(
        &mut self,
        group: Group,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<Vec<(i64, i64)>, DbErr> {
        // A region prefix is digits only, so it needs no escaping inside the pattern.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, person_id FROM roster_entries WHERE group_code = ?1 \
                 AND region_code LIKE ?2 AND valid_from < ?3 \
                 AND (valid_to IS NULL OR valid_to >= ?3)",
            )
            .map_err(sqlite_err)?;
        let day = effective.format("%F").to_string();
        let rows = stmt
            .query_map(
                rusqlite::params![group.code(), format!("{prefix}%"), day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sqlite_err)?;
        rows.collect::<Result<_, _>>().map_err(sqlite_err)
    }

    async fn covered(
        &mut self,
        group: Option<Group>,
        prefix: &str,
        effective: NaiveDate,
    ) -> Result<i64, DbErr> {
        let day = effective.format("%F").to_string();
        self.conn
            .query_row(
                "SELECT COUNT(DISTINCT person_id) FROM roster_entries \
                 WHERE (?1 IS NULL OR group_code = ?1) \
                 AND region_code LIKE ?2 AND valid_from < ?3 \
                 AND (valid_to IS NULL OR valid_to >= ?3)",
                rusqlite::params![group.map(|g| g.code()), format!("{prefix}%"), day],
                |r| r.get(0),
            )
            .map_err(sqlite_err)
    }

    async fn execute(&mut self, stmt: Statement) -> Result<u64, DbErr> {
        let values = stmt.values.map(|v| v.0).unwrap_or_default();
        self.run(&stmt.sql, vec![values])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_sqlx_writes_them() {
        for (y, m, d) in [
            (2026, 1, 9),
            (1949, 12, 31),
            (987, 3, 4),
            (10000, 1, 1),
            (-5, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(date), date.format("%F").to_string());
        }
    }
}
