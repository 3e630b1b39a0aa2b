//! The eligibility rules (docs/domain.md, "Eligibility") as a pure function of the facts: no
//! database, no clock.
//! Every rule that fails gives a reason of its own, so a clerk sees everything that stands in
//! the way at once, not one problem per attempt.

use chrono::NaiveDate;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::domain::{
    Allowance, Diagnosis, DiagnosisRanges, Group, Lang, Localized, Money, PolicyCap, RegionCode,
    RegionPrefix,
};

/// The person as the roster imports left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// Row id.
    pub id: i64,
    /// Latest name on a roster.
    pub name: String,
    /// `male` or `female`.
    pub sex: String,
    /// From the ID number.
    pub birth_date: NaiveDate,
    /// Latest region on a roster.
    pub region_code: String,
}

/// The roster import an entry came from (the one that last wrote it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = EntryImport)]
pub struct ImportRef {
    /// Import id.
    pub id: i64,
    /// The uploaded file's name.
    pub file_name: String,
    /// The date the roster took effect.
    pub effective_date: NaiveDate,
    /// incremental | full.
    pub mode: String,
}

/// One roster entry of the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    /// Row id.
    pub id: i64,
    /// Stored group code.
    pub group_code: String,
    /// Region on the roster.
    pub region_code: String,
    /// Name on the roster.
    pub name_on_roster: String,
    /// First covered day.
    pub valid_from: NaiveDate,
    /// Last covered day, if it ended.
    pub valid_to: Option<NaiveDate>,
    /// Where it came from; none for an entry written outside an import.
    pub import: Option<ImportRef>,
}

impl EntryFacts {
    /// Whether the entry covers a day.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }

    /// The entry's group, when it is one of the programme's.
    pub fn group(&self) -> Option<Group> {
        Group::parse(&self.group_code).ok()
    }
}

/// Everything the rules look at, loaded in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The person, if any roster ever listed them.
    pub person: Option<PersonFacts>,
    /// All their roster entries, with history.
    pub entries: Vec<EntryFacts>,
    /// Policies in force on the day, for the groups of their entries.
    pub caps: Vec<PolicyCap>,
    /// Another open or approved case of the year, by id.
    pub open_case: Option<i64>,
    /// Subsidy granted to them in the year so far.
    pub granted: Money,
}

/// What is asked.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The day that must be covered.
    pub date: NaiveDate,
    /// The calendar year of the case (open cases and the annual cap count per year).
    pub year: i32,
    /// The diagnosis, when known.
    pub diagnosis: Option<&'a Diagnosis>,
    /// The name the applicant gave, when opening a case.
    pub name: Option<&'a str>,
}

/// The programme's configuration the rules depend on.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Province prefix (`22`).
    pub province: &'a RegionPrefix,
    /// Covered ICD-10 ranges (`C00-C97`).
    pub diagnoses: &'a DiagnosisRanges,
}

/// One failed rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// No roster entry of an eligible group, ever.
    #[error("the person is on no roster of an assistance group")]
    NotOnRoster,
    /// The latest entry before the date ended.
    #[error("the person's roster entry ended on {ended_on}, before {date}")]
    RosterEntryEnded {
        /// Last covered day.
        ended_on: NaiveDate,
        /// The day asked about.
        date: NaiveDate,
    },
    /// The next entry after the date has not begun.
    #[error("the person's roster entry starts on {starts_on}, after {date}")]
    RosterEntryNotStarted {
        /// First covered day.
        starts_on: NaiveDate,
        /// The day asked about.
        date: NaiveDate,
    },
    /// The person lives outside the programme's province.
    #[error("the person's region {region} is outside the programme's province {province}")]
    OutsideProvince {
        /// The person's region code.
        region: String,
        /// The programme's prefix.
        province: String,
    },
    /// The diagnosis is not a covered malignant neoplasm.
    #[error("the diagnosis {code} is not covered: the programme covers ICD-10 {ranges}")]
    DiagnosisNotCovered {
        /// Normalised code.
        code: String,
        /// Covered ranges.
        ranges: String,
    },
    /// The name given differs from the roster's.
    #[error("the name '{given}' does not match the roster's '{on_roster}'")]
    NameMismatch {
        /// As typed.
        given: String,
        /// As on the roster.
        on_roster: String,
    },
    /// Another case of the year is open or approved.
    #[error("the person already has an open or approved case for {year} (case {case_id})")]
    OpenCaseExists {
        /// That case.
        case_id: i64,
        /// The year.
        year: i32,
    },
    /// The annual cap is used up.
    #[error("the person has been granted {granted} yuan in {year}, the annual cap of {cap} yuan")]
    AnnualCapReached {
        /// Granted so far.
        granted: Money,
        /// The cap.
        cap: Money,
        /// The year.
        year: i32,
    },
}

impl Localized for Reason {
    fn code(&self) -> &'static str {
        match self {
            Reason::NotOnRoster => "not_on_roster",
            Reason::RosterEntryEnded { .. } => "roster_entry_ended",
            Reason::RosterEntryNotStarted { .. } => "roster_entry_not_started",
            Reason::OutsideProvince { .. } => "outside_province",
            Reason::DiagnosisNotCovered { .. } => "diagnosis_not_covered",
            Reason::NameMismatch { .. } => "name_mismatch",
            Reason::OpenCaseExists { .. } => "open_case_exists",
            Reason::AnnualCapReached { .. } => "annual_cap_reached",
        }
    }

    fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            let mut s = self.to_string();
            if let Some(first) = s.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            return s + ".";
        }
        match self {
            Reason::NotOnRoster => {
                "未在城市低保、农村低保、特困供养或优抚对象名册中找到该人员，不属于救助对象。"
                    .into()
            }
            Reason::RosterEntryEnded { ended_on, date } => {
                format!("该人员的名册记录已于{ended_on}终止，{date}不在保障期内。")
            }
            Reason::RosterEntryNotStarted { starts_on, date } => {
                format!("该人员的名册记录自{starts_on}起才生效，{date}尚不在保障期内。")
            }
            Reason::OutsideProvince { region, province } => {
                format!("该人员所在地区（{region}）不在本项目的省份范围（{province}）内。")
            }
            Reason::DiagnosisNotCovered { code, ranges } => {
                format!("诊断编码{code}不在救助范围内：本项目救助恶性肿瘤（ICD-10 {ranges}）。")
            }
            Reason::NameMismatch { given, on_roster } => {
                format!("姓名“{given}”与名册登记的“{on_roster}”不一致，请核对。")
            }
            Reason::OpenCaseExists { case_id, year } => {
                format!("该人员{year}年已有在办或已批准的案件（编号{case_id}），不能重复申请。")
            }
            Reason::AnnualCapReached { granted, cap, year } => {
                format!("该人员{year}年已获救助{granted}元，已达年度救助上限{cap}元。")
            }
        }
    }
}

/// The rules, named as they appear in a decision's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = EligibilityRule)]
pub enum Rule {
    /// A roster entry of an eligible group covers the day.
    Roster,
    /// The person's region lies in the province.
    Province,
    /// The diagnosis is covered.
    Diagnosis,
    /// The name agrees with the roster's.
    Name,
    /// No other open or approved case in the year.
    OpenCase,
    /// The annual cap is not used up.
    AnnualCap,
}

/// How one rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RuleOutcome)]
pub enum Outcome {
    /// It held.
    Passed,
    /// It failed (with a reason).
    Failed,
    /// Nothing to check (no diagnosis given, no name given, no person to check it on).
    NotApplicable,
}

/// One rule and its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = RuleCheck)]
pub struct Check {
    /// Which rule.
    pub rule: Rule,
    /// How it came out.
    pub result: Outcome,
}

/// The answer: eligible or not, why not, and what it relied on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Whether every rule held.
    pub eligible: bool,
    /// Indices into `Facts::entries` of the entries that cover the day.
    pub covering: Vec<usize>,
    /// The groups of those entries, without repeats.
    pub groups: Vec<Group>,
    /// Every failed rule.
    pub reasons: Vec<Reason>,
    /// Every rule with its outcome.
    pub checks: Vec<Check>,
    /// The annual cap, what was granted and what is left (`domain::allowance`).
    pub allowance: Allowance,
}

/// Names compare after NFKC, without spaces, with one middle dot: 买买提·吐尔逊 is typed with
/// ·, •, ・ or ‧ depending on the keyboard.
pub fn same_name(a: &str, b: &str) -> bool {
    fn key(s: &str) -> String {
        s.nfkc()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '•' | '・' | '‧' | '∙' | '⋅' | '･' | '.' => '·',
                c => c,
            })
            .collect()
    }
    key(a) == key(b)
}

/// Applies every rule to the facts.
pub fn assess(facts: &Facts, q: &Question<'_>, rules: &Rules<'_>) -> Assessment {
    let mut reasons = Vec::new();
    let mut checks = Vec::new();
    let mut check = |rule: Rule, failed: Vec<Reason>, applicable: bool| {
        let result = match (applicable, failed.is_empty()) {
            (false, _) => Outcome::NotApplicable,
            (true, true) => Outcome::Passed,
            (true, false) => Outcome::Failed,
        };
        checks.push(Check { rule, result });
        reasons.extend(failed);
    };

    // 2. A roster entry of an eligible group covers the day.
    let eligible_entries: Vec<(usize, &EntryFacts)> = facts
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.group().is_some())
        .collect();
    let covering: Vec<usize> = eligible_entries
        .iter()
        .filter(|(_, e)| e.covers(q.date))
        .map(|(i, _)| *i)
        .collect();
    let mut groups: Vec<Group> = covering
        .iter()
        .filter_map(|i| facts.entries[*i].group())
        .collect();
    groups.sort();
    groups.dedup();
    let mut roster = Vec::new();
    if covering.is_empty() {
        let ended = eligible_entries
            .iter()
            .filter_map(|(_, e)| e.valid_to.filter(|to| *to < q.date))
            .max();
        let starts = eligible_entries
            .iter()
            .map(|(_, e)| e.valid_from)
            .filter(|from| *from > q.date)
            .min();
        if let Some(ended_on) = ended {
            roster.push(Reason::RosterEntryEnded {
                ended_on,
                date: q.date,
            });
        }
        if let Some(starts_on) = starts {
            roster.push(Reason::RosterEntryNotStarted {
                starts_on,
                date: q.date,
            });
        }
        if roster.is_empty() {
            roster.push(Reason::NotOnRoster);
        }
    }
    check(Rule::Roster, roster, true);

    // 3. The person's region lies in the province.
    let province = facts.person.as_ref().map(|p| {
        let inside = RegionCode::parse(&p.region_code).is_ok_and(|c| rules.province.contains(&c));
        if inside {
            vec![]
        } else {
            vec![Reason::OutsideProvince {
                region: p.region_code.clone(),
                province: rules.province.to_string(),
            }]
        }
    });
    check(
        Rule::Province,
        province.clone().unwrap_or_default(),
        province.is_some(),
    );

    // 4. The diagnosis is a covered malignant neoplasm.
    let diagnosis = q.diagnosis.map(|d| {
        if rules.diagnoses.covers(d) {
            vec![]
        } else {
            vec![Reason::DiagnosisNotCovered {
                code: d.to_string(),
                ranges: rules.diagnoses.to_string(),
            }]
        }
    });
    check(
        Rule::Diagnosis,
        diagnosis.clone().unwrap_or_default(),
        diagnosis.is_some(),
    );

    // The name given agrees with the roster: with a covering entry's, else the person's.
    let name = match (q.name, &facts.person) {
        (Some(given), Some(p)) => {
            let on_roster: Vec<&str> = if covering.is_empty() {
                vec![p.name.as_str()]
            } else {
                covering
                    .iter()
                    .map(|i| facts.entries[*i].name_on_roster.as_str())
                    .collect()
            };
            Some(if on_roster.iter().any(|n| same_name(given, n)) {
                vec![]
            } else {
                vec![Reason::NameMismatch {
                    given: given.trim().to_owned(),
                    on_roster: on_roster[0].to_owned(),
                }]
            })
        }
        _ => None,
    };
    check(Rule::Name, name.clone().unwrap_or_default(), name.is_some());

    // 5. No other open or approved case in the year.
    let open = facts
        .open_case
        .map(|case_id| Reason::OpenCaseExists {
            case_id,
            year: q.year,
        })
        .into_iter()
        .collect();
    check(Rule::OpenCase, open, facts.person.is_some());

    // 6. The annual cap is not used up.
    let allowance = Allowance::new(&groups, &facts.caps, facts.granted);
    let cap = allowance
        .annual_cap
        .filter(|_| allowance.used_up())
        .map(|cap| Reason::AnnualCapReached {
            granted: facts.granted,
            cap,
            year: q.year,
        })
        .into_iter()
        .collect();
    check(Rule::AnnualCap, cap, !groups.is_empty());

    Assessment {
        eligible: reasons.is_empty(),
        covering,
        groups,
        reasons,
        checks,
        allowance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn person(region: &str) -> PersonFacts {
        PersonFacts {
            id: 1,
            name: "买买提·吐尔逊".into(),
            sex: "male".into(),
            birth_date: d("1970-01-01"),
            region_code: region.into(),
        }
    }

    fn entry(group: &str, from: &str, to: Option<&str>) -> EntryFacts {
        EntryFacts {
            id: 1,
            group_code: group.into(),
            region_code: "220102".into(),
            name_on_roster: "买买提·吐尔逊".into(),
            valid_from: d(from),
            valid_to: to.map(d),
            import: None,
        }
    }

    fn on_roster() -> Facts {
        Facts {
            person: Some(person("220102")),
            entries: vec![entry("low_income_urban", "2020-06-01", None)],
            ..Facts::default()
        }
    }

    fn codes(a: &Assessment) -> Vec<&'static str> {
        a.reasons.iter().map(|r| r.code()).collect()
    }

    fn ask(facts: &Facts, date: &str, diagnosis: Option<&str>, name: Option<&str>) -> Assessment {
        let province = RegionPrefix::parse("22").unwrap();
        let ranges = DiagnosisRanges::default();
        let diagnosis = diagnosis.map(|s| Diagnosis::parse(s).unwrap());
        let q = Question {
            date: d(date),
            year: d(date).format("%Y").to_string().parse().unwrap(),
            diagnosis: diagnosis.as_ref(),
            name,
        };
        assess(
            facts,
            &q,
            &Rules {
                province: &province,
                diagnoses: &ranges,
            },
        )
    }

    #[test]
    fn a_covered_person_with_a_covered_diagnosis_is_eligible() {
        let a = ask(
            &on_roster(),
            "2026-03-01",
            Some("c34.1"),
            Some("买买提•吐尔逊"),
        );
        assert!(a.eligible, "{:?}", a.reasons);
        assert_eq!(a.covering, vec![0]);
        assert_eq!(a.groups, vec![Group::LowIncomeUrban]);
        assert!(a.checks.iter().all(|c| c.result == Outcome::Passed));
        assert_eq!(a.allowance.annual_cap, None, "no policy, no cap");
    }

    #[test]
    fn nobody_on_a_roster_is_not_on_roster_and_nothing_else_applies() {
        let a = ask(&Facts::default(), "2026-03-01", None, Some("张三"));
        assert_eq!(codes(&a), vec!["not_on_roster"]);
        let na: Vec<Rule> = a
            .checks
            .iter()
            .filter(|c| c.result == Outcome::NotApplicable)
            .map(|c| c.rule)
            .collect();
        assert_eq!(
            na,
            vec![
                Rule::Province,
                Rule::Diagnosis,
                Rule::Name,
                Rule::OpenCase,
                Rule::AnnualCap
            ]
        );
        // An entry of no known group does not count.
        let mut f = on_roster();
        f.entries[0].group_code = "something_else".into();
        assert_eq!(
            codes(&ask(&f, "2026-03-01", None, None)),
            vec!["not_on_roster"]
        );
    }

    #[test]
    fn ended_and_future_entries_say_when() {
        let mut f = on_roster();
        f.entries = vec![entry("low_income_urban", "2020-06-01", Some("2021-12-31"))];
        let a = ask(&f, "2022-01-01", None, None);
        assert_eq!(codes(&a), vec!["roster_entry_ended"]);
        assert!(a.reasons[0].message(Lang::Zh).contains("2021-12-31"));
        // The last covered day is still covered.
        assert!(ask(&f, "2021-12-31", None, None).eligible);

        f.entries = vec![entry("extreme_hardship", "2027-01-01", None)];
        let a = ask(&f, "2026-12-31", None, None);
        assert_eq!(codes(&a), vec!["roster_entry_not_started"]);
        assert!(a.reasons[0].message(Lang::En).contains("2027-01-01"));

        // In a gap between two entries, both are named.
        f.entries = vec![
            entry("low_income_rural", "2020-01-01", Some("2020-12-31")),
            entry("low_income_rural", "2021-03-01", None),
        ];
        let a = ask(&f, "2021-02-01", None, None);
        assert_eq!(
            codes(&a),
            vec!["roster_entry_ended", "roster_entry_not_started"]
        );
    }

    #[test]
    fn a_region_outside_the_province_fails() {
        let mut f = on_roster();
        f.person = Some(person("110105"));
        let a = ask(&f, "2026-03-01", None, None);
        assert_eq!(codes(&a), vec!["outside_province"]);
        assert!(a.reasons[0].message(Lang::Zh).contains("110105"));
    }

    #[test]
    fn a_diagnosis_outside_the_ranges_fails() {
        let a = ask(&on_roster(), "2026-03-01", Some("D09.9"), None);
        assert_eq!(codes(&a), vec!["diagnosis_not_covered"]);
        assert!(a.reasons[0].message(Lang::Zh).contains("C00-C97"));
    }

    #[test]
    fn a_different_name_is_a_mismatch() {
        let a = ask(&on_roster(), "2026-03-01", None, Some("买买提"));
        assert_eq!(codes(&a), vec!["name_mismatch"]);
        assert!(same_name(" 买买提 · 吐尔逊", "买买提・吐尔逊"));
        assert!(!same_name("张三", "张叁"));
    }

    #[test]
    fn an_open_case_of_the_year_fails() {
        let mut f = on_roster();
        f.open_case = Some(12);
        let a = ask(&f, "2026-03-01", None, None);
        assert_eq!(codes(&a), vec!["open_case_exists"]);
        assert!(a.reasons[0].message(Lang::Zh).contains("12"));
    }

    #[test]
    fn the_annual_cap_uses_the_latest_policy_of_the_most_generous_group() {
        let cap = |g: &str, yuan: i64, from: &str| PolicyCap {
            group: Group::parse(g).unwrap(),
            annual_cap: Money::from_yuan(yuan),
            effective_from: d(from),
        };
        let mut f = on_roster();
        f.caps = vec![
            cap("low_income_urban", 10_000, "2015-01-01"),
            cap("low_income_urban", 30_000, "2025-01-01"),
        ];
        f.granted = Money::from_yuan(29_999);
        let a = ask(&f, "2026-03-01", None, None);
        assert!(a.eligible);
        assert_eq!(a.allowance.annual_cap, Some(Money::from_yuan(30_000)));
        f.granted = Money::from_yuan(30_000);
        let a = ask(&f, "2026-03-01", None, None);
        assert_eq!(codes(&a), vec!["annual_cap_reached"]);
        assert!(a.reasons[0].message(Lang::Zh).contains("30000.00"));

        // A second group whose policy is more generous lifts the cap.
        f.entries
            .push(entry("extreme_hardship", "2020-01-01", None));
        f.caps.push(cap("extreme_hardship", 50_000, "2015-01-01"));
        assert!(ask(&f, "2026-03-01", None, None).eligible);
        // A group without a policy adds nothing: the other group's policy still caps the
        // person, as it caps every visit recorded for them.
        f.caps.pop();
        let a = ask(&f, "2026-03-01", None, None);
        assert_eq!(codes(&a), vec!["annual_cap_reached"]);
        assert_eq!(a.allowance.annual_cap, Some(Money::from_yuan(30_000)));
        // Without any policy there is no cap to reach.
        f.caps.clear();
        f.granted = Money::from_yuan(1_000_000);
        let a = ask(&f, "2026-03-01", None, None);
        assert!(a.eligible);
        assert_eq!(a.allowance.annual_cap, None);
    }

    #[test]
    fn every_failing_rule_gives_its_own_reason() {
        let mut f = on_roster();
        f.person = Some(person("110105"));
        f.open_case = Some(3);
        let a = ask(&f, "2026-03-01", Some("E11"), Some("张三"));
        assert_eq!(
            codes(&a),
            vec![
                "outside_province",
                "diagnosis_not_covered",
                "name_mismatch",
                "open_case_exists"
            ]
        );
        assert!(!a.eligible);
        for r in &a.reasons {
            assert!(r.message(Lang::En).ends_with('.'));
        }
    }
}
