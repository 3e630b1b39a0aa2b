//! Reading any roster file into rows of cells: .xlsx/.xlsm (streamed cell by cell), .xls,
//! .xlsb and .ods (through calamine), and .csv in UTF-8 or GBK. The format is taken from the
//! content, not the file name.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Sheets, Xlsx};
use chrono::NaiveDate;

use crate::domain::{Lang, Localized};

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

/// Why a file cannot be read as a roster at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Nothing was uploaded.
    #[error("the file is empty")]
    Empty,
    /// Neither a spreadsheet nor CSV text.
    #[error("this is not a spreadsheet: upload .xlsx, .xls, .xlsb, .ods or .csv")]
    NotASpreadsheet,
    /// A workbook with a password.
    #[error("the workbook is password-protected: remove the password in Excel and upload it again")]
    PasswordProtected,
    /// A damaged or truncated file.
    #[error(
        "the file is damaged or incomplete ({0}): save it again from Excel and upload the new copy"
    )]
    Corrupt(String),
    /// A workbook that would inflate beyond what a roster can be.
    #[error("the workbook unpacks to {0} MiB, far more than any roster: check the file")]
    TooLargeUnpacked(u64),
    /// No sheet at all.
    #[error("the workbook has no sheet")]
    NoSheets,
    /// Text that is neither UTF-8 nor GBK.
    #[error("the CSV text is neither UTF-8 nor GBK: save it as CSV UTF-8 from Excel")]
    Encoding,
}

impl Localized for FileError {
    fn code(&self) -> &'static str {
        match self {
            FileError::Empty => "file_empty",
            FileError::NotASpreadsheet => "not_a_spreadsheet",
            FileError::PasswordProtected => "file_password_protected",
            FileError::Corrupt(_) => "file_corrupt",
            FileError::TooLargeUnpacked(_) => "file_too_large_unpacked",
            FileError::NoSheets => "no_sheets",
            FileError::Encoding => "csv_encoding",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (FileError::Empty, Lang::Zh) => "文件为空。".into(),
            (FileError::NotASpreadsheet, Lang::Zh) => {
                "该文件不是电子表格：请上传 .xlsx、.xls、.xlsb、.ods 或 .csv 文件。".into()
            }
            (FileError::PasswordProtected, Lang::Zh) => {
                "工作簿设置了密码：请在 Excel 中取消密码后重新上传。".into()
            }
            (FileError::Corrupt(e), Lang::Zh) => {
                format!("文件已损坏或不完整（{e}）：请用 Excel 重新保存后上传。")
            }
            (FileError::TooLargeUnpacked(mb), Lang::Zh) => {
                format!("工作簿解压后达 {mb} MiB，远超名册应有的大小，请检查文件。")
            }
            (FileError::NoSheets, Lang::Zh) => "工作簿中没有工作表。".into(),
            (FileError::Encoding, Lang::Zh) => {
                "CSV 文件既不是 UTF-8 也不是 GBK 编码：请在 Excel 中另存为“CSV UTF-8”。".into()
            }
        }
    }
}

/// The most a workbook may unpack to: a 1,000,000-row roster unpacks to about 400 MiB.
pub const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The most the shared strings may unpack to; calamine holds them in memory.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 512 * 1024 * 1024;

/// Sheets up to this many rows have their vertically merged data cells filled down.
pub const MERGE_FILL_MAX_ROWS: u32 = 50_000;

/// Tells the format from the bytes; the name only separates text from a damaged workbook.
pub fn sniff(bytes: &[u8], file_name: &str) -> Result<Format, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let lower = file_name.to_ascii_lowercase();
    let claims_workbook = [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| FileError::Corrupt(e.to_string()))?;
        let mut total: u64 = 0;
        let mut names = Vec::with_capacity(zip.len());
        for i in 0..zip.len() {
            let f = zip
                .by_index_raw(i)
                .map_err(|e| FileError::Corrupt(e.to_string()))?;
            total = total.saturating_add(f.size());
            let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
            if name == "xl/sharedStrings.xml" && f.size() > MAX_SHARED_STRINGS_BYTES {
                return Err(FileError::TooLargeUnpacked(f.size() / (1024 * 1024)));
            }
            names.push(name);
        }
        if total > MAX_UNPACKED_BYTES {
            return Err(FileError::TooLargeUnpacked(total / (1024 * 1024)));
        }
        let has = |n: &str| names.iter().any(|x| x == n);
        return if has("xl/workbook.xml") {
            Ok(Format::Xlsx)
        } else if has("xl/workbook.bin") {
            Ok(Format::Xlsb)
        } else if has("content.xml") {
            Ok(Format::Ods)
        } else {
            Err(FileError::NotASpreadsheet)
        };
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE container: an .xls, or an encrypted .xlsx (which Excel wraps this way).
        let window = &bytes[..bytes.len().min(64 * 1024)];
        let utf16 = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        if contains(bytes, &utf16("EncryptedPackage")) || contains(window, &utf16("EncryptionInfo"))
        {
            return Err(FileError::PasswordProtected);
        }
        return Ok(Format::Xls);
    }
    let looks_binary = bytes.iter().take(8192).any(|b| *b == 0);
    if looks_binary {
        return Err(if claims_workbook {
            FileError::Corrupt("unknown binary content".into())
        } else {
            FileError::NotASpreadsheet
        });
    }
    if claims_workbook && !lower.ends_with(".csv") {
        // A text file named .xlsx: say so rather than reading it as CSV.
        return Err(FileError::NotASpreadsheet);
    }
    Ok(Format::Csv)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

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
        _ => read_other(bytes, sink),
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
fn read_other(bytes: &[u8], sink: &mut dyn RowSink) -> Result<(), FileError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(corrupt)?;
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

/// Decodes CSV text: UTF-8 (with or without BOM) or, failing that, GBK.
pub fn decode_text(bytes: &[u8]) -> Result<String, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_owned());
    }
    let (text, _, had_errors) = encoding_rs::GBK.decode(bytes);
    if had_errors {
        return Err(FileError::Encoding);
    }
    Ok(text.into_owned())
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
    fn formats_come_from_the_content() {
        assert_eq!(sniff(b"", "a.xlsx"), Err(FileError::Empty));
        assert_eq!(
            sniff("身份证号码,姓名\n".as_bytes(), "a.csv"),
            Ok(Format::Csv)
        );
        assert_eq!(
            sniff("身份证号码,姓名\n".as_bytes(), "roster"),
            Ok(Format::Csv)
        );
        assert_eq!(sniff(b"hello", "a.xlsx"), Err(FileError::NotASpreadsheet));
        assert_eq!(
            sniff(b"PK\x03\x04garbage", "a.xlsx").map_err(|e| e.code()),
            Err("file_corrupt")
        );
        assert_eq!(
            sniff(b"\x00\x01\x02binary", "a.bin"),
            Err(FileError::NotASpreadsheet)
        );
    }

    #[test]
    fn csv_in_gbk_and_utf8_with_bom_decode() {
        let (gbk, _, _) = encoding_rs::GBK.encode("身份证号码,姓名");
        assert_eq!(decode_text(&gbk).unwrap(), "身份证号码,姓名");
        assert_eq!(decode_text("\u{feff}姓名".as_bytes()).unwrap(), "姓名");
        assert_eq!(decode_text(&[0xFF, 0xFF, 0xFF]), Err(FileError::Encoding));
    }
}
