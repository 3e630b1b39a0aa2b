//! The budget's refusals, each with its code and its messages.

use entity::budget_line;

use crate::domain::{Group, Lang, Localized, Money};
use crate::error::{AppError, FieldError, Msg};

/// Why a budget move or change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetRefusal {
    /// The line that covers the subsidy has no room for it.
    Exhausted {
        /// The line as it stands.
        line: Box<budget_line::Model>,
        /// What the subsidy needs, in fen.
        asked_fen: i64,
        /// Whether the user may see the line's figures (their scope covers its region).
        show_figures: bool,
    },
    /// A line for the same year, region and group exists.
    Exists {
        /// Its id.
        id: i64,
    },
    /// A line is not lowered under what is committed against it.
    BelowCommitted {
        /// Committed, in fen.
        committed_fen: i64,
    },
    /// The line changed since it was read.
    Stale {
        /// Its version now.
        version: i32,
    },
    /// A line is for a city (4 digits) or a county (6 digits) of the user's scope.
    RegionLevel,
    /// More than a line may have.
    TooLarge,
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

fn group_label(code: &str, lang: Lang) -> String {
    Group::parse(code).map_or_else(|_| code.to_owned(), |g| g.label(lang).to_owned())
}

impl Localized for BudgetRefusal {
    fn code(&self) -> &'static str {
        match self {
            BudgetRefusal::Exhausted { .. } => "budget_exhausted",
            BudgetRefusal::Exists { .. } => "budget_line_exists",
            BudgetRefusal::BelowCommitted { .. } => "budget_below_committed",
            BudgetRefusal::Stale { .. } => "budget_line_stale",
            BudgetRefusal::RegionLevel => "budget_region_level",
            BudgetRefusal::TooLarge => "budget_amount_too_large",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            BudgetRefusal::Exhausted {
                line,
                show_figures: false,
                ..
            } => {
                if zh {
                    format!(
                        "{} 年{}的预算额度已不足以审核本笔：请全省范围的管理人员调增额度后再审核。",
                        line.year,
                        group_label(&line.group_code, lang)
                    )
                } else {
                    format!(
                        "The {} budget line for {} has no room for this subsidy: a province-wide manager can raise it; approve after that.",
                        line.year,
                        group_label(&line.group_code, lang)
                    )
                }
            }
            BudgetRefusal::Exhausted {
                line, asked_fen, ..
            } => {
                let left = (line.amount_fen - line.committed_fen).max(0);
                if zh {
                    format!(
                        "{} 年 {} {}的预算额度不足：额度 {} 元，已承诺 {} 元，尚余 {} 元，本笔需 {} 元。请全省范围的管理人员调增额度后再审核。",
                        line.year,
                        line.region_code,
                        group_label(&line.group_code, lang),
                        yuan(line.amount_fen),
                        yuan(line.committed_fen),
                        yuan(left),
                        yuan(*asked_fen)
                    )
                } else {
                    format!(
                        "The {} budget line of {} for {} has no room: {} yuan, {} committed, {} left, and this subsidy needs {}. A province-wide manager can raise the line; approve after that.",
                        line.year,
                        line.region_code,
                        group_label(&line.group_code, lang),
                        yuan(line.amount_fen),
                        yuan(line.committed_fen),
                        yuan(left),
                        yuan(*asked_fen)
                    )
                }
            }
            BudgetRefusal::Exists { id } if zh => {
                format!("该年度、地区和救助类别已有预算额度（#{id}）：请调整该额度。")
            }
            BudgetRefusal::Exists { id } => {
                format!("A line for this year, region and group exists (#{id}): change that line.")
            }
            BudgetRefusal::BelowCommitted { committed_fen } if zh => {
                format!("额度不能低于已承诺的 {} 元。", yuan(*committed_fen))
            }
            BudgetRefusal::BelowCommitted { committed_fen } => format!(
                "A line is not set below the {} yuan committed against it.",
                yuan(*committed_fen)
            ),
            BudgetRefusal::Stale { version } if zh => {
                format!("预算额度已被他人修改（当前版本 {version}）：请刷新后再操作。")
            }
            BudgetRefusal::Stale { version } => format!(
                "The line changed since you read it (now version {version}): reload and try again."
            ),
            BudgetRefusal::RegionLevel if zh => {
                "预算额度按您数据范围内的市（4 位代码，如 2201）或区县（6 位代码，如 220102）设立。"
                    .to_owned()
            }
            BudgetRefusal::RegionLevel => {
                "A budget line is for a city (4 digits, 2201) or a county (6 digits, 220102) of your scope."
                    .to_owned()
            }
            BudgetRefusal::TooLarge if zh => format!(
                "额度不能超过 {} 元。",
                crate::domain::budget::MAX_LINE
            ),
            BudgetRefusal::TooLarge => format!(
                "A line is at most {} yuan.",
                crate::domain::budget::MAX_LINE
            ),
        }
    }
}

impl From<BudgetRefusal> for AppError {
    fn from(r: BudgetRefusal) -> AppError {
        let code = r.code();
        let message = Msg::of(&r);
        match r {
            BudgetRefusal::Exhausted { .. } | BudgetRefusal::Exists { .. } => {
                AppError::conflict(code, message)
            }
            BudgetRefusal::Stale { version } => AppError::StateConflict {
                code,
                message,
                state: String::new(),
                version,
                allowed: vec![],
            },
            BudgetRefusal::BelowCommitted { .. } | BudgetRefusal::TooLarge => {
                AppError::Unprocessable {
                    code,
                    details: vec![FieldError::new("amount", message.clone())],
                    message,
                }
            }
            BudgetRefusal::RegionLevel => AppError::Unprocessable {
                code,
                details: vec![FieldError::new("region_code", message.clone())],
                message,
            },
        }
    }
}
