//! Reading any roster file into rows of cells: .xlsx/.xlsm (streamed cell by cell), .xls,
//! .xlsb and .ods (through calamine), and .csv in UTF-8 or GBK. The format is taken from the
//! content, not the file name.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Sheets, Xlsx};
use chrono::NaiveDate;

pub use super::file_error::FileError;

/// One cell's value, as the sheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text (shared or inline strings, CSV fields).
    Text(String),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A cell formatted as a date.
    Date(NaiveDate),
    /// TRUE / FALSE.
    Bool(bool),
    /// #N/A, #REF! and the like.
    Error(String),
}

impl Cell {
    /// The cell as a clerk would read it, for error reports and extra columns.
    pub fn display(&self) -> String {
        self.text().into_owned()
    }

    /// As [`Cell::display`], borrowing text cells: called for several cells of every row.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        Cow::Owned(match self {
            Cell::Text(s) => return Cow::Borrowed(s),
            Cell::Empty => String::new(),
            Cell::Int(i) => i.to_string(),
            // Whole numbers (family size, an amount in yuan) are most of the numbers on a
            // roster; printing them as integers skips the float formatter and reads the same.
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (*f as i64).to_string(),
            Cell::Float(f) => format!("{f}"),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Cell::Error(e) => e.clone(),
        })
    }

    /// Whether the cell holds nothing but white space.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// The file kinds a roster may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Excel 2007+ workbook (also .xlsm).
    Xlsx,
    /// Excel binary workbook.
    Xlsb,
    /// Excel 97-2003 workbook.
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
    /// Comma-separated text in UTF-8 or GBK.
    Csv,
}

impl Format {
    /// The short name stored with the import.
    pub fn code(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xlsb => "xlsb",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Csv => "csv",
        }
    }
}

/// Sheets up to this many rows have their vertically merged data cells filled down.
pub const MERGE_FILL_MAX_ROWS: u32 = 50_000;

/// Receives what is read, sheet by sheet and row by row.
pub trait RowSink {
    /// A new sheet starts; `approx_rows` is its declared height (0 when unknown).
    fn begin_sheet(&mut self, name: &str, approx_rows: u64);
    /// One row: its 0-based index in the sheet and its cells from column A on.
    fn row(&mut self, index: u32, cells: &[Cell]) -> std::ops::ControlFlow<()>;
    /// The sheet ended.
    fn end_sheet(&mut self);
}

fn from_data(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| Cell::Date(t.date()))
            .unwrap_or(Cell::Float(dt.as_f64())),
        Data::DateTimeIso(s) => s
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(Cell::Date)
            .unwrap_or_else(|| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn from_data_ref(d: DataRef<'_>) -> Cell {
    match d {
        DataRef::SharedString(s) => Cell::Text(s.to_owned()),
        DataRef::String(s) => Cell::Text(s),
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Int(i),
        DataRef::Float(f) => Cell::Float(f),
        DataRef::Bool(b) => Cell::Bool(b),
        DataRef::DateTime(dt) => dt
            .as_datetime()
            .map(|t| Cell::Date(t.date()))
            .unwrap_or(Cell::Float(dt.as_f64())),
        DataRef::DateTimeIso(s) => from_data(&Data::DateTimeIso(s)),
        DataRef::DurationIso(s) => Cell::Text(s),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn corrupt(e: impl std::fmt::Display) -> FileError {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("password") {
        FileError::PasswordProtected
    } else {
        FileError::Corrupt(text)
    }
}

/// Reads every sheet of the file into the sink.
pub fn read(bytes: &[u8], format: Format, sink: &mut dyn RowSink) -> Result<(), FileError> {
    match format {
        Format::Xlsx => read_xlsx(bytes, sink),
        Format::Csv => read_csv(bytes, sink),
        _ => read_other(bytes, format, sink),
    }
}

/// Streams an .xlsx sheet cell by cell: the whole sheet is never in memory. Vertically
/// merged cells in the data (a group written once for a family) are filled down.
fn read_xlsx(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), FileError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let names = visible_sheets(book.sheets_metadata());
    if names.is_empty() {
        return Err(FileError::NoSheets);
    }
    for name in names {
        // Vertical merges: for each (first row, column), the last row the value fills.
        let mut fills: HashMap<(u32, u32), u32> = HashMap::new();
        // The merge list sits after the data, so reading it parses the whole sheet once more.
        // Hand-made sheets, the ones with merged cells, are small; a machine-made sheet of
        // hundreds of thousands of rows has none, and reading it twice would double the time.
        let height = book
            .worksheet_cells_reader(&name)
            .map(|r| r.dimensions())
            .map(|d| d.end.0.saturating_sub(d.start.0))
            .unwrap_or(0);
        if height <= MERGE_FILL_MAX_ROWS {
            for dims in book.merge_cells_by_sheet_name(&name).unwrap_or_default() {
                if dims.end.0 > dims.start.0 {
                    fills.insert((dims.start.0, dims.start.1), dims.end.0);
                }
            }
        }
        let mut reader = book.worksheet_cells_reader(&name).map_err(corrupt)?;
        let dims = reader.dimensions();
        sink.begin_sheet(
            &name,
            u64::from(dims.end.0.saturating_sub(dims.start.0)) + 1,
        );
        let mut row: Vec<Cell> = Vec::new();
        let mut current: Option<u32> = None;
        // Active fill-downs: column -> (last row, value).
        let mut active: HashMap<u32, (u32, Cell)> = HashMap::new();
        let mut stopped = false;
        let mut flush =
            |index: u32, row: &mut Vec<Cell>, active: &mut HashMap<u32, (u32, Cell)>| {
                for (col, (last, value)) in active.iter() {
                    if index <= *last {
                        let c = *col as usize;
                        if row.len() <= c {
                            row.resize(c + 1, Cell::Empty);
                        }
                        if row[c].is_blank() {
                            row[c] = value.clone();
                        }
                    }
                }
                active.retain(|_, (last, _)| *last > index);
                let flow = sink.row(index, row);
                row.clear();
                flow
            };
        while let Some(cell) = reader.next_cell().map_err(corrupt)? {
            let (r, c) = cell.get_position();
            if current != Some(r) {
                if let Some(prev) = current {
                    // Rows between with only filled-down cells still count as rows.
                    if flush(prev, &mut row, &mut active).is_break() {
                        stopped = true;
                        break;
                    }
                }
                current = Some(r);
            }
            let value = from_data_ref(cell.get_value().clone());
            if let Some(last) = fills.get(&(r, c))
                && !value.is_blank()
            {
                active.insert(c, (*last, value.clone()));
            }
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, Cell::Empty);
            }
            row[c] = value;
        }
        if !stopped && let Some(prev) = current {
            let _ = flush(prev, &mut row, &mut active);
        }
        drop(reader);
        sink.end_sheet();
    }
    Ok(())
}

fn visible_sheets(meta: &[calamine::Sheet]) -> Vec<String> {
    meta.iter()
        .filter(|s| s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect()
}

/// .xls, .xlsb and .ods: calamine reads each sheet whole (these files are small in practice).
/// The format was told from the content: each is opened by its own reader, so that its
/// error is its own rather than "cannot detect the format".
fn read_other(bytes: &[u8], format: Format, sink: &mut dyn RowSink) -> Result<(), FileError> {
    let cursor = Cursor::new(bytes);
    let mut book = match format {
        Format::Xls => Sheets::Xls(calamine::Xls::new(cursor).map_err(corrupt)?),
        Format::Xlsb => Sheets::Xlsb(calamine::Xlsb::new(cursor).map_err(corrupt)?),
        _ => Sheets::Ods(calamine::Ods::new(cursor).map_err(|e| match e {
            // calamine's own bound on a sheet's cells, which repeated rows and columns reach.
            calamine::OdsError::CellLimitExceeded { requested, max } => FileError::SheetTooLarge {
                sheet: String::new(),
                cells: requested as u64,
                limit: max as u64,
            },
            e => corrupt(e),
        })?),
    };
    let names = match &book {
        Sheets::Xls(b) => visible_sheets(b.sheets_metadata()),
        Sheets::Xlsb(b) => visible_sheets(b.sheets_metadata()),
        Sheets::Ods(b) => visible_sheets(b.sheets_metadata()),
        Sheets::Xlsx(b) => visible_sheets(b.sheets_metadata()),
    };
    if names.is_empty() {
        return Err(FileError::NoSheets);
    }
    for name in names {
        let range = book.worksheet_range(&name).map_err(corrupt)?;
        let (start_row, start_col) = range.start().unwrap_or((0, 0));
        sink.begin_sheet(&name, range.height() as u64);
        let mut cells: Vec<Cell> = Vec::new();
        for (i, r) in range.rows().enumerate() {
            cells.clear();
            cells.resize(start_col as usize, Cell::Empty);
            cells.extend(r.iter().map(from_data));
            if sink.row(start_row + i as u32, &cells).is_break() {
                break;
            }
        }
        sink.end_sheet();
    }
    Ok(())
}

/// Decodes CSV text: UTF-8 (with or without BOM), borrowed as it is, or, failing that, GBK.
pub fn decode_text(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    let (text, _, had_errors) = encoding_rs::GBK.decode(bytes);
    if had_errors {
        return Err(FileError::Encoding);
    }
    Ok(text)
}

fn read_csv(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), FileError> {
    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    sink.begin_sheet("CSV", text.lines().count() as u64);
    let mut cells = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| FileError::Corrupt(e.to_string()))?;
        cells.clear();
        // CSV has no types: every field is text, so an ID keeps all its digits.
        cells.extend(record.iter().map(|f| {
            if f.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(f.to_owned())
            }
        }));
        if sink.row(i as u32, &cells).is_break() {
            break;
        }
    }
    sink.end_sheet();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_gbk_and_utf8_with_bom_decode() {
        let (gbk, _, _) = encoding_rs::GBK.encode("身份证号码,姓名");
        assert_eq!(decode_text(&gbk).unwrap(), "身份证号码,姓名");
        assert_eq!(decode_text("\u{feff}姓名".as_bytes()).unwrap(), "姓名");
        assert_eq!(decode_text(&[0xFF, 0xFF, 0xFF]), Err(FileError::Encoding));
    }
}
