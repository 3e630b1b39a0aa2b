//! Rosters (名册): reading civil-affairs sheets, validating every row, and importing them.

pub mod activate;
pub mod approval;
mod bulk;
pub mod columns;
pub mod dates;
pub mod declared;
pub mod entry_changes;
pub mod export;
pub mod file_error;
pub mod generate;
pub mod guard;
pub mod history;
pub mod import;
pub mod jobs;
pub mod limits;
pub mod parser;
pub mod person_history;
pub mod read;
pub mod retention;
pub mod revert;
pub mod rows;
pub mod staged;
pub mod status;
mod store;
pub mod tally;
pub mod upload;
pub mod wire;
