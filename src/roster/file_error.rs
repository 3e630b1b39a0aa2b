//! Why a file cannot be read as a roster at all: each reason with a stable code and a message
//! that tells the clerk what to do about the file. The parser's child process sends these to
//! the service as JSON, hence the serde derives.

use serde::{Deserialize, Serialize};

use crate::domain::{Lang, Localized};

/// Why a file cannot be read as a roster at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
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
    /// More sheets than any roster has.
    #[error(
        "the workbook has {count} sheets, more than the {limit} allowed: split it into several files"
    )]
    TooManySheets {
        /// Sheets in the file.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// A shared-string table that declares more strings than allowed.
    #[error(
        "the workbook declares {count} distinct texts, more than the {limit} allowed: split the roster into several files"
    )]
    TooManySharedStrings {
        /// Strings declared.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// A sheet of a format read whole (.xls, .xlsb, .ods) that declares more cells than allowed.
    #[error(
        "sheet “{sheet}” declares {cells} cells, more than the {limit} a .xls, .xlsb or .ods sheet may have: save the roster as .xlsx or .csv"
    )]
    SheetTooLarge {
        /// The sheet.
        sheet: String,
        /// Cells declared (rows × columns).
        cells: u64,
        /// The limit.
        limit: u64,
    },
    /// A row with a value further right than any roster goes.
    #[error(
        "sheet “{sheet}” row {row} has a value in column {column}, beyond the {limit} columns allowed: delete the columns on the right"
    )]
    TooManyColumns {
        /// The sheet.
        sheet: String,
        /// The row as Excel numbers it.
        row: u32,
        /// The column number (1-based).
        column: u64,
        /// The limit.
        limit: u64,
    },
    /// A cell longer than Excel itself allows.
    #[error(
        "sheet “{sheet}” row {row} column {column} holds {chars} characters, more than the {limit} allowed: check that cell"
    )]
    CellTooLong {
        /// The sheet.
        sheet: String,
        /// The row as Excel numbers it.
        row: u32,
        /// The column number (1-based).
        column: u64,
        /// Characters in the cell.
        chars: u64,
        /// The limit.
        limit: u64,
    },
    /// More cells in the whole file than allowed.
    #[error("the file holds more than {limit} cells: split the roster into several files")]
    TooManyCells {
        /// The limit.
        limit: u64,
    },
    /// Reading the file needed more memory than the parser may use.
    #[error(
        "reading this file needed more than the {limit_mib} MiB of memory allowed; it may hold hidden content (empty rows or columns formatted to the end of the sheet, huge texts): copy the roster's cells into a new workbook and upload that"
    )]
    ParserOutOfMemory {
        /// The limit, in MiB.
        limit_mib: u64,
    },
    /// Reading the file took longer than allowed.
    #[error(
        "reading this file took longer than the {limit_seconds} s allowed: split the roster into several files"
    )]
    ParserOutOfTime {
        /// The limit, in seconds.
        limit_seconds: u64,
    },
    /// The parser stopped for another reason.
    #[error("the file could not be read ({0}): save it again from Excel and upload the new copy")]
    ParserFailed(String),
    /// The parser process could not be started: the service's fault, not the file's.
    #[error("the service cannot read files now ({0}); nothing was changed: try again later")]
    ParserUnavailable(String),
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
            FileError::TooManySheets { .. } => "file_too_many_sheets",
            FileError::TooManySharedStrings { .. } => "file_too_many_strings",
            FileError::SheetTooLarge { .. } => "file_sheet_too_large",
            FileError::TooManyColumns { .. } => "file_too_many_columns",
            FileError::CellTooLong { .. } => "file_cell_too_long",
            FileError::TooManyCells { .. } => "file_too_many_cells",
            FileError::ParserOutOfMemory { .. } => "file_needs_too_much_memory",
            FileError::ParserOutOfTime { .. } => "file_takes_too_long",
            FileError::ParserFailed(_) => "file_unreadable",
            FileError::ParserUnavailable(_) => "parser_unavailable",
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
            (FileError::TooManySheets { count, limit }, Lang::Zh) => {
                format!("工作簿有 {count} 个工作表，超过上限 {limit} 个：请拆分为几个文件上传。")
            }
            (FileError::TooManySharedStrings { count, limit }, Lang::Zh) => format!(
                "工作簿声明了 {count} 个不同的文本，超过上限 {limit} 个：请把名册拆分为几个文件上传。"
            ),
            (
                FileError::SheetTooLarge {
                    sheet,
                    cells,
                    limit,
                },
                Lang::Zh,
            ) => format!(
                "{}声明了 {cells} 个单元格，超过 .xls、.xlsb、.ods 工作表的上限 {limit} 个：请另存为 .xlsx 或 .csv 后上传。",
                if sheet.is_empty() {
                    "一个工作表".to_owned()
                } else {
                    format!("工作表“{sheet}”")
                }
            ),
            (
                FileError::TooManyColumns {
                    sheet,
                    row,
                    column,
                    limit,
                },
                Lang::Zh,
            ) => format!(
                "工作表“{sheet}”第 {row} 行第 {column} 列有内容，超过上限 {limit} 列：请删除右侧多余的列后上传。"
            ),
            (
                FileError::CellTooLong {
                    sheet,
                    row,
                    column,
                    chars,
                    limit,
                },
                Lang::Zh,
            ) => format!(
                "工作表“{sheet}”第 {row} 行第 {column} 列有 {chars} 个字符，超过上限 {limit} 个：请检查该单元格。"
            ),
            (FileError::TooManyCells { limit }, Lang::Zh) => {
                format!("文件的单元格超过上限 {limit} 个：请把名册拆分为几个文件上传。")
            }
            (FileError::ParserOutOfMemory { limit_mib }, Lang::Zh) => format!(
                "读取该文件所需内存超过上限 {limit_mib} MiB：文件中可能有隐藏内容（设置了格式直到表尾的空行或空列、超长文本等）。请把名册的单元格复制到新工作簿后上传。"
            ),
            (FileError::ParserOutOfTime { limit_seconds }, Lang::Zh) => {
                format!("读取该文件超过时限 {limit_seconds} 秒：请把名册拆分为几个文件上传。")
            }
            (FileError::ParserFailed(e), Lang::Zh) => {
                format!("无法读取该文件（{e}）：请用 Excel 重新保存后上传。")
            }
            (FileError::ParserUnavailable(e), Lang::Zh) => {
                format!("服务暂时无法读取文件（{e}），未作任何改动：请稍后再试。")
            }
        }
    }
}
