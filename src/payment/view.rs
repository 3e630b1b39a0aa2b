//! What the API shows of payees, batches and lines. Account numbers are masked here: only the
//! bank file carries them in full.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use entity::case_payee::{AccountKind, Holder};
use entity::payment_line::Outcome;
use entity::payment_objection::State as ObjectionState;
use entity::payment_return_row::Verdict;
use entity::{case_payee, payment_batch, payment_line, payment_objection, payment_return};

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
    /// The public notice's first day; none until it is produced.
    pub notice_from: Option<NaiveDate>,
    /// Its last day: the bank file can be exported after it.
    pub notice_until: Option<NaiveDate>,
    /// When the bank file was produced.
    pub exported_at: Option<DateTime<Utc>>,
    /// The layout of the bank file.
    pub export_layout: Option<String>,
    /// When every exported line had the bank's outcome.
    pub reconciled_at: Option<DateTime<Utc>>,
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
            notice_from: b.notice_from,
            notice_until: b.notice_until,
            exported_at: b.exported_at,
            export_layout: b.export_layout.clone(),
            reconciled_at: b.reconciled_at,
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
    /// The line no longer holds its subsidy (its batch was cancelled, an objection was
    /// upheld, or the bank refused it).
    pub released: bool,
    /// Held out of the batch while an objection to it is open.
    pub held: bool,
    /// What the bank did: paid or failed; none before its return file.
    pub outcome: Option<Outcome>,
    /// Its label.
    pub outcome_label: Option<&'static str>,
    /// The bank's serial.
    pub bank_serial: Option<String>,
    /// The day the bank paid or refused it.
    pub settled_on: Option<NaiveDate>,
    /// Why the bank refused it.
    pub fail_reason: Option<String>,
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
            held: l.held,
            outcome: l.outcome,
            outcome_label: l.outcome.map(|o| o.label(crate::error::current_lang())),
            bank_serial: l.bank_serial.clone(),
            settled_on: l.settled_on,
            fail_reason: l.fail_reason.clone(),
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

/// A return file read back: what it settled and the rows it could not apply.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    /// Id of the return.
    pub id: i64,
    /// The batch, as it stands after it.
    pub batch: BatchView,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The layout it was read with.
    pub layout: String,
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// Payment rows read.
    pub rows: i64,
    /// Lines it marked paid.
    pub paid: Totals,
    /// Lines it marked failed (their subsidies are payable again).
    pub failed: Totals,
    /// Rows listed as problems and applied to nothing.
    pub problems: i64,
    /// Lines of the batch still without the bank's outcome.
    pub open_lines: i64,
    /// A page of the problem rows, in file order.
    pub problem_rows: Vec<ProblemView>,
    /// The page.
    pub page: u64,
    /// Problem rows per page.
    pub per_page: u64,
}

impl ReturnView {
    /// The view of a return with a page of its problem rows.
    pub fn of(
        r: &payment_return::Model,
        batch: BatchView,
        open_lines: i64,
        problem_rows: Vec<ProblemView>,
        page: u64,
        per_page: u64,
    ) -> ReturnView {
        ReturnView {
            id: r.id,
            batch,
            file_name: r.file_name.clone(),
            sha256: r.sha256.clone(),
            layout: r.layout.clone(),
            uploaded_by: r.uploaded_by,
            uploaded_at: r.uploaded_at,
            rows: r.rows,
            paid: Totals::of(r.paid, r.paid_fen),
            failed: Totals::of(r.failed, r.failed_fen),
            problems: r.problems,
            open_lines,
            problem_rows,
            page,
            per_page,
        }
    }
}

/// A row of a return file that was applied to no line, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemView {
    /// Its line in the file (or row in the sheet).
    pub row_no: i64,
    /// The line reference as the file wrote it.
    pub line_ref: String,
    /// What is wrong with it.
    pub verdict: Verdict,
    /// Its label.
    pub verdict_label: &'static str,
    /// What a clerk should know, with the file's and the batch's values.
    pub message: String,
    /// The amount the file gives.
    pub amount: Option<Money>,
    /// The account the file gives, masked.
    pub account_no: Option<String>,
}

/// An objection raised during a batch's notice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    /// Id.
    pub id: i64,
    /// The batch.
    pub batch_id: i64,
    /// The line objected to.
    pub line_id: i64,
    /// open, upheld or dismissed.
    pub state: ObjectionState,
    /// Its label.
    pub state_label: &'static str,
    /// What was objected.
    pub reason: String,
    /// Who recorded it.
    pub raised_by: i64,
    /// When.
    pub raised_at: DateTime<Utc>,
    /// Who resolved it.
    pub resolved_by: Option<i64>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How, and why.
    pub resolution: Option<String>,
}

impl ObjectionView {
    /// The view of a row, in a language.
    pub fn of(o: &payment_objection::Model, lang: Lang) -> ObjectionView {
        ObjectionView {
            id: o.id,
            batch_id: o.batch_id,
            line_id: o.line_id,
            state: o.state,
            state_label: o.state.label(lang),
            reason: o.reason.clone(),
            raised_by: o.raised_by,
            raised_at: o.raised_at,
            resolved_by: o.resolved_by,
            resolved_at: o.resolved_at,
            resolution: o.resolution.clone(),
        }
    }
}
