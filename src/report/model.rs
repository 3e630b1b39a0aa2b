//! The report's types: the keys and statuses it is asked for, the figures the statement
//! returns, and the lines and the report the API and the pages show.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{Group, Money, RegionPrefix};

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

    /// The key named in `group_by`, if it is one.
    pub fn parse(raw: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.code() == raw)
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

pub use crate::visit::Status;

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
    /// The same filter over the same dates a year before (29 February becomes the 28th).
    pub fn a_year_before(&self) -> Filter {
        let back = |d: NaiveDate| {
            d.with_year(d.year() - 1)
                .or_else(|| (d - chrono::Duration::days(1)).with_year(d.year() - 1))
                .unwrap_or(d)
        };
        Filter {
            from: back(self.from),
            to: back(self.to),
            ..self.clone()
        }
    }

    /// The same filter counting other statuses.
    pub fn with_statuses(&self, statuses: Vec<Status>) -> Filter {
        Filter {
            statuses,
            ..self.clone()
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

pub(super) fn cmp_keys(a: &[KeyValue], b: &[KeyValue]) -> std::cmp::Ordering {
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

/// What a spending report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendingRequest {
    /// Which visits count.
    pub filter: Filter,
    /// Keys, in order (none: only the overall line).
    pub group_by: Vec<Dimension>,
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
    /// Every city with visits, largest subsidy first.
    pub by_city: Vec<ReportRow>,
    /// Every county with visits, largest subsidy first.
    pub by_county: Vec<ReportRow>,
    /// The same dates a year before, for comparison.
    pub last_year: TotalLine,
    /// Subsidies recorded and waiting for an approver (待审核).
    pub pending: TotalLine,
    /// Subsidies approved and not paid yet (待发放).
    pub awaiting_payment: TotalLine,
    /// When the figures were read.
    pub generated_at: DateTime<Utc>,
    /// What was counted.
    pub filters: FiltersView,
}
