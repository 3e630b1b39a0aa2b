//! One annual cap everywhere: over random groups, policies and visits, the eligibility check,
//! the visit preview, recording, the case page and the statement show the same cap and the
//! same amount left, and that amount is what a model of the rule computes
//! (docs/domain.md, "Caps").

use axum::http::StatusCode;
use serde_json::{Value, json};

use cancer_aid::domain::Role;

use crate::db_test;
use crate::fixtures::visits::{
    case_of, day, entry, hospital, id_number, person_with_entry, policy, year,
};
use crate::helpers::TestApp;

const GROUPS: [&str; 4] = [
    "low_income_urban",
    "low_income_rural",
    "extreme_hardship",
    "entitled_care",
];

/// A small deterministic generator: the scenarios are the same on every run and both
/// databases; `CAP_SEED` picks another set.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn fen(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    let (yuan, cents) = s.split_once('.').unwrap_or((s, "00"));
    Some(yuan.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap())
}

/// What every place shows, read through the API.
#[derive(Debug, PartialEq, Eq)]
struct Shown {
    cap: Option<i64>,
    left: Option<i64>,
}

async fn shown_elsewhere(app: &TestApp, person_id: i64, seq: u32, case_id: i64) -> [Shown; 3] {
    let worker = app.as_role(Role::Caseworker).await;
    let e = worker
        .post(
            "/api/v1/eligibility",
            &json!({"id_number": id_number(seq), "date": day(6, 30)}),
        )
        .await;
    e.assert_status(StatusCode::OK);
    let e = e.json();
    let c = worker.get(&format!("/api/v1/cases/{case_id}")).await;
    c.assert_status(StatusCode::OK);
    let c = c.json();
    let s = worker
        .get(&format!(
            "/api/v1/persons/{person_id}/statement?year={}",
            year()
        ))
        .await;
    s.assert_status(StatusCode::OK);
    let s = s.json();
    [
        Shown {
            cap: fen(&e["annual"]["annual_cap"]),
            left: fen(&e["annual"]["cap_left"]),
        },
        // The case page shows what is left only.
        Shown {
            cap: fen(&s["annual_cap"]),
            left: fen(&c["visits"]["annual_cap_left"]),
        },
        Shown {
            cap: fen(&s["annual_cap"]),
            left: fen(&s["cap_left"]),
        },
    ]
}

db_test!(eligibility_recording_preview_case_and_statement_agree_on_the_cap);
async fn eligibility_recording_preview_case_and_statement_agree_on_the_cap(app: TestApp) {
    let seed = std::env::var("CAP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CAFE_u64);
    let mut draw = Draw(seed);
    let hospital = hospital(&app, "HC", true).await;

    // A policy for a random half of the groups, but at least one group with and one
    // without, so that a person in both exists.
    let mut caps: [Option<i64>; 4] = [None; 4];
    for (i, group) in GROUPS.iter().enumerate() {
        if !(i == 0 || (i != 1 && draw.below(2) == 0)) {
            continue;
        }
        let annual = draw.pick(&[3_000, 10_000, 30_000, 50_000]);
        let per_visit = draw.pick(&[2_000, 10_000, 30_000]).min(annual);
        let rate = draw.pick(&["0.50", "0.60", "0.80", "1.00"]);
        let deductible = draw.pick(&["0", "500", "1000"]);
        policy(
            &app,
            group,
            rate,
            [deductible, &per_visit.to_string(), &annual.to_string()],
            "2015-01-01",
            None,
        )
        .await;
        caps[i] = Some(annual * 100);
    }

    for seq in 1..=8u32 {
        // Random groups; the first person is in a group with a policy and one without.
        let groups: Vec<usize> = if seq == 1 {
            vec![0, 1]
        } else {
            let mut gs: Vec<usize> = (0..4).filter(|_| draw.below(2) == 0).collect();
            if gs.is_empty() {
                gs.push(draw.below(4) as usize);
            }
            gs
        };
        let person_id = person_with_entry(&app, seq, GROUPS[groups[0]], "2000-01-01", None).await;
        for g in &groups[1..] {
            entry(&app, person_id, GROUPS[*g], "2000-01-01", None).await;
        }
        let case_id = case_of(&app, person_id, year(), "approved", "220102").await;
        let model_cap = groups.iter().filter_map(|g| caps[*g]).max();
        let mut granted = 0i64;
        let model = |granted: i64| Shown {
            cap: model_cap,
            left: model_cap.map(|c| (c - granted).max(0)),
        };
        let worker = app.as_role(Role::Caseworker).await;
        for (k, shown) in shown_elsewhere(&app, person_id, seq, case_id)
            .await
            .into_iter()
            .enumerate()
        {
            assert_eq!(
                shown,
                model(granted),
                "person {seq} (groups {groups:?}), place {k}, before any visit"
            );
        }

        for n in 0..draw.below(4) {
            let total = draw.pick(&[800, 3_000, 9_000, 20_000, 60_000]);
            let body = json!({
                "hospital_id": hospital, "kind": "outpatient", "visit_date": day(3, 1 + n as u32),
                "invoice_no": format!("CAP-{seq}-{n}"), "total_cost": total.to_string(),
                "insurance_paid": "0", "critical_illness_paid": "0", "medical_assistance_paid": "0"
            });
            let preview = worker
                .post(&format!("/api/v1/cases/{case_id}/visits/preview"), &body)
                .await;
            let recorded = worker
                .post(&format!("/api/v1/cases/{case_id}/visits"), &body)
                .await;
            if model_cap.is_none() {
                // No policy for any of the person's groups: nothing can be recorded.
                assert_eq!(preview.error_code(), "no_policy");
                assert_eq!(recorded.error_code(), "no_policy");
                continue;
            }
            preview.assert_status(StatusCode::OK);
            recorded.assert_status(StatusCode::CREATED);
            let (p, r) = (preview.json(), recorded.json());
            let subsidy = fen(&r["subsidy"]).unwrap();
            assert_eq!(
                fen(&p["subsidy"]),
                Some(subsidy),
                "the preview gives what recording gives"
            );
            assert!(
                subsidy <= model(granted).left.unwrap(),
                "never above what is left"
            );
            assert_eq!(fen(&r["annual"]["granted_before"]), Some(granted));
            granted += subsidy;
            for (place, annual) in [("preview", &p["annual"]), ("recording", &r["annual"])] {
                let shown = Shown {
                    cap: fen(&annual["annual_cap"]),
                    left: fen(&annual["cap_left"]),
                };
                assert_eq!(
                    shown,
                    model(granted),
                    "person {seq} (groups {groups:?}), {place}, visit {n}"
                );
            }
            for (k, shown) in shown_elsewhere(&app, person_id, seq, case_id)
                .await
                .into_iter()
                .enumerate()
            {
                assert_eq!(
                    shown,
                    model(granted),
                    "person {seq} (groups {groups:?}), place {k}, after visit {n}"
                );
            }
        }
    }
}
