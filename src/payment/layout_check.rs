//! What makes a layout usable, checked for every layout before it is used: the shipped ones in
//! a test, a branch's own when they are read at start-up (`CANCER_AID_LAYOUT_DIR`), so that a
//! mistake in a layout stops the service with its reason instead of writing a file the bank
//! cannot read, or a return file nobody can match.

use std::path::Path;

use super::layout::{Align, Column, Field, FileKind, Layout, Payment, Totals};

/// The most layout files a directory may hold.
pub const MAX_FILES: usize = 32;

/// The largest layout file read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Fields a payment's line has and a header or trailer does not.
const PAYMENT_FIELDS: [Field; 6] = [
    Field::LineId,
    Field::PayeeName,
    Field::AccountNo,
    Field::BankName,
    Field::Amount,
    Field::AmountFen,
];

/// Fields only a return file has.
const RETURN_FIELDS: [Field; 5] = [
    Field::Result,
    Field::BankSerial,
    Field::SettledOn,
    Field::Reason,
    Field::Ignore,
];

fn has(cols: &[Column], f: Field) -> bool {
    cols.iter().any(|c| c.field == f)
}

/// Why a layout cannot be used, or nothing.
pub fn check(l: &Layout) -> Result<(), String> {
    let ok_name = !l.name.is_empty()
        && l.name.len() <= 40
        && l.name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok_name {
        return Err(format!(
            "name '{}': 1 to 40 of a-z, 0-9 and _ (it is typed in ?layout=)",
            l.name
        ));
    }
    if l.title.trim().is_empty() {
        return Err("title: the words finance reads in the list of layouts".to_owned());
    }
    if l.line.is_empty() || !has(&l.line, Field::LineId) {
        return Err("line: needs a line_id field, which the bank's return file names".to_owned());
    }
    if !has(&l.line, Field::AccountNo)
        || !(has(&l.line, Field::Amount) || has(&l.line, Field::AmountFen))
    {
        return Err("line: needs account_no and amount (or amount_fen)".to_owned());
    }
    for (part, cols) in [("header", &l.header), ("trailer", &l.trailer)] {
        if let Some(c) = cols.iter().find(|c| PAYMENT_FIELDS.contains(&c.field)) {
            return Err(format!("{part}: {:?} belongs to a payment's line", c.field));
        }
        if l.kind == FileKind::Xlsx && !cols.is_empty() {
            return Err(format!("{part}: a workbook has none (its head is fixed)"));
        }
    }
    for (part, cols) in [
        ("header", &l.header),
        ("line", &l.line),
        ("trailer", &l.trailer),
    ] {
        if let Some(c) = cols.iter().find(|c| RETURN_FIELDS.contains(&c.field)) {
            return Err(format!("{part}: {:?} belongs to a return file", c.field));
        }
        if l.kind == FileKind::Text
            && l.separator.is_empty()
            && cols.iter().any(|c| c.width.is_none())
        {
            return Err(format!(
                "{part}: without a separator every field needs a width"
            ));
        }
        if let Some(c) = cols
            .iter()
            .find(|c| c.pad.is_some_and(|p| p != ' ' && p != '0'))
        {
            return Err(format!("{part}: {:?} pads with a space or \"0\"", c.field));
        }
        // Zeros after a number change it (12.50 yuan in fen, 1250, would read 1250000).
        if let Some(c) = cols
            .iter()
            .find(|c| c.pad == Some('0') && c.align != Align::Right)
        {
            return Err(format!(
                "{part}: {:?} pads with \"0\" only when aligned right",
                c.field
            ));
        }
    }
    if l.kind == FileKind::Xlsx && l.line.iter().any(|c| c.title.trim().is_empty()) {
        return Err("line: in a workbook every column has a title".to_owned());
    }
    if let Some(r) = &l.returns {
        if !has(&r.line, Field::LineId) || !has(&r.line, Field::Result) {
            return Err("returns.line: needs line_id and result".to_owned());
        }
        if !(has(&r.line, Field::Amount) || has(&r.line, Field::AmountFen)) {
            return Err("returns.line: needs amount (or amount_fen), which is checked".to_owned());
        }
        if r.paid.is_empty() || r.failed.is_empty() || r.paid.iter().any(|p| r.failed.contains(p)) {
            return Err("returns: paid and failed each list result codes, none in both".to_owned());
        }
        // The result is read trimmed: a blank or padded code would never match, or match a
        // blank result.
        if r.paid
            .iter()
            .chain(&r.failed)
            .any(|c| c.trim().is_empty() || c.trim() != c)
        {
            return Err(
                "returns: a result code is not blank and has no spaces around it".to_owned(),
            );
        }
        if l.kind == FileKind::Xlsx {
            let titles: Vec<&str> = r.line.iter().map(|c| c.title.trim()).collect();
            let unique: std::collections::HashSet<&str> = titles.iter().copied().collect();
            if titles.iter().any(|t| t.is_empty()) || unique.len() != titles.len() {
                return Err(
                    "returns.line: in a workbook every column has its own title (it is found by it)"
                        .to_owned(),
                );
            }
        }
        if l.kind == FileKind::Text
            && l.separator.is_empty()
            && [&r.header, &r.line, &r.trailer]
                .iter()
                .any(|cols| cols.iter().any(|c| c.width.is_none()))
        {
            return Err("returns: without a separator every field needs a width".to_owned());
        }
    }
    sample(l)
}

/// Writes a header, a payment and a trailer of believable values at their widest (a twelve-digit
/// line reference, 999,999.99 yuan, a long bank name): a separator inside a value or a literal,
/// a width too narrow or a literal the encoding cannot write shows now, not at the first export.
fn sample(l: &Layout) -> Result<(), String> {
    if l.kind != FileKind::Text {
        return Ok(());
    }
    let totals = Totals {
        batch_no: "PB20261207-00001",
        date: "20261207".to_owned(),
        count: 99_999,
        total_fen: 9_999_999_999,
    };
    let payment = Payment {
        line_id: 999_999_999_999,
        payee_name: "欧阳明",
        account_no: "6222020200000000006",
        bank_name: "中国工商银行长春朝阳支行",
        amount_fen: 99_999_999,
    };
    let fail = |e: super::layout::RenderError| format!("a sample line cannot be written: {e}");
    l.header_line(&totals).map_err(fail)?;
    l.payment_line(&totals, &payment).map_err(fail)?;
    l.trailer_line(&totals).map_err(fail)?;
    Ok(())
}

/// The layouts of a directory's `*.toml` files, in the order of their names, each checked; a
/// name may not repeat one of `taken` (the shipped layouts) or another file's. The message
/// names the file and what to change.
pub fn read_dir(dir: &Path, taken: &[&str]) -> Result<Vec<Layout>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.len() > MAX_FILES {
        return Err(format!(
            "{}: at most {MAX_FILES} layout files",
            dir.display()
        ));
    }
    let mut names: Vec<String> = taken.iter().map(|n| (*n).to_owned()).collect();
    let mut out = Vec::new();
    for path in paths {
        let at = path.display();
        let len = std::fs::metadata(&path)
            .map_err(|e| format!("{at}: {e}"))?
            .len();
        if len > MAX_FILE_BYTES {
            return Err(format!("{at}: larger than {MAX_FILE_BYTES} bytes"));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{at}: {e}"))?;
        let layout: Layout = toml::from_str(&text).map_err(|e| format!("{at}: {e}"))?;
        check(&layout).map_err(|e| format!("{at}: {e}"))?;
        if names.contains(&layout.name) {
            return Err(format!("{at}: another layout is named '{}'", layout.name));
        }
        names.push(layout.name.clone());
        out.push(layout);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_layout_passes() {
        for l in super::super::layout::all() {
            assert_eq!(check(l), Ok(()), "{}", l.name);
        }
    }

    #[test]
    fn the_example_of_a_branchs_layout_passes() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/layouts"));
        let read = read_dir(dir, &["fixed_gbk", "delimited_utf8", "xlsx"]).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].name, "branch_csv");
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const GOOD: &str = r#"
name = "ccb_csv"
title = "建设银行代发（逗号分隔）"
kind = "text"
separator = ","
[[line]]
field = "line_id"
[[line]]
field = "account_no"
[[line]]
field = "amount"
[returns]
paid = ["00"]
failed = ["01"]
[[returns.line]]
field = "line_id"
[[returns.line]]
field = "amount"
[[returns.line]]
field = "result"
"#;

    #[test]
    fn a_directory_of_layouts_is_read_checked_and_named_once() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ccb.toml", GOOD);
        write(dir.path(), "notes.txt", "not a layout");
        let read = read_dir(dir.path(), &["fixed_gbk"]).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].name, "ccb_csv");

        // The same name twice, or a shipped one, is refused naming the file.
        write(dir.path(), "ccb2.toml", GOOD);
        let e = read_dir(dir.path(), &["fixed_gbk"]).unwrap_err();
        assert!(e.contains("ccb2.toml") && e.contains("ccb_csv"), "{e}");
        std::fs::remove_file(dir.path().join("ccb2.toml")).unwrap();
        let e = read_dir(dir.path(), &["ccb_csv"]).unwrap_err();
        assert!(e.contains("another layout"), "{e}");

        // A mistake says what to change.
        for (text, says) in [
            (
                GOOD.replace(
                    "field = \"line_id\"\n[[line]]",
                    "field = \"payee_name\"\n[[line]]",
                ),
                "line_id",
            ),
            (
                GOOD.replace("separator = \",\"", "separator = \"\""),
                "width",
            ),
            (
                GOOD.replace("failed = [\"01\"]", "failed = [\"00\"]"),
                "none in both",
            ),
            (GOOD.replace("ccb_csv", "CCB CSV"), "a-z"),
            (
                GOOD.replace("kind = \"text\"", "kind = \"text\"\ncolour = \"red\""),
                "colour",
            ),
            (
                format!("{GOOD}\n[[header]]\nfield = \"amount\"\n"),
                "header",
            ),
            (
                GOOD.replace("paid = [\"00\"]", "paid = [\" 00\"]"),
                "spaces",
            ),
            // Amounts in yuan hold a point: a point cannot separate the fields.
            (
                GOOD.replace("separator = \",\"", "separator = \".\""),
                "sample",
            ),
            (
                GOOD.replace(
                    "[[line]]\nfield = \"amount\"",
                    "[[line]]\nfield = \"amount_fen\"\nwidth = 12\npad = \"0\"",
                )
                .replace("separator = \",\"", "separator = \"|\""),
                "aligned right",
            ),
        ] {
            write(dir.path(), "ccb.toml", &text);
            let e = read_dir(dir.path(), &[]).unwrap_err();
            assert!(e.contains("ccb.toml") && e.contains(says), "{says}: {e}");
        }
    }
}
