//! The aggregate statement: the SQL of each key and figure, the filter, and running it on
//! PostgreSQL (one pass with `GROUPING SETS`) or SQLite (two statements checked against
//! each other).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    IsolationLevel, QueryResult, TransactionTrait,
};

use entity::visit;

use super::model::{Dimension, Figures, Filter, KeyValue, Row, Totals, cmp_keys};
use crate::domain::Money;

impl Dimension {
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
pub(super) async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
