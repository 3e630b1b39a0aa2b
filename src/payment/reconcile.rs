//! Reconciliation (对账): the bank's return file of an exported batch is read through the
//! batch's layout (`return_file`), every row is kept (`payment_return_rows`), and each row is
//! judged against the batch's lines in a few set-wise statements: a row that names no line of
//! the batch, names it twice, differs in amount or account, or names a line settled already
//! is listed as a problem and applied to nothing; the others mark their line paid (and the
//! subsidy paid, with the bank's serial and day) or failed (and the line released, so the
//! subsidy goes into a later batch). A line is settled once: the statements only touch lines
//! without an outcome, under the batch's lock. When every exported line is settled, the batch
//! is reconciled.

use std::ops::ControlFlow;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set,
    Statement, Value,
};
use tokio::sync::mpsc;

use entity::payment_return_row::Verdict;
use entity::{payment_batch, payment_return, payment_return_row};

use super::BatchState;
use super::layout::{self, FileKind, Layout, ReturnLayout};
use super::refusal::{PaymentRefusal, ReturnRefusal};
use super::return_file::{self, Control, FileProblem, ReturnRow, SheetReader};
use super::view::ReturnView;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::Lang;
use crate::error::{AppResult, current_lang};
use crate::roster::parser::Parser;
use crate::roster::upload::UploadedFile;

/// Rows handed from the reader to the database at a time: 2,000 rows of 14 values stay under
/// SQLite's 32,766 bound values per statement.
const CHUNK: usize = 2000;

/// Rows a return file may hold beyond its batch's lines (a bank may list a line twice); more
/// is not a return file of this batch.
pub const EXTRA_ROWS: i64 = 1000;

/// An uploaded return file.
pub struct ReturnUpload {
    /// The name it was uploaded under.
    pub file_name: String,
    /// The stored upload.
    pub file: UploadedFile,
    /// The layout to read it with; none: the layout the batch was exported in.
    pub layout: Option<String>,
}

/// Reads the file in a blocking thread, sending rows in chunks; answers the control lines.
fn spawn_reader(
    parser: Parser,
    layout: &'static Layout,
    upload_path: std::path::PathBuf,
    file_name: String,
    tx: mpsc::Sender<Vec<ReturnRow>>,
) -> tokio::task::JoinHandle<Result<Control, FileProblem>> {
    tokio::task::spawn_blocking(move || {
        let ret: &ReturnLayout = layout.returns.as_ref().expect("checked by the caller");
        let mut chunk = Vec::with_capacity(CHUNK);
        let send = |row: ReturnRow, chunk: &mut Vec<ReturnRow>| {
            chunk.push(row);
            if chunk.len() == CHUNK && tx.blocking_send(std::mem::take(chunk)).is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        };
        let control = match layout.kind {
            FileKind::Text => {
                let f = std::fs::File::open(&upload_path)
                    .map_err(|e| FileProblem::Unreadable(e.to_string()))?;
                return_file::read_text(
                    layout,
                    ret,
                    std::io::BufReader::with_capacity(64 * 1024, f),
                    |r| send(r, &mut chunk),
                )
            }
            FileKind::Xlsx => {
                let mut sheet = SheetReader::new(ret, |r| send(r, &mut chunk));
                parser
                    .parse(&upload_path, &file_name, &mut sheet)
                    .map_err(|e| FileProblem::Unreadable(e.to_string()))?;
                sheet.finish()
            }
        };
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
        control
    })
}

fn stored(return_id: i64, r: ReturnRow) -> payment_return_row::ActiveModel {
    let (problem_field, reason) = match &r.problem {
        Some(p) => {
            let (f, raw) = p.stored();
            (Some(f), Some(raw))
        }
        None => (None, r.reason),
    };
    payment_return_row::ActiveModel {
        return_id: Set(return_id),
        row_no: Set(r.row_no),
        line_ref: Set(r.line_ref),
        line_id: Set(r.line_id),
        batch_no: Set(r.batch_no),
        account_no: Set(r.account_no),
        amount_fen: Set(r.amount_fen),
        paid: Set(r.paid),
        bank_serial: Set(r.bank_serial),
        settled_on: Set(r.settled_on),
        reason: Set(reason),
        // A readable row starts as what the bank said; the judging statements then take it
        // to a problem where it cannot apply.
        verdict: Set(Some(match (&r.problem, r.paid) {
            (Some(_), _) => Verdict::Unreadable,
            (None, Some(true)) => Verdict::Paid,
            (None, _) => Verdict::Failed,
        })),
        problem_field: Set(problem_field),
        ..Default::default()
    }
}

async fn exec(txn: &DatabaseTransaction, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(crate::db::execute(txn, sql, values).await?)
}

/// The judging statements that need no line, in order: each sets the verdict of rows still as
/// the bank answered them (`paid` or `failed`), so a row gets the first problem that applies.
/// `?1` is the return's id and `?2` the batch's id where a statement names them.
const JUDGE: [(Verdict, &str); 2] = [
    (
        Verdict::Unmatched,
        "(batch_no IS NOT NULL AND batch_no <> ?) OR NOT EXISTS (SELECT 1 FROM payment_lines l \
         WHERE l.id = payment_return_rows.line_id AND l.batch_id = ? \
         AND (l.released_at IS NULL OR l.outcome IS NOT NULL))",
    ),
    (
        Verdict::Duplicate,
        "line_id IN (SELECT d.line_id FROM payment_return_rows d WHERE d.return_id = ? \
         AND d.line_id IS NOT NULL GROUP BY d.line_id HAVING COUNT(*) > 1)",
    ),
];

/// Then, in one pass joining each remaining row to its line and subsidy, the problems found
/// there, the first that applies: settled already, its subsidy no longer payable, another
/// amount, another account (the verdicts bound in that order, then the return's id).
const JUDGE_BY_LINE: &str = "UPDATE payment_return_rows SET verdict = CASE \
       WHEN l.outcome IS NOT NULL THEN ? \
       WHEN v.status <> 'approved' THEN ? \
       WHEN payment_return_rows.amount_fen IS NULL \
         OR payment_return_rows.amount_fen <> l.amount_fen THEN ? \
       ELSE ? END \
     FROM payment_lines l JOIN visits v ON v.id = l.visit_id \
     WHERE payment_return_rows.return_id = ? AND payment_return_rows.verdict IN ('paid', 'failed') \
       AND l.id = payment_return_rows.line_id \
       AND (l.outcome IS NOT NULL OR v.status <> 'approved' \
         OR payment_return_rows.amount_fen IS NULL \
         OR payment_return_rows.amount_fen <> l.amount_fen \
         OR (payment_return_rows.account_no IS NOT NULL \
           AND payment_return_rows.account_no <> l.account_no))";

/// Judges the rows of a return and applies the good ones; answers the number of paid rows.
async fn judge_and_apply(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    b: &payment_batch::Model,
    return_id: i64,
) -> AppResult<u64> {
    for (verdict, condition) in JUDGE {
        let mut values: Vec<Value> = vec![verdict.code().into(), return_id.into()];
        match verdict {
            Verdict::Unmatched => {
                values.push(b.batch_no.clone().into());
                values.push(b.id.into());
            }
            _ => values.push(return_id.into()),
        }
        exec(
            txn,
            &format!(
                "UPDATE payment_return_rows SET verdict = ? \
                 WHERE return_id = ? AND verdict IN ('paid', 'failed') AND ({condition})"
            ),
            values,
        )
        .await?;
    }
    let by_line = [
        Verdict::AlreadySettled,
        Verdict::NotPayable,
        Verdict::AmountMismatch,
        Verdict::AccountMismatch,
    ];
    let mut values: Vec<Value> = by_line.iter().map(|v| v.code().into()).collect();
    values.push(return_id.into());
    exec(txn, JUDGE_BY_LINE, values).await?;
    // The good rows settle their lines; a failed line is released at once. `UPDATE ... FROM`
    // (PostgreSQL, and SQLite since 3.33) joins the rows once instead of looking each column
    // up again per line.
    let today = user.today();
    let settled = exec(
        txn,
        "UPDATE payment_lines SET outcome = r.verdict, bank_serial = r.bank_serial, \
           settled_on = COALESCE(r.settled_on, ?), fail_reason = r.reason, return_id = ?, \
           released_at = CASE WHEN r.verdict = 'failed' THEN ? ELSE payment_lines.released_at END \
         FROM payment_return_rows r \
         WHERE r.return_id = ? AND r.line_id = payment_lines.id \
           AND r.verdict IN ('paid', 'failed') \
           AND payment_lines.batch_id = ? AND payment_lines.outcome IS NULL",
        vec![
            today.into(),
            return_id.into(),
            user.now.into(),
            return_id.into(),
            b.id.into(),
        ],
    )
    .await?;
    let good = count(
        txn,
        "SELECT COUNT(*) FROM payment_return_rows WHERE return_id = ? \
         AND verdict IN ('paid', 'failed')",
        return_id,
    )
    .await?;
    if settled != good as u64 {
        return Err(anyhow::anyhow!(
            "return {return_id}: {good} rows to apply settled {settled} lines"
        )
        .into());
    }
    // A paid line pays its subsidy: the bank's serial is its reference, the bank's day its
    // date.
    let paid = exec(
        txn,
        "UPDATE visits SET status = 'paid', paid_by = ?, paid_at = ?, updated_at = ?, \
           payment_ref = l.bank_serial, paid_on = l.settled_on \
         FROM payment_lines l \
         WHERE l.return_id = ? AND l.outcome = 'paid' AND l.visit_id = visits.id \
           AND visits.status = 'approved'",
        vec![
            user.id.into(),
            user.now.into(),
            user.now.into(),
            return_id.into(),
        ],
    )
    .await?;
    let paid_rows = count(
        txn,
        "SELECT COUNT(*) FROM payment_return_rows WHERE return_id = ? AND verdict = 'paid'",
        return_id,
    )
    .await?;
    if paid != paid_rows as u64 {
        return Err(anyhow::anyhow!(
            "return {return_id}: {paid_rows} paid lines paid {paid} subsidies"
        )
        .into());
    }
    crate::budget::ledger::pay_returned(txn, return_id, user.now).await?;
    Ok(paid)
}

async fn count(txn: &DatabaseTransaction, sql: &str, id: i64) -> AppResult<i64> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            [id.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("a count answered no row"))?;
    Ok(row.try_get_by_index(0)?)
}

/// What a return's rows came to: (verdict, rows, fen).
async fn tally(txn: &DatabaseTransaction, return_id: i64) -> AppResult<Vec<(Verdict, i64, i64)>> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(
                backend,
                "SELECT verdict, COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) \
                 FROM payment_return_rows WHERE return_id = ? GROUP BY verdict",
            ),
            [return_id.into()],
        ))
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let code: String = r.try_get_by_index(0)?;
        let verdict = Verdict::parse(&code)
            .ok_or_else(|| anyhow::anyhow!("return {return_id}: verdict {code}"))?;
        out.push((verdict, r.try_get_by_index(1)?, r.try_get_by_index(2)?));
    }
    Ok(out)
}

/// Checks the control lines against the rows read.
fn check_control(
    b: &payment_batch::Model,
    control: &Control,
    rows: i64,
    sum_fen: i64,
) -> Result<(), ReturnRefusal> {
    if let Some(no) = &control.batch_no
        && *no != b.batch_no
    {
        return Err(ReturnRefusal::WrongBatch {
            found: no.chars().take(40).collect(),
            batch_no: b.batch_no.clone(),
        });
    }
    if rows == 0 {
        return Err(ReturnRefusal::Empty);
    }
    if let Some(declared) = control.counts.iter().find(|c| **c != rows) {
        return Err(ReturnRefusal::CountMismatch {
            declared: *declared,
            rows,
        });
    }
    if let Some(declared) = control.totals_fen.iter().find(|t| **t != sum_fen) {
        return Err(ReturnRefusal::TotalMismatch {
            declared_fen: *declared,
            rows_fen: sum_fen,
        });
    }
    Ok(())
}

/// Reads an exported batch's return file and settles its lines; refused whole (nothing
/// changes) when the file is not this batch's or cannot be read.
pub async fn reconcile(
    db: &DatabaseConnection,
    parser: &Parser,
    user: &CurrentUser,
    id: i64,
    upload: ReturnUpload,
) -> AppResult<ReturnView> {
    let txn = crate::db::begin_write(db).await?;
    let b = super::batch::held(&txn, user, id).await?;
    if b.state != BatchState::Exported {
        let verb = Lang::pick(current_lang(), "对账", "reconciled");
        return Err(PaymentRefusal::not_allowed(&b, verb).into());
    }
    let layout_name = upload
        .layout
        .clone()
        .or_else(|| b.export_layout.clone())
        .unwrap_or_default();
    let layout = layout::named(&layout_name)
        .filter(|l| l.returns.is_some())
        .ok_or_else(|| ReturnRefusal::NoLayout(layout_name.clone()).into_field("layout"))?;
    let ret = payment_return::ActiveModel {
        batch_id: Set(id),
        file_name: Set(upload.file_name.chars().take(255).collect()),
        sha256: Set(upload.file.sha256().to_owned()),
        layout: Set(layout_name.clone()),
        uploaded_by: Set(user.id),
        uploaded_at: Set(user.now),
        rows: Set(0),
        paid: Set(0),
        paid_fen: Set(0),
        failed: Set(0),
        failed_fen: Set(0),
        problems: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (tx, mut rx) = mpsc::channel::<Vec<ReturnRow>>(4);
    let reader = spawn_reader(
        parser.clone(),
        layout,
        upload.file.path().to_owned(),
        upload.file_name.clone(),
        tx,
    );
    let max_rows = b.line_count * 2 + EXTRA_ROWS;
    // The bank pays after the file was sent and before today: another day is not read.
    let sent = b.exported_at.map(crate::clock::day_of);
    let today = user.today();
    let (mut rows, mut sum_fen) = (0i64, 0i64);
    while let Some(mut chunk) = rx.recv().await {
        rows += chunk.len() as i64;
        if rows > max_rows {
            drop(rx);
            let _ = reader.await;
            return Err(ReturnRefusal::TooManyRows { max_rows }.into());
        }
        for r in &mut chunk {
            // Amounts are at most `MAX_FEN` each and rows at most `max_rows`: no overflow.
            sum_fen = sum_fen.saturating_add(r.amount_fen.unwrap_or(0));
            if let Some(day) = r.settled_on
                && (sent.is_some_and(|s| day < s) || day > today)
                && r.problem.is_none()
            {
                r.problem = Some(return_file::RowProblem::Value {
                    field: layout::Field::SettledOn,
                    raw: day.format("%Y%m%d").to_string(),
                });
            }
        }
        payment_return_row::Entity::insert_many(chunk.into_iter().map(|r| stored(ret.id, r)))
            .exec_without_returning(&txn)
            .await?;
    }
    let control = reader
        .await
        .map_err(|e| anyhow::anyhow!("the return file reader stopped: {e}"))?
        .map_err(ReturnRefusal::Unreadable)?;
    check_control(&b, &control, rows, sum_fen)?;
    crate::db::fresh_statistics(&txn, "payment_return_rows", rows as u64).await?;
    judge_and_apply(&txn, user, &b, ret.id).await?;
    let tallied = tally(&txn, ret.id).await?;
    let of = |v: Verdict| {
        tallied
            .iter()
            .find(|t| t.0 == v)
            .map_or((0, 0), |t| (t.1, t.2))
    };
    let (paid, paid_fen) = of(Verdict::Paid);
    let (failed, failed_fen) = of(Verdict::Failed);
    let mut am: payment_return::ActiveModel = ret.into();
    am.rows = Set(rows);
    am.paid = Set(paid);
    am.paid_fen = Set(paid_fen);
    am.failed = Set(failed);
    am.failed_fen = Set(failed_fen);
    am.problems = Set(rows - paid - failed);
    let ret = am.update(&txn).await?;
    let open = count(
        &txn,
        "SELECT COUNT(*) FROM payment_lines WHERE batch_id = ? AND released_at IS NULL \
         AND outcome IS NULL",
        id,
    )
    .await?;
    let batch = if open == 0 {
        let mut am: payment_batch::ActiveModel = b.clone().into();
        am.state = Set(BatchState::Reconciled);
        am.version = Set(b.version + 1);
        am.reconciled_at = Set(Some(user.now));
        am.update(&txn).await?
    } else {
        b.clone()
    };
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "payment_batch.return_file",
            entity_type: "payment_batch",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({"state": b.state, "version": b.version})),
            after: Some(serde_json::json!({
                "state": batch.state, "version": batch.version, "return_id": ret.id,
                "file_sha256": ret.sha256, "layout": ret.layout, "rows": rows,
                "paid": paid, "paid_fen": paid_fen, "failed": failed, "failed_fen": failed_fen,
                "problems": ret.problems, "open_lines": open,
            })),
        },
    )
    .await?;
    let view = super::queries::return_view(&txn, &batch, &ret, open, 1, 200).await?;
    txn.commit().await?;
    tracing::info!(
        batch.id = id,
        rows,
        paid,
        failed,
        problems = ret.problems,
        "Return file {} read for batch {id}",
        ret.id
    );
    Ok(view)
}
