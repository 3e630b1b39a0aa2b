//! The subsidy of one visit (docs/domain.md, "Subsidy"):
//!
//! ```text
//! out_of_pocket = total_cost - insurance_paid - critical_illness_paid - medical_assistance_paid
//! subsidy = min(round_half_up(max(out_of_pocket - deductible, 0) * rate, 2),
//!               per_visit_cap,
//!               annual_cap - subsidy already granted to this person this calendar year)
//! ```

use serde::Serialize;

use super::{Amount, Lang, Localized, Money, Rate};

/// The reimbursements add up to more than the bill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostsError {
    /// Insurance, critical-illness insurance and medical assistance exceed the total cost.
    #[error(
        "the reimbursements ({reimbursed}) exceed the total cost ({total}): check the amounts on the invoice"
    )]
    ReimbursementsExceedTotal {
        /// The three reimbursements together.
        reimbursed: Money,
        /// The total cost.
        total: Money,
    },
    /// Beyond what any bill could be.
    #[error("the amounts are too large")]
    Overflow,
}

impl Localized for CostsError {
    fn code(&self) -> &'static str {
        match self {
            CostsError::ReimbursementsExceedTotal { .. } => "reimbursements_exceed_total",
            CostsError::Overflow => "amount_too_large",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (CostsError::ReimbursementsExceedTotal { reimbursed, total }, Lang::Zh) => format!(
                "基本医保、大病保险和医疗救助合计 {reimbursed} 元，超过了总费用 {total} 元：请核对发票上的金额。"
            ),
            (CostsError::Overflow, Lang::Zh) => "金额过大。".to_owned(),
        }
    }
}

/// The bill of a visit and what was already reimbursed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Costs {
    total: Amount,
    insurance: Amount,
    critical_illness: Amount,
    medical_assistance: Amount,
    out_of_pocket: Amount,
}

impl Costs {
    /// Checks that the reimbursements do not exceed the total.
    pub fn new(
        total: Amount,
        insurance: Amount,
        critical_illness: Amount,
        medical_assistance: Amount,
    ) -> Result<Costs, CostsError> {
        let reimbursed = insurance
            .money()
            .checked_add(critical_illness.money())
            .and_then(|m| m.checked_add(medical_assistance.money()))
            .ok_or(CostsError::Overflow)?;
        let out_of_pocket = total
            .money()
            .checked_sub(reimbursed)
            .ok_or(CostsError::Overflow)?;
        let out_of_pocket =
            Amount::new(out_of_pocket).map_err(|_| CostsError::ReimbursementsExceedTotal {
                reimbursed,
                total: total.money(),
            })?;
        Ok(Costs {
            total,
            insurance,
            critical_illness,
            medical_assistance,
            out_of_pocket,
        })
    }

    /// 总费用.
    pub fn total(&self) -> Amount {
        self.total
    }

    /// 基本医保.
    pub fn insurance(&self) -> Amount {
        self.insurance
    }

    /// 大病保险.
    pub fn critical_illness(&self) -> Amount {
        self.critical_illness
    }

    /// 医疗救助.
    pub fn medical_assistance(&self) -> Amount {
        self.medical_assistance
    }

    /// 个人自付: the total less the three reimbursements.
    pub fn out_of_pocket(&self) -> Amount {
        self.out_of_pocket
    }
}

/// The numbers of a subsidy policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Share of the out-of-pocket cost above the deductible.
    pub rate: Rate,
    /// 起付线: the out-of-pocket amount the patient bears first.
    pub deductible: Amount,
    /// The most one visit may get.
    pub per_visit_cap: Amount,
    /// The most one person may get in a calendar year.
    pub annual_cap: Amount,
}

impl Terms {
    /// The first two steps of the formula: the out-of-pocket cost above the deductible, and
    /// that times the rate (before any cap). Pages show them to whoever checks a subsidy.
    pub fn by_rate(&self, out_of_pocket: Amount) -> (Money, Amount) {
        let above = out_of_pocket
            .money()
            .checked_sub(self.deductible.money())
            .filter(|m| !m.is_negative())
            .unwrap_or(Money::ZERO);
        // `above` is at most i64::MAX fen and the rate at most 1 with four decimals: the
        // product fits a Decimal and rounds to no more than `above`, so neither step can fail.
        let by_rate = Money::from_decimal_rounded(above.to_decimal() * self.rate.value())
            .ok()
            .and_then(|m| Amount::new(m).ok())
            .unwrap_or(Amount::ZERO);
        (above, by_rate)
    }
}

/// Why a subsidy is less than the rate alone would give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapReason {
    /// The out-of-pocket cost does not exceed the deductible.
    BelowDeductible,
    /// Cut to the per-visit cap.
    PerVisitCap,
    /// Cut by what is left of the annual cap (to zero when nothing is left).
    AnnualCapReached,
}

impl CapReason {
    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            CapReason::BelowDeductible => "below_deductible",
            CapReason::PerVisitCap => "per_visit_cap",
            CapReason::AnnualCapReached => "annual_cap_reached",
        }
    }

    /// Parses the stored code.
    pub fn parse(code: &str) -> Option<CapReason> {
        [
            CapReason::BelowDeductible,
            CapReason::PerVisitCap,
            CapReason::AnnualCapReached,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    /// What it means, for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CapReason::BelowDeductible => lang.pick(
                "个人自付未超过起付线",
                "out-of-pocket within the deductible",
            ),
            CapReason::PerVisitCap => lang.pick("已按单次封顶", "limited by the per-visit cap"),
            CapReason::AnnualCapReached => lang.pick("已达年度封顶", "limited by the annual cap"),
        }
    }
}

/// The subsidy of one visit and how it came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsidy {
    /// 个人自付.
    pub out_of_pocket: Amount,
    /// The rate applied to the cost above the deductible, rounded half-up, before the caps.
    pub by_rate: Amount,
    /// What is left of the annual cap before this visit.
    pub annual_left_before: Amount,
    /// The subsidy.
    pub amount: Amount,
    /// Why it is less than `by_rate`, or why it is zero.
    pub cap_reason: Option<CapReason>,
}

/// What is left of an annual cap after `granted` (never below zero: a policy with a lower cap
/// may take over during a year in which more was already granted).
pub fn annual_left(annual_cap: Amount, granted: Money) -> Amount {
    annual_cap
        .money()
        .checked_sub(granted)
        .and_then(|m| Amount::new(m).ok())
        .unwrap_or(Amount::ZERO)
}

/// The subsidy of a visit under `terms`, when `granted_before` has already been granted to
/// the person in the visit's calendar year.
pub fn compute(costs: &Costs, terms: &Terms, granted_before: Money) -> Subsidy {
    let out_of_pocket = costs.out_of_pocket();
    let (above, by_rate) = terms.by_rate(out_of_pocket);
    let left = annual_left(terms.annual_cap, granted_before);
    let after_visit_cap = by_rate.min(terms.per_visit_cap);
    let amount = after_visit_cap.min(left);
    let cap_reason = if above == Money::ZERO && out_of_pocket > Amount::ZERO {
        Some(CapReason::BelowDeductible)
    } else if left < after_visit_cap {
        Some(CapReason::AnnualCapReached)
    } else if terms.per_visit_cap < by_rate {
        Some(CapReason::PerVisitCap)
    } else {
        None
    };
    Subsidy {
        out_of_pocket,
        by_rate,
        annual_left_before: left,
        amount,
        cap_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yuan(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn costs(total: &str, ins: &str, ci: &str, ma: &str) -> Costs {
        Costs::new(yuan(total), yuan(ins), yuan(ci), yuan(ma)).unwrap()
    }

    fn terms(rate: &str, deductible: &str, per_visit: &str, annual: &str) -> Terms {
        Terms {
            rate: Rate::parse(rate).unwrap(),
            deductible: yuan(deductible),
            per_visit_cap: yuan(per_visit),
            annual_cap: yuan(annual),
        }
    }

    #[test]
    fn the_worked_example_of_the_programme() {
        // 30,000 billed, 15,000 insurance, 3,000 critical illness, 2,000 assistance:
        // 10,000 out of pocket, 9,000 above the deductible, 60% = 5,400.
        let c = costs("30000", "15000", "3000", "2000");
        let s = compute(&c, &terms("0.60", "1000", "10000", "30000"), Money::ZERO);
        assert_eq!(s.out_of_pocket, yuan("10000"));
        assert_eq!(s.amount, yuan("5400"));
        assert_eq!(s.cap_reason, None);
        assert_eq!(s.annual_left_before, yuan("30000"));
    }

    #[test]
    fn rounding_is_half_up_to_the_fen() {
        // 0.05 * 0.5 = 0.025: half-even would give 0.02.
        let s = compute(
            &costs("0.05", "0", "0", "0"),
            &terms("0.5", "0", "100", "100"),
            Money::ZERO,
        );
        assert_eq!(s.amount, yuan("0.03"));
        // 0.35 * 0.5 = 0.175 -> 0.18 (half-even would also give 0.18), 0.45 * 0.5 = 0.225 -> 0.23.
        let s = compute(
            &costs("0.45", "0", "0", "0"),
            &terms("0.5", "0", "100", "100"),
            Money::ZERO,
        );
        assert_eq!(s.amount, yuan("0.23"));
    }

    #[test]
    fn each_cap_names_itself() {
        let t = terms("0.80", "500", "1000", "3000");
        let below = compute(&costs("600", "200", "0", "0"), &t, Money::ZERO);
        assert_eq!(
            (below.amount, below.cap_reason),
            (Amount::ZERO, Some(CapReason::BelowDeductible))
        );
        let per_visit = compute(&costs("5000", "0", "0", "0"), &t, Money::ZERO);
        assert_eq!(
            (per_visit.amount, per_visit.cap_reason),
            (yuan("1000"), Some(CapReason::PerVisitCap))
        );
        let partly = compute(&costs("5000", "0", "0", "0"), &t, Money::from_yuan(2500));
        assert_eq!(
            (partly.amount, partly.cap_reason),
            (yuan("500"), Some(CapReason::AnnualCapReached))
        );
        let none_left = compute(&costs("5000", "0", "0", "0"), &t, Money::from_yuan(3000));
        assert_eq!(
            (none_left.amount, none_left.cap_reason),
            (Amount::ZERO, Some(CapReason::AnnualCapReached))
        );
        // More granted than a lower cap that took over mid-year: nothing, never negative.
        let over = compute(&costs("5000", "0", "0", "0"), &t, Money::from_yuan(9000));
        assert_eq!(over.amount, Amount::ZERO);
        assert_eq!(over.annual_left_before, Amount::ZERO);
        let nothing_owed = compute(&costs("100", "100", "0", "0"), &t, Money::ZERO);
        assert_eq!(
            (nothing_owed.amount, nothing_owed.cap_reason),
            (Amount::ZERO, None)
        );
    }

    #[test]
    fn reimbursements_above_the_total_are_refused() {
        let e = Costs::new(yuan("100"), yuan("60"), yuan("30"), yuan("10.01")).unwrap_err();
        assert_eq!(e.code(), "reimbursements_exceed_total");
        assert!(e.message(Lang::Zh).contains("100.01"));
        assert!(Costs::new(yuan("100"), yuan("60"), yuan("30"), yuan("10")).is_ok());
    }

    #[test]
    fn cap_reasons_round_trip_through_their_codes() {
        for r in [
            CapReason::BelowDeductible,
            CapReason::PerVisitCap,
            CapReason::AnnualCapReached,
        ] {
            assert_eq!(CapReason::parse(r.code()), Some(r));
        }
        assert_eq!(CapReason::parse("other"), None);
    }

    /// The formula again, in integer fen and integer arithmetic only, as an accountant would
    /// work it by hand: no Decimal, no shared code.
    fn plain(
        [total, ins, ci, ma]: [i64; 4],
        (rate_units, rate_scale): (i64, u32),
        [deductible, per_visit, annual]: [i64; 3],
        granted: i64,
    ) -> i64 {
        let oop = i128::from(total - ins - ci - ma);
        let above = (oop - i128::from(deductible)).max(0);
        let den = 10i128.pow(rate_scale);
        // Half-up for non-negative numbers: add half the divisor, then truncate.
        let by_rate = (2 * above * i128::from(rate_units) + den) / (2 * den);
        let left = (i128::from(annual) - i128::from(granted)).max(0);
        by_rate.min(i128::from(per_visit)).min(left) as i64
    }

    fn arb_case() -> impl Strategy<Value = ([i64; 4], (i64, u32), [i64; 3], i64)> {
        (
            0i64..50_000_000,
            0i64..=100,
            0i64..=100,
            0i64..=100,
            (1u32..=4).prop_flat_map(|scale| (1i64..=10i64.pow(scale), Just(scale))),
            0i64..2_000_000,
            0i64..10_000_000,
            0i64..50_000_000,
            0i64..60_000_000,
        )
            .prop_map(
                |(total, a, b, c, rate, deductible, per_visit, annual, granted)| {
                    // Split up to the whole total among the three reimbursements.
                    let ins = total * a / 300;
                    let ci = total * b / 300;
                    let ma = total * c / 300;
                    (
                        [total, ins, ci, ma],
                        rate,
                        [deductible, per_visit, annual],
                        granted,
                    )
                },
            )
    }

    proptest! {
        #[test]
        fn the_subsidy_equals_a_plain_recomputation_and_respects_every_cap(
            (bill, (units, scale), [deductible, per_visit, annual], granted) in arb_case()
        ) {
            let fen = |f: i64| Amount::from_fen(f).unwrap();
            let c = Costs::new(fen(bill[0]), fen(bill[1]), fen(bill[2]), fen(bill[3])).unwrap();
            let t = Terms {
                rate: Rate::new(rust_decimal::Decimal::new(units, scale)).unwrap(),
                deductible: fen(deductible),
                per_visit_cap: fen(per_visit),
                annual_cap: fen(annual),
            };
            let s = compute(&c, &t, Money::from_fen(granted));
            let got = s.amount.fen();
            prop_assert!(got >= 0);
            prop_assert!(got <= per_visit);
            prop_assert!(got <= (annual - granted).max(0));
            prop_assert!(got <= c.out_of_pocket().fen());
            prop_assert!(got <= s.by_rate.fen());
            prop_assert_eq!(got, plain(bill, (units, scale), [deductible, per_visit, annual], granted));
            prop_assert_eq!(c.out_of_pocket().fen(), bill[0] - bill[1] - bill[2] - bill[3]);
            // A reason whenever the rate alone would have given more.
            if got < s.by_rate.fen() {
                prop_assert!(matches!(s.cap_reason, Some(CapReason::PerVisitCap | CapReason::AnnualCapReached)));
            }
        }

        #[test]
        fn granting_in_any_order_never_passes_the_annual_cap(
            bills in proptest::collection::vec(0i64..5_000_000, 1..40),
            annual in 0i64..20_000_000,
        ) {
            let t = terms("0.75", "100", "20000", "0");
            let t = Terms { annual_cap: Amount::from_fen(annual).unwrap(), ..t };
            let mut granted = Money::ZERO;
            for b in bills {
                let c = Costs::new(Amount::from_fen(b).unwrap(), Amount::ZERO, Amount::ZERO, Amount::ZERO).unwrap();
                let s = compute(&c, &t, granted);
                granted = granted.checked_add(s.amount.money()).unwrap();
                prop_assert!(granted.fen() <= annual);
            }
        }
    }
}
