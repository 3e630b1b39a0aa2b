//! From rows of cells to roster rows: finding the header, skipping titles, blanks and footers,
//! and accepting or rejecting every other row with a reason a clerk can act on.
//!
//! The files: [`validator`] holds the [`Validator`] and feeds it rows, [`header`] finds the
//! header (and a second header row under it) and skips titles and footers, [`validate`]
//! checks each field of a data row and assembles the accepted row or the errors, and
//! [`text`] normalises names and writes column letters and the extra data.

mod header;
mod text;
mod validate;
mod validator;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::columns::{ColumnReport, Notice};
use crate::domain::{Group, IdNumber, RegionCode, RegionPrefix};
use crate::error::Msg;

pub use text::{column_letter, normalise_name};
pub use validator::Validator;

/// How many rows from the top of a sheet may hold titles before the header.
pub const HEADER_SEARCH_ROWS: u32 = 30;

/// What the upload says about every row.
#[derive(Debug, Clone)]
pub struct Params {
    /// The group of a one-group file.
    pub group: Option<Group>,
    /// The region (or region prefix) of the file.
    pub region: Option<RegionPrefix>,
    /// The uploader's own scope: rows outside it are refused.
    pub scope: RegionPrefix,
    /// The clerk's corrections to how columns are read (`roster::mapping`).
    pub mapping: super::mapping::Mapping,
}

/// An accepted row.
#[derive(Debug, Clone)]
pub struct RosterRow {
    /// Sheet name.
    pub sheet: Arc<str>,
    /// Row number as Excel shows it.
    pub row: u32,
    /// The person.
    pub id_number: IdNumber,
    /// Name as listed, normalised.
    pub name: String,
    /// Group.
    pub group: Group,
    /// County-level region (a city or province prefix is padded with zeros).
    pub region: RegionCode,
    /// Start of coverage, if the sheet gives one.
    pub valid_from: Option<NaiveDate>,
    /// End of coverage, if any.
    pub valid_to: Option<NaiveDate>,
    /// Columns kept but not interpreted: header and value.
    pub extra: Vec<(Arc<str>, String)>,
    /// The same as the text of a JSON object, as it is stored; made here, on the parser's
    /// thread, because the writer's thread is the one a large import waits for.
    pub extra_json: Option<String>,
}

/// One problem with one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// Sheet name.
    pub sheet: String,
    /// Row number as Excel shows it.
    pub row: u32,
    /// The column's header as written in the sheet.
    pub column: String,
    /// The cell as the clerk sees it.
    pub value: String,
    /// Stable code.
    pub code: &'static str,
    /// Chinese message.
    #[serde(skip)]
    pub message_zh: String,
    /// English message.
    #[serde(skip)]
    pub message_en: String,
}

/// What became of a row.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Valid: to be written.
    Accepted(RosterRow),
    /// Refused, with every problem found; the ID number when it was readable, so that a full
    /// import does not end the coverage of someone whose row merely had a typo; and the row as
    /// it was (header, value), so that the clerk gets it back to fix.
    Rejected(Vec<RowError>, Option<IdNumber>, Vec<(String, String)>),
    /// A blank, title or footer row.
    Skipped,
}

/// How a sheet was read.
#[derive(Debug, Clone, Serialize)]
pub struct SheetReport {
    /// Sheet name.
    pub name: String,
    /// Whether a roster was found in it.
    pub has_roster: bool,
    /// Row number of the header, when found.
    pub header_row: Option<u32>,
    /// Data rows (accepted + rejected + skipped after the header).
    pub rows: u64,
    /// Accepted rows.
    pub accepted: u64,
    /// Rejected rows.
    pub rejected: u64,
    /// Skipped rows.
    pub skipped: u64,
    /// Why no roster was found, when not.
    pub note: Option<String>,
    /// The same in English.
    pub note_en: Option<String>,
    /// Each named column of the header: the field it was read as, or kept as extra data.
    pub columns: Vec<ColumnReport>,
    /// What the clerk should look at although the sheet was read (a column of dates under a
    /// header that was not recognised).
    pub warnings: Vec<Notice>,
    /// Why nothing of the file may be imported: columns that claim one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_error: Option<Notice>,
}

/// The header problems of a file's sheets as one message, if any: an import with one lands
/// nothing.
pub fn header_problems(sheets: &[SheetReport]) -> Option<Msg> {
    let found: Vec<&Notice> = sheets
        .iter()
        .filter_map(|s| s.header_error.as_ref())
        .collect();
    (!found.is_empty()).then(|| {
        Msg::new(
            found
                .iter()
                .map(|n| n.message_zh.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            found
                .iter()
                .map(|n| n.message_en.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
    })
}
