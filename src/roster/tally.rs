//! When a file is not what the clerk meant: most of its first rows rejected (the wrong sheet,
//! the wrong columns, another kind of list), or more rejected rows in all than anyone would
//! fix by hand. Such an import stops early instead of storing millions of rejected rows.

use crate::error::Msg;

/// Rows looked at before the share of rejected ones decides.
pub const SAMPLE_ROWS: u64 = 1000;

/// Why an import stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// More than half of the first [`SAMPLE_ROWS`] data rows were rejected.
    MostOfTheFirstRows {
        /// Rejected among them.
        rejected: u64,
    },
    /// More rejected rows than the configured limit.
    TooManyRejected {
        /// The limit.
        limit: u64,
    },
}

impl StopReason {
    /// What the clerk reads, before the first errors are listed.
    pub fn message(self) -> Msg {
        match self {
            StopReason::MostOfTheFirstRows { rejected } => Msg::new(
                format!(
                    "导入已停止，名册未作任何改动：前 {SAMPLE_ROWS} 行中有 {rejected} 行有错误，这可能不是要导入的文件，或列名与内容不符。请检查文件后重新上传。"
                ),
                format!(
                    "The import stopped and nothing changed: {rejected} of the first {SAMPLE_ROWS} rows have errors, so this may not be the file you meant, or its columns do not match their headers. Check the file and upload it again."
                ),
            ),
            StopReason::TooManyRejected { limit } => Msg::new(
                format!(
                    "导入已停止，名册未作任何改动：有错误的行超过 {limit} 行。请先改正文件中的错误再上传。"
                ),
                format!(
                    "The import stopped and nothing changed: more than {limit} rows have errors. Correct the file and upload it again."
                ),
            ),
        }
    }
}

/// Counts data rows and rejected rows as they come, and says when to stop.
#[derive(Debug, Clone)]
pub struct Tally {
    rows: u64,
    rejected: u64,
    max_rejected: u64,
}

impl Tally {
    /// A tally that stops beyond `max_rejected` rejected rows in all.
    pub fn new(max_rejected: u64) -> Tally {
        Tally {
            rows: 0,
            rejected: 0,
            max_rejected,
        }
    }

    /// One more data row (accepted or rejected); `Some` when the import should stop now.
    pub fn observe(&mut self, rejected: bool) -> Option<StopReason> {
        self.rows += 1;
        if rejected {
            self.rejected += 1;
        }
        if self.rejected > self.max_rejected {
            return Some(StopReason::TooManyRejected {
                limit: self.max_rejected,
            });
        }
        if self.rows == SAMPLE_ROWS && self.rejected * 2 > SAMPLE_ROWS {
            return Some(StopReason::MostOfTheFirstRows {
                rejected: self.rejected,
            });
        }
        None
    }

    /// Data rows seen.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Rejected rows seen.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tally: &mut Tally, rows: impl IntoIterator<Item = bool>) -> Option<(u64, StopReason)> {
        rows.into_iter()
            .find_map(|bad| tally.observe(bad).map(|r| (tally.rows(), r)))
    }

    #[test]
    fn a_file_mostly_rejected_stops_at_the_thousandth_row() {
        let mut t = Tally::new(10_000);
        let got = run(&mut t, (0..5000).map(|i| i % 10 != 0));
        assert_eq!(
            got,
            Some((1000, StopReason::MostOfTheFirstRows { rejected: 900 }))
        );
    }

    #[test]
    fn half_rejected_is_not_most_and_small_files_never_stop_on_the_share() {
        assert_eq!(
            run(&mut Tally::new(10_000), (0..5000).map(|i| i % 2 == 0)),
            None
        );
        assert_eq!(run(&mut Tally::new(10_000), (0..999).map(|_| true)), None);
    }

    #[test]
    fn rejected_rows_beyond_the_limit_stop_anywhere_in_the_file() {
        let mut t = Tally::new(300);
        // A good start, then nothing but errors.
        let got = run(&mut t, (0..5000).map(|i| i >= 2000));
        assert_eq!(
            got,
            Some((2301, StopReason::TooManyRejected { limit: 300 }))
        );
    }
}
