//! The validator: its state over a file, and the rows fed to it sheet by sheet.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::header::{Columns, State};
use super::{HEADER_SEARCH_ROWS, Outcome, Params, SheetReport};
use crate::domain::Group;
use crate::roster::columns::Field;
use crate::roster::read::{Cell, RowSink};

/// Validates rows as they are read and hands each outcome to `emit`.
pub struct Validator<E: FnMut(Outcome) -> ControlFlow<()>> {
    pub(super) params: Params,
    pub(super) emit: E,
    pub(super) state: State,
    pub(super) sheet: Arc<str>,
    pub(super) sheet_index: u16,
    pub(super) report: Option<SheetReport>,
    /// Sheets read so far.
    pub sheets: Vec<SheetReport>,
    /// (person, group) -> where first seen, compactly: 17 digits * 4 + group. A million rows
    /// make a million look-ups: foldhash, seeded per process, not SipHash.
    pub(super) seen: foldhash::HashMap<u64, (u16, u32)>,
    pub(super) sheet_names: Vec<Arc<str>>,
    pub(super) group_cache: HashMap<String, Group>,
    /// A sheet's header had a problem that fails the import.
    pub(super) refused: bool,
}

/// Rows of a sheet's declared height that [`Validator`] makes room for up front.
const SEEN_RESERVE_CAP: u64 = 2_000_000;

impl<E: FnMut(Outcome) -> ControlFlow<()>> Validator<E> {
    /// A validator for one file.
    pub fn new(params: Params, emit: E) -> Self {
        Validator {
            params,
            emit,
            state: State::SeekingHeader { partial: None },
            sheet: Arc::from(""),
            sheet_index: 0,
            report: None,
            sheets: Vec::new(),
            seen: foldhash::HashMap::default(),
            sheet_names: Vec::new(),
            group_cache: HashMap::new(),
            refused: false,
        }
    }

    /// Validates a data row, and shows it to the sniffer while it is still looking.
    pub(super) fn data_row(&mut self, index: u32, cells: &[Cell], cols: &mut Columns) -> Outcome {
        let outcome = self.validate(index, cells, cols);
        if !matches!(outcome, Outcome::Skipped)
            && let Some(s) = cols.sniffer.as_mut()
            && s.observe(cells)
        {
            self.sniffed(cols);
        }
        outcome
    }
}

impl<E: FnMut(Outcome) -> ControlFlow<()>> RowSink for Validator<E> {
    fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
        // Sized once from the sheet's declared height: growing by doubling would hold the old
        // table and the new one at once, 50 MB at a million rows. A lying dimension costs at
        // most the cap.
        self.seen
            .reserve(approx_rows.min(SEEN_RESERVE_CAP) as usize);
        self.sheet = Arc::from(name);
        self.sheet_names.push(self.sheet.clone());
        self.sheet_index = (self.sheet_names.len() - 1) as u16;
        self.state = State::SeekingHeader { partial: None };
        self.report = Some(SheetReport {
            name: name.to_owned(),
            has_roster: false,
            header_row: None,
            rows: 0,
            accepted: 0,
            rejected: 0,
            skipped: 0,
            note: None,
            note_en: None,
            columns: Vec::new(),
            warnings: Vec::new(),
            header_error: None,
        });
    }

    fn row(&mut self, index: u32, cells: &[Cell]) -> ControlFlow<()> {
        let state = std::mem::replace(&mut self.state, State::SeekingHeader { partial: None });
        let (next, outcome) = match state {
            State::SeekingHeader { partial } => {
                if index >= HEADER_SEARCH_ROWS {
                    // No header near the top: this sheet holds no roster; read no further.
                    self.state = State::SeekingHeader { partial };
                    return ControlFlow::Continue(());
                }
                let found: Vec<Field> = Self::header_fields(cells)
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect();
                if found.contains(&Field::IdNumber) && found.contains(&Field::Name) {
                    if let Some(r) = self.report.as_mut() {
                        r.header_row = Some(index + 1);
                    }
                    (
                        State::MaybeSubHeader(Self::columns_from(cells), index),
                        None,
                    )
                } else if found.len() >= 2 || (found.len() == 1 && partial.is_none()) {
                    (
                        State::SeekingHeader {
                            partial: Some((index + 1, found)),
                        },
                        None,
                    )
                } else {
                    (State::SeekingHeader { partial }, None)
                }
            }
            State::MaybeSubHeader(mut cols, header_index) => {
                let sub_header =
                    index == header_index + 1 && Self::merge_sub_header(&mut cols, cells);
                match self.settle(cols) {
                    State::Data(mut cols) if !sub_header => {
                        let outcome = self.data_row(index, cells, &mut cols);
                        (State::Data(cols), Some(outcome))
                    }
                    settled => (settled, None),
                }
            }
            State::Data(mut cols) => {
                let outcome = self.data_row(index, cells, &mut cols);
                (State::Data(cols), Some(outcome))
            }
            State::Refused => (State::Refused, None),
        };
        self.state = next;
        match outcome {
            Some(o) => {
                if let Some(r) = self.report.as_mut() {
                    r.rows += 1;
                    match &o {
                        Outcome::Accepted(_) => r.accepted += 1,
                        Outcome::Rejected(..) => r.rejected += 1,
                        Outcome::Skipped => r.skipped += 1,
                    }
                }
                (self.emit)(o)
            }
            None => ControlFlow::Continue(()),
        }
    }

    fn end_sheet(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Refused);
        self.state = match state {
            // A header and nothing under it.
            State::MaybeSubHeader(cols, _) => self.settle(cols),
            // Fewer rows than the sniffer looks at.
            State::Data(mut cols) => {
                self.sniffed(&mut cols);
                State::Data(cols)
            }
            other => other,
        };
        self.finish_sheet_report();
    }
}
