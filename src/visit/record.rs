//! Recording a visit, and its preview. Both run one plan: `load` reads the facts, then
//! `check` refuses (a typed [`Refusal`]) or lets the visit through and `compute` decides the
//! subsidy and the person's annual figures; both steps are pure functions of what was read.
//!
//! Recording runs the plan in its write transaction, holding the policies (shared), the case
//! (`FOR SHARE`) and the person's annual row (`ledger::hold`), then writes the visit, the grant
//! and the audit row. The preview runs the plan in a read transaction with what was granted
//! read without a lock (`ledger::granted`): it takes no write lock, writes nothing and draws no
//! sequence value. The same plan answers both, so the preview cannot disagree with what
//! recording then grants (unless another visit of the person lands in between).

use chrono::Datelike;
use sea_orm::{
    AccessMode, ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QuerySelect, Set, SqlErr,
    TransactionOptions, TransactionTrait,
};

use entity::{case, hospital, visit};

use super::refusal::Refusal;
use super::view::{self, AnnualFigures, Preview, Recorded, UsedPolicy};
use super::{NewVisit, Status, cap_reason_label, ledger};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::case::workflow::CaseState;
use crate::domain::subsidy::{self, Subsidy};
use crate::domain::{Allowance, Group, Money, RegionCode};
use crate::error::{AppError, AppResult, current_lang};
use crate::policy::{self, Policy};

/// Why the facts are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To write: the case and the person's annual row are held until the transaction ends.
    Record,
    /// To look: nothing is held or written.
    Preview,
}

/// What the checks decide on, all read before any of them.
struct Facts {
    case: case::Model,
    hospital: Option<hospital::Model>,
    /// The refusal naming the visit that already has the invoice, if one does.
    duplicate: Option<Refusal>,
    groups: Vec<Group>,
    policies: Vec<Policy>,
}

/// What passed the checks.
struct Checked {
    case: case::Model,
    hospital: hospital::Model,
    groups: Vec<Group>,
    policies: Vec<Policy>,
}

/// What recording writes, and what recording and the preview answer.
struct Plan {
    case: case::Model,
    hospital_id: i64,
    /// The policy used.
    policy: Policy,
    subsidy: Subsidy,
    annual: AnnualFigures,
}

/// Records a visit of an approved case and grants its subsidy in the same transaction.
pub async fn record(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    new: NewVisit,
) -> AppResult<Recorded> {
    let txn = crate::db::begin_write(db).await?;
    policy::hold_shared(&txn).await?;
    let Plan {
        case,
        hospital_id,
        policy: chosen,
        subsidy: s,
        annual,
    } = plan(&txn, user, case_id, &new, Mode::Record).await?;
    let now = user.now;
    let (admitted_on, discharged_on, visit_date) = new.dates.columns();
    let inserted = visit::ActiveModel {
        case_id: Set(case.id),
        person_id: Set(case.person_id),
        hospital_id: Set(hospital_id),
        policy_id: Set(Some(chosen.id)),
        group_code: Set(chosen.group.code().to_owned()),
        region_code: Set(case.region_code.clone()),
        kind: Set(new.dates.kind()),
        admitted_on: Set(admitted_on),
        discharged_on: Set(discharged_on),
        visit_date: Set(visit_date),
        counted_on: Set(new.dates.counted_on()),
        year: Set(annual.year),
        invoice_no: Set(Some(new.invoice_no.clone())),
        total_cost_fen: Set(new.costs.total().fen()),
        insurance_paid_fen: Set(new.costs.insurance().fen()),
        critical_illness_paid_fen: Set(new.costs.critical_illness().fen()),
        medical_assistance_paid_fen: Set(new.costs.medical_assistance().fen()),
        out_of_pocket_fen: Set(s.out_of_pocket.fen()),
        subsidy_fen: Set(s.amount.fen()),
        cap_reason: Set(s.cap_reason.map(|r| r.code().to_owned())),
        status: Set(Status::Pending),
        reverses_visit_id: Set(None),
        recorded_by: Set(user.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let v = match inserted {
        Ok(v) => v,
        // Another request recorded the same invoice between the check and the insert
        // (PostgreSQL: the unique index waited for it to commit).
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            return match find_invoice(db, hospital_id, &new.invoice_no).await? {
                Some(existing) => Err(duplicate(db, user, &existing).await?.into()),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    ledger::add(&txn, v.person_id, annual.year, s.amount.money(), user.now).await?;
    let mut after = view::snapshot(&v);
    after["annual"] = serde_json::to_value(annual).unwrap_or_default();
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "visit.record",
            entity_type: "visit",
            entity_id: v.id.to_string(),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    let visit_view = view::view(&txn, &v).await?;
    txn.commit().await?;
    tracing::info!(
        visit.id = v.id,
        case.id = case_id,
        subsidy = %s.amount,
        "Recorded visit {} with subsidy {}",
        v.id,
        s.amount
    );
    Ok(Recorded {
        visit: visit_view,
        subsidy_by_rate: s.by_rate.money(),
        policy: UsedPolicy::from(&chosen),
        annual,
    })
}

/// What recording the visit would grant, without recording it: the very same plan (checks
/// and computation) as [`record`], in a read transaction.
pub async fn preview(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    new: NewVisit,
) -> AppResult<Preview> {
    let txn = begin_read(db).await?;
    let Plan {
        policy,
        subsidy: s,
        annual,
        ..
    } = plan(&txn, user, case_id, &new, Mode::Preview).await?;
    txn.commit().await?;
    let cap_reason = s.cap_reason.map(|r| r.code().to_owned());
    Ok(Preview {
        out_of_pocket: s.out_of_pocket.money(),
        subsidy_by_rate: s.by_rate.money(),
        subsidy: s.amount.money(),
        cap_reason_label: cap_reason_label(cap_reason.as_deref(), current_lang()),
        cap_reason,
        policy: UsedPolicy::from(&policy),
        annual,
    })
}

/// A transaction that only reads: on PostgreSQL `READ ONLY` and `REPEATABLE READ` (every read
/// of the plan sees one snapshot); on SQLite a deferred one, which under WAL reads one
/// snapshot and never takes the write lock.
async fn begin_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// The plan: the facts, the checks, what the person was granted in the year (held when
/// recording, read when previewing), and the computation.
async fn plan(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    case_id: i64,
    new: &NewVisit,
    mode: Mode,
) -> AppResult<Plan> {
    let facts = load(txn, user, case_id, new, mode).await?;
    let checked = check(facts, new)?;
    let (person_id, year) = (checked.case.person_id, new.dates.counted_on().year());
    let granted_before = match mode {
        Mode::Record => ledger::hold(txn, person_id, year, user.now).await?,
        Mode::Preview => ledger::granted(txn, person_id, year).await?,
    };
    Ok(compute(checked, new, granted_before)?)
}

/// Reads what the checks decide on. The case must exist in the user's scope.
async fn load(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    case_id: i64,
    new: &NewVisit,
    mode: Mode,
) -> AppResult<Facts> {
    let on = new.dates.counted_on();
    let mut find_case = case::Entity::find_by_id(case_id);
    if mode == Mode::Record {
        // FOR SHARE: the case cannot leave `approved` until this visit is in.
        find_case = find_case.lock_shared();
    }
    let case = find_case
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("case", case_id))?;
    let region = RegionCode::parse(&case.region_code)
        .map_err(|_| anyhow::anyhow!("case {case_id} has a bad region"))?;
    user.ensure_in_scope(&region, "case", case_id)?;
    let hospital = hospital::Entity::find_by_id(new.hospital_id)
        .one(txn)
        .await?;
    let duplicate = match find_invoice(txn, new.hospital_id, &new.invoice_no).await? {
        Some(existing) => Some(duplicate(txn, user, &existing).await?),
        None => None,
    };
    let groups = ledger::groups_on(txn, case.person_id, on).await?;
    let policies = policy::in_force(txn, &groups, on).await?;
    Ok(Facts {
        case,
        hospital,
        duplicate,
        groups,
        policies,
    })
}

/// The checks, in the order their refusals come: the case's state and year, the hospital,
/// the invoice, the roster, the policies.
fn check(facts: Facts, new: &NewVisit) -> Result<Checked, Refusal> {
    let Facts {
        case,
        hospital,
        duplicate,
        groups,
        policies,
    } = facts;
    let (on, kind) = (new.dates.counted_on(), new.dates.kind());
    if case.state != CaseState::Approved {
        return Err(Refusal::CaseNotApproved {
            case_id: case.id,
            state: case.state,
        });
    }
    if on.year() != case.year {
        return Err(Refusal::OutsideCaseYear {
            case_id: case.id,
            case_year: case.year,
            on,
            kind,
        });
    }
    let Some(hospital) = hospital else {
        return Err(Refusal::UnknownHospital {
            hospital_id: new.hospital_id,
        });
    };
    if !hospital.designated {
        return Err(Refusal::HospitalNotDesignated {
            name: hospital.name,
            code: hospital.code,
        });
    }
    if let Some(refusal) = duplicate {
        return Err(refusal);
    }
    if groups.is_empty() {
        return Err(Refusal::NotOnRoster { on, kind });
    }
    if policies.is_empty() {
        return Err(Refusal::NoPolicy { on, groups, kind });
    }
    Ok(Checked {
        case,
        hospital,
        groups,
        policies,
    })
}

/// The subsidy under each policy in force, the one that pays more (on a tie, the first
/// group's), and the person's annual figures with it.
fn compute(c: Checked, new: &NewVisit, granted_before: Money) -> anyhow::Result<Plan> {
    let year = new.dates.counted_on().year();
    let (chosen, s) = c
        .policies
        .iter()
        .map(|p| (p, subsidy::compute(&new.costs, &p.terms, granted_before)))
        .max_by(|(pa, a), (pb, b)| a.amount.cmp(&b.amount).then(pb.group.cmp(&pa.group)))
        .expect("at least one policy");
    let granted_with_this = granted_before
        .checked_add(s.amount.money())
        .ok_or_else(|| anyhow::anyhow!("granted total overflow"))?;
    let after = Allowance::new(&c.groups, &ledger::caps(&c.policies), granted_with_this);
    let annual = AnnualFigures {
        year,
        // Never the fallback: a policy of the person's groups is in force, so there is a cap.
        annual_cap: after.annual_cap.unwrap_or(chosen.terms.annual_cap.money()),
        granted_before,
        granted_with_this,
        cap_left: after.cap_left.unwrap_or(Money::ZERO),
    };
    Ok(Plan {
        policy: chosen.clone(),
        subsidy: s,
        case: c.case,
        hospital_id: c.hospital.id,
        annual,
    })
}

async fn find_invoice<C: ConnectionTrait>(
    conn: &C,
    hospital_id: i64,
    invoice_no: &str,
) -> Result<Option<visit::Model>, DbErr> {
    visit::Entity::find()
        .filter(visit::COLUMN.hospital_id.eq(hospital_id))
        .filter(visit::COLUMN.invoice_no.eq(invoice_no))
        .one(conn)
        .await
}

/// The refusal of an invoice already recorded: with the visit that holds it when the user may
/// see that visit, and without a word of whose it is when it lies outside the user's scope.
async fn duplicate<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    existing: &visit::Model,
) -> AppResult<Refusal> {
    let visible = RegionCode::parse(&existing.region_code).is_ok_and(|r| user.region.contains(&r));
    Ok(if visible {
        Refusal::DuplicateInvoice {
            existing: Box::new(view::view(conn, existing).await?),
        }
    } else {
        Refusal::DuplicateInvoiceElsewhere {
            invoice: existing.invoice_no.clone().unwrap_or_default(),
        }
    })
}
