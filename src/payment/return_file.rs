//! Reading a bank's return file (回盘) through the `returns` part of its layout: a text file
//! line by line (fixed widths or a separator, in the layout's encoding), a workbook row by row
//! (cells from the parser process). Pure: bytes or cells in, rows and the control lines out;
//! a row that cannot be read is a row with its problem, never a guess.

use std::io::BufRead;
use std::ops::ControlFlow;

use chrono::NaiveDate;

use super::layout::{Column, Field, Layout, ReturnLayout};
use crate::domain::Money;
use crate::roster::read::{Cell, RowSink};

/// Bytes a line of a return file may have; a longer one is not a bank's line.
pub const MAX_LINE_BYTES: usize = 4096;

/// The largest amount a row or a control total may give, in fen (ten billion yuan): more is
/// not a subsidy and is read as unreadable, so that no sum of a file's rows can overflow.
pub const MAX_FEN: i64 = 1_000_000_000_000;

/// One row of a return file as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnRow {
    /// Line number in the file (1-based, header included), or row in the sheet.
    pub row_no: i64,
    /// The line reference as written.
    pub line_ref: String,
    /// The reference as a line id.
    pub line_id: Option<i64>,
    /// The batch number, when the row carries one.
    pub batch_no: Option<String>,
    /// The account, digits as written.
    pub account_no: Option<String>,
    /// The amount in fen.
    pub amount_fen: Option<i64>,
    /// Paid (true) or refused (false).
    pub paid: Option<bool>,
    /// The bank's serial.
    pub bank_serial: Option<String>,
    /// The day paid or refused.
    pub settled_on: Option<NaiveDate>,
    /// The bank's reason of a refusal.
    pub reason: Option<String>,
    /// Why the row could not be read, if it could not.
    pub problem: Option<RowProblem>,
}

/// Why a row could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// A value that is not what its field holds.
    Value {
        /// The field.
        field: Field,
        /// The text found.
        raw: String,
    },
    /// Another number of fields than the layout has.
    Columns {
        /// Found.
        found: usize,
    },
    /// Bytes the layout's encoding cannot read.
    Encoding,
}

impl RowProblem {
    /// The stored form: (problem field, text).
    pub fn stored(&self) -> (String, String) {
        match self {
            RowProblem::Value { field, raw } => (
                serde_json::to_value(field)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                raw.clone(),
            ),
            RowProblem::Columns { found } => ("columns".to_owned(), found.to_string()),
            RowProblem::Encoding => ("encoding".to_owned(), String::new()),
        }
    }
}

/// What the header and trailer (or the rows above a workbook's table) say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    /// The batch number.
    pub batch_no: Option<String>,
    /// The number of payment lines, per control line that has one.
    pub counts: Vec<i64>,
    /// Their total in fen, per control line that has one.
    pub totals_fen: Vec<i64>,
}

/// Why a whole file cannot be read; nothing of it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// A line longer than [`MAX_LINE_BYTES`].
    LineTooLong {
        /// Its number.
        line: i64,
    },
    /// The header or trailer line cannot be read.
    Control {
        /// Its number.
        line: i64,
        /// Which field, if one.
        field: Option<Field>,
    },
    /// A workbook without the title row of the layout's columns.
    NoTitles {
        /// The titles looked for.
        titles: Vec<String>,
    },
    /// The file could not be read at all.
    Unreadable(String),
}

fn fen_of(field: Field, v: &str) -> Option<i64> {
    let fen = match field {
        Field::Amount | Field::Total => Money::parse(v).ok().map(Money::fen),
        _ if !v.is_empty() && v.len() <= 18 && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse().ok()
        }
        _ => None,
    }?;
    (0..=MAX_FEN).contains(&fen).then_some(fen)
}

fn day_of(v: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%Y-%m-%d"))
        .ok()
}

/// A row from its fields' texts, in the layout's order.
pub fn read_row(ret: &ReturnLayout, cols: &[Column], values: &[String], row_no: i64) -> ReturnRow {
    let mut row = ReturnRow {
        row_no,
        ..Default::default()
    };
    let bad = |field: Field, raw: &str, row: &mut ReturnRow| {
        row.problem.get_or_insert(RowProblem::Value {
            field,
            raw: raw.chars().take(100).collect(),
        });
    };
    for (c, v) in cols.iter().zip(values) {
        let v = v.trim();
        match c.field {
            Field::LineId => {
                row.line_ref = v.chars().take(64).collect();
                row.line_id = fen_of(Field::AmountFen, v);
                if row.line_id.is_none() {
                    bad(c.field, v, &mut row);
                }
            }
            // A blank batch number or account is not given, and is not checked.
            Field::BatchNo if !v.is_empty() => row.batch_no = Some(v.chars().take(64).collect()),
            Field::AccountNo if !v.is_empty() => {
                let digits: String = v.chars().filter(|ch| !matches!(ch, ' ' | '-')).collect();
                row.account_no = Some(digits.chars().take(64).collect());
            }
            Field::Amount | Field::AmountFen => {
                row.amount_fen = fen_of(c.field, v);
                if row.amount_fen.is_none() {
                    bad(c.field, v, &mut row);
                }
            }
            Field::Result => {
                row.paid = if ret.paid.iter().any(|p| p == v) {
                    Some(true)
                } else if ret.failed.iter().any(|f| f == v) {
                    Some(false)
                } else {
                    bad(c.field, v, &mut row);
                    None
                };
            }
            Field::BankSerial if !v.is_empty() => {
                row.bank_serial = Some(v.chars().take(64).collect())
            }
            Field::SettledOn if !v.is_empty() => {
                row.settled_on = day_of(v);
                if row.settled_on.is_none() {
                    bad(c.field, v, &mut row);
                }
            }
            Field::Reason if !v.is_empty() => row.reason = Some(v.chars().take(200).collect()),
            Field::Literal if v != c.value.trim() => bad(c.field, v, &mut row),
            _ => {}
        }
    }
    if row.paid == Some(true)
        && row.bank_serial.is_none()
        && cols.iter().any(|c| c.field == Field::BankSerial)
    {
        bad(Field::BankSerial, "", &mut row);
    }
    row
}

/// The control values of a header or trailer line.
fn read_control(
    cols: &[Column],
    values: &[String],
    line: i64,
    into: &mut Control,
) -> Result<(), FileProblem> {
    let problem = |field: Option<Field>| FileProblem::Control { line, field };
    if values.len() != cols.len() {
        return Err(problem(None));
    }
    for (c, v) in cols.iter().zip(values) {
        let v = v.trim();
        match c.field {
            Field::BatchNo => into.batch_no = Some(v.to_owned()),
            Field::Count => into
                .counts
                .push(fen_of(Field::Count, v).ok_or(problem(Some(c.field)))?),
            Field::Total | Field::TotalFen => into
                .totals_fen
                .push(fen_of(c.field, v).ok_or(problem(Some(c.field)))?),
            Field::Literal if v != c.value.trim() => return Err(problem(Some(c.field))),
            _ => {}
        }
    }
    Ok(())
}

/// The fields of a text line: by widths in bytes, or between separators.
fn split(layout: &Layout, cols: &[Column], raw: &[u8]) -> Result<Vec<String>, RowProblem> {
    if layout.separator.is_empty() {
        let mut out = Vec::with_capacity(cols.len());
        let mut at = 0;
        for (i, c) in cols.iter().enumerate() {
            let end = match c.width {
                Some(w) => (at + w).min(raw.len()),
                None if i + 1 == cols.len() => raw.len(),
                None => return Err(RowProblem::Columns { found: 0 }),
            };
            let slice = raw.get(at..end).unwrap_or_default();
            let text = layout.decode(slice).ok_or(RowProblem::Encoding)?;
            out.push(text.trim_matches(' ').to_owned());
            at = end;
        }
        if raw.len() > at && !raw[at..].iter().all(|b| *b == b' ') {
            return Err(RowProblem::Columns {
                found: cols.len() + 1,
            });
        }
        Ok(out)
    } else {
        let text = layout.decode(raw).ok_or(RowProblem::Encoding)?;
        let out: Vec<String> = text
            .split(layout.separator.as_str())
            .map(str::to_owned)
            .collect();
        if out.len() != cols.len() {
            return Err(RowProblem::Columns { found: out.len() });
        }
        Ok(out)
    }
}

/// Reads a text return file, handing each payment row to `on_row` (which may stop early), and
/// answers its control lines: the first line is the header when the layout has one, the last
/// the trailer. Memory: one line and the one before it.
pub fn read_text<R: BufRead>(
    layout: &Layout,
    ret: &ReturnLayout,
    mut reader: R,
    mut on_row: impl FnMut(ReturnRow) -> ControlFlow<()>,
) -> Result<Control, FileProblem> {
    let mut control = Control::default();
    let mut held: Option<(i64, Vec<u8>)> = None;
    let mut header_read = ret.header.is_empty();
    let mut line_no = 0i64;
    let mut buf = Vec::with_capacity(256);
    let io = |e: std::io::Error| FileProblem::Unreadable(e.to_string());
    loop {
        buf.clear();
        let n = std::io::Read::take(&mut reader, MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() > MAX_LINE_BYTES {
            return Err(FileProblem::LineTooLong { line: line_no });
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if line_no == 1 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            buf.drain(..3);
        }
        if buf.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        // The first line with anything on it is the header, blank lines before it or not.
        if !header_read {
            header_read = true;
            let values = split(layout, &ret.header, &buf).map_err(|_| FileProblem::Control {
                line: line_no,
                field: None,
            })?;
            read_control(&ret.header, &values, line_no, &mut control)?;
            continue;
        }
        // With a trailer, a line is a payment only once a later line shows it is not the last.
        let (no, line) = if ret.trailer.is_empty() {
            (line_no, std::mem::take(&mut buf))
        } else {
            match held.replace((line_no, buf.clone())) {
                Some(earlier) => earlier,
                None => continue,
            }
        };
        let row = match split(layout, &ret.line, &line) {
            Ok(values) => read_row(ret, &ret.line, &values, no),
            Err(p) => ReturnRow {
                row_no: no,
                problem: Some(p),
                ..Default::default()
            },
        };
        if on_row(row).is_break() {
            return Ok(control);
        }
    }
    if !header_read {
        return Err(FileProblem::Control {
            line: line_no.max(1),
            field: None,
        });
    }
    if !ret.trailer.is_empty() {
        let (no, line) = held.ok_or(FileProblem::Control {
            line: line_no.max(1),
            field: None,
        })?;
        let values = split(layout, &ret.trailer, &line).map_err(|_| FileProblem::Control {
            line: no,
            field: None,
        })?;
        read_control(&ret.trailer, &values, no, &mut control)?;
    }
    Ok(control)
}

/// Reads a return workbook's first sheet: the rows above the table give the batch number,
/// count and total (labelled as in the file sent), the title row places the columns.
pub struct SheetReader<'a, F: FnMut(ReturnRow) -> ControlFlow<()>> {
    ret: &'a ReturnLayout,
    on_row: F,
    /// Column index of each of the layout's line fields, once the title row is seen.
    places: Option<Vec<usize>>,
    /// What the rows above the table said.
    pub control: Control,
    /// Whether a control value above the table could not be read.
    pub bad_control: Option<(i64, Field)>,
    sheets: u32,
    stopped: bool,
}

impl<'a, F: FnMut(ReturnRow) -> ControlFlow<()>> SheetReader<'a, F> {
    /// A reader that hands each payment row to `on_row`.
    pub fn new(ret: &'a ReturnLayout, on_row: F) -> SheetReader<'a, F> {
        SheetReader {
            ret,
            on_row,
            places: None,
            control: Control::default(),
            bad_control: None,
            sheets: 0,
            stopped: false,
        }
    }

    /// The control values, or why the sheet is not a return file.
    pub fn finish(self) -> Result<Control, FileProblem> {
        if let Some((line, field)) = self.bad_control {
            return Err(FileProblem::Control {
                line,
                field: Some(field),
            });
        }
        if self.places.is_none() {
            return Err(FileProblem::NoTitles {
                titles: self.ret.line.iter().map(|c| c.title.clone()).collect(),
            });
        }
        // The rows above the table say whose file it is; without them nothing is checked.
        if self.control.batch_no.is_none() {
            return Err(FileProblem::Control {
                line: 1,
                field: Some(Field::BatchNo),
            });
        }
        Ok(self.control)
    }

    fn above_table(&mut self, index: u32, cells: &[Cell]) {
        let text = |i: usize| cells.get(i).map(|c| c.text().trim().to_owned());
        let line = i64::from(index) + 1;
        let label = text(0).unwrap_or_default();
        let value = text(1).unwrap_or_default();
        let (field, target) = match label.as_str() {
            "批次号" => {
                self.control.batch_no = Some(value);
                return;
            }
            "笔数" => (Field::Count, &mut self.control.counts),
            "金额（元）" => (Field::Total, &mut self.control.totals_fen),
            _ => {
                self.find_titles(cells);
                return;
            }
        };
        match fen_of(field, &value) {
            Some(v) => target.push(v),
            None => self.bad_control = Some((line, field)),
        }
    }

    fn find_titles(&mut self, cells: &[Cell]) {
        let texts: Vec<String> = cells.iter().map(|c| c.text().trim().to_owned()).collect();
        let places: Option<Vec<usize>> = self
            .ret
            .line
            .iter()
            .map(|c| texts.iter().position(|t| *t == c.title.trim()))
            .collect();
        self.places = places;
    }
}

impl<F: FnMut(ReturnRow) -> ControlFlow<()>> RowSink for SheetReader<'_, F> {
    fn begin_sheet(&mut self, _: &str, _: u64) {
        self.sheets += 1;
    }

    fn row(&mut self, index: u32, cells: &[Cell]) -> ControlFlow<()> {
        if self.sheets > 1 || self.stopped {
            return ControlFlow::Break(());
        }
        let Some(places) = &self.places else {
            self.above_table(index, cells);
            return ControlFlow::Continue(());
        };
        if cells.iter().all(Cell::is_blank) {
            return ControlFlow::Continue(());
        }
        let values: Vec<String> = places
            .iter()
            .map(|i| cells.get(*i).map(|c| c.display()).unwrap_or_default())
            .collect();
        let row = read_row(self.ret, &self.ret.line, &values, i64::from(index) + 1);
        let flow = (self.on_row)(row);
        self.stopped = flow.is_break();
        flow
    }

    fn end_sheet(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::super::layout::named;
    use super::*;

    fn rows_of(name: &str, text: &[u8]) -> (Result<Control, FileProblem>, Vec<ReturnRow>) {
        let layout = named(name).unwrap();
        let ret = layout.returns.as_ref().unwrap();
        let mut rows = Vec::new();
        let control = read_text(layout, ret, text, |r| {
            rows.push(r);
            ControlFlow::Continue(())
        });
        (control, rows)
    }

    #[test]
    fn a_fixed_gbk_return_file_reads_with_its_control_lines() {
        let mut file = Vec::new();
        let header = format!(
            "H{:<20}{:08}{:015}{}",
            "PB20261207-00001", 2, 540_050, "20261208"
        );
        let d1 = format!(
            "D{:>12}{:<32}{:015}S{:<32}{}{:<60}",
            "000000000007", "6222020200000000006", 540_000, "BK0001", "20261208", ""
        );
        let (reason, _, _) = encoding_rs::GBK.encode("账户已销户");
        let mut d2 = format!(
            "D{:>12}{:<32}{:015}F{:<32}{}",
            "000000000008", "071001012345", 50, "", "20261208"
        )
        .into_bytes();
        d2.extend_from_slice(&reason);
        for line in [
            header.as_bytes(),
            d1.as_bytes(),
            &d2,
            b"T00000002000000000540050",
        ] {
            file.extend_from_slice(line);
            file.extend_from_slice(b"\r\n");
        }
        let (control, rows) = rows_of("fixed_gbk", &file);
        let control = control.unwrap();
        assert_eq!(control.batch_no.as_deref(), Some("PB20261207-00001"));
        assert_eq!(control.counts, [2, 2]);
        assert_eq!(control.totals_fen, [540_050, 540_050]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line_id, Some(7));
        assert_eq!(rows[0].paid, Some(true));
        assert_eq!(rows[0].amount_fen, Some(540_000));
        assert_eq!(rows[0].bank_serial.as_deref(), Some("BK0001"));
        assert_eq!(rows[0].account_no.as_deref(), Some("6222020200000000006"));
        assert_eq!(rows[0].problem, None);
        assert_eq!(rows[1].paid, Some(false));
        assert_eq!(rows[1].reason.as_deref(), Some("账户已销户"));
        assert_eq!(rows[1].row_no, 3);
    }

    #[test]
    fn a_row_that_cannot_be_read_says_which_field() {
        let text = "PB1|2|1.00|20261208\n\
                    7|张三|6222020200000000006|0.5x|成功|BK1|20261208|\n\
                    8|李四|071001012345|0.50|也许|BK2|20261208|\n\
                    9|王五|071001012345|0.50|成功|BK3|2026-13-01|\n\
                    10|赵六|0.50|成功\n";
        let (control, rows) = rows_of("delimited_utf8", text.as_bytes());
        assert_eq!(control.unwrap().batch_no.as_deref(), Some("PB1"));
        let problems: Vec<_> = rows.iter().map(|r| r.problem.clone()).collect();
        assert_eq!(
            problems,
            [
                Some(RowProblem::Value {
                    field: Field::Amount,
                    raw: "0.5x".into()
                }),
                Some(RowProblem::Value {
                    field: Field::Result,
                    raw: "也许".into()
                }),
                Some(RowProblem::Value {
                    field: Field::SettledOn,
                    raw: "2026-13-01".into()
                }),
                Some(RowProblem::Columns { found: 4 }),
            ]
        );
    }

    #[test]
    fn a_file_without_its_trailer_or_with_a_bad_header_is_refused_whole() {
        let (control, _) = rows_of("fixed_gbk", b"HPB1\r\n");
        assert!(matches!(control, Err(FileProblem::Control { .. })));
        let (control, _) = rows_of("delimited_utf8", b"PB1|two|1.00|20261208\n");
        assert_eq!(
            control,
            Err(FileProblem::Control {
                line: 1,
                field: Some(Field::Count)
            })
        );
        // Blank lines before the header do not make the header a payment row.
        let (control, rows) = rows_of(
            "delimited_utf8",
            b"\n \r\nPB1|1|0.50|20261208\n7|a|1|0.50|S|B|20261208|\n",
        );
        assert_eq!(control.unwrap().batch_no.as_deref(), Some("PB1"));
        assert_eq!(rows.len(), 1);
        // An amount no subsidy has is unreadable, however many digits it has.
        let (_, rows) = rows_of(
            "delimited_utf8",
            b"PB1|1|0.50|20261208\n7|a|1|1000000000000000000000000000|S|B|20261208|\n",
        );
        assert!(matches!(
            rows[0].problem,
            Some(RowProblem::Value {
                field: Field::Amount,
                ..
            })
        ));
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let (control, _) = rows_of("delimited_utf8", &long);
        assert_eq!(control, Err(FileProblem::LineTooLong { line: 1 }));
    }

    #[test]
    fn every_shipped_layout_has_a_return_file_that_names_line_result_and_amount() {
        for layout in super::super::layout::all() {
            let ret = layout.returns.as_ref().expect("a return layout");
            let has = |f: Field| ret.line.iter().any(|c| c.field == f);
            assert!(has(Field::LineId), "{}", layout.name);
            assert!(has(Field::Result), "{}", layout.name);
            assert!(
                has(Field::Amount) || has(Field::AmountFen),
                "{}",
                layout.name
            );
        }
    }
}
