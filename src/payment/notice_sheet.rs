//! The notice as a workbook, to print or to send to the township for posting.

use rust_xlsxwriter::{Format, Workbook};

use super::notice::Notice;
use crate::error::AppResult;
use crate::export_safe::write_text;

/// The workbook of a notice: its title and period above a table of its lines.
pub fn workbook(n: &Notice, title: &str) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| anyhow::anyhow!("notice workbook: {e}");
    let lead = [
        title.to_owned(),
        format!("批次号：{}", n.batch.batch_no),
        format!("公示期：{} 至 {}", n.from, n.until),
        format!("异议电话：{}", n.phone),
    ];
    for (r, text) in lead.iter().enumerate() {
        write_text(sheet, r as u32, 0, text, (r == 0).then_some(&bold)).map_err(fail)?;
    }
    let top = lead.len() as u32 + 1;
    let titles = [
        "序号",
        "姓名",
        "身份证号",
        "所在地",
        "救助类别",
        "金额（元）",
    ];
    for (c, t) in titles.iter().enumerate() {
        write_text(sheet, top, c as u16, t, Some(&bold)).map_err(fail)?;
    }
    for (i, e) in n.entries.iter().enumerate() {
        let r = top + 1 + i as u32;
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
            write_text(sheet, r, c as u16, v, None).map_err(fail)?;
        }
    }
    let end = top + 1 + n.entries.len() as u32;
    write_text(
        sheet,
        end,
        0,
        &format!("合计 {} 笔", n.totals.count),
        Some(&bold),
    )
    .map_err(fail)?;
    write_text(sheet, end, 6, &n.totals.amount.to_string(), Some(&bold)).map_err(fail)?;
    write_text(sheet, end + 2, 0, &n.issuer, None).map_err(fail)?;
    for (c, w) in [6.0, 10.0, 10.0, 22.0, 16.0, 12.0, 14.0].iter().enumerate() {
        sheet.set_column_width(c as u16, *w).map_err(fail)?;
    }
    Ok(book.save_to_buffer().map_err(fail)?)
}
