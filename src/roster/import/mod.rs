//! Validating a roster import, the first of its two steps: one transaction, written while the
//! file is still being parsed.
//!
//! A blocking thread parses and validates the sheets and hands batches of outcomes through a
//! bounded channel to the writer, which looks up people and their entries batch by batch and
//! stages what activation would do (`roster_import_rows`, `roster_import_ends`) with the
//! rejected rows, in a single transaction: the roster itself is only read. The plan lands whole
//! or not at all; `roster::activate` applies it.
//!
//! The files: [`submit`] receives an upload and queues it, [`run`] runs a claimed import and
//! records its result or failure ([`error`]), [`job`] feeds the writer and writes the result
//! inside the transaction, [`sqlite`] holds that transaction on SQLite, [`writer`] stages the
//! plan ([`cols`]: the staged columns), and [`view`] is the import as the API shows it.

mod cols;
mod error;
mod job;
mod run;
mod sqlite;
mod submit;
mod view;
mod writer;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{Group, RegionPrefix};
use crate::roster::guard::Reason;
use crate::roster::upload::UploadedFile;

pub use error::{RunError, Stopped};
pub use run::run;
pub use submit::{requeue, submit};
pub use view::{Counts, ImportView, ProgressView, error_message, errors_of, errors_page};
pub use writer::Action;

/// Rows handed from the parser to the writer at a time. A PostgreSQL batch costs a few
/// statements and round trips whatever its size (a million rows: 25 s in batches of 5,000,
/// 28 s in batches of 2,000, before the import took its current shape; then 8.5–8.7 s in
/// batches of 5,000 or of 16,000, when validation still wrote people by `COPY` a batch at a
/// time). SQLite runs in-process, where smaller batches let the writer start sooner and keep
/// pace with the parser.
pub fn batch_rows(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Sqlite => 2000,
        _ => 16_000,
    }
}

/// Rows of people already there that the writer looks up and compares at a time.
const LOOKUP_ROWS: usize = 5000;

/// Batches that may wait for the writer: about as many rows in flight on either database
/// (peak memory of a million-row import on PostgreSQL: 130 MiB with four batches of 5,000
/// waiting, 195 MiB with four of 16,000, 160 MiB with two).
fn queued_batches(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Sqlite => 4,
        _ => 2,
    }
}

/// Incremental imports add and update; full imports make the file the whole roster of its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Add and update entries (the default).
    #[default]
    Incremental,
    /// Also end the entries of the scope that the file no longer lists.
    Full,
}

impl Mode {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Mode::Incremental => "incremental",
            Mode::Full => "full",
        }
    }

    /// Parses the stored or submitted code.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "incremental" | "" => Some(Mode::Incremental),
            "full" => Some(Mode::Full),
            _ => None,
        }
    }
}

/// What an upload asks for.
#[derive(Debug)]
pub struct Upload {
    /// The file's name as uploaded.
    pub file_name: String,
    /// Its bytes, in a temporary file.
    pub file: UploadedFile,
    /// The group of a one-group file.
    pub group: Option<Group>,
    /// The region (prefix) of the file.
    pub region: Option<RegionPrefix>,
    /// Incremental or full.
    pub mode: Mode,
    /// The date the roster takes effect.
    pub effective_date: NaiveDate,
    /// The uploader's confirmation, with a reason, that a full import may end most of its
    /// scope or accept no row (`roster::guard`); without it such an import is refused.
    pub confirmation: Option<Reason>,
    /// Activate as soon as it is validated, when the uploader alone may (`roster::activate`).
    pub activate: bool,
}
