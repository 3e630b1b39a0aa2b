//! Files a clerk opens in Excel: the rejected rows of an import, ready to fix and upload again,
//! and an empty template with the recognised headers.
//!
//! An import can reject hundreds of thousands of rows, so their downloads never hold them all:
//! the errors are read [`CHUNK`] rows at a time, the CSV goes out as it is encoded, and the
//! workbook is written in constant-memory mode to a temporary file that is then streamed.
//! Every text cell goes through [`crate::export_safe`], so no cell of an upload comes back as a
//! live formula.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;

use entity::roster_import_error;

use super::columns::Field;
use crate::domain::{Group, Lang};
use crate::error::AppResult;
use crate::export_safe::{write_csv_record, write_text};

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

/// How many error rows an export reads from the database at a time: large enough that the
/// queries cost little next to the writing, small enough that a chunk is a few hundred KiB.
pub const CHUNK: u64 = 2_000;

/// How many encoded CSV pieces may wait for a slow client before the reading waits too.
const CSV_CHUNKS_AHEAD: usize = 4;

/// An import's errors in id order, [`CHUNK`] rows at a time by keyset (`id >` the last one
/// read, on the `(import_id, id)` index), up to the last error there was when the export
/// began: both passes of the workbook then see the same rows even while an import still runs.
#[derive(Clone)]
pub struct ErrorChunks {
    db: DatabaseConnection,
    import_id: i64,
    after: i64,
    last: Option<i64>,
}

impl ErrorChunks {
    /// The errors of `import_id` as they are now.
    pub async fn new(db: &DatabaseConnection, import_id: i64) -> Result<ErrorChunks, DbErr> {
        let last = roster_import_error::Entity::find()
            .filter(roster_import_error::COLUMN.import_id.eq(import_id))
            .order_by_desc(roster_import_error::COLUMN.id)
            .select_only()
            .column(roster_import_error::Column::Id)
            .into_tuple::<i64>()
            .one(db)
            .await?;
        Ok(ErrorChunks {
            db: db.clone(),
            import_id,
            after: i64::MIN,
            last,
        })
    }

    /// The next chunk, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<roster_import_error::Model>>, DbErr> {
        let Some(last) = self.last.filter(|l| *l > self.after) else {
            return Ok(None);
        };
        let rows = roster_import_error::Entity::find()
            .filter(roster_import_error::COLUMN.import_id.eq(self.import_id))
            .filter(roster_import_error::COLUMN.id.gt(self.after))
            .filter(roster_import_error::COLUMN.id.lte(last))
            .order_by_asc(roster_import_error::COLUMN.id)
            .limit(CHUNK)
            .all(&self.db)
            .await?;
        match rows.last() {
            Some(r) => self.after = r.id,
            None => self.after = last,
        }
        Ok((!rows.is_empty()).then_some(rows))
    }
}

/// Runs file or CPU work of an export on the blocking pool, off the runtime's workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, XlsxError> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await?
        .map_err(|e| anyhow::anyhow!("rejected rows workbook: {e}"))
}

/// The headers of the problems list, sheet 1 of the workbook and the CSV.
fn problem_headers(lang: Lang) -> [&'static str; 6] {
    if lang == Lang::Zh {
        ["工作表", "行号", "列", "原值", "错误代码", "说明"]
    } else {
        ["Sheet", "Row", "Column", "Value", "Code", "Message"]
    }
}

/// The rejected row as stored (`[header, value]` pairs in column order), borrowed, each
/// interpreted column under the template's header, so that rows from sheets that spell them
/// differently line up.
fn row_cells(e: &roster_import_error::Model) -> impl Iterator<Item = (&str, &str)> {
    e.row_data
        .as_ref()
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|pair| match pair.as_array()?.as_slice() {
            [h, v] => Some((h.as_str()?, v.as_str()?)),
            _ => None,
        })
        .map(|(h, v)| (Field::from_header(h).map_or(h, |f| f.label_zh()), v))
}

/// Sheet 2's line being written: its cells are out, its problems are gathered until the row's
/// last one has been read.
struct RejectedRow {
    line: u32,
    row: i64,
    sheet: String,
    messages: Vec<String>,
}

/// The rejected rows workbook while it is written: sheet 1 lists each problem (sheet, row,
/// column, value, message); sheet 2 holds the rejected rows themselves with their original
/// headers and a last column saying what to fix, so the clerk corrects them there and uploads
/// that file.
///
/// Both sheets are in constant-memory mode: each row goes to a temporary file as soon as the
/// next one starts. Sheet 2's header is every column any rejected row had, which is known only
/// after all of them were read, so the errors are read twice: [`Self::write_problems`] on the
/// first pass (which also gathers the columns), [`Self::write_rows_to_fix`] on the second.
pub struct ErrorsWorkbook {
    book: Workbook,
    lang: Lang,
    head: Format,
    text: Format,
    /// The next row of the sheet being written.
    next_row: u32,
    /// Sheet 2's columns in order of first appearance, and where each is.
    columns: Vec<String>,
    column_of: HashMap<String, u16>,
    /// The first pass's last row (sheet, row number): a row's other problems add no column.
    last_seen: Option<(String, i64)>,
    /// The second pass's row whose problems are still being read.
    pending: Option<RejectedRow>,
}

impl ErrorsWorkbook {
    /// A workbook with sheet 1's header written.
    pub fn new(lang: Lang) -> Result<ErrorsWorkbook, XlsxError> {
        let mut book = Workbook::new();
        let head = header_format();
        let list = book.add_worksheet_with_constant_memory()?;
        list.set_name(lang.pick("错误说明", "Errors"))?;
        for (c, h) in problem_headers(lang).iter().enumerate() {
            write_text(list, 0, c as u16, h, Some(&head))?;
        }
        list.set_freeze_panes(1, 0)?;
        for (c, w) in [14.0, 8.0, 16.0, 24.0, 22.0, 80.0].into_iter().enumerate() {
            list.set_column_width(c as u16, w)?;
        }
        Ok(ErrorsWorkbook {
            book,
            lang,
            head,
            text: text_format(),
            next_row: 1,
            columns: Vec::new(),
            column_of: HashMap::new(),
            last_seen: None,
            pending: None,
        })
    }

    /// First pass: the next problems in sheet 1, one line each; gathers sheet 2's columns.
    pub fn write_problems(
        &mut self,
        errors: &[roster_import_error::Model],
    ) -> Result<(), XlsxError> {
        let lang = self.lang;
        let list = self.book.worksheet_from_index(0)?;
        for e in errors {
            let r = self.next_row;
            self.next_row += 1;
            write_text(list, r, 0, &e.sheet, None)?;
            list.write_number(r, 1, e.row_number as f64)?;
            write_text(list, r, 2, &e.column_name, None)?;
            write_text(list, r, 3, &e.value, Some(&self.text))?;
            write_text(list, r, 4, &e.code, None)?;
            write_text(list, r, 5, lang.pick(&e.message_zh, &e.message_en), None)?;

            // A row's problems come one after another, each with the whole row: its first
            // problem says which columns it has.
            if self
                .last_seen
                .as_ref()
                .is_some_and(|(sheet, row)| *row == e.row_number && *sheet == e.sheet)
            {
                continue;
            }
            self.last_seen = Some((e.sheet.clone(), e.row_number));
            for (h, _) in row_cells(e) {
                if !self.column_of.contains_key(h) {
                    let c = u16::try_from(self.columns.len())
                        .map_err(|_| XlsxError::RowColumnLimitError)?;
                    self.column_of.insert(h.to_owned(), c);
                    self.columns.push(h.to_owned());
                }
            }
        }
        Ok(())
    }

    /// Ends the first pass: adds sheet 2 with its header.
    pub fn start_rows_to_fix(&mut self) -> Result<(), XlsxError> {
        let lang = self.lang;
        let fix = self.book.add_worksheet_with_constant_memory()?;
        fix.set_name(lang.pick("待修正名册", "Rows to fix"))?;
        for (c, h) in self.columns.iter().enumerate() {
            let c = c as u16;
            write_text(fix, 0, c, h, Some(&self.head))?;
            fix.set_column_format(c, &self.text)?;
            let wide = Field::from_header(h) == Some(Field::IdNumber);
            fix.set_column_width(c, if wide { 22.0 } else { 14.0 })?;
        }
        let note_col =
            u16::try_from(self.columns.len()).map_err(|_| XlsxError::RowColumnLimitError)?;
        write_text(
            fix,
            0,
            note_col,
            lang.pick(
                "错误说明（修正后可删除此列）",
                "What to fix (this column may stay)",
            ),
            Some(&self.head),
        )?;
        fix.set_column_width(note_col, 80.0)?;
        fix.set_freeze_panes(1, 0)?;
        self.next_row = 1;
        Ok(())
    }

    /// Second pass: the next rejected rows in sheet 2, one line per row even when the row had
    /// several problems.
    pub fn write_rows_to_fix(
        &mut self,
        errors: &[roster_import_error::Model],
    ) -> Result<(), XlsxError> {
        for e in errors {
            let message = self.lang.pick(&e.message_zh, &e.message_en).to_owned();
            if let Some(p) = self.pending.as_mut()
                && p.row == e.row_number
                && p.sheet == e.sheet
            {
                p.messages.push(message);
                continue;
            }
            self.end_row_to_fix()?;
            let line = self.next_row;
            self.next_row += 1;
            let fix = self.book.worksheet_from_index(1)?;
            for (h, v) in row_cells(e) {
                // A column that appeared only after the first pass read its last row is left out.
                if let Some(c) = self.column_of.get(h) {
                    write_text(fix, line, *c, v, Some(&self.text))?;
                }
            }
            self.pending = Some(RejectedRow {
                line,
                row: e.row_number,
                sheet: e.sheet.clone(),
                messages: vec![message],
            });
        }
        Ok(())
    }

    /// Writes what to fix in the last column of the line being written, which ends it.
    fn end_row_to_fix(&mut self) -> Result<(), XlsxError> {
        let Some(done) = self.pending.take() else {
            return Ok(());
        };
        let note_col = self.columns.len() as u16;
        let fix = self.book.worksheet_from_index(1)?;
        write_text(fix, done.line, note_col, &done.messages.join("；"), None)
    }

    /// Writes the last rejected row and saves the workbook to an anonymous temporary file
    /// (gone when closed), returned rewound to its start.
    pub fn finish(mut self) -> Result<std::fs::File, XlsxError> {
        self.end_row_to_fix()?;
        let mut file = tempfile::tempfile()?;
        {
            let mut out = std::io::BufWriter::new(&mut file);
            self.book.save_to_writer(&mut out)?;
            out.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

/// The rejected rows of an import as an .xlsx (see [`ErrorsWorkbook`]), written in constant
/// memory: the errors are read a chunk at a time, the workbook is written on the blocking pool,
/// and the finished file is an anonymous temporary file to stream from.
pub async fn errors_xlsx(
    db: &DatabaseConnection,
    import_id: i64,
    lang: Lang,
) -> AppResult<std::fs::File> {
    let chunks = ErrorChunks::new(db, import_id).await?;
    let mut book = blocking(move || ErrorsWorkbook::new(lang)).await?;
    book = write_chunks(book, chunks.clone(), ErrorsWorkbook::write_problems).await?;
    book = blocking(move || book.start_rows_to_fix().map(|()| book)).await?;
    book = write_chunks(book, chunks, ErrorsWorkbook::write_rows_to_fix).await?;
    Ok(blocking(move || book.finish()).await?)
}

/// One pass over the errors: each chunk is written on the blocking pool while the next one is
/// read, so the database and the writing work at the same time.
async fn write_chunks(
    mut book: ErrorsWorkbook,
    mut chunks: ErrorChunks,
    write: fn(&mut ErrorsWorkbook, &[roster_import_error::Model]) -> Result<(), XlsxError>,
) -> AppResult<ErrorsWorkbook> {
    let mut next = chunks.next().await?;
    while let Some(chunk) = next {
        let writing = blocking(move || write(&mut book, &chunk).map(|()| book));
        let (written, read) = tokio::join!(writing, chunks.next());
        book = written?;
        next = read?;
    }
    Ok(book)
}

/// Problems as CSV lines.
fn csv_lines(errors: &[roster_import_error::Model], lang: Lang, header: bool) -> Vec<u8> {
    // The BOM makes Excel open the file in Chinese.
    let mut out = if header {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    {
        let mut w = csv::Writer::from_writer(&mut out);
        if header {
            let _ = write_csv_record(&mut w, problem_headers(lang));
        }
        for e in errors {
            let row = e.row_number.to_string();
            let _ = write_csv_record(
                &mut w,
                [
                    e.sheet.as_str(),
                    row.as_str(),
                    e.column_name.as_str(),
                    e.value.as_str(),
                    e.code.as_str(),
                    lang.pick(&e.message_zh, &e.message_en),
                ],
            );
        }
        let _ = w.flush();
    }
    out
}

/// The same problems as CSV with a BOM, so that Excel opens it in Chinese, as a stream of
/// pieces: the errors are read a chunk at a time, each encoded on the blocking pool while the
/// next is read, and sent as the client takes them (at most [`CSV_CHUNKS_AHEAD`] pieces wait
/// for a slow client before the reading waits too). The first chunk is read before this
/// returns, so that a database that fails at once fails the request rather than sending an
/// empty file; a failure later ends the stream with an error, which cuts the download short.
pub async fn errors_csv(
    db: &DatabaseConnection,
    import_id: i64,
    lang: Lang,
) -> Result<mpsc::Receiver<std::io::Result<Vec<u8>>>, DbErr> {
    let mut chunks = ErrorChunks::new(db, import_id).await?;
    let first = chunks.next().await?.unwrap_or_default();
    let (tx, rx) = mpsc::channel(CSV_CHUNKS_AHEAD);
    tokio::spawn(async move {
        let mut next = Some(first);
        let mut header = true;
        while let Some(chunk) = next {
            // The chunk is encoded on the blocking pool while the next one is read.
            let encoding = tokio::task::spawn_blocking(move || csv_lines(&chunk, lang, header));
            header = false;
            let (encoded, read) = tokio::join!(encoding, chunks.next());
            let encoded = encoded.map_err(std::io::Error::other);
            let failed = encoded.is_err();
            if tx.send(encoded).await.is_err() || failed {
                // The client went away, or the stream has ended with the error.
                return;
            }
            next = match read {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(import_id, error = %e, "rejected rows CSV cut short");
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
            };
        }
    });
    Ok(rx)
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
        write_text(sheet, 0, c as u16, f.label_zh(), Some(&head))?;
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
    write_text(help, 0, 0, "列", Some(&head))?;
    write_text(help, 0, 1, "说明", Some(&head))?;
    for (i, (k, v)) in notes.iter().enumerate() {
        write_text(help, i as u32 + 1, 0, k, None)?;
        write_text(help, i as u32 + 1, 1, v, None)?;
    }
    help.set_column_width(0, 16.0)?;
    help.set_column_width(1, 100.0)?;
    book.save_to_buffer()
}

/// The template's header as CSV (UTF-8 with BOM).
pub fn template_csv() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        // CRLF as the template always had: Excel's own line end.
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let _ = write_csv_record(&mut w, Field::ALL.iter().map(|f| f.label_zh()));
        let _ = w.flush();
    }
    out
}
