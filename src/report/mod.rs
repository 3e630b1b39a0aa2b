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
//!
//! The files: [`model`] holds the types, [`query`] the aggregate statement and running it,
//! [`labels`] the names of keys, statuses, regions and hospitals, and [`export`] the .xlsx and
//! .csv output; this file puts them together into the report and the dashboard's figures.

mod export;
mod labels;
mod model;
mod query;

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::{Group, Lang};

pub use export::{spending_csv, spending_xlsx};
pub use labels::{Labels, kind_label, report_row};
pub use model::{
    Dimension, Figures, Filter, FiltersView, KeyValue, ReportRow, Row, SpendingReport,
    SpendingRequest, Status, Summary, TotalLine, Totals,
};
pub use query::{grouped, overall, totals};

use model::cmp_keys;
use query::snapshot;

/// The spending report: figures, labels and the filters, read at `generated_at`.
pub async fn spending(
    db: &DatabaseConnection,
    req: &SpendingRequest,
    lang: Lang,
    generated_at: DateTime<Utc>,
) -> Result<SpendingReport, DbErr> {
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

/// The dashboard's figures: the year's total, by group, by month and the top hospitals.
pub async fn summary(
    db: &DatabaseConnection,
    filter: &Filter,
    top: usize,
    lang: Lang,
    generated_at: DateTime<Utc>,
) -> Result<Summary, DbErr> {
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
    let mut by_city = grouped(&txn, filter, &[Dimension::City]).await?;
    let mut by_county = grouped(&txn, filter, &[Dimension::County]).await?;
    for rows in [&mut by_city, &mut by_county] {
        rows.sort_by_key(|r| std::cmp::Reverse(r.figures.subsidy));
    }
    // The same months a year before, and what waits for a decision or for the money.
    let last_year = overall(&txn, &filter.a_year_before()).await?;
    let pending = overall(&txn, &filter.with_statuses(vec![Status::Pending])).await?;
    let awaiting_payment = overall(&txn, &filter.with_statuses(vec![Status::Approved])).await?;
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
        by_city: by_city
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        by_county: by_county
            .iter()
            .map(|r| report_row(r, &labels, lang))
            .collect(),
        last_year: last_year.into(),
        pending: pending.into(),
        awaiting_payment: awaiting_payment.into(),
        generated_at,
        filters: filters_view(&req, &labels),
    })
}
