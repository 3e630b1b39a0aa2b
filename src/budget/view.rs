//! What the API shows of a budget line: its figures, how full it is and when it runs out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use entity::budget_line;

use crate::domain::{BudgetLevel, BudgetUse, Group, Label, Lang, Money};

/// A budget line with its use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetLineView {
    /// Id.
    pub id: i64,
    /// The year.
    pub year: i32,
    /// A city or a county.
    pub region_code: String,
    /// Its name.
    pub region_name: String,
    /// The group.
    pub group: Group,
    /// Its label.
    pub group_label: &'static str,
    /// The line's amount.
    pub amount: Money,
    /// Committed by approved subsidies.
    pub committed: Money,
    /// Of those, paid.
    pub paid: Money,
    /// Not committed yet.
    pub left: Money,
    /// Committed, in whole per cent of the amount.
    pub percent: i64,
    /// normal, warning (80 %), critical (95 %), exhausted.
    #[schema(value_type = String, example = "warning")]
    pub level: BudgetLevel,
    /// Its label.
    pub level_label: &'static str,
    /// The month (its first day) the line runs out at the year's pace so far; none when it
    /// lasts the year.
    pub runs_out: Option<NaiveDate>,
    /// Name it in the next change.
    pub version: i32,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl BudgetLineView {
    /// The view of a line on a day, in a language.
    pub fn of(l: &budget_line::Model, region_name: String, today: NaiveDate, lang: Lang) -> Self {
        let used = BudgetUse {
            amount: Money::from_fen(l.amount_fen),
            committed: Money::from_fen(l.committed_fen),
        };
        let group = Group::parse(&l.group_code).unwrap_or(Group::LowIncomeUrban);
        BudgetLineView {
            id: l.id,
            year: l.year,
            region_code: l.region_code.clone(),
            region_name,
            group,
            group_label: group.label(lang),
            amount: used.amount,
            committed: used.committed,
            paid: Money::from_fen(l.paid_fen),
            left: used.left(),
            percent: used.percent(),
            level: used.level(),
            level_label: used.level().label(lang),
            runs_out: used.runs_out(l.year, today),
            version: l.version,
            updated_at: l.updated_at,
        }
    }
}
