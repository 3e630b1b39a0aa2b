//! The demo's working year: cases and visits for the generated people, last year and this year
//! up to today, put through the same services the pages call (eligibility, the case workflow,
//! the subsidy formula and caps, approval by a second person, payment, voiding, reversal), so
//! every page and chart opens on believable figures and every rule holds for them.

use chrono::{Datelike, Duration, NaiveDate};

use crate::auth::CurrentUser;
use crate::case::workflow::Action;
use crate::case::{self, Corrections, Move, NewCase};
use crate::domain::subsidy::Costs;
use crate::domain::{Amount, Diagnosis, IdNumber, Money};
use crate::state::AppState;
use crate::visit::{self as settle, NewVisit, Transition, VisitDates};

use super::people::{Dice, Person};

/// Diagnoses (ICD-10) and their words, the common cancers of the programme.
const DIAGNOSES: &[(&str, &str)] = &[
    ("C34.9", "支气管和肺恶性肿瘤"),
    ("C16.9", "胃恶性肿瘤"),
    ("C18.9", "结肠恶性肿瘤"),
    ("C22.0", "肝细胞癌"),
    ("C50.9", "乳房恶性肿瘤"),
    ("C53.9", "子宫颈恶性肿瘤"),
    ("C15.9", "食管恶性肿瘤"),
    ("C61", "前列腺恶性肿瘤"),
    ("C92.0", "急性髓样白血病"),
    ("C25.9", "胰腺恶性肿瘤"),
];

/// The people who do the year's work.
pub struct Desk {
    /// Opens and records in Changchun (2201).
    pub changchun: CurrentUser,
    /// Opens and records in Yanbian (2224).
    pub yanbian: CurrentUser,
    /// Decides cases and subsidies, province-wide.
    pub approver: CurrentUser,
    /// Pays and reverses, province-wide.
    pub manager: CurrentUser,
}

/// What the year came to, for the start-up message and the test.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Cases opened.
    pub cases: usize,
    /// Visits recorded.
    pub visits: usize,
    /// Subsidies paid (reversed ones included).
    pub paid: usize,
    /// Reversal entries.
    pub reversals: usize,
}

/// How a case ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Waiting,
    Rejected,
    Withdrawn,
    Closed,
    Approved,
}

fn fate(k: usize, past_year: bool) -> Fate {
    // Last year's cases are one in `k % 5 < 2`; those still waiting are this year's.
    match k % 20 {
        2 | 7 if !past_year => Fate::Waiting,
        3 | 16 => Fate::Rejected,
        4 => Fate::Withdrawn,
        5 | 10 => Fate::Closed,
        _ => Fate::Approved,
    }
}

/// Opens about `cases` cases among `people` and records their visits. Only people covered
/// all along are chosen (a few have left the roster this year: their eligibility page shows
/// the ended coverage).
pub async fn fill(
    state: &AppState,
    desk: &Desk,
    people: &[Person],
    hospitals: &[i64],
    cases: usize,
) -> anyhow::Result<Tally> {
    let today = desk.approver.today();
    let this_year = today.year();
    let mut dice = Dice::new(4001);
    let mut tally = Tally::default();
    let candidates: Vec<&Person> = people.iter().filter(|p| p.to.is_none()).collect();
    let step = (candidates.len() / cases.max(1)).max(1);
    for (k, p) in candidates.iter().step_by(step).take(cases).enumerate() {
        // Two cases in five are last year's: the dashboard compares the two years.
        let year = if k % 5 < 2 { this_year - 1 } else { this_year };
        let fate = fate(k, year < this_year);
        let opener = if p.region.starts_with("2224") {
            &desk.yanbian
        } else {
            &desk.changchun
        };
        let (code, words) = DIAGNOSES[dice.below(DIAGNOSES.len() as u64) as usize];
        let hospital = hospitals[dice.below(hospitals.len() as u64) as usize];
        let opened = case::open(
            &state.db,
            &state.settings,
            opener,
            NewCase {
                id_number: IdNumber::parse(&p.id_number)?,
                name: p.name.clone(),
                diagnosis: Diagnosis::parse(code)?,
                diagnosis_text: words.to_owned(),
                hospital_id: Some(hospital),
                phone: format!("139{:08}", dice.below(100_000_000)),
                address: String::new(),
                year,
                note: String::new(),
            },
            today,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo case for {}: {e}", p.id_number))?;
        tally.cases += 1;
        let (by, action, reason) = match fate {
            Fate::Waiting => continue,
            Fate::Rejected => (
                &desk.approver,
                Action::Reject,
                Some("诊断证明缺少病理报告，请补充后重新提交"),
            ),
            Fate::Withdrawn => (opener, Action::Withdraw, Some("患者转往外省治疗")),
            Fate::Closed | Fate::Approved => (&desk.approver, Action::Approve, None),
        };
        let moved = decide(state, by, opened.id, opened.version, action, reason, today).await?;
        if !matches!(fate, Fate::Closed | Fate::Approved) {
            continue;
        }
        let visits = 1 + dice.below(7) as usize;
        for n in 0..visits {
            record_one(
                state,
                desk,
                opener,
                &mut dice,
                &mut tally,
                (opened.id, n),
                hospital,
                year,
                today,
            )
            .await?;
        }
        if fate == Fate::Closed {
            decide(
                state,
                &desk.approver,
                opened.id,
                moved,
                Action::Close,
                Some("患者本年度治疗结束"),
                today,
            )
            .await?;
        }
    }
    Ok(tally)
}

async fn decide(
    state: &AppState,
    by: &CurrentUser,
    id: i64,
    version: i32,
    action: Action,
    reason: Option<&str>,
    today: NaiveDate,
) -> anyhow::Result<i32> {
    let detail = case::transition(
        &state.db,
        &state.settings,
        by,
        id,
        Move {
            action,
            version,
            reason: reason.map(str::to_owned),
            corrections: Corrections::default(),
        },
        today,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo case {id} {}: {e}", action.code()))?;
    Ok(detail.case.version)
}

/// Records one visit of a case and takes its subsidy as far as its age allows: recent ones
/// wait for approval or payment, older ones are paid; a few are voided or reversed.
#[allow(clippy::too_many_arguments)]
async fn record_one(
    state: &AppState,
    desk: &Desk,
    recorder: &CurrentUser,
    dice: &mut Dice,
    tally: &mut Tally,
    (case_id, n): (i64, usize),
    hospital: i64,
    year: i32,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(year, 12, 31)
        .expect("a date")
        .min(today - Duration::days(1));
    let span = (last - first).num_days().max(0);
    let day = first + Duration::days(dice.between(0, span));
    let inpatient = dice.chance(45);
    let (dates, total_yuan) = if inpatient {
        let stay = dice.between(3, 20);
        (
            VisitDates::Inpatient {
                admitted_on: (day - Duration::days(stay)).max(first),
                discharged_on: day,
            },
            dice.between(8_000, 90_000),
        )
    } else {
        (
            VisitDates::Outpatient { visit_date: day },
            dice.between(400, 6_000),
        )
    };
    let total = Money::from_fen(total_yuan * 100 + dice.between(0, 99));
    let share = |m: Money, percent: i64| Money::from_fen(m.fen() * percent / 100);
    let costs = Costs::new(
        Amount::new(total)?,
        Amount::new(share(total, dice.between(45, 65)))?,
        Amount::new(share(total, dice.between(0, 12)))?,
        Amount::new(share(total, dice.between(0, 8)))?,
    )?;
    let recorded = crate::visit::record(
        &state.db,
        recorder,
        case_id,
        NewVisit {
            hospital_id: hospital,
            dates,
            invoice_no: format!("{year}{case_id:06}{n:02}"),
            costs,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo visit of case {case_id}: {e}"))?;
    tally.visits += 1;
    let id = recorded.visit.id;
    let age = (today - day).num_days();
    if age < 12 {
        return Ok(());
    }
    if dice.chance(3) {
        let why = "发票与住院清单金额不符，退回重报".to_owned();
        settle::transition(
            &state.db,
            &desk.approver,
            id,
            Transition::Void { reason: why },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo void {id}: {e}"))?;
        return Ok(());
    }
    settle::transition(&state.db, &desk.approver, id, Transition::Approve)
        .await
        .map_err(|e| anyhow::anyhow!("demo approval {id}: {e}"))?;
    if age < 40 {
        return Ok(());
    }
    let paid_on = (day + Duration::days(dice.between(15, 35))).min(today);
    settle::transition(
        &state.db,
        &desk.manager,
        id,
        Transition::Pay {
            payment_ref: format!("DEMO{}{id:07}", paid_on.format("%Y%m%d")),
            paid_on,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo payment {id}: {e}"))?;
    tally.paid += 1;
    if dice.chance(2) {
        let on = (paid_on + Duration::days(10)).min(today);
        settle::reverse(
            &state.db,
            &desk.manager,
            id,
            "重复报销，已追回".to_owned(),
            on,
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo reversal {id}: {e}"))?;
        tally.reversals += 1;
    }
    Ok(())
}
