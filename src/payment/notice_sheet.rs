//! The notice as a workbook, to print or to send to the township for posting: its title and
//! period above a table of its lines, written a piece at a time (a constant-memory worksheet)
//! and saved to an anonymous temporary file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::notice::NoticeEntry;
use super::view::Totals;
use crate::error::AppResult;
use crate::export_safe::write_text;

/// The table's columns: the 编号 is what an objection names.
const TITLES: [&str; 7] = [
    "序号",
    "编号",
    "姓名",
    "身份证号",
    "所在地",
    "救助类别",
    "金额（元）",
];
const WIDTHS: [f64; 7] = [6.0, 10.0, 10.0, 22.0, 16.0, 12.0, 14.0];

fn fail(e: XlsxError) -> anyhow::Error {
    anyhow::anyhow!("notice workbook: {e}")
}

/// A notice workbook being written.
pub struct NoticeSheet {
    book: Workbook,
    bold: Format,
    /// The next row to write.
    row: u32,
}

impl NoticeSheet {
    /// A workbook with the `lead` lines (the first in bold) and the table's titles.
    pub fn new(lead: &[String]) -> AppResult<NoticeSheet> {
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory().map_err(fail)?;
        // Widths first: a constant-memory sheet writes its columns before its rows.
        for (c, w) in WIDTHS.iter().enumerate() {
            sheet.set_column_width(c as u16, *w).map_err(fail)?;
        }
        let mut row = 0;
        for (r, text) in lead.iter().enumerate() {
            write_text(sheet, row, 0, text, (r == 0).then_some(&bold)).map_err(fail)?;
            row += 1;
        }
        row += 1;
        for (c, t) in TITLES.iter().enumerate() {
            write_text(sheet, row, c as u16, t, Some(&bold)).map_err(fail)?;
        }
        row += 1;
        Ok(NoticeSheet { book, bold, row })
    }

    /// Writes the next entries.
    pub fn add(&mut self, entries: &[NoticeEntry]) -> AppResult<()> {
        let sheet = self.book.worksheet_from_index(0).map_err(fail)?;
        for e in entries {
            let cells = [
                e.seq.to_string(),
                e.line_id.to_string(),
                e.name.clone(),
                e.id_number.clone(),
                e.place.clone(),
                e.group.clone(),
                e.amount.to_string(),
            ];
            for (c, v) in cells.iter().enumerate() {
                write_text(sheet, self.row, c as u16, v, None).map_err(fail)?;
            }
            self.row += 1;
        }
        Ok(())
    }

    /// Writes the total and the issuer, and saves the workbook (off the async threads: zipping
    /// is CPU work) to an anonymous temporary file, rewound.
    pub async fn finish(mut self, totals: &Totals, issuer: &str) -> AppResult<File> {
        let sheet = self.book.worksheet_from_index(0).map_err(fail)?;
        let bold = Some(&self.bold);
        let count = format!("合计 {} 笔", totals.count);
        write_text(sheet, self.row, 0, &count, bold).map_err(fail)?;
        write_text(sheet, self.row, 6, &totals.amount.to_string(), bold).map_err(fail)?;
        write_text(sheet, self.row + 2, 0, issuer, None).map_err(fail)?;
        let mut book = self.book;
        let file = tokio::task::spawn_blocking(move || -> anyhow::Result<File> {
            let mut file = tempfile::tempfile()?;
            {
                let mut out = BufWriter::new(&mut file);
                book.save_to_writer(&mut out).map_err(fail)?;
                out.flush()?;
            }
            file.seek(SeekFrom::Start(0))?;
            Ok(file)
        })
        .await
        .map_err(|e| anyhow::anyhow!("notice workbook: {e}"))??;
        Ok(file)
    }
}
