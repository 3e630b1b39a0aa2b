//! The plan of a validated import, as the clerk reads it before activating: who would be
//! added, whose entry would change (before → after), and whose coverage would end. Paged for
//! the pages and the API, and as a CSV file a chunk at a time.
//!
//! The same lists stay after activation: they are then what the import did.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::domain::{Group, Lang};
use crate::export_safe::write_csv_record;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// New entries.
    Added,
    /// Entries whose dates, region, name or extra data change, or that are reopened.
    Updated,
    /// Entries a full import ends.
    Ended,
}

impl Kind {
    /// Every list, in the order shown.
    pub const ALL: [Kind; 3] = [Kind::Added, Kind::Updated, Kind::Ended];

    /// The code of the `kind` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Updated => "updated",
            Kind::Ended => "ended",
        }
    }

    /// Reads the `kind` parameter.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// The list's title, before activation (`pending`) or after.
    pub fn label(self, lang: Lang, pending: bool) -> &'static str {
        match (self, pending) {
            (Kind::Added, true) => lang.pick("将新增", "To be added"),
            (Kind::Updated, true) => lang.pick("将变更", "To be changed"),
            (Kind::Ended, true) => lang.pick("将终止", "To be ended"),
            (Kind::Added, false) => lang.pick("已新增", "Added"),
            (Kind::Updated, false) => lang.pick("已变更", "Changed"),
            (Kind::Ended, false) => lang.pick("已终止", "Ended"),
        }
    }
}

/// An entry's values before the import.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Before {
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub region_code: Option<String>,
    pub name: Option<String>,
}

/// One person of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    /// Sheet and row of the file (None for an entry ended because the file no longer lists it).
    pub sheet: Option<String>,
    pub row: Option<i64>,
    pub id_number: String,
    pub name: String,
    /// Group code.
    pub group: String,
    pub region_code: String,
    /// The entry's period after the import (for ended: the period it had).
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// For changed entries: the values before.
    pub before: Option<Before>,
}

impl ChangeView {
    /// The ID number as pages show it: masked (whole in the CSV the clerk checks the file
    /// against).
    pub fn id_masked(&self) -> String {
        crate::domain::IdNumber::parse(&self.id_number)
            .map(|id| id.masked())
            .unwrap_or_else(|_| self.id_number.clone())
    }

    /// The group's Chinese name, for the pages and the CSV.
    pub fn group_label(&self) -> &str {
        Group::parse(&self.group).map_or(self.group.as_str(), |g| g.label_zh())
    }
}

const ROWS: &str = "SELECT seq, sheet, row_number, id_number, name, group_code, region_code, valid_from, valid_to, \
     before_valid_from, before_valid_to, before_region_code, before_name \
     FROM roster_import_rows WHERE import_id = ? AND action = ?";
const ENDS: &str = "SELECT x.entry_id, CAST(NULL AS TEXT), CAST(NULL AS BIGINT), p.id_number, e.name_on_roster, \
     e.group_code, e.region_code, e.valid_from, e.valid_to, CAST(NULL AS DATE), CAST(NULL AS DATE), \
     CAST(NULL AS TEXT), CAST(NULL AS TEXT) \
     FROM roster_import_ends x JOIN roster_entries e ON e.id = x.entry_id JOIN persons p ON p.id = x.person_id \
     WHERE x.import_id = ?";

fn query(kind: Kind, import_id: i64, sheet: Option<&str>) -> (String, Vec<sea_orm::Value>) {
    match kind {
        Kind::Ended => (ENDS.to_owned(), vec![import_id.into()]),
        k => {
            let mut sql = ROWS.to_owned();
            let mut values = vec![import_id.into(), k.code().into()];
            if let Some(s) = sheet {
                sql.push_str(" AND sheet = ?");
                values.push(s.into());
            }
            (sql, values)
        }
    }
}

fn key_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Ended => "x.entry_id",
        _ => "seq",
    }
}

fn view(r: &sea_orm::QueryResult) -> Result<(i64, ChangeView), DbErr> {
    let before_from: Option<NaiveDate> = r.try_get_by_index(9)?;
    let before_to: Option<NaiveDate> = r.try_get_by_index(10)?;
    let before_region: Option<String> = r.try_get_by_index(11)?;
    let before_name: Option<String> = r.try_get_by_index(12)?;
    let key: i64 = r.try_get_by_index(0)?;
    Ok((
        key,
        ChangeView {
            sheet: r.try_get_by_index(1)?,
            row: r.try_get_by_index(2)?,
            id_number: r.try_get_by_index(3)?,
            name: r.try_get_by_index(4)?,
            group: r.try_get_by_index(5)?,
            region_code: r.try_get_by_index(6)?,
            valid_from: r.try_get_by_index(7)?,
            valid_to: r.try_get_by_index(8)?,
            before: (before_from.is_some() || before_name.is_some()).then_some(Before {
                valid_from: before_from,
                valid_to: before_to,
                region_code: before_region,
                name: before_name,
            }),
        },
    ))
}

/// One page of a list (from 1) and how many there are in all.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    import_id: i64,
    kind: Kind,
    sheet: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<ChangeView>, u64), DbErr> {
    let backend = db.get_database_backend();
    let (sql, values) = query(kind, import_id, sheet);
    let count_sql = format!("SELECT COUNT(*) FROM ({sql}) AS q");
    let total: i64 = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &count_sql),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    let paged = format!(
        "{sql} ORDER BY {} LIMIT {per_page} OFFSET {}",
        key_column(kind),
        (page.max(1) - 1) * per_page
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &paged),
            values,
        ))
        .await?;
    let items = rows
        .iter()
        .map(|r| view(r).map(|(_, v)| v))
        .collect::<Result<_, _>>()?;
    Ok((items, total as u64))
}

/// Rows read per chunk of the CSV.
const CHUNK: u64 = 5000;

async fn chunk_after(
    db: &DatabaseConnection,
    import_id: i64,
    kind: Kind,
    after: i64,
) -> Result<Vec<(i64, ChangeView)>, DbErr> {
    let backend = db.get_database_backend();
    let (sql, mut values) = query(kind, import_id, None);
    let sql = format!(
        "{sql} AND {key} > ? ORDER BY {key} LIMIT {CHUNK}",
        key = key_column(kind)
    );
    values.push(after.into());
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(backend, &sql),
        values,
    ))
    .await?
    .iter()
    .map(view)
    .collect()
}

fn headers(lang: Lang) -> [&'static str; 12] {
    [
        lang.pick("工作表", "Sheet"),
        lang.pick("行号", "Row"),
        lang.pick("身份证号码", "ID number"),
        lang.pick("姓名", "Name"),
        lang.pick("救助类别", "Group"),
        lang.pick("行政区划代码", "Region"),
        lang.pick("起始日期", "From"),
        lang.pick("终止日期", "To"),
        lang.pick("原起始日期", "From before"),
        lang.pick("原终止日期", "To before"),
        lang.pick("原行政区划代码", "Region before"),
        lang.pick("原姓名", "Name before"),
    ]
}

fn csv_lines(rows: &[(i64, ChangeView)], lang: Lang, header: bool) -> Vec<u8> {
    let mut out = if header {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    {
        let mut w = csv::Writer::from_writer(&mut out);
        if header {
            let _ = write_csv_record(&mut w, headers(lang));
        }
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        for (_, c) in rows {
            let b = c.before.clone();
            let fields = [
                c.sheet.clone().unwrap_or_default(),
                c.row.map(|r| r.to_string()).unwrap_or_default(),
                c.id_number.clone(),
                c.name.clone(),
                c.group_label().to_owned(),
                c.region_code.clone(),
                c.valid_from.to_string(),
                date(c.valid_to),
                date(b.as_ref().and_then(|b| b.valid_from)),
                date(b.as_ref().and_then(|b| b.valid_to)),
                b.as_ref()
                    .and_then(|b| b.region_code.clone())
                    .unwrap_or_default(),
                b.and_then(|b| b.name).unwrap_or_default(),
            ];
            let _ = write_csv_record(&mut w, fields.iter().map(String::as_str));
        }
        let _ = w.flush();
    }
    out
}

/// A whole list as UTF-8 CSV with a byte-order mark, read and sent a chunk at a time.
pub async fn csv(
    db: &DatabaseConnection,
    import_id: i64,
    kind: Kind,
    lang: Lang,
) -> Result<mpsc::Receiver<std::io::Result<Vec<u8>>>, DbErr> {
    let first = chunk_after(db, import_id, kind, i64::MIN).await?;
    let (tx, rx) = mpsc::channel(4);
    let db = db.clone();
    tokio::spawn(async move {
        let mut rows = first;
        let mut header = true;
        loop {
            let last = rows.last().map(|(k, _)| *k);
            let bytes = csv_lines(&rows, lang, header);
            header = false;
            if tx.send(Ok(bytes)).await.is_err() {
                return;
            }
            let Some(after) = last.filter(|_| rows.len() as u64 == CHUNK) else {
                return;
            };
            rows = match chunk_after(&db, import_id, kind, after).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(import_id, error = %e, "import plan CSV cut short");
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
            };
        }
    });
    Ok(rx)
}
