//! What the API shows of payees, batches and lines. Account numbers are masked here: only the
//! bank file carries them in full.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use entity::case_payee::{AccountKind, Holder};
use entity::{case_payee, payment_batch, payment_line};

use super::BatchState;
use crate::domain::{Label, Lang, Money, mask_account};

/// How a case is paid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PayeeView {
    /// The case.
    pub case_id: i64,
    /// Who holds the account.
    pub holder: Holder,
    /// Its label.
    pub holder_label: &'static str,
    /// The account holder's name.
    pub payee_name: String,
    /// What the account number is.
    pub account_kind: AccountKind,
    /// Its label.
    pub account_kind_label: &'static str,
    /// 开户行.
    pub bank_name: String,
    /// Masked: the first four and the last four digits.
    pub account_no: String,
    /// Name it in the next change.
    pub version: i32,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl PayeeView {
    /// The view of a row, in a language.
    pub fn of(p: &case_payee::Model, lang: Lang) -> PayeeView {
        PayeeView {
            case_id: p.case_id,
            holder: p.relation,
            holder_label: p.relation.label(lang),
            payee_name: p.payee_name.clone(),
            account_kind: p.account_kind,
            account_kind_label: p.account_kind.label(lang),
            bank_name: p.bank_name.clone(),
            account_no: mask_account(&p.account_no),
            version: p.version,
            updated_at: p.updated_at,
        }
    }
}

/// A batch's control totals: 笔数 and 金额.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Lines (笔数).
    pub count: i64,
    /// Amount in yuan, to the fen.
    pub amount: Money,
    /// The same in 万元, half-up to two places.
    #[schema(value_type = String, example = "7619.59")]
    pub amount_wan: String,
}

impl Totals {
    /// The totals of a count and a sum in fen.
    pub fn of(count: i64, total_fen: i64) -> Totals {
        let amount = Money::from_fen(total_fen);
        Totals {
            count,
            amount,
            amount_wan: format!("{:.2}", amount.to_wan()),
        }
    }
}

/// A batch as lists show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchView {
    /// Id.
    pub id: i64,
    /// The number the notice and the bank file carry.
    pub batch_no: String,
    /// Where it stands.
    pub state: BatchState,
    /// Its label.
    pub state_label: &'static str,
    /// Name it in the next change.
    pub version: i32,
    /// The region it pays in.
    pub region_code: String,
    /// The filters it was drafted from.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Control totals of the lines it holds.
    pub totals: Totals,
    /// Who drafted it, and when.
    pub drafted_by: i64,
    /// When drafted.
    pub drafted_at: DateTime<Utc>,
    /// Who approved it.
    pub approved_by: Option<i64>,
    /// When approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// Who cancelled it.
    pub cancelled_by: Option<i64>,
    /// When cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why.
    pub cancel_reason: Option<String>,
    /// What may be done next.
    pub allowed: Vec<&'static str>,
}

impl BatchView {
    /// The view of a row, in a language.
    pub fn of(b: &payment_batch::Model, lang: Lang) -> BatchView {
        BatchView {
            id: b.id,
            batch_no: b.batch_no.clone(),
            state: b.state,
            state_label: b.state.label(lang),
            version: b.version,
            region_code: b.region_code.clone(),
            filters: b.filters.clone(),
            totals: Totals::of(b.line_count, b.total_fen),
            drafted_by: b.drafted_by,
            drafted_at: b.drafted_at,
            approved_by: b.approved_by,
            approved_at: b.approved_at,
            cancelled_by: b.cancelled_by,
            cancelled_at: b.cancelled_at,
            cancel_reason: b.cancel_reason.clone(),
            allowed: super::allowed(b.state).to_vec(),
        }
    }
}

/// One subsidy of a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    /// Line id: the reference the bank file and the return file carry.
    pub id: i64,
    /// The subsidy (visit).
    pub visit_id: i64,
    /// Its case.
    pub case_id: i64,
    /// The patient's record id.
    pub person_id: i64,
    /// The patient's name.
    pub person_name: String,
    /// The date the visit counts on.
    pub counted_on: NaiveDate,
    /// Amount.
    pub amount: Money,
    /// The account holder.
    pub payee_name: String,
    /// What the account number is.
    pub account_kind: AccountKind,
    /// 开户行.
    pub bank_name: String,
    /// Masked.
    pub account_no: String,
    /// The payee changed after an earlier batch of the case went to the bank: check it.
    pub payee_changed: bool,
    /// The line no longer holds its subsidy (its batch was cancelled).
    pub released: bool,
}

impl LineView {
    /// The view of a line with its patient's name and the visit's date.
    pub fn of(l: &payment_line::Model, person_name: String, counted_on: NaiveDate) -> LineView {
        LineView {
            id: l.id,
            visit_id: l.visit_id,
            case_id: l.case_id,
            person_id: l.person_id,
            person_name,
            counted_on,
            amount: Money::from_fen(l.amount_fen),
            payee_name: l.payee_name.clone(),
            account_kind: l.account_kind,
            bank_name: l.bank_name.clone(),
            account_no: mask_account(&l.account_no),
            payee_changed: l.payee_changed,
            released: l.released_at.is_some(),
        }
    }
}

/// A batch with a page of its lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchDetail {
    /// The batch.
    #[serde(flatten)]
    pub batch: BatchView,
    /// A page of its lines, in the order they were taken.
    pub lines: Vec<LineView>,
    /// The page.
    pub page: u64,
    /// Lines per page.
    pub per_page: u64,
}

/// What drafting answers: the batch, and what the filters matched but it could not take.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Drafted {
    /// The batch.
    #[serde(flatten)]
    pub batch: BatchView,
    /// Matching subsidies left out because their case has no payee details yet.
    pub without_payee: u64,
}
