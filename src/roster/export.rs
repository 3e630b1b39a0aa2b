//! Files a clerk opens in Excel: the rejected rows of an import, ready to fix and upload again,
//! and an empty template with the recognised headers.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use entity::roster_import_error;

use super::columns::Field;
use crate::domain::{Group, Lang};

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_border(rust_xlsxwriter::FormatBorder::Thin)
}

fn text_format() -> Format {
    // "@" keeps an ID number as text, so Excel does not cut it to 15 digits.
    Format::new().set_num_format("@")
}

struct RejectedRow {
    row: i64,
    sheet: String,
    data: Vec<(String, String)>,
    messages: Vec<String>,
}

/// The rejected rows of an import as an .xlsx: sheet 1 lists each problem (sheet, row, column,
/// value, message); sheet 2 holds the rejected rows themselves with their original headers and
/// a last column saying what to fix, so the clerk corrects them there and uploads that file.
pub fn errors_xlsx(
    errors: &[roster_import_error::Model],
    lang: Lang,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let head = header_format();
    let text = text_format();

    let fix_name = lang.pick("待修正名册", "Rows to fix");
    let list = book.add_worksheet();
    list.set_name(lang.pick("错误说明", "Errors"))?;
    let headers = if lang == Lang::Zh {
        ["工作表", "行号", "列", "原值", "错误代码", "说明"]
    } else {
        ["Sheet", "Row", "Column", "Value", "Code", "Message"]
    };
    for (c, h) in headers.iter().enumerate() {
        list.write_string_with_format(0, c as u16, *h, &head)?;
    }
    for (i, e) in errors.iter().enumerate() {
        let r = i as u32 + 1;
        list.write_string(r, 0, &e.sheet)?;
        list.write_number(r, 1, e.row_number as f64)?;
        list.write_string(r, 2, &e.column_name)?;
        list.write_string_with_format(r, 3, &e.value, &text)?;
        list.write_string(r, 4, &e.code)?;
        list.write_string(r, 5, lang.pick(&e.message_zh, &e.message_en))?;
    }
    list.set_freeze_panes(1, 0)?;
    for (c, w) in [14.0, 8.0, 16.0, 24.0, 22.0, 80.0].into_iter().enumerate() {
        list.set_column_width(c as u16, w)?;
    }

    // One line per rejected row, even when the row had several problems. Interpreted columns
    // take the template's header, so rows from sheets that spell them differently line up.
    let mut rows: Vec<RejectedRow> = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for e in errors {
        let message = lang.pick(&e.message_zh, &e.message_en).to_owned();
        if let Some(last) = rows.last_mut()
            && last.row == e.row_number
            && last.sheet == e.sheet
        {
            last.messages.push(message);
            continue;
        }
        let data: Vec<(String, String)> = e
            .row_data
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let data: Vec<(String, String)> = data
            .into_iter()
            .map(|(h, v)| match Field::from_header(&h) {
                Some(f) => (f.label_zh().to_owned(), v),
                None => (h, v),
            })
            .collect();
        for (h, _) in &data {
            if !columns.contains(h) {
                columns.push(h.clone());
            }
        }
        rows.push(RejectedRow {
            row: e.row_number,
            sheet: e.sheet.clone(),
            data,
            messages: vec![message],
        });
    }
    let fix = book.add_worksheet();
    fix.set_name(fix_name)?;
    for (c, h) in columns.iter().enumerate() {
        fix.write_string_with_format(0, c as u16, h, &head)?;
        fix.set_column_format(c as u16, &text)?;
        fix.set_column_width(
            c as u16,
            if Field::from_header(h) == Some(Field::IdNumber) {
                22.0
            } else {
                14.0
            },
        )?;
    }
    let note_col = columns.len() as u16;
    fix.write_string_with_format(
        0,
        note_col,
        lang.pick(
            "错误说明（修正后可删除此列）",
            "What to fix (this column may stay)",
        ),
        &head,
    )?;
    fix.set_column_width(note_col, 80.0)?;
    for (i, rejected) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (h, v) in &rejected.data {
            if let Some(c) = columns.iter().position(|x| x == h) {
                fix.write_string_with_format(r, c as u16, v, &text)?;
            }
        }
        fix.write_string(r, note_col, rejected.messages.join("；"))?;
    }
    fix.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The same problems as CSV with a BOM, so that Excel opens it in Chinese.
pub fn errors_csv(errors: &[roster_import_error::Model], lang: Lang) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let headers = if lang == Lang::Zh {
            ["工作表", "行号", "列", "原值", "错误代码", "说明"]
        } else {
            ["Sheet", "Row", "Column", "Value", "Code", "Message"]
        };
        let _ = w.write_record(headers);
        for e in errors {
            let row = e.row_number.to_string();
            let _ = w.write_record([
                e.sheet.as_str(),
                row.as_str(),
                e.column_name.as_str(),
                e.value.as_str(),
                e.code.as_str(),
                lang.pick(&e.message_zh, &e.message_en),
            ]);
        }
        let _ = w.flush();
    }
    out
}

/// An empty roster with every interpreted column, the ID column formatted as text, and a
/// second sheet explaining the columns.
pub fn template_xlsx() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let head = header_format();
    let text = text_format();
    let sheet = book.add_worksheet();
    sheet.set_name("名册")?;
    for (c, f) in Field::ALL.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, f.label_zh(), &head)?;
        sheet.set_column_format(c as u16, &text)?;
        sheet.set_column_width(c as u16, if *f == Field::IdNumber { 22.0 } else { 16.0 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let groups: Vec<&str> = Group::ALL.iter().map(|g| g.label_zh()).collect();
    let validation = rust_xlsxwriter::DataValidation::new().allow_list_strings(&groups)?;
    sheet.add_data_validation(1, 2, 100_000, 2, &validation)?;

    let help = book.add_worksheet();
    help.set_name("填写说明")?;
    let notes = [
        (
            "身份证号码",
            "必填。18位号码（旧15位号码也可），本列已设为文本格式，请勿改为数字。",
        ),
        ("姓名", "必填。少数民族姓名中的间隔号写作“·”。"),
        (
            "救助类别",
            "城市低保、农村低保、特困供养人员、优抚对象；整份名册为同一类别时可不填，上传时选择。",
        ),
        (
            "行政区划代码",
            "6位代码，如 220102；整份名册为同一地区时可不填，上传时选择。",
        ),
        (
            "保障起始日期",
            "如 2020-06-01、2020年6月1日 或 2020年6月（视为当月1日）；不填则为导入的生效日期。",
        ),
        ("终止日期", "仍在保障中则不填。"),
        (
            "其他列",
            "户主姓名、与户主关系、家庭人口、月保障金、乡镇(街道)、村(社区) 等列会原样保存。",
        ),
    ];
    help.write_string_with_format(0, 0, "列", &head)?;
    help.write_string_with_format(0, 1, "说明", &head)?;
    for (i, (k, v)) in notes.iter().enumerate() {
        help.write_string(i as u32 + 1, 0, *k)?;
        help.write_string(i as u32 + 1, 1, *v)?;
    }
    help.set_column_width(0, 16.0)?;
    help.set_column_width(1, 100.0)?;
    book.save_to_buffer()
}

/// The template's header as CSV (UTF-8 with BOM).
pub fn template_csv() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let header: Vec<&str> = Field::ALL.iter().map(|f| f.label_zh()).collect();
    out.extend_from_slice(header.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}
