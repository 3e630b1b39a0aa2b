//! The bank file of an approved batch, through a layout (`layout`): the first download exports
//! the batch (approved → exported) and keeps the file's SHA-256; a later download with the same
//! layout gives the same bytes (the file's date is the export's), which the kept hash checks.

use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use sha2::{Digest, Sha256};

use entity::payment_batch;

use super::BatchState;
use super::layout::{self, FileKind, Layout, Payment, RenderError, Totals};
use super::refusal::PaymentRefusal;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::{Lang, Localized};
use crate::error::{AppError, AppResult, Msg, current_lang};
use crate::export_safe::write_text;

/// A bank file, ready to download.
#[derive(Debug, Clone)]
pub struct BankFile {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its name: the batch number and the layout.
    pub file_name: String,
    /// A text file or a workbook.
    pub kind: FileKind,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A layout name no layout has.
struct UnknownLayout(String);

impl Localized for UnknownLayout {
    fn code(&self) -> &'static str {
        "unknown_layout"
    }

    fn message(&self, lang: Lang) -> String {
        let names: Vec<String> = layout::shipped()
            .iter()
            .map(|l| format!("{}（{}）", l.name, l.title))
            .collect();
        match lang {
            Lang::Zh => format!(
                "没有名为“{}”的银行文件格式：可用 {}。",
                self.0,
                names.join("、")
            ),
            Lang::En => format!(
                "No bank file layout is named '{}': use {}.",
                self.0,
                names.join(", ")
            ),
        }
    }
}

fn render_error(e: &RenderError) -> AppError {
    let zh = match e {
        RenderError::TooLong {
            line, len, width, ..
        } => format!(
            "第 {line} 笔的一项内容占 {len} 字节，超过格式规定的 {width} 字节：银行文件不截断内容，请核对收款信息或选用其他格式。"
        ),
        RenderError::Unencodable { line, .. } => {
            format!("第 {line} 笔含有该格式的编码无法表示的字符：请核对收款人姓名和开户行。")
        }
        RenderError::HoldsSeparator { line, .. } => {
            format!("第 {line} 笔的内容含有分隔符：请核对收款信息。")
        }
    };
    AppError::Unprocessable {
        code: "bank_file_invalid",
        message: Msg::new(zh, e.to_string()),
        details: vec![],
    }
}

fn xlsx(layout: &Layout, totals: &Totals<'_>, payments: &[Payment<'_>]) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| anyhow::anyhow!("bank file workbook: {e}");
    let head = [
        ("批次号", totals.batch_no.to_owned()),
        ("笔数", totals.count.to_string()),
        (
            "金额（元）",
            crate::domain::Money::from_fen(totals.total_fen).to_string(),
        ),
        ("日期", totals.date.clone()),
    ];
    for (r, (label, value)) in head.iter().enumerate() {
        write_text(sheet, r as u32, 0, label, Some(&bold)).map_err(fail)?;
        write_text(sheet, r as u32, 1, value, None).map_err(fail)?;
    }
    let top = head.len() as u32 + 1;
    for (c, col) in layout.line.iter().enumerate() {
        write_text(sheet, top, c as u16, &col.title, Some(&bold)).map_err(fail)?;
    }
    for (i, p) in payments.iter().enumerate() {
        for (c, col) in layout.line.iter().enumerate() {
            // Every cell is text: account numbers keep their digits, amounts their two places.
            let v = col.value(totals, Some(p));
            write_text(sheet, top + 1 + i as u32, c as u16, &v, None).map_err(fail)?;
        }
    }
    Ok(book.save_to_buffer().map_err(fail)?)
}

/// The bank file of a batch in a layout; exports the batch on its first download.
pub async fn export(
    db: &DatabaseConnection,
    user: &CurrentUser,
    id: i64,
    layout_name: &str,
) -> AppResult<BankFile> {
    let layout = layout::named(layout_name)
        .ok_or_else(|| AppError::field("layout", &UnknownLayout(layout_name.to_owned())))?;
    let txn = crate::db::begin_write(db).await?;
    let b = super::batch::held(&txn, user, id).await?;
    let first = match b.state {
        BatchState::Approved => true,
        BatchState::Exported if b.export_layout.as_deref() == Some(layout_name) => false,
        _ => {
            let verb = Lang::pick(current_lang(), "按此格式导出", "exported in this layout");
            return Err(PaymentRefusal::not_allowed(&b, verb).into());
        }
    };
    if first {
        super::notice::ready_to_export(&txn, &b, user.today()).await?;
    }
    let lines = if first {
        super::queries::lines_in(&txn, id).await?
    } else {
        super::queries::exported_lines(&txn, id).await?
    };
    let at = b.exported_at.unwrap_or(user.now);
    let totals = Totals {
        batch_no: &b.batch_no,
        date: crate::clock::day_of(at).format("%Y%m%d").to_string(),
        count: b.line_count,
        total_fen: b.total_fen,
    };
    let payments: Vec<Payment<'_>> = lines
        .iter()
        .map(|l| Payment {
            line_id: l.id,
            payee_name: &l.payee_name,
            account_no: &l.account_no,
            bank_name: &l.bank_name,
            amount_fen: l.amount_fen,
        })
        .collect();
    let (bytes, ext) = match layout.kind {
        FileKind::Text => (
            layout
                .render_text(&totals, &payments)
                .map_err(|e| render_error(&e))?,
            "txt",
        ),
        FileKind::Xlsx => (xlsx(layout, &totals, &payments)?, "xlsx"),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if first {
        let before = serde_json::json!({"state": b.state, "version": b.version});
        let mut am: payment_batch::ActiveModel = b.clone().into();
        am.state = Set(BatchState::Exported);
        am.version = Set(b.version + 1);
        am.exported_at = Set(Some(at));
        am.export_layout = Set(Some(layout_name.to_owned()));
        am.export_sha256 = Set(Some(sha256.clone()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            &user.actor(),
            Change {
                action: "payment_batch.export",
                entity_type: "payment_batch",
                entity_id: id.to_string(),
                before: Some(before),
                after: Some(serde_json::json!({
                    "state": BatchState::Exported, "version": b.version + 1,
                    "layout": layout_name, "sha256": sha256,
                })),
            },
        )
        .await?;
    } else if b.export_sha256.as_deref() != Some(sha256.as_str()) {
        return Err(
            anyhow::anyhow!("batch {id}'s bank file no longer matches its kept hash").into(),
        );
    }
    txn.commit().await?;
    Ok(BankFile {
        bytes,
        file_name: format!("{}_{}.{ext}", b.batch_no, layout.name),
        kind: layout.kind,
        sha256,
    })
}
