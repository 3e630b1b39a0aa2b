//! How a case is paid: set by a caseworker at the counter (or a manager), read back masked.
//! Every change is audited (account numbers masked in the log too).

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
};

use entity::case_payee::{AccountKind, Holder};
use entity::{case, case_payee};

use super::refusal::PaymentRefusal;
use super::view::PayeeView;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::{AccountNumber, RegionCode, mask_account};
use crate::error::{AppError, AppResult, current_lang};

/// Payee details as entered, each field already checked.
#[derive(Debug, Clone)]
pub struct PayeeInput {
    /// Who holds the account.
    pub holder: Holder,
    /// The holder's name as the bank has it.
    pub payee_name: String,
    /// What the account number is.
    pub account_kind: AccountKind,
    /// 开户行.
    pub bank_name: String,
    /// The account number, checked for its kind.
    pub account_no: AccountNumber,
    /// The version read; required when the case already has payee details.
    pub version: Option<i32>,
}

/// The case, if the user may see it.
async fn case_in_scope<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    case_id: i64,
) -> AppResult<case::Model> {
    let c = case::Entity::find_by_id(case_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("case", case_id))?;
    let region = RegionCode::parse(&c.region_code)
        .map_err(|_| anyhow::anyhow!("case {case_id} has a bad region"))?;
    user.ensure_in_scope(&region, "case", case_id)?;
    Ok(c)
}

/// The payee details of a case (None when none were given yet).
pub async fn payee_of(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
) -> AppResult<Option<PayeeView>> {
    case_in_scope(db, user, case_id).await?;
    let p = case_payee::Entity::find_by_id(case_id).one(db).await?;
    Ok(p.map(|p| PayeeView::of(&p, current_lang())))
}

/// The audit form of payee details: the account number masked.
fn snapshot(p: &case_payee::Model) -> serde_json::Value {
    serde_json::json!({
        "case_id": p.case_id, "holder": p.relation, "payee_name": p.payee_name,
        "account_kind": p.account_kind, "bank_name": p.bank_name,
        "account_no": mask_account(&p.account_no), "version": p.version,
    })
}

/// Sets a case's payee details; a change names the version it read.
pub async fn set_payee(
    db: &DatabaseConnection,
    user: &CurrentUser,
    case_id: i64,
    input: PayeeInput,
) -> AppResult<PayeeView> {
    let txn = crate::db::begin_write(db).await?;
    case_in_scope(&txn, user, case_id).await?;
    let before = case_payee::Entity::find_by_id(case_id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    if let Some(b) = &before
        && input.version != Some(b.version)
    {
        return Err(PaymentRefusal::PayeeStale { version: b.version }.into());
    }
    let row = case_payee::ActiveModel {
        case_id: Set(case_id),
        payee_name: Set(input.payee_name),
        relation: Set(input.holder),
        account_kind: Set(input.account_kind),
        bank_name: Set(input.bank_name),
        account_no: Set(input.account_no.as_str().to_owned()),
        version: Set(before.as_ref().map_or(1, |b| b.version + 1)),
        updated_by: Set(user.id),
        updated_at: Set(user.now),
    };
    let after = match &before {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "case.payee",
            entity_type: "case",
            entity_id: case_id.to_string(),
            before: before.as_ref().map(snapshot),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(PayeeView::of(&after, current_lang()))
}
