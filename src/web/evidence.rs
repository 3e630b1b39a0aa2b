//! What a decision is taken on, in words for the approver: a subsidy's bill, its
//! reimbursements and the formula with its numbers; a case's groups and the roster entry its
//! eligibility rested on (from the evidence the case keeps).

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::fmt;
use crate::domain::subsidy::{CapReason, Terms};
use crate::domain::{Amount, Lang};
use crate::policy::PolicyView;
use crate::visit::VisitView;

/// The bill and what paid it: 总费用, 医保, 大病保险, 医疗救助, 自付.
pub fn breakdown(v: &VisitView, lang: Lang) -> String {
    let parts = [
        (lang.pick("总费用", "Total"), v.total_cost),
        (lang.pick("医保", "Insurance"), v.insurance_paid),
        (
            lang.pick("大病保险", "Critical illness"),
            v.critical_illness_paid,
        ),
        (
            lang.pick("医疗救助", "Medical assistance"),
            v.medical_assistance_paid,
        ),
        (lang.pick("自付", "Out of pocket"), v.out_of_pocket),
    ];
    parts
        .iter()
        .map(|(label, m)| format!("{label} {}", fmt::money(*m)))
        .collect::<Vec<_>>()
        .join(lang.pick("；", "; "))
}

/// The formula of a recorded subsidy with its numbers: (自付 − 起付线) × 比例, then the cap
/// that cut it, and the amount. Without its policy (a reversal entry) only the amount.
pub fn formula(v: &VisitView, policy: Option<&PolicyView>, lang: Lang) -> String {
    let Some(p) = policy else {
        return fmt::money(v.subsidy);
    };
    let (Ok(oop), Ok(deductible), Ok(per_visit_cap), Ok(annual_cap)) = (
        Amount::new(v.out_of_pocket),
        Amount::new(p.deductible),
        Amount::new(p.per_visit_cap),
        Amount::new(p.annual_cap),
    ) else {
        return fmt::money(v.subsidy);
    };
    let terms = Terms {
        rate: p.rate,
        deductible,
        per_visit_cap,
        annual_cap,
    };
    let (_, by_rate) = terms.by_rate(oop);
    let reason = v.cap_reason.as_deref().and_then(CapReason::parse);
    let head = match lang {
        Lang::Zh => format!(
            "（自付 {} − 起付线 {}）× {} = {}",
            fmt::money(v.out_of_pocket),
            fmt::money(p.deductible),
            p.rate,
            fmt::money(by_rate.money())
        ),
        Lang::En => format!(
            "(out of pocket {} − deductible {}) × {} = {}",
            fmt::money(v.out_of_pocket),
            fmt::money(p.deductible),
            p.rate,
            fmt::money(by_rate.money())
        ),
    };
    let cut = match (reason, lang) {
        (Some(CapReason::BelowDeductible), Lang::Zh) => "，自付未超过起付线".to_owned(),
        (Some(CapReason::BelowDeductible), Lang::En) => {
            ", out of pocket not above the deductible".to_owned()
        }
        (Some(CapReason::PerVisitCap), Lang::Zh) => {
            format!("，超过单次上限 {}", fmt::money(p.per_visit_cap))
        }
        (Some(CapReason::PerVisitCap), Lang::En) => {
            format!(", above the per-visit cap {}", fmt::money(p.per_visit_cap))
        }
        (Some(CapReason::AnnualCapReached), Lang::Zh) => {
            format!("，受年度上限 {} 的余额限制", fmt::money(p.annual_cap))
        }
        (Some(CapReason::AnnualCapReached), Lang::En) => {
            format!(
                ", cut to what is left of the annual cap {}",
                fmt::money(p.annual_cap)
            )
        }
        (None, _) => String::new(),
    };
    format!(
        "{head}{cut} → {} {}",
        lang.pick("救助金", "subsidy"),
        fmt::money(v.subsidy)
    )
}

#[derive(Deserialize, Default)]
struct Kept {
    #[serde(default)]
    groups: Vec<KeptGroup>,
    #[serde(default)]
    entries: Vec<KeptEntry>,
}

#[derive(Deserialize)]
struct KeptGroup {
    label: String,
}

#[derive(Deserialize)]
struct KeptEntry {
    group_label: String,
    name_on_roster: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    import: Option<KeptImport>,
}

#[derive(Deserialize)]
struct KeptImport {
    id: i64,
}

/// A case's groups and the roster entries its eligibility rested on when it was decided, in
/// one line each: "城市低保", "城市低保 · 张三 · 2020-06-01 起 · 导入 #3".
pub fn case_basis(evidence: Option<&Value>, lang: Lang) -> (String, Vec<String>) {
    let kept: Kept = evidence
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let groups = kept
        .groups
        .iter()
        .map(|g| g.label.clone())
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "));
    let entries = kept
        .entries
        .iter()
        .map(|e| {
            let period = match (e.valid_to, lang) {
                (Some(to), _) => format!("{} – {to}", e.valid_from),
                (None, Lang::Zh) => format!("{} 起", e.valid_from),
                (None, Lang::En) => format!("from {}", e.valid_from),
            };
            let import = e
                .import
                .as_ref()
                .map(|i| format!(" · {} #{}", lang.pick("导入", "import"), i.id))
                .unwrap_or_default();
            format!(
                "{} · {} · {period}{import}",
                e.group_label, e.name_on_roster
            )
        })
        .collect();
    (groups, entries)
}
