//! Rosters (名册): reading civil-affairs sheets, validating every row, and importing them.

mod bulk;
pub mod columns;
pub mod dates;
pub mod export;
pub mod generate;
pub mod history;
pub mod import;
pub mod jobs;
pub mod read;
pub mod retention;
pub mod rows;
mod store;
