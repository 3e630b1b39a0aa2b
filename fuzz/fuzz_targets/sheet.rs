//! Any bytes as an uploaded roster: what the file declares is checked, then every sheet is
//! read within the limits, as the parser process does. The first byte picks the name the
//! upload claims (it separates text from a damaged workbook).
#![no_main]

use std::ops::ControlFlow;

use cancer_aid::roster::declared;
use cancer_aid::roster::limits::{FileLimits, LimitedSink};
use cancer_aid::roster::read::{self, Cell, RowSink};
use libfuzzer_sys::fuzz_target;

struct Count(u64);

impl RowSink for Count {
    fn begin_sheet(&mut self, _: &str, _: u64) {}
    fn row(&mut self, _: u32, cells: &[Cell]) -> ControlFlow<()> {
        self.0 += cells.len() as u64;
        ControlFlow::Continue(())
    }
    fn end_sheet(&mut self) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = ["a.xlsx", "a.xls", "a.ods", "a.csv", "a.xlsb"][usize::from(pick) % 5];
    // Smaller limits than the service's, so that a run explores instead of allocating.
    let limits = FileLimits {
        max_unpacked_bytes: 64 << 20,
        max_shared_strings: 100_000,
        max_shared_strings_bytes: 16 << 20,
        max_cells: 1_000_000,
        max_sheet_cells: 1_000_000,
        ..FileLimits::default()
    };
    let Ok(format) = declared::inspect(bytes, name, &limits) else {
        return;
    };
    let mut count = Count(0);
    let mut sink = LimitedSink::new(&mut count, &limits);
    let _ = read::read(bytes, format, &mut sink);
});
