//! Reading batches back: a page of them, or one with a page of its lines.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use entity::payment_return_row::Verdict;
use entity::{payment_batch, payment_line, payment_return, payment_return_row, person, visit};

use super::layout::Field;
use super::view::{BatchDetail, BatchView, LineView, ProblemView, ReturnView};
use super::{BatchState, Outcome};
use crate::auth::CurrentUser;
use crate::domain::{Label, Lang, Money, mask_account};
use crate::error::{AppError, AppResult, current_lang};

/// A page of the batches inside the user's scope, newest first.
pub async fn list(
    db: &DatabaseConnection,
    user: &CurrentUser,
    state: Option<BatchState>,
    page: u64,
    per_page: u64,
) -> AppResult<(Vec<BatchView>, u64)> {
    let mut q = payment_batch::Entity::find().filter(user.scope(payment_batch::Column::RegionCode));
    if let Some(s) = state {
        q = q.filter(payment_batch::Column::State.eq(s));
    }
    let total = q.clone().count(db).await?;
    let lang = current_lang();
    let rows = q
        .order_by_desc(payment_batch::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows.iter().map(|b| BatchView::of(b, lang)).collect(), total))
}

/// One batch with a page of its lines, in the order they were taken.
pub async fn get(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    page: u64,
    per_page: u64,
) -> AppResult<BatchDetail> {
    let b = super::batch::seen(db, user, id).await?;
    let lines = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(id))
        .order_by_asc(payment_line::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let names: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(lines.iter().map(|l| l.person_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let days: HashMap<i64, chrono::NaiveDate> = visit::Entity::find()
        .filter(visit::Column::Id.is_in(lines.iter().map(|l| l.visit_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.counted_on))
        .collect();
    let lines = lines
        .iter()
        .filter_map(|l| {
            let day = days.get(&l.visit_id)?;
            let name = names.get(&l.person_id).cloned().unwrap_or_default();
            Some(LineView::of(l, name, *day))
        })
        .collect();
    Ok(BatchDetail {
        batch: BatchView::of(&b, current_lang()),
        lines,
        page,
        per_page,
    })
}

/// Which of a batch's lines: those it holds, or those its bank file carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinesOf {
    /// Not released, in the order they were taken: what a batch pays before its export.
    Held,
    /// Those it holds and those the bank has answered for since (a failed line is released
    /// but was in the file): what the exported file carried.
    Exported,
}

fn lines_of(batch_id: i64, which: LinesOf) -> sea_orm::Select<payment_line::Entity> {
    use sea_orm::Condition;
    let q = payment_line::Entity::find().filter(payment_line::Column::BatchId.eq(batch_id));
    match which {
        LinesOf::Held => q.filter(payment_line::Column::ReleasedAt.is_null()),
        LinesOf::Exported => q.filter(
            Condition::any()
                .add(payment_line::Column::ReleasedAt.is_null())
                .add(payment_line::Column::Outcome.is_not_null()),
        ),
    }
    .order_by_asc(payment_line::Column::Id)
}

/// A batch's lines, all at once.
pub(super) async fn lines<C: ConnectionTrait>(
    conn: &C,
    batch_id: i64,
    which: LinesOf,
) -> AppResult<Vec<payment_line::Model>> {
    Ok(lines_of(batch_id, which).all(conn).await?)
}

/// A batch's lines after the line `after`, at most `limit`: files are written a piece at a
/// time, so their memory does not grow with the batch.
pub(super) async fn lines_after<C: ConnectionTrait>(
    conn: &C,
    batch_id: i64,
    which: LinesOf,
    after: i64,
    limit: u64,
) -> AppResult<Vec<payment_line::Model>> {
    Ok(lines_of(batch_id, which)
        .filter(payment_line::Column::Id.gt(after))
        .limit(limit)
        .all(conn)
        .await?)
}

/// One return file of a batch with a page of its problem rows.
pub async fn return_of(
    db: &DatabaseConnection,
    user: &CurrentUser,
    batch_id: i64,
    return_id: i64,
    page: u64,
    per_page: u64,
) -> AppResult<ReturnView> {
    let b = super::batch::seen(db, user, batch_id).await?;
    let r = payment_return::Entity::find_by_id(return_id)
        .one(db)
        .await?
        .filter(|r| r.batch_id == batch_id)
        .ok_or_else(|| AppError::not_found("payment_return", return_id))?;
    let open = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(batch_id))
        .filter(payment_line::Column::ReleasedAt.is_null())
        .filter(payment_line::Column::Outcome.is_null())
        .count(db)
        .await? as i64;
    return_view(db, &b, &r, open, page, per_page).await
}

/// The view of a return: its counts and a page of the rows it could not apply.
pub(super) async fn return_view<C: ConnectionTrait>(
    conn: &C,
    b: &payment_batch::Model,
    r: &payment_return::Model,
    open: i64,
    page: u64,
    per_page: u64,
) -> AppResult<ReturnView> {
    let rows = payment_return_row::Entity::find()
        .filter(payment_return_row::Column::ReturnId.eq(r.id))
        .filter(payment_return_row::Column::Verdict.is_not_in([Verdict::Paid, Verdict::Failed]))
        .order_by_asc(payment_return_row::Column::RowNo)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(conn)
        .await?;
    let lines: HashMap<i64, payment_line::Model> = payment_line::Entity::find()
        .filter(payment_line::Column::BatchId.eq(b.id))
        .filter(payment_line::Column::Id.is_in(rows.iter().filter_map(|x| x.line_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let lang = current_lang();
    let problems = rows
        .iter()
        .filter_map(|row| {
            let verdict = row.verdict?;
            Some(ProblemView {
                row_no: row.row_no,
                line_ref: row.line_ref.clone(),
                verdict,
                verdict_label: verdict.label(lang),
                message: problem_message(
                    row,
                    verdict,
                    row.line_id.and_then(|i| lines.get(&i)),
                    lang,
                ),
                amount: row.amount_fen.map(Money::from_fen),
                account_no: row.account_no.as_deref().map(mask_account),
            })
        })
        .collect();
    Ok(ReturnView::of(
        r,
        BatchView::of(b, lang),
        open,
        problems,
        page,
        per_page,
    ))
}

/// What a clerk should know of a row that was applied to no line.
fn problem_message(
    row: &payment_return_row::Model,
    verdict: Verdict,
    line: Option<&payment_line::Model>,
    lang: Lang,
) -> String {
    let zh = lang == Lang::Zh;
    let n = row.row_no;
    let r = &row.line_ref;
    let yuan = |fen: Option<i64>| {
        fen.map(|f| Money::from_fen(f).to_string())
            .unwrap_or_default()
    };
    let masked = |a: Option<&str>| a.map(mask_account).unwrap_or_default();
    match verdict {
        Verdict::Unreadable => {
            let raw = row.reason.clone().unwrap_or_default();
            match row.problem_field.as_deref() {
                Some("columns") if zh => format!("第 {n} 行的项数（{raw} 项）与格式不符，未处理。"),
                Some("columns") => {
                    format!("Row {n} has {raw} fields, not the layout's; not applied.")
                }
                Some("encoding") if zh => {
                    format!("第 {n} 行含有该格式的编码无法识别的字符，未处理。")
                }
                Some("encoding") => {
                    format!("Row {n} holds bytes the layout's encoding cannot read; not applied.")
                }
                Some(code) => {
                    let field: Option<Field> =
                        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok();
                    let label = field.map_or(code, |f| f.label(lang));
                    if zh {
                        format!("第 {n} 行的“{label}”无法读取（“{raw}”），未处理。")
                    } else {
                        format!("Row {n}: the {label} '{raw}' cannot be read; not applied.")
                    }
                }
                None if zh => format!("第 {n} 行无法读取，未处理。"),
                None => format!("Row {n} cannot be read; not applied."),
            }
        }
        Verdict::Unmatched if zh => {
            format!("第 {n} 行的付款参考号“{r}”不是本批次已导出的付款，未处理。")
        }
        Verdict::Unmatched => {
            format!("Row {n}: '{r}' is no exported line of this batch; not applied.")
        }
        Verdict::AmountMismatch if zh => format!(
            "第 {n} 行的金额为 {} 元，本批次该笔为 {} 元，未处理：请向银行核实。",
            yuan(row.amount_fen),
            yuan(line.map(|l| l.amount_fen))
        ),
        Verdict::AmountMismatch => format!(
            "Row {n} gives {} yuan, the line is {} yuan; not applied: check with the bank.",
            yuan(row.amount_fen),
            yuan(line.map(|l| l.amount_fen))
        ),
        Verdict::AccountMismatch if zh => format!(
            "第 {n} 行的账号 {} 与本批次该笔的账号 {} 不符，未处理：请向银行核实。",
            masked(row.account_no.as_deref()),
            masked(line.map(|l| l.account_no.as_str()))
        ),
        Verdict::AccountMismatch => format!(
            "Row {n} gives account {}, the line has {}; not applied: check with the bank.",
            masked(row.account_no.as_deref()),
            masked(line.map(|l| l.account_no.as_str()))
        ),
        Verdict::Duplicate if zh => {
            format!("付款参考号“{r}”在文件中出现多次（第 {n} 行为其一），均未处理：请向银行核实。")
        }
        Verdict::Duplicate => format!(
            "'{r}' is in the file more than once (row {n} is one); none applied: check with the bank."
        ),
        Verdict::AlreadySettled => {
            let outcome = line.and_then(|l| l.outcome).unwrap_or(Outcome::Paid);
            if zh {
                format!(
                    "第 {n} 行的付款此前已对账（{}），未再次处理。",
                    outcome.label(lang)
                )
            } else {
                format!(
                    "Row {n}: the line was settled already ({}); not applied again.",
                    outcome.label(lang).to_lowercase()
                )
            }
        }
        Verdict::NotPayable if zh => format!(
            "第 {n} 行的救助金已不是“已审核、未支付”（已作废或已另行支付），未处理：请核实后向银行追回或说明。"
        ),
        Verdict::NotPayable => format!(
            "Row {n}: the subsidy is no longer approved and unpaid (voided or paid otherwise); not applied: check it with the bank."
        ),
        Verdict::Paid | Verdict::Failed => String::new(),
    }
}

/// The return files of a batch, newest first (for the batch's page).
pub async fn returns(
    db: &DatabaseConnection,
    user: &CurrentUser,
    batch_id: i64,
) -> AppResult<Vec<payment_return::Model>> {
    super::batch::seen(db, user, batch_id).await?;
    Ok(payment_return::Entity::find()
        .filter(payment_return::Column::BatchId.eq(batch_id))
        .order_by_desc(payment_return::Column::Id)
        .limit(100)
        .all(db)
        .await?)
}

/// A subsidy's lines in payment batches, the newest first, each with its batch when the batch
/// lies inside the user's scope (a batch is seen whole or not at all: one drafted for the whole
/// province is not shown to a county). For the subsidy's page; the caller has shown that the
/// user may see the subsidy.
pub async fn lines_of_visit<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    visit_id: i64,
) -> AppResult<Vec<(payment_line::Model, Option<payment_batch::Model>)>> {
    let lines = payment_line::Entity::find()
        .filter(payment_line::Column::VisitId.eq(visit_id))
        .order_by_desc(payment_line::Column::Id)
        .all(db)
        .await?;
    let mut batches: HashMap<i64, payment_batch::Model> = HashMap::new();
    for b in payment_batch::Entity::find()
        .filter(payment_batch::Column::Id.is_in(lines.iter().map(|l| l.batch_id)))
        .all(db)
        .await?
    {
        if super::batch::visible(user, &b)? {
            batches.insert(b.id, b);
        }
    }
    Ok(lines
        .into_iter()
        .map(|l| {
            let b = batches.get(&l.batch_id).cloned();
            (l, b)
        })
        .collect())
}
