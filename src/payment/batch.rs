//! Drafting a batch from approved, unpaid subsidies, approving it (a second person) and
//! cancelling it (which releases its subsidies).

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QuerySelect, Set, Statement, Value,
};

use entity::payment_batch;

use super::BatchState;
use super::refusal::PaymentRefusal;
use super::view::{BatchView, Drafted};
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::{Group, Lang, RegionPrefix};
use crate::error::{AppError, AppResult, current_lang};
use crate::visit::Status;

/// Which subsidies a batch is drafted from.
#[derive(Debug, Clone)]
pub struct BatchFilter {
    /// First day the visits count on, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// The region the batch pays in: the drafter's scope or a part of it.
    pub region: RegionPrefix,
    /// One group only.
    pub group: Option<Group>,
    /// One hospital only.
    pub hospital_id: Option<i64>,
}

impl BatchFilter {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "from": self.from, "to": self.to, "region": self.region.as_str(),
            "group": self.group.map(Group::code), "hospital_id": self.hospital_id,
        })
    }

    /// The conditions on `v` (visits) and their values, in order.
    fn conditions(&self) -> (String, Vec<Value>) {
        let mut sql = String::from(
            "v.status = ? AND v.reverses_visit_id IS NULL AND v.subsidy_fen > 0 \
             AND v.counted_on >= ? AND v.counted_on <= ? AND SUBSTR(v.region_code, 1, ?) = ? \
             AND NOT EXISTS (SELECT 1 FROM payment_lines o \
                             WHERE o.visit_id = v.id AND o.released_at IS NULL)",
        );
        let mut values: Vec<Value> = vec![
            Status::Approved.code().into(),
            self.from.into(),
            self.to.into(),
            crate::db::scope_len(&self.region).into(),
            self.region.as_str().into(),
        ];
        if let Some(g) = self.group {
            sql.push_str(" AND v.group_code = ?");
            values.push(g.code().into());
        }
        if let Some(h) = self.hospital_id {
            sql.push_str(" AND v.hospital_id = ?");
            values.push(h.into());
        }
        (sql, values)
    }
}

/// Takes every matching subsidy with payee details into the batch, in one statement. The
/// partial unique index on open lines makes a subsidy that another batch took in the
/// meantime a conflict that is skipped (`ON CONFLICT DO NOTHING`), never a second line.
/// `payee_changed` marks a payee changed after an earlier batch of the case was exported.
const TAKE: &str = "INSERT INTO payment_lines \
     (batch_id, visit_id, case_id, person_id, amount_fen, payee_name, account_kind, bank_name, \
      account_no, payee_changed, released_at) \
     SELECT ?, v.id, v.case_id, v.person_id, v.subsidy_fen, p.payee_name, p.account_kind, \
      p.bank_name, p.account_no, \
      EXISTS (SELECT 1 FROM payment_lines e JOIN payment_batches b ON b.id = e.batch_id \
              WHERE e.case_id = v.case_id AND b.exported_at IS NOT NULL \
                AND b.exported_at < p.updated_at), \
      NULL \
     FROM visits v JOIN case_payees p ON p.case_id = v.case_id \
     WHERE {conditions} \
     ORDER BY v.id{lock} \
     ON CONFLICT DO NOTHING";

/// On PostgreSQL, the visits taken are locked until the batch is committed, in id order: a
/// subsidy paid or voided by hand at the same moment either waits for the batch (and then
/// sees its line and is refused) or is seen no longer approved and left out. SQLite's writers
/// take turns, and it has no row locks to ask for.
fn lock_taken(backend: sea_orm::DbBackend) -> &'static str {
    if backend == sea_orm::DbBackend::Postgres {
        " FOR UPDATE OF v"
    } else {
        ""
    }
}

async fn count<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> AppResult<(i64, i64)> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            values,
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("a count answered no row"))?;
    let n: i64 = row.try_get_by_index(0)?;
    let sum: Option<i64> = row.try_get_by_index(1).ok().flatten();
    Ok((n, sum.unwrap_or(0)))
}

/// Drafts a batch from the approved, unpaid subsidies the filters match.
pub async fn draft(
    db: &DatabaseConnection,
    user: &CurrentUser,
    filter: BatchFilter,
) -> AppResult<Drafted> {
    let txn = crate::db::begin_write(db).await?;
    // A number no other transaction can hold, replaced below once the id is known.
    let provisional = format!("draft-{}-{}", user.session_id, user.now.timestamp_micros());
    let batch = payment_batch::ActiveModel {
        batch_no: Set(provisional),
        state: Set(BatchState::Draft),
        version: Set(1),
        region_code: Set(filter.region.as_str().to_owned()),
        filters: Set(filter.to_json()),
        line_count: Set(0),
        total_fen: Set(0),
        drafted_by: Set(user.id),
        drafted_at: Set(user.now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (conditions, values) = filter.conditions();
    let backend = txn.get_database_backend();
    let mut bound: Vec<Value> = vec![batch.id.into()];
    bound.extend(values.iter().cloned());
    let taken = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(
                backend,
                &TAKE
                    .replace("{conditions}", &conditions)
                    .replace("{lock}", lock_taken(backend)),
            ),
            bound,
        ))
        .await?
        .rows_affected();
    // The notice and the bank file read the lines a page at a time: with plans for the table
    // as it now is.
    crate::db::fresh_statistics(&txn, "payment_lines", taken).await?;
    let (lines, total_fen) = count(
        &txn,
        "SELECT COUNT(*), CAST(SUM(amount_fen) AS BIGINT) FROM payment_lines WHERE batch_id = ?",
        vec![batch.id.into()],
    )
    .await?;
    let without_payee = count(
        &txn,
        &format!(
            "SELECT COUNT(*), CAST(SUM(v.subsidy_fen) AS BIGINT) FROM visits v WHERE {conditions} \
             AND NOT EXISTS (SELECT 1 FROM case_payees p WHERE p.case_id = v.case_id)"
        ),
        values,
    )
    .await?
    .0 as u64;
    if lines == 0 {
        return Err(PaymentRefusal::NothingToPay { without_payee }.into());
    }
    let mut am: payment_batch::ActiveModel = batch.into();
    let id = *am.id.as_ref();
    am.batch_no = Set(format!("PB{}-{id:05}", user.today().format("%Y%m%d")));
    am.line_count = Set(lines);
    am.total_fen = Set(total_fen);
    let batch = am.update(&txn).await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "payment_batch.draft",
            entity_type: "payment_batch",
            entity_id: id.to_string(),
            before: None,
            after: Some(snapshot(&batch)),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(batch.id = id, lines, "Payment batch {id} drafted");
    Ok(Drafted {
        batch: BatchView::of(&batch, current_lang()),
        without_payee,
    })
}

/// The audit form of a batch.
fn snapshot(b: &payment_batch::Model) -> serde_json::Value {
    serde_json::json!({
        "id": b.id, "batch_no": b.batch_no, "state": b.state, "version": b.version,
        "region_code": b.region_code, "filters": b.filters, "line_count": b.line_count,
        "total_fen": b.total_fen, "cancel_reason": b.cancel_reason,
    })
}

/// The batch, held until the transaction ends, if the user may see it; refused when its
/// version is not the one the client read or its state does not allow `action`.
async fn hold(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    id: i64,
    version: i32,
    mv: &Move,
) -> AppResult<payment_batch::Model> {
    let b = held(txn, user, id).await?;
    if !mv.from().contains(&b.state) {
        return Err(PaymentRefusal::not_allowed(&b, mv.verb(current_lang())).into());
    }
    if b.version != version {
        return Err(PaymentRefusal::Stale {
            state: b.state,
            version: b.version,
        }
        .into());
    }
    Ok(b)
}

/// The batch, held until the transaction ends, if the user may see it (a batch outside the
/// scope is not found, like one that does not exist).
pub(super) async fn held(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    id: i64,
) -> AppResult<payment_batch::Model> {
    let b = payment_batch::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("payment_batch", id))?;
    if !visible(user, &b)? {
        return Err(AppError::not_found("payment_batch", id));
    }
    Ok(b)
}

/// The batch, read without holding it, if the user may see it (otherwise not found, like one
/// that does not exist).
pub(super) async fn seen<C: sea_orm::ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    id: i64,
) -> AppResult<payment_batch::Model> {
    payment_batch::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|b| visible(user, b).unwrap_or(false))
        .ok_or_else(|| AppError::not_found("payment_batch", id))
}

/// Whether the batch pays inside the user's scope (a batch is seen whole or not at all).
pub(super) fn visible(user: &CurrentUser, b: &payment_batch::Model) -> AppResult<bool> {
    let region = RegionPrefix::parse(&b.region_code)
        .map_err(|_| anyhow::anyhow!("batch {} has a bad region", b.id))?;
    Ok(user.region.covers(&region))
}

/// A decision on a batch.
#[derive(Debug, Clone)]
pub enum Move {
    /// draft → approved, by a manager other than the one who drafted it.
    Approve,
    /// draft or approved → cancelled, with a reason; the batch's subsidies are payable again.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl Move {
    fn from(&self) -> &'static [BatchState] {
        match self {
            Move::Approve => &[BatchState::Draft],
            Move::Cancel { .. } => &[BatchState::Draft, BatchState::Approved],
        }
    }

    /// The verb, as "cannot be ...".
    fn verb(&self, lang: Lang) -> &'static str {
        match self {
            Move::Approve => lang.pick("审批", "approved"),
            Move::Cancel { .. } => lang.pick("取消", "cancelled"),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Move::Approve => "payment_batch.approve",
            Move::Cancel { .. } => "payment_batch.cancel",
        }
    }
}

/// Approves or cancels a batch, naming the version the client read, with an audit row.
pub async fn decide(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    version: i32,
    mv: Move,
) -> AppResult<BatchView> {
    let txn = crate::db::begin_write(db).await?;
    let b = hold(&txn, user, id, version, &mv).await?;
    if matches!(mv, Move::Approve) && b.drafted_by == user.id {
        return Err(PaymentRefusal::OwnBatch.into());
    }
    let before = snapshot(&b);
    let action = mv.action();
    let mut am: payment_batch::ActiveModel = b.into();
    am.version = Set(version + 1);
    match mv {
        Move::Approve => {
            am.state = Set(BatchState::Approved);
            am.approved_by = Set(Some(user.id));
            am.approved_at = Set(Some(user.now));
        }
        Move::Cancel { reason } => {
            let backend = txn.get_database_backend();
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "UPDATE payment_lines SET released_at = ? \
                     WHERE batch_id = ? AND released_at IS NULL",
                ),
                [user.now.into(), id.into()],
            ))
            .await?;
            am.state = Set(BatchState::Cancelled);
            am.cancelled_by = Set(Some(user.id));
            am.cancelled_at = Set(Some(user.now));
            am.cancel_reason = Set(Some(reason));
        }
    }
    let after = am.update(&txn).await?;
    record(&txn, user, action, before, &after).await?;
    txn.commit().await?;
    Ok(BatchView::of(&after, current_lang()))
}

async fn record(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    action: &str,
    before: serde_json::Value,
    after: &payment_batch::Model,
) -> AppResult<()> {
    audit::record(
        txn,
        &user.actor(),
        Change {
            action,
            entity_type: "payment_batch",
            entity_id: after.id.to_string(),
            before: Some(before),
            after: Some(snapshot(after)),
        },
    )
    .await?;
    Ok(())
}
