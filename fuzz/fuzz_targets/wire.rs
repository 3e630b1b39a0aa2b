//! Any bytes as the parser process's output: the service decodes them without panicking or
//! allocating past its limits, whatever a parser gone wrong might write.
#![no_main]

use std::ops::ControlFlow;

use cancer_aid::roster::limits::FileLimits;
use cancer_aid::roster::read::{Cell, RowSink};
use cancer_aid::roster::wire::Decoder;
use libfuzzer_sys::fuzz_target;

struct Nothing;

impl RowSink for Nothing {
    fn begin_sheet(&mut self, _: &str, _: u64) {}
    fn row(&mut self, _: u32, _: &[Cell]) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    fn end_sheet(&mut self) {}
}

fuzz_target!(|data: &[u8]| {
    let limits = FileLimits::default();
    let mut decoder = Decoder::new(data, &limits);
    if let Ok(Ok(_)) = decoder.format() {
        let _ = decoder.replay(&mut Nothing);
    }
});
