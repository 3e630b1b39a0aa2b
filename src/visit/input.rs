//! A visit as entered, checked on its own before any fact is read: its dates (a stay has
//! both dates in order, an outpatient visit one, nothing after today) and its invoice number.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use super::Kind;
use super::refusal::InputProblem;
use crate::domain::subsidy::Costs;
use crate::error::{Msg, Problems};

/// The dates of a visit, checked: a stay has both dates in order, an outpatient visit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitDates {
    /// A hospital stay.
    Inpatient {
        /// 入院日期.
        admitted_on: NaiveDate,
        /// 出院日期.
        discharged_on: NaiveDate,
    },
    /// An outpatient visit.
    Outpatient {
        /// 就诊日期.
        visit_date: NaiveDate,
    },
}

impl VisitDates {
    /// Checks the dates of a visit of `kind` as entered: the ones of the other kind must be
    /// absent, discharge is not before admission, and nothing is after `today`. Each problem
    /// is added with its field.
    pub fn check(
        kind: Kind,
        admitted_on: Option<NaiveDate>,
        discharged_on: Option<NaiveDate>,
        visit_date: Option<NaiveDate>,
        today: NaiveDate,
        problems: &mut Problems,
    ) -> Option<VisitDates> {
        let mut found = false;
        let mut add = |p: InputProblem| {
            found = true;
            problems.push_err(p.field(), &p);
        };
        let dates = match kind {
            Kind::Inpatient => {
                if visit_date.is_some() {
                    add(InputProblem::FieldNotForKind {
                        kind,
                        field: "visit_date",
                    });
                }
                if admitted_on.is_none() {
                    add(InputProblem::Required {
                        kind,
                        field: "admitted_on",
                    });
                }
                if discharged_on.is_none() {
                    add(InputProblem::Required {
                        kind,
                        field: "discharged_on",
                    });
                }
                match (admitted_on, discharged_on) {
                    (Some(a), Some(d)) => {
                        if d < a {
                            add(InputProblem::DischargeBeforeAdmission {
                                admitted_on: a,
                                discharged_on: d,
                            });
                        }
                        Some(VisitDates::Inpatient {
                            admitted_on: a,
                            discharged_on: d,
                        })
                    }
                    _ => None,
                }
            }
            Kind::Outpatient => {
                if admitted_on.is_some() {
                    add(InputProblem::FieldNotForKind {
                        kind,
                        field: "admitted_on",
                    });
                }
                if discharged_on.is_some() {
                    add(InputProblem::FieldNotForKind {
                        kind,
                        field: "discharged_on",
                    });
                }
                if visit_date.is_none() {
                    add(InputProblem::Required {
                        kind,
                        field: "visit_date",
                    });
                }
                visit_date.map(|v| VisitDates::Outpatient { visit_date: v })
            }
        };
        for (field, date) in [
            ("admitted_on", admitted_on),
            ("discharged_on", discharged_on),
            ("visit_date", visit_date),
        ] {
            if let Some(d) = date
                && d > today
            {
                add(InputProblem::FutureDate {
                    field,
                    date: d,
                    today,
                });
            }
        }
        if found { None } else { dates }
    }

    /// Inpatient or outpatient.
    pub fn kind(&self) -> Kind {
        match self {
            VisitDates::Inpatient { .. } => Kind::Inpatient,
            VisitDates::Outpatient { .. } => Kind::Outpatient,
        }
    }

    /// The date the visit counts on: discharge, or the visit date.
    pub fn counted_on(&self) -> NaiveDate {
        match *self {
            VisitDates::Inpatient { discharged_on, .. } => discharged_on,
            VisitDates::Outpatient { visit_date } => visit_date,
        }
    }

    /// The admission, discharge and visit dates as the row stores them.
    pub(super) fn columns(&self) -> (Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>) {
        match *self {
            VisitDates::Inpatient {
                admitted_on,
                discharged_on,
            } => (Some(admitted_on), Some(discharged_on), None),
            VisitDates::Outpatient { visit_date } => (None, None, Some(visit_date)),
        }
    }
}

/// An invoice number as it is compared: NFKC (full-width digits become ASCII), no spaces,
/// upper case, 1 to 64 characters.
pub fn normalise_invoice(raw: &str) -> Result<String, Msg> {
    let s: String = raw
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if (1..=64).contains(&s.chars().count()) {
        Ok(s)
    } else {
        Err(Msg::of(&InputProblem::InvoiceNumber))
    }
}

/// A visit to record, already checked on its own.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The hospital.
    pub hospital_id: i64,
    /// Its dates.
    pub dates: VisitDates,
    /// Normalised invoice number.
    pub invoice_no: String,
    /// The bill and its reimbursements.
    pub costs: Costs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn check(
        kind: Kind,
        a: Option<&str>,
        dis: Option<&str>,
        v: Option<&str>,
    ) -> (Option<VisitDates>, Vec<&'static str>) {
        let mut p = Problems::new();
        let dates = VisitDates::check(
            kind,
            a.map(d),
            dis.map(d),
            v.map(d),
            d("2025-06-30"),
            &mut p,
        );
        (dates, p.codes())
    }

    #[test]
    fn a_stay_counts_on_its_discharge_and_an_outpatient_visit_on_its_day() {
        let (dates, problems) = check(
            Kind::Inpatient,
            Some("2025-05-28"),
            Some("2025-06-03"),
            None,
        );
        assert!(problems.is_empty());
        assert_eq!(dates.unwrap().counted_on(), d("2025-06-03"));
        let (dates, _) = check(Kind::Outpatient, None, None, Some("2025-06-30"));
        assert_eq!(dates.unwrap().counted_on(), d("2025-06-30"));
    }

    #[test]
    fn bad_dates_are_each_named() {
        assert_eq!(
            check(
                Kind::Inpatient,
                Some("2025-06-03"),
                Some("2025-06-02"),
                None
            )
            .1,
            ["discharge_before_admission"]
        );
        assert_eq!(
            check(
                Kind::Inpatient,
                Some("2025-06-03"),
                Some("2025-07-01"),
                None
            )
            .1,
            ["future_date"]
        );
        assert_eq!(
            check(Kind::Inpatient, None, None, Some("2025-06-01")).1,
            ["field_not_for_kind", "required", "required"]
        );
        assert_eq!(
            check(Kind::Outpatient, Some("2025-06-01"), None, None).1,
            ["field_not_for_kind", "required"]
        );
        let (dates, problems) = check(Kind::Outpatient, None, None, Some("2025-07-01"));
        assert_eq!((dates, problems), (None, vec!["future_date"]));
    }

    #[test]
    fn invoice_numbers_compare_without_width_case_or_spaces() {
        assert_eq!(normalise_invoice(" ｎｏ ２２０１-7 ").unwrap(), "NO2201-7");
        assert!(normalise_invoice("   ").is_err());
        assert!(normalise_invoice(&"1".repeat(65)).is_err());
    }
}
