//! Spending totals (救助支出统计): patients, visits (人次) and subsidy over a period, grouped by
//! any of year, month, group, city, county, hospital and visit kind, with the overall line.
//!
//! The figures come from one aggregate statement over `visits` (never rows loaded into Rust):
//! it filters on the leading columns of `idx_visits_report` and groups by columns that index
//! covers, so a year of a large programme is read from the index alone. Labels (region and
//! hospital names) are looked up afterwards for the few keys that came back.
//!
//! What counts (docs/domain.md, "Spending totals"): a visit counts on `counted_on`; visits (人次) are rows with a
//! subsidy above zero; a reversal is a row of its own with a negative subsidy, netted into the
//! subsidy under its own status; patients (人数) are distinct people with at least one counted
//! visit in the group, so the overall line is not the sum of the rows' patients.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, IsolationLevel, QueryFilter, QueryResult, TransactionTrait,
};
use serde::Serialize;

use entity::{hospital, region, visit};

use crate::domain::{Group, Lang, Money, RegionPrefix};
use crate::export_safe::{merge_text, write_csv_record, write_text};

/// A key the totals can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Calendar year of the counting date.
    Year,
    /// Calendar month of the counting date.
    Month,
    /// Assistance group (救助类别).
    Group,
    /// City or prefecture (市、州): the first four digits of the region code.
    City,
    /// County, district or county-level city (县、市、区): the whole region code.
    County,
    /// Hospital.
    Hospital,
    /// Inpatient or outpatient.
    VisitKind,
}

impl Dimension {
    /// Every key, in the order the API lists them.
    pub const ALL: [Dimension; 7] = [
        Dimension::Year,
        Dimension::Month,
        Dimension::Group,
        Dimension::City,
        Dimension::County,
        Dimension::Hospital,
        Dimension::VisitKind,
    ];

    /// The name in `group_by`.
    pub fn code(self) -> &'static str {
        match self {
            Dimension::Year => "year",
            Dimension::Month => "month",
            Dimension::Group => "group",
            Dimension::City => "city",
            Dimension::County => "county",
            Dimension::Hospital => "hospital",
            Dimension::VisitKind => "visit_kind",
        }
    }

    /// The column header in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Dimension::Year => lang.pick("年度", "Year"),
            Dimension::Month => lang.pick("月份", "Month"),
            Dimension::Group => lang.pick("救助类别", "Group"),
            Dimension::City => lang.pick("市（州）", "City"),
            Dimension::County => lang.pick("县（市、区）", "County"),
            Dimension::Hospital => lang.pick("医院", "Hospital"),
            Dimension::VisitKind => lang.pick("就诊类型", "Visit kind"),
        }
    }

    /// The key named in `group_by`, if it is one.
    pub fn parse(raw: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.code() == raw)
    }

    /// The keys a user may name, with their Chinese names, for error messages.
    pub fn allowed(lang: Lang) -> String {
        Dimension::ALL
            .iter()
            .map(|d| match lang {
                Lang::Zh => format!("{}（{}）", d.code(), d.label(Lang::Zh)),
                Lang::En => d.code().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    }

    fn expr(self, backend: DbBackend) -> Expr {
        Expr::cust(self.sql(backend))
    }

    /// The SQL expression of the key. Year and month are integers taken from the date (its
    /// text on SQLite, where sqlx stores dates as `YYYY-MM-DD`), so every key but the visit
    /// kind is read from the covering index.
    fn sql(self, backend: DbBackend) -> String {
        let pg = backend == DbBackend::Postgres;
        match self {
            Dimension::Year if pg => "CAST(EXTRACT(YEAR FROM counted_on) AS INTEGER)",
            Dimension::Year => "CAST(substr(counted_on, 1, 4) AS INTEGER)",
            Dimension::Month if pg => {
                "CAST(EXTRACT(YEAR FROM counted_on) * 100 + EXTRACT(MONTH FROM counted_on) AS INTEGER)"
            }
            Dimension::Month => "CAST(substr(counted_on, 1, 4) || substr(counted_on, 6, 2) AS INTEGER)",
            Dimension::Group => "group_code",
            Dimension::City => "substr(region_code, 1, 4)",
            Dimension::County => "region_code",
            Dimension::Hospital => "hospital_id",
            Dimension::VisitKind => "kind",
        }
        .to_owned()
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where a visit's subsidy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Recorded, not yet approved.
    Pending,
    /// Approved, not yet paid.
    Approved,
    /// Paid out.
    Paid,
    /// Voided with a reason.
    Voided,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Approved,
        Status::Paid,
        Status::Voided,
    ];

    /// What the totals count unless told otherwise: money granted.
    pub const DEFAULT: [Status; 2] = [Status::Approved, Status::Paid];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Paid => "paid",
            Status::Voided => "voided",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Pending => lang.pick("待审核", "pending"),
            Status::Approved => lang.pick("已审核", "approved"),
            Status::Paid => lang.pick("已支付", "paid"),
            Status::Voided => lang.pick("已作废", "voided"),
        }
    }

    /// The status of a code.
    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == raw)
    }
}

/// Which visits count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// First counting date, inclusive.
    pub from: NaiveDate,
    /// Last counting date, inclusive.
    pub to: NaiveDate,
    /// Statuses that count (never empty).
    pub statuses: Vec<Status>,
    /// Groups that count; empty means all.
    pub groups: Vec<Group>,
    /// Region prefix the visits must lie in: the user's scope, or a part of it.
    pub region: RegionPrefix,
}

impl Filter {
    fn apply(&self, q: &mut SelectStatement) {
        q.and_where(Expr::col(visit::Column::CountedOn).gte(self.from))
            .and_where(Expr::col(visit::Column::CountedOn).lte(self.to))
            .and_where(
                Expr::col(visit::Column::Status).is_in(self.statuses.iter().map(|s| s.code())),
            )
            .and_where(crate::db::region_within(
                Expr::col(visit::Column::RegionCode),
                &self.region,
            ));
        if !self.groups.is_empty() {
            q.and_where(
                Expr::col(visit::Column::GroupCode).is_in(self.groups.iter().map(|g| g.code())),
            );
        }
    }
}

/// The three figures of a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Distinct people with a counted visit (人数).
    pub patients: i64,
    /// Visits with a subsidy above zero (人次).
    pub visits: i64,
    /// Subsidy net of reversals, in yuan to the fen.
    #[schema(value_type = String, example = "76195900.00")]
    pub subsidy: Money,
}

/// The value of one key in a row, as the database gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyValue {
    /// A year.
    Year(i32),
    /// A month as `yyyymm`.
    Month(i32),
    /// A group code.
    Group(String),
    /// A city's four-digit prefix.
    City(String),
    /// A six-digit county code.
    County(String),
    /// A hospital id.
    Hospital(i64),
    /// inpatient | outpatient.
    VisitKind(String),
}

impl KeyValue {
    /// Groups sort in their display order, everything else by value.
    fn rank(&self) -> (usize, &KeyValue) {
        match self {
            KeyValue::Group(code) => (
                Group::ALL
                    .iter()
                    .position(|g| g.code() == code)
                    .unwrap_or(Group::ALL.len()),
                self,
            ),
            _ => (0, self),
        }
    }
}

fn cmp_keys(a: &[KeyValue], b: &[KeyValue]) -> std::cmp::Ordering {
    a.iter()
        .map(KeyValue::rank)
        .cmp(b.iter().map(KeyValue::rank))
}

/// One grouped line before labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The key values, in the order of `group_by`.
    pub keys: Vec<KeyValue>,
    /// Its figures.
    pub figures: Figures,
}

/// The grouped lines and, when asked for, the overall line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// One line per combination of keys that has visits, in key order.
    pub rows: Vec<Row>,
    /// The overall line (its patients count each person once).
    pub total: Figures,
}

const FIGURES_SQL: [(&str, &str); 3] = [
    (
        "patients",
        "COUNT(DISTINCT CASE WHEN subsidy_fen > 0 THEN person_id END)",
    ),
    (
        "visits",
        "COALESCE(SUM(CASE WHEN subsidy_fen > 0 THEN 1 ELSE 0 END), 0)",
    ),
    // PostgreSQL sums a BIGINT into a NUMERIC; the cast keeps it an integer of fen.
    ("subsidy", "CAST(COALESCE(SUM(subsidy_fen), 0) AS BIGINT)"),
];

// A sum that changes whenever a write changes which rows count, even when it keeps the
// number of visits and the subsidy: it tells two statements that saw different data apart.
const CHECK_SQL: &str =
    "CAST(COALESCE(SUM(CASE WHEN subsidy_fen > 0 THEN person_id ELSE 0 END), 0) AS BIGINT)";

fn select(filter: &Filter, dims: &[Dimension], backend: DbBackend, check: bool) -> SelectStatement {
    let mut q = Query::select();
    q.from(visit::Entity);
    for (i, d) in dims.iter().enumerate() {
        q.expr_as(d.expr(backend), Alias::new(format!("k{i}")));
    }
    for (alias, sql) in FIGURES_SQL {
        q.expr_as(Expr::cust(sql), Alias::new(alias));
    }
    if check {
        q.expr_as(Expr::cust(CHECK_SQL), Alias::new("check_sum"));
    }
    filter.apply(&mut q);
    q
}

fn figures(r: &QueryResult) -> Result<Figures, DbErr> {
    Ok(Figures {
        patients: r.try_get("", "patients")?,
        visits: r.try_get("", "visits")?,
        subsidy: Money::from_fen(r.try_get("", "subsidy")?),
    })
}

fn row(r: &QueryResult, dims: &[Dimension]) -> Result<Row, DbErr> {
    let mut keys = Vec::with_capacity(dims.len());
    for (i, d) in dims.iter().enumerate() {
        let col = format!("k{i}");
        keys.push(match d {
            Dimension::Year => KeyValue::Year(r.try_get("", &col)?),
            Dimension::Month => KeyValue::Month(r.try_get("", &col)?),
            Dimension::Group => KeyValue::Group(r.try_get("", &col)?),
            Dimension::City => KeyValue::City(r.try_get("", &col)?),
            Dimension::County => KeyValue::County(r.try_get("", &col)?),
            Dimension::Hospital => KeyValue::Hospital(r.try_get("", &col)?),
            Dimension::VisitKind => KeyValue::VisitKind(r.try_get("", &col)?),
        });
    }
    Ok(Row {
        keys,
        figures: figures(r)?,
    })
}

/// The totals of the visits that pass `filter`, grouped by `dims` in that order (none: only
/// the overall line), as of one moment.
///
/// PostgreSQL computes the rows and the overall line in one pass with `GROUPING SETS`.
/// SQLite has none: there the grouped and the overall statement run at once on two pooled
/// connections (the overall line's distinct people cost a second pass, and this way it costs
/// no extra time on an idle core). Each sees a snapshot of its own, so the overall line also
/// sums what the rows sum; when the two disagree a write landed in between, and both run again
/// in one read transaction.
pub async fn totals(
    db: &DatabaseConnection,
    filter: &Filter,
    dims: &[Dimension],
) -> Result<Totals, DbErr> {
    let backend = db.get_database_backend();
    if dims.is_empty() {
        let total = overall(db, filter).await?;
        return Ok(Totals {
            rows: vec![],
            total,
        });
    }
    let mut out = if backend == DbBackend::Postgres {
        let mut q = select(filter, dims, backend, false);
        let keys = dims
            .iter()
            .map(|d| d.sql(backend))
            .collect::<Vec<_>>()
            .join(", ");
        q.expr_as(Expr::cust(format!("GROUPING({keys})")), Alias::new("grand"));
        q.add_group_by([Expr::cust(format!("GROUPING SETS (({keys}), ())"))]);
        let mut rows = Vec::new();
        let mut total = Figures::default();
        for r in db.query_all(&q).await? {
            let grand: i32 = r.try_get("", "grand")?;
            if grand == 0 {
                rows.push(row(&r, dims)?);
            } else {
                total = figures(&r)?;
            }
        }
        Totals { rows, total }
    } else {
        let (rows, (total, check)) = tokio::try_join!(
            grouped_checked(db, filter, dims),
            overall_checked(db, filter)
        )?;
        if consistent(&rows, &total, check) {
            Totals {
                rows: rows.into_iter().map(|(r, _)| r).collect(),
                total,
            }
        } else {
            let txn = snapshot(db).await?;
            let rows = grouped(&txn, filter, dims).await?;
            let total = overall(&txn, filter).await?;
            txn.commit().await?;
            Totals { rows, total }
        }
    };
    out.rows.sort_by(|a, b| cmp_keys(&a.keys, &b.keys));
    Ok(out)
}

/// A read-only transaction in which every statement sees the same visits: SQLite's read
/// transaction is a snapshot already; PostgreSQL's default (read committed) is not.
async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

/// Whether grouped rows and an overall line read the same visits: every sum of the rows
/// adds up to the overall line's.
fn consistent(rows: &[(Row, i64)], total: &Figures, check: i64) -> bool {
    let visits: i64 = rows.iter().map(|(r, _)| r.figures.visits).sum();
    let fen: i64 = rows.iter().map(|(r, _)| r.figures.subsidy.fen()).sum();
    let checks: i64 = rows.iter().map(|(_, c)| *c).sum();
    visits == total.visits && fen == total.subsidy.fen() && checks == check
}

async fn grouped_checked<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    dims: &[Dimension],
) -> Result<Vec<(Row, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let mut q = select(filter, dims, backend, true);
    q.add_group_by(dims.iter().map(|d| d.expr(backend)));
    db.query_all(&q)
        .await?
        .iter()
        .map(|r| Ok((row(r, dims)?, r.try_get("", "check_sum")?)))
        .collect()
}

async fn overall_checked<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
) -> Result<(Figures, i64), DbErr> {
    let q = select(filter, &[], db.get_database_backend(), true);
    match db.query_one(&q).await? {
        Some(r) => Ok((figures(&r)?, r.try_get("", "check_sum")?)),
        None => Ok((Figures::default(), 0)),
    }
}

/// The grouped lines alone, for views that do not show an overall line.
pub async fn grouped<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    dims: &[Dimension],
) -> Result<Vec<Row>, DbErr> {
    let backend = db.get_database_backend();
    let mut q = select(filter, dims, backend, false);
    q.add_group_by(dims.iter().map(|d| d.expr(backend)));
    let mut rows = db
        .query_all(&q)
        .await?
        .iter()
        .map(|r| row(r, dims))
        .collect::<Result<Vec<_>, _>>()?;
    rows.sort_by(|a, b| cmp_keys(&a.keys, &b.keys));
    Ok(rows)
}

/// The overall line alone.
pub async fn overall<C: ConnectionTrait>(db: &C, filter: &Filter) -> Result<Figures, DbErr> {
    let q = select(filter, &[], db.get_database_backend(), false);
    match db.query_one(&q).await? {
        Some(r) => figures(&r),
        None => Ok(Figures::default()),
    }
}

/// Names for the keys that came back: regions and hospitals from the database, groups,
/// kinds and dates from the code.
#[derive(Debug, Default)]
pub struct Labels {
    regions: HashMap<String, String>,
    hospitals: HashMap<i64, (String, String)>,
}

impl Labels {
    /// Loads the names the rows need: every region (a province has a few hundred) and the
    /// hospitals that appear.
    pub async fn load<C: ConnectionTrait>(db: &C, rows: &[Row]) -> Result<Labels, DbErr> {
        let regions = region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let mut ids: Vec<i64> = rows
            .iter()
            .flat_map(|r| r.keys.iter())
            .filter_map(|k| match k {
                KeyValue::Hospital(id) => Some(*id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut hospitals = HashMap::new();
        for chunk in ids.chunks(500) {
            for h in hospital::Entity::find()
                .filter(hospital::COLUMN.id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                hospitals.insert(h.id, (h.code, h.name));
            }
        }
        Ok(Labels { regions, hospitals })
    }

    /// The name of a region code or prefix, or the code itself when unknown.
    pub fn region(&self, code: &str) -> String {
        self.regions
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }
}

/// The key columns of a report line, with their labels. Only the keys of `group_by` are
/// present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// Year of the counting date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// "2025年".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year_label: Option<String>,
    /// Month of the counting date, `YYYY-MM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// "2025年3月".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month_label: Option<String>,
    /// Group code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// "城市低保".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_label: Option<String>,
    /// City code, six digits ("220100").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// "长春市".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city_label: Option<String>,
    /// County code ("220102").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// "南关区".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub county_label: Option<String>,
    /// Hospital id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital: Option<i64>,
    /// Hospital code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital_code: Option<String>,
    /// Hospital name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital_label: Option<String>,
    /// inpatient | outpatient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit_kind: Option<String>,
    /// "住院" or "门诊".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit_kind_label: Option<String>,
    /// Distinct people with a counted visit (人数).
    pub patients: i64,
    /// Visits with a subsidy above zero (人次).
    pub visits: i64,
    /// Subsidy net of reversals, yuan to the fen.
    #[schema(value_type = String, example = "1234.50")]
    pub subsidy: Money,
    /// The same in 万元, half-up to two places.
    #[schema(value_type = String, example = "0.12")]
    pub subsidy_wan: Decimal,
    /// The labels in `group_by` order, for the spreadsheet columns.
    #[serde(skip)]
    #[schema(ignore)]
    pub labels: Vec<String>,
}

/// The overall line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TotalLine {
    /// Distinct people over the whole report.
    pub patients: i64,
    /// Visits with a subsidy above zero.
    pub visits: i64,
    /// Subsidy net of reversals, yuan to the fen.
    #[schema(value_type = String, example = "76195900.00")]
    pub subsidy: Money,
    /// The same in 万元: "7619.59".
    #[schema(value_type = String, example = "7619.59")]
    pub subsidy_wan: Decimal,
}

impl From<Figures> for TotalLine {
    fn from(f: Figures) -> TotalLine {
        TotalLine {
            patients: f.patients,
            visits: f.visits,
            subsidy: f.subsidy,
            subsidy_wan: f.subsidy.to_wan(),
        }
    }
}

/// The filters a report was made with, echoed back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FiltersView {
    /// First counting date.
    pub from: NaiveDate,
    /// Last counting date.
    pub to: NaiveDate,
    /// Keys, in order.
    pub group_by: Vec<String>,
    /// Statuses counted.
    pub status: Vec<String>,
    /// Groups counted (empty: all).
    pub group: Vec<String>,
    /// Region prefix.
    pub region: String,
    /// Its name.
    pub region_label: String,
}

/// A spending report as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendingReport {
    /// One line per combination of keys with visits, in key order.
    pub rows: Vec<ReportRow>,
    /// The overall line.
    pub total: TotalLine,
    /// When the figures were read.
    pub generated_at: DateTime<Utc>,
    /// What was asked for.
    pub filters: FiltersView,
    /// The keys, for the spreadsheet columns.
    #[serde(skip)]
    #[schema(ignore)]
    pub dims: Vec<Dimension>,
}

/// The label of a visit kind.
pub fn kind_label(kind: &str, lang: Lang) -> String {
    match kind {
        "inpatient" => lang.pick("住院", "Inpatient").to_owned(),
        "outpatient" => lang.pick("门诊", "Outpatient").to_owned(),
        other => other.to_owned(),
    }
}

fn month_parts(yyyymm: i32) -> (i32, u32) {
    (yyyymm / 100, (yyyymm % 100) as u32)
}

/// Turns a row of figures into a report line with labels.
pub fn report_row(row: &Row, labels: &Labels, lang: Lang) -> ReportRow {
    let mut out = ReportRow {
        patients: row.figures.patients,
        visits: row.figures.visits,
        subsidy: row.figures.subsidy,
        subsidy_wan: row.figures.subsidy.to_wan(),
        ..ReportRow::default()
    };
    for key in &row.keys {
        let label = match key {
            KeyValue::Year(y) => {
                let l = match lang {
                    Lang::Zh => format!("{y}年"),
                    Lang::En => y.to_string(),
                };
                out.year = Some(*y);
                out.year_label = Some(l.clone());
                l
            }
            KeyValue::Month(m) => {
                let (y, mo) = month_parts(*m);
                let l = match lang {
                    Lang::Zh => format!("{y}年{mo}月"),
                    Lang::En => format!("{y}-{mo:02}"),
                };
                out.month = Some(format!("{y}-{mo:02}"));
                out.month_label = Some(l.clone());
                l
            }
            KeyValue::Group(code) => {
                let l = Group::parse(code)
                    .map(|g| g.label(lang).to_owned())
                    .unwrap_or_else(|_| code.clone());
                out.group = Some(code.clone());
                out.group_label = Some(l.clone());
                l
            }
            KeyValue::City(prefix) => {
                let l = labels.region(prefix);
                out.city = Some(format!("{prefix:0<6}"));
                out.city_label = Some(l.clone());
                l
            }
            KeyValue::County(code) => {
                let l = labels.region(code);
                out.county = Some(code.clone());
                out.county_label = Some(l.clone());
                l
            }
            KeyValue::Hospital(id) => {
                let (code, name) = labels
                    .hospitals
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| (String::new(), format!("#{id}")));
                out.hospital = Some(*id);
                out.hospital_code = Some(code);
                out.hospital_label = Some(name.clone());
                name
            }
            KeyValue::VisitKind(kind) => {
                let l = kind_label(kind, lang);
                out.visit_kind = Some(kind.clone());
                out.visit_kind_label = Some(l.clone());
                l
            }
        };
        out.labels.push(label);
    }
    out
}

/// What a spending report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendingRequest {
    /// Which visits count.
    pub filter: Filter,
    /// Keys, in order (none: only the overall line).
    pub group_by: Vec<Dimension>,
}

/// The spending report: figures, labels and the filters, read now.
pub async fn spending(
    db: &DatabaseConnection,
    req: &SpendingRequest,
    lang: Lang,
) -> Result<SpendingReport, DbErr> {
    let generated_at = Utc::now();
    let t = totals(db, &req.filter, &req.group_by).await?;
    let labels = Labels::load(db, &t.rows).await?;
    Ok(SpendingReport {
        rows: t
            .rows
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        total: t.total.into(),
        generated_at,
        filters: filters_view(req, &labels),
        dims: req.group_by.clone(),
    })
}

fn filters_view(req: &SpendingRequest, labels: &Labels) -> FiltersView {
    let f = &req.filter;
    FiltersView {
        from: f.from,
        to: f.to,
        group_by: req.group_by.iter().map(|d| d.code().to_owned()).collect(),
        status: f.statuses.iter().map(|s| s.code().to_owned()).collect(),
        group: f.groups.iter().map(|g| g.code().to_owned()).collect(),
        region: f.region.to_string(),
        region_label: labels.region(f.region.as_str()),
    }
}

/// The front page's figures for one year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// The year.
    pub year: i32,
    /// The year's overall line.
    pub total: TotalLine,
    /// Every group, with zeros for a group without visits.
    pub by_group: Vec<ReportRow>,
    /// Every month of the year, with zeros for a month without visits.
    pub by_month: Vec<ReportRow>,
    /// The hospitals with the largest subsidy, largest first.
    pub top_hospitals: Vec<ReportRow>,
    /// When the figures were read.
    pub generated_at: DateTime<Utc>,
    /// What was counted.
    pub filters: FiltersView,
}

/// The dashboard's figures: the year's total, by group, by month and the top hospitals.
pub async fn summary(
    db: &DatabaseConnection,
    filter: &Filter,
    top: usize,
    lang: Lang,
) -> Result<Summary, DbErr> {
    let generated_at = Utc::now();
    let year = filter.from.year();
    // One snapshot, so that the months and the groups add up to the total.
    let txn = snapshot(db).await?;
    let total = overall(&txn, filter).await?;
    let by_group = grouped(&txn, filter, &[Dimension::Group]).await?;
    let by_month = grouped(&txn, filter, &[Dimension::Month]).await?;
    let mut by_hospital = grouped(&txn, filter, &[Dimension::Hospital]).await?;
    by_hospital.sort_by(|a, b| {
        b.figures
            .subsidy
            .cmp(&a.figures.subsidy)
            .then(cmp_keys(&a.keys, &b.keys))
    });
    by_hospital.truncate(top);
    let labels = Labels::load(&txn, &by_hospital).await?;
    txn.commit().await?;

    let find = |rows: &[Row], key: &KeyValue| {
        rows.iter()
            .find(|r| r.keys.first() == Some(key))
            .map(|r| r.figures)
            .unwrap_or_default()
    };
    let mut groups: Vec<Row> = Group::ALL
        .iter()
        .map(|g| {
            let key = KeyValue::Group(g.code().to_owned());
            Row {
                figures: find(&by_group, &key),
                keys: vec![key],
            }
        })
        .collect();
    // A group code the domain does not know still has money behind it: show it too.
    for r in &by_group {
        if !groups.iter().any(|g| g.keys == r.keys) {
            groups.push(r.clone());
        }
    }
    let months: Vec<Row> = (filter.from.month()..=filter.to.month())
        .map(|m| {
            let key = KeyValue::Month(year * 100 + m as i32);
            Row {
                figures: find(&by_month, &key),
                keys: vec![key],
            }
        })
        .collect();
    let req = SpendingRequest {
        filter: filter.clone(),
        group_by: vec![],
    };
    Ok(Summary {
        year,
        total: total.into(),
        by_group: groups
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        by_month: months
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        top_hospitals: by_hospital
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        generated_at,
        filters: filters_view(&req, &labels),
    })
}

fn title(report: &SpendingReport, lang: Lang) -> String {
    let f = &report.filters;
    match lang {
        Lang::Zh => format!(
            "肿瘤患者救助支出统计（{}至{}）",
            f.from.format("%Y年%-m月%-d日"),
            f.to.format("%Y年%-m月%-d日")
        ),
        Lang::En => format!("Cancer-patient assistance spending, {} to {}", f.from, f.to),
    }
}

fn filter_line(report: &SpendingReport, lang: Lang) -> String {
    let f = &report.filters;
    let sep = lang.pick("、", ", ");
    let statuses = f
        .status
        .iter()
        .filter_map(|s| Status::parse(s))
        .map(|s| s.label(lang))
        .collect::<Vec<_>>()
        .join(sep);
    let groups = if f.group.is_empty() {
        lang.pick("全部", "all").to_owned()
    } else {
        f.group
            .iter()
            .map(|g| {
                Group::parse(g)
                    .map(|g| g.label(lang).to_owned())
                    .unwrap_or_else(|_| g.clone())
            })
            .collect::<Vec<_>>()
            .join(sep)
    };
    let keys = if report.dims.is_empty() {
        lang.pick("不分组", "none").to_owned()
    } else {
        report
            .dims
            .iter()
            .map(|d| d.label(lang))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let at = report
        .generated_at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%d %H:%M");
    match lang {
        Lang::Zh => format!(
            "范围：{}（{}）；状态：{statuses}；救助类别：{groups}；分组：{keys}；生成时间：{at}（北京时间）",
            f.region_label, f.region
        ),
        Lang::En => format!(
            "Region: {} ({}); status: {statuses}; groups: {groups}; grouped by: {keys}; generated {at} (UTC+8)",
            f.region_label, f.region
        ),
    }
}

fn figure_headers(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::Zh => ["人数", "人次", "救助金额（元）", "救助金额（万元）"],
        Lang::En => [
            "Patients",
            "Visits",
            "Subsidy (yuan)",
            "Subsidy (10,000 yuan)",
        ],
    }
}

fn key_headers(report: &SpendingReport, lang: Lang) -> Vec<&'static str> {
    if report.dims.is_empty() {
        vec![lang.pick("项目", "Item")]
    } else {
        report.dims.iter().map(|d| d.label(lang)).collect()
    }
}

fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or_default()
}

/// The report as a workbook: a title with the period, a line with the filters, Chinese
/// headers, thousands separators and two decimals, a total row, and the header frozen.
///
/// Built in memory: a report is grouped totals, a few hundred lines at most (the keys' values
/// multiplied), never the visits themselves. Labels (hospital and region names) are written
/// inert ([`crate::export_safe`]); the figures are numeric cells.
pub fn spending_xlsx(report: &SpendingReport, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("支出统计", "Spending"))?;
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let note_fmt = Format::new().set_font_color("#595959");
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let text = Format::new().set_border(FormatBorder::Thin);
    let count = Format::new()
        .set_num_format("#,##0")
        .set_border(FormatBorder::Thin);
    let money = Format::new()
        .set_num_format("#,##0.00")
        .set_border(FormatBorder::Thin);
    let total_text = text.clone().set_bold().set_background_color("#F2F2F2");
    let total_count = count.clone().set_bold().set_background_color("#F2F2F2");
    let total_money = money.clone().set_bold().set_background_color("#F2F2F2");

    let keys = key_headers(report, lang);
    let nkeys = keys.len() as u16;
    let last_col = nkeys + 3;
    merge_text(
        sheet,
        (0, 0),
        (0, last_col),
        &title(report, lang),
        &title_fmt,
    )?;
    sheet.set_row_height(0, 26)?;
    merge_text(
        sheet,
        (1, 0),
        (1, last_col),
        &filter_line(report, lang),
        &note_fmt,
    )?;
    let header_row = 2;
    for (c, h) in keys.iter().chain(figure_headers(lang).iter()).enumerate() {
        write_text(sheet, header_row, c as u16, h, Some(&head))?;
    }
    sheet.set_row_height(header_row, 30)?;
    let write_figures = |sheet: &mut rust_xlsxwriter::Worksheet,
                         r: u32,
                         patients: i64,
                         visits: i64,
                         subsidy: Money,
                         wan: Decimal,
                         counts: &Format,
                         money: &Format|
     -> Result<(), XlsxError> {
        sheet.write_number_with_format(r, nkeys, patients as f64, counts)?;
        sheet.write_number_with_format(r, nkeys + 1, visits as f64, counts)?;
        sheet.write_number_with_format(r, nkeys + 2, to_f64(subsidy.to_decimal()), money)?;
        sheet.write_number_with_format(r, nkeys + 3, to_f64(wan), money)?;
        Ok(())
    };
    let mut r = header_row + 1;
    for line in &report.rows {
        for (c, label) in line.labels.iter().enumerate() {
            write_text(sheet, r, c as u16, label, Some(&text))?;
        }
        write_figures(
            sheet,
            r,
            line.patients,
            line.visits,
            line.subsidy,
            line.subsidy_wan,
            &count,
            &money,
        )?;
        r += 1;
    }
    let total_label = lang.pick("合计", "Total");
    if nkeys > 1 {
        merge_text(sheet, (r, 0), (r, nkeys - 1), total_label, &total_text)?;
    } else {
        write_text(sheet, r, 0, total_label, Some(&total_text))?;
    }
    let t = &report.total;
    write_figures(
        sheet,
        r,
        t.patients,
        t.visits,
        t.subsidy,
        t.subsidy_wan,
        &total_count,
        &total_money,
    )?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    for (c, d) in report.dims.iter().enumerate() {
        let width = match d {
            Dimension::Hospital => 30.0,
            Dimension::County | Dimension::City => 16.0,
            _ => 12.0,
        };
        sheet.set_column_width(c as u16, width)?;
    }
    if report.dims.is_empty() {
        sheet.set_column_width(0, 12.0)?;
    }
    sheet.set_column_width(nkeys, 10.0)?;
    sheet.set_column_width(nkeys + 1, 10.0)?;
    sheet.set_column_width(nkeys + 2, 18.0)?;
    sheet.set_column_width(nkeys + 3, 18.0)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, header_row)?;
    book.save_to_buffer()
}

/// The report as CSV: UTF-8 with a byte-order mark, so that Excel opens it in Chinese; the
/// header, one line per row and the total line, amounts exact to the fen. Built in memory, as
/// the workbook is (grouped totals are small). Labels are written inert
/// ([`crate::export_safe`]); the figures, negative ones included, are plain numbers and stay so.
pub fn spending_csv(report: &SpendingReport, lang: Lang) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header: Vec<&str> = key_headers(report, lang);
        header.extend(figure_headers(lang));
        let _ = write_csv_record(&mut w, &header);
        let figures = |patients: i64, visits: i64, subsidy: Money, wan: Decimal| {
            [
                patients.to_string(),
                visits.to_string(),
                subsidy.to_string(),
                wan.to_string(),
            ]
        };
        for line in &report.rows {
            let mut rec = line.labels.clone();
            rec.extend(figures(
                line.patients,
                line.visits,
                line.subsidy,
                line.subsidy_wan,
            ));
            let _ = write_csv_record(&mut w, &rec);
        }
        let t = &report.total;
        let mut rec = vec![lang.pick("合计", "Total").to_owned()];
        rec.resize(header.len() - 4, String::new());
        rec.extend(figures(t.patients, t.visits, t.subsidy, t.subsidy_wan));
        let _ = write_csv_record(&mut w, &rec);
        let _ = w.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_back_from_its_code() {
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.code()), Some(d));
        }
        assert_eq!(Dimension::parse("province"), None);
        assert!(Dimension::allowed(Lang::Zh).contains("visit_kind（就诊类型）"));
    }

    #[test]
    fn month_labels_read_as_managers_write_them() {
        let row = Row {
            keys: vec![KeyValue::Month(202503), KeyValue::Year(2025)],
            figures: Figures {
                patients: 1,
                visits: 2,
                subsidy: Money::from_fen(7_619_590_000),
            },
        };
        let r = report_row(&row, &Labels::default(), Lang::Zh);
        assert_eq!(r.month.as_deref(), Some("2025-03"));
        assert_eq!(r.month_label.as_deref(), Some("2025年3月"));
        assert_eq!(r.labels, ["2025年3月", "2025年"]);
        assert_eq!(r.subsidy_wan.to_string(), "7619.59");
        assert_eq!(r.subsidy.to_string(), "76195900.00");
    }

    #[test]
    fn rows_and_a_total_from_different_moments_are_told_apart() {
        let line = |visits, fen| Figures {
            patients: 1,
            visits,
            subsidy: Money::from_fen(fen),
        };
        let rows = vec![
            (
                Row {
                    keys: vec![KeyValue::Year(2025)],
                    figures: line(2, 300),
                },
                7,
            ),
            (
                Row {
                    keys: vec![KeyValue::Year(2026)],
                    figures: line(1, -100),
                },
                5,
            ),
        ];
        assert!(consistent(&rows, &line(3, 200), 12));
        assert!(!consistent(&rows, &line(4, 200), 12), "a visit more");
        assert!(!consistent(&rows, &line(3, 250), 12), "a changed amount");
        // The same number of visits and the same amount, but another person's.
        assert!(
            !consistent(&rows, &line(3, 200), 13),
            "a visit moved between people"
        );
    }

    #[test]
    fn a_city_is_shown_with_its_six_digit_code() {
        let row = Row {
            keys: vec![KeyValue::City("2224".into())],
            figures: Figures::default(),
        };
        let mut labels = Labels::default();
        labels
            .regions
            .insert("2224".into(), "延边朝鲜族自治州".into());
        let r = report_row(&row, &labels, Lang::Zh);
        assert_eq!(r.city.as_deref(), Some("222400"));
        assert_eq!(r.city_label.as_deref(), Some("延边朝鲜族自治州"));
    }
}
