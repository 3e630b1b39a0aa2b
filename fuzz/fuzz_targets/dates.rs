//! Any text as a date cell of a roster: a date or a clear error, never a panic.
#![no_main]

use cancer_aid::roster::dates;
use cancer_aid::roster::read::Cell;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dates::parse_text(text);
        let _ = dates::parse_cell(&Cell::Text(text.to_owned()));
    }
    if data.len() == 8 {
        let f = f64::from_le_bytes(data.try_into().unwrap_or_default());
        let _ = dates::from_serial(f);
        let _ = dates::parse_cell(&Cell::Float(f));
    }
});
