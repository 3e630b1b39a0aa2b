//! The bank file of an approved batch, through a layout (`layout`): the first download exports
//! the batch (approved → exported) and keeps the file's SHA-256; a later download with the same
//! layout gives the same bytes (the file's date is the export's), which the kept hash checks.
//! The file is written a piece of lines at a time into an anonymous temporary file and hashed
//! as it grows, so its memory does not grow with the batch.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use rust_xlsxwriter::{DocProperties, Format, Workbook};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set};
use sha2::{Digest, Sha256};

use entity::{payment_batch, payment_line};

use super::BatchState;
use super::layout::{self, FileKind, Layout, Payment, RenderError, Totals};
use super::queries::LinesOf;
use super::refusal::PaymentRefusal;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::domain::{Lang, Localized};
use crate::error::{AppError, AppResult, Msg, current_lang};
use crate::export_safe::write_text;

/// A bank file, ready to download.
#[derive(Debug)]
pub struct BankFile {
    /// The file: anonymous and temporary, rewound to its start, gone when closed.
    pub file: File,
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
        let names: Vec<String> = layout::all()
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

/// How many lines are read from the database and written at a time: the file's memory is that
/// many lines, whatever the size of the batch.
const PIECE: u64 = 2_000;

/// The file being written: an anonymous temporary file (gone when closed), hashed as it grows.
struct Spool {
    out: BufWriter<File>,
    hash: Sha256,
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Spool {
    fn new() -> std::io::Result<Spool> {
        Ok(Spool {
            out: BufWriter::new(tempfile::tempfile()?),
            hash: Sha256::new(),
        })
    }

    /// The finished file, rewound, with its SHA-256 in hex.
    fn finish(self) -> std::io::Result<(File, String)> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, hex::encode(self.hash.finalize())))
    }
}

fn io(e: std::io::Error) -> AppError {
    anyhow::anyhow!("bank file: {e}").into()
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    anyhow::anyhow!("bank file workbook: {e}").into()
}

/// The payments of a piece of lines, as layouts read them.
fn payments(lines: &[payment_line::Model]) -> Vec<Payment<'_>> {
    lines
        .iter()
        .map(|l| Payment {
            line_id: l.id,
            payee_name: &l.payee_name,
            account_no: &l.account_no,
            bank_name: &l.bank_name,
            amount_fen: l.amount_fen,
        })
        .collect()
}

/// Writes the batch's file, a piece of lines at a time, into a spool; returns it finished.
async fn write_file<C: ConnectionTrait>(
    conn: &C,
    layout: &Layout,
    totals: &Totals<'_>,
    id: i64,
    which: LinesOf,
    day: chrono::NaiveDate,
) -> AppResult<(File, String)> {
    let mut spool = Spool::new().map_err(io)?;
    let mut book = Workbook::new();
    // A workbook records when it was made: the export's day, so a later download gives the
    // same bytes (and hash) as the first.
    book.set_properties(&DocProperties::new().set_creation_datetime(&day));
    let bold = Format::new().set_bold();
    let mut row = 0u32;
    match layout.kind {
        FileKind::Text => {
            if let Some(h) = layout.header_line(totals).map_err(|e| render_error(&e))? {
                spool.write_all(&h).map_err(io)?;
            }
        }
        FileKind::Xlsx => {
            let sheet = book
                .add_worksheet_with_constant_memory()
                .map_err(xlsx_error)?;
            let head = [
                ("批次号", totals.batch_no.to_owned()),
                ("笔数", totals.count.to_string()),
                (
                    "金额（元）",
                    crate::domain::Money::from_fen(totals.total_fen).to_string(),
                ),
                ("日期", totals.date.clone()),
            ];
            for (label, value) in &head {
                write_text(sheet, row, 0, label, Some(&bold)).map_err(xlsx_error)?;
                write_text(sheet, row, 1, value, None).map_err(xlsx_error)?;
                row += 1;
            }
            row += 1;
            for (c, col) in layout.line.iter().enumerate() {
                write_text(sheet, row, c as u16, &col.title, Some(&bold)).map_err(xlsx_error)?;
            }
            row += 1;
        }
    }
    let mut after = 0;
    loop {
        let lines = super::queries::lines_after(conn, id, which, after, PIECE).await?;
        let Some(last) = lines.last() else { break };
        after = last.id;
        for p in payments(&lines) {
            match layout.kind {
                FileKind::Text => {
                    let bytes = layout
                        .payment_line(totals, &p)
                        .map_err(|e| render_error(&e))?;
                    spool.write_all(&bytes).map_err(io)?;
                }
                FileKind::Xlsx => {
                    let sheet = book.worksheet_from_index(0).map_err(xlsx_error)?;
                    for (c, col) in layout.line.iter().enumerate() {
                        // Every cell is text: account numbers keep their digits, amounts their
                        // two places.
                        let v = col.value(totals, Some(&p));
                        write_text(sheet, row, c as u16, &v, None).map_err(xlsx_error)?;
                    }
                    row += 1;
                }
            }
        }
    }
    match layout.kind {
        FileKind::Text => {
            if let Some(t) = layout.trailer_line(totals).map_err(|e| render_error(&e))? {
                spool.write_all(&t).map_err(io)?;
            }
            spool.finish().map_err(io)
        }
        // Zipping the workbook is CPU work: off the async threads.
        FileKind::Xlsx => tokio::task::spawn_blocking(move || {
            book.save_to_writer(&mut spool).map_err(xlsx_error)?;
            spool.finish().map_err(io)
        })
        .await
        .map_err(|e| AppError::from(anyhow::anyhow!("bank file workbook: {e}")))?,
    }
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
    let which = if first {
        LinesOf::Held
    } else {
        LinesOf::Exported
    };
    let at = b.exported_at.unwrap_or(user.now);
    let totals = Totals {
        batch_no: &b.batch_no,
        date: crate::clock::day_of(at).format("%Y%m%d").to_string(),
        count: b.line_count,
        total_fen: b.total_fen,
    };
    let day = crate::clock::day_of(at);
    let (file, sha256) = write_file(&txn, layout, &totals, id, which, day).await?;
    let ext = match layout.kind {
        FileKind::Text => "txt",
        FileKind::Xlsx => "xlsx",
    };
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
        file,
        file_name: format!("{}_{}.{ext}", b.batch_no, layout.name),
        kind: layout.kind,
        sha256,
    })
}
