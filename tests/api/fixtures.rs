//! What many tests build: valid ID numbers, people on rosters, cases and visits. Defined here
//! once; a test file imports what it needs.

use cancer_aid::domain::id_number::check_character;

pub mod people;
pub mod visits;

/// A valid ID number of a region, a birth date (YYYYMMDD) and a sequence number.
pub fn id_number(region: &str, birth: &str, seq: u32) -> String {
    let body = format!("{region}{birth}{seq:03}");
    format!("{body}{}", check_character(body.as_bytes()))
}
