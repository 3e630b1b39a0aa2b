//! Any text as an ID number: a normalised 18-character number or a clear error, and a number
//! that parses parses again to itself.
#![no_main]

use cancer_aid::domain::IdNumber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = IdNumber::parse(text) {
        assert_eq!(id.as_str().len(), 18);
        assert_eq!(
            IdNumber::parse(id.as_str()).map(|i| i.as_str().to_owned()),
            Ok(id.as_str().to_owned())
        );
        let _ = id.masked();
    }
});
