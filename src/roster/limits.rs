//! The limits every uploaded file is read within, and the sink that holds a reader to them.
//!
//! What a file *declares* (sizes in its zip directory, the shared-string count, a sheet's
//! dimensions) is checked before anything is allocated from it (`roster::declared`); what it
//! *holds* is checked here, row by row, as the reader streams it. Whatever slips past both is
//! stopped by the parser process's own memory and CPU limits (`roster::parser`).

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::file_error::FileError;
use super::read::{Cell, RowSink};

/// How much of a file is read at most. Every field has a variable in `config::Settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLimits {
    /// Bytes a workbook's parts may unpack to in all (a million-row roster: about 400 MiB).
    pub max_unpacked_bytes: u64,
    /// Distinct texts a workbook's shared-string table may declare; they are held in memory.
    pub max_shared_strings: u64,
    /// Bytes the shared-string part may unpack to.
    pub max_shared_strings_bytes: u64,
    /// Sheets in a workbook.
    pub max_sheets: u64,
    /// Columns a row may have a value in.
    pub max_columns: u64,
    /// Characters in one cell (Excel's own limit is 32,767).
    pub max_cell_chars: u64,
    /// Cells in the whole file.
    pub max_cells: u64,
    /// Cells (rows × columns) a sheet of .xls, .xlsb or .ods may declare: those formats are
    /// read a whole sheet at a time.
    pub max_sheet_cells: u64,
}

impl Default for FileLimits {
    fn default() -> FileLimits {
        FileLimits {
            max_unpacked_bytes: 2 * 1024 * 1024 * 1024,
            max_shared_strings: 4_000_000,
            max_shared_strings_bytes: 256 * 1024 * 1024,
            max_sheets: 256,
            max_columns: 1024,
            max_cell_chars: 32_767,
            max_cells: 50_000_000,
            max_sheet_cells: 5_000_000,
        }
    }
}

/// Passes rows on while they stay within the limits; the first breach stops the reading and
/// is kept as the file's error.
pub struct LimitedSink<'a> {
    inner: &'a mut dyn RowSink,
    limits: &'a FileLimits,
    sheet: String,
    sheets: u64,
    cells: u64,
    error: Option<FileError>,
}

impl<'a> LimitedSink<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn RowSink, limits: &'a FileLimits) -> LimitedSink<'a> {
        LimitedSink {
            inner,
            limits,
            sheet: String::new(),
            sheets: 0,
            cells: 0,
            error: None,
        }
    }

    /// The limit the file broke, if it broke one.
    pub fn into_error(self) -> Option<FileError> {
        self.error
    }

    fn check(&mut self, index: u32, cells: &[Cell]) -> Result<usize, FileError> {
        let limits = self.limits;
        // Cells formatted but empty may reach column XFD: they are dropped, not counted.
        let width = cells
            .iter()
            .rposition(|c| !c.is_blank())
            .map_or(0, |last| last + 1);
        if width as u64 > limits.max_columns {
            return Err(FileError::TooManyColumns {
                sheet: self.sheet.clone(),
                row: index + 1,
                column: width as u64,
                limit: limits.max_columns,
            });
        }
        self.cells += width as u64;
        if self.cells > limits.max_cells {
            return Err(FileError::TooManyCells {
                limit: limits.max_cells,
            });
        }
        for (i, cell) in cells[..width].iter().enumerate() {
            if let Cell::Text(s) | Cell::Error(s) = cell
                // Bytes bound characters from above: count characters only when it matters.
                && s.len() as u64 > limits.max_cell_chars
            {
                let chars = s.chars().count() as u64;
                if chars > limits.max_cell_chars {
                    return Err(FileError::CellTooLong {
                        sheet: self.sheet.clone(),
                        row: index + 1,
                        column: i as u64 + 1,
                        chars,
                        limit: limits.max_cell_chars,
                    });
                }
            }
        }
        Ok(width)
    }
}

impl RowSink for LimitedSink<'_> {
    fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
        self.sheets += 1;
        if self.sheets > self.limits.max_sheets && self.error.is_none() {
            self.error = Some(FileError::TooManySheets {
                count: self.sheets,
                limit: self.limits.max_sheets,
            });
        }
        self.sheet = name.to_owned();
        self.inner.begin_sheet(name, approx_rows);
    }

    fn row(&mut self, index: u32, cells: &[Cell]) -> ControlFlow<()> {
        if self.error.is_some() {
            return ControlFlow::Break(());
        }
        match self.check(index, cells) {
            Ok(width) => self.inner.row(index, &cells[..width]),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    fn end_sheet(&mut self) {
        self.inner.end_sheet();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<Vec<Cell>>);

    impl RowSink for Collect {
        fn begin_sheet(&mut self, _: &str, _: u64) {}
        fn row(&mut self, _: u32, cells: &[Cell]) -> ControlFlow<()> {
            self.0.push(cells.to_vec());
            ControlFlow::Continue(())
        }
        fn end_sheet(&mut self) {}
    }

    fn limits() -> FileLimits {
        FileLimits {
            max_columns: 3,
            max_cell_chars: 5,
            max_cells: 7,
            max_sheets: 1,
            ..FileLimits::default()
        }
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn empty_cells_past_the_last_value_are_dropped_not_refused() {
        let mut out = Collect::default();
        let limits = limits();
        let mut sink = LimitedSink::new(&mut out, &limits);
        sink.begin_sheet("A", 0);
        let mut row = vec![text("a"), Cell::Empty];
        row.extend(std::iter::repeat_n(Cell::Empty, 16_000));
        assert!(sink.row(0, &row).is_continue());
        assert!(sink.into_error().is_none());
        assert_eq!(out.0, vec![vec![text("a")]]);
    }

    #[test]
    fn a_value_beyond_the_last_column_stops_the_file_with_where_it_is() {
        let mut out = Collect::default();
        let limits = limits();
        let mut sink = LimitedSink::new(&mut out, &limits);
        sink.begin_sheet("乡镇", 0);
        let row = vec![text("a"), Cell::Empty, Cell::Empty, Cell::Int(1)];
        assert!(sink.row(4, &row).is_break());
        assert_eq!(
            sink.into_error(),
            Some(FileError::TooManyColumns {
                sheet: "乡镇".into(),
                row: 5,
                column: 4,
                limit: 3
            })
        );
    }

    #[test]
    fn cells_are_limited_by_characters_not_bytes() {
        let mut out = Collect::default();
        let limits = limits();
        let mut sink = LimitedSink::new(&mut out, &limits);
        sink.begin_sheet("A", 0);
        // Five Chinese characters are fifteen bytes and still within five characters.
        assert!(sink.row(0, &[text("买买提吐尔")]).is_continue());
        assert!(sink.row(1, &[Cell::Empty, text("abcdef")]).is_break());
        assert!(matches!(
            sink.into_error(),
            Some(FileError::CellTooLong {
                row: 2,
                column: 2,
                chars: 6,
                ..
            })
        ));
    }

    #[test]
    fn the_whole_file_counts_cells_and_sheets() {
        let mut out = Collect::default();
        let limits = limits();
        let mut sink = LimitedSink::new(&mut out, &limits);
        sink.begin_sheet("A", 0);
        for i in 0..2 {
            assert!(
                sink.row(i, &[text("a"), text("b"), text("c")])
                    .is_continue()
            );
        }
        assert!(sink.row(2, &[text("a"), text("b")]).is_break());
        assert_eq!(
            sink.into_error(),
            Some(FileError::TooManyCells { limit: 7 })
        );

        let mut out = Collect::default();
        let mut sink = LimitedSink::new(&mut out, &limits);
        sink.begin_sheet("A", 0);
        sink.end_sheet();
        sink.begin_sheet("B", 0);
        assert!(sink.row(0, &[text("a")]).is_break());
        assert!(matches!(
            sink.into_error(),
            Some(FileError::TooManySheets { count: 2, .. })
        ));
    }
}
