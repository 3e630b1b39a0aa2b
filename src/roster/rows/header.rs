//! Finding the header: the row that names an ID-number and a name column, a second header
//! row under it, the columns settled (with the clerk's corrections), titles and footers
//! skipped, and why a sheet holds no roster.

use std::ops::ControlFlow;
use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;

use super::{HEADER_SEARCH_ROWS, Outcome, Validator};
use crate::roster::columns::{self, Field, Sniffer};
use crate::roster::read::Cell;

/// Where each interpreted field sits: looked up for every cell of a million rows, so an array
/// indexed by the field rather than a hash map.
#[derive(Default)]
pub(super) struct FieldMap([Option<usize>; Field::ALL.len()]);

impl FieldMap {
    pub(super) fn get(&self, f: Field) -> Option<usize> {
        self.0[f as usize]
    }
    pub(super) fn insert(&mut self, f: Field, i: usize) {
        self.0[f as usize] = Some(i);
    }
    pub(super) fn holds_column(&self, i: usize) -> bool {
        self.0.contains(&Some(i))
    }
}

pub(super) struct Columns {
    pub(super) fields: FieldMap,
    /// Header text by column, shared by every row's extra data.
    pub(super) headers: Vec<Arc<str>>,
    /// The field each column's header names, before the header is settled.
    pub(super) claims: Vec<Option<Field>>,
    /// Looks at the first values of the columns read as no field; gone after the first rows.
    pub(super) sniffer: Option<Sniffer>,
}

pub(super) enum State {
    SeekingHeader {
        partial: Option<(u32, Vec<Field>)>,
    },
    MaybeSubHeader(Columns, u32),
    Data(Columns),
    /// The header cannot be read (two columns claim one field), or an earlier sheet's could
    /// not: the import will fail, so no row is validated.
    Refused,
}

/// Text that marks the end of the data: totals and signature lines.
const FOOTERS: &[&str] = &[
    "合计",
    "总计",
    "小计",
    "制表",
    "审核",
    "审批",
    "填表",
    "说明",
    "备注",
    "负责人",
    "单位负责人",
    "经办人",
    "打印",
    "注:",
    "注：",
    "签字",
    "盖章",
];

impl<E: FnMut(Outcome) -> ControlFlow<()>> Validator<E> {
    pub(super) fn header_fields(cells: &[Cell]) -> Vec<(usize, Field)> {
        cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Cell::Text(t) => Field::from_header(t).map(|f| (i, f)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn columns_from(cells: &[Cell]) -> Columns {
        let mut claims = vec![None; cells.len()];
        for (i, f) in Self::header_fields(cells) {
            claims[i] = Some(f);
        }
        Columns {
            fields: FieldMap::default(),
            headers: cells
                .iter()
                .map(|c| Arc::from(c.display().trim()))
                .collect(),
            claims,
            sniffer: None,
        }
    }

    /// A second header row under the first: it names fields the first did not, and its ID
    /// cell holds no ID number.
    pub(super) fn merge_sub_header(cols: &mut Columns, cells: &[Cell]) -> bool {
        let found = Self::header_fields(cells);
        let adds_field = found.iter().any(|(_, f)| !cols.claims.contains(&Some(*f)));
        let id_cell_is_header = cols
            .claims
            .iter()
            .position(|c| *c == Some(Field::IdNumber))
            .and_then(|i| cells.get(i))
            .is_none_or(|c| {
                c.is_blank() || matches!(c, Cell::Text(t) if Field::from_header(t).is_some())
            });
        if !adds_field || !id_cell_is_header {
            return false;
        }
        if cols.claims.len() < cells.len() {
            cols.claims.resize(cells.len(), None);
        }
        for (_, f) in &found {
            // The more specific sub-header wins over a merged parent ("保障期限" over two
            // dates): the parent's claim on the same field is dropped, not a clash.
            for c in cols.claims.iter_mut().filter(|c| **c == Some(*f)) {
                *c = None;
            }
        }
        for (i, f) in found {
            cols.claims[i] = Some(f);
        }
        for (i, c) in cells.iter().enumerate() {
            let text = c.display();
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if cols.headers.len() <= i {
                cols.headers.resize(i + 1, Arc::from(""));
            }
            cols.headers[i] = Arc::from(text);
        }
        true
    }

    /// The header is complete: each field gets its column, the columns are reported, and two
    /// columns that claim one field refuse the sheet (and the file).
    pub(super) fn settle(&mut self, mut cols: Columns) -> State {
        let corrections = self.params.mapping.for_sheet(&self.sheet);
        crate::roster::mapping::apply(&mut cols.claims, &corrections);
        if cols.headers.len() < cols.claims.len() {
            cols.headers.resize(cols.claims.len(), Arc::from(""));
        }
        let clash = columns::clashes(&self.sheet, &cols.headers, &cols.claims);
        if let Some(r) = self.report.as_mut() {
            r.columns = columns::report(&cols.headers, &cols.claims);
            r.header_error = clash.clone();
        }
        if clash.is_some() || self.refused {
            self.refused = true;
            return State::Refused;
        }
        for (i, f) in cols.claims.iter().enumerate() {
            if let Some(f) = f {
                cols.fields.insert(*f, i);
            }
        }
        cols.sniffer = Sniffer::new(&cols.claims);
        State::Data(cols)
    }

    /// The warnings of what the sniffer saw, once it has seen enough or the sheet ends.
    pub(super) fn sniffed(&mut self, cols: &mut Columns) {
        if let Some(s) = cols.sniffer.take()
            && let Some(r) = self.report.as_mut()
        {
            r.warnings = s.warnings(&cols.headers);
        }
    }

    pub(super) fn is_footer(cells: &[Cell]) -> bool {
        cells
            .iter()
            .find(|c| !c.is_blank())
            .is_some_and(|c| match c {
                Cell::Text(t) => {
                    let t: String = t.nfkc().filter(|c| !c.is_whitespace()).collect();
                    FOOTERS.iter().any(|f| t.starts_with(f))
                }
                _ => false,
            })
    }

    pub(super) fn finish_sheet_report(&mut self) {
        if let Some(mut r) = self.report.take() {
            match &self.state {
                State::SeekingHeader { partial } => {
                    r.has_roster = false;
                    let looked = "身份证号码（身份证号、公民身份号码、证件号码）和 姓名（救助对象姓名、成员姓名）";
                    r.note = Some(match partial {
                        Some((row, fields)) if fields.contains(&Field::Name) => {
                            format!("第{row}行像表头，但没有身份证号码列；表头须含{looked}")
                        }
                        Some((row, _)) => {
                            format!("第{row}行像表头，但没有姓名列；表头须含{looked}")
                        }
                        None => format!("前{HEADER_SEARCH_ROWS}行中没有找到表头；表头须含{looked}"),
                    });
                    let looked_en = "an ID-number column (身份证号码, 公民身份号码, 证件号码) and a name column (姓名, 救助对象姓名, 成员姓名)";
                    r.note_en = Some(match partial {
                        Some((row, fields)) if fields.contains(&Field::Name) => format!(
                            "Row {row} looks like a header but has no ID-number column; a header needs {looked_en}."
                        ),
                        Some((row, _)) => format!(
                            "Row {row} looks like a header but has no name column; a header needs {looked_en}."
                        ),
                        None => format!(
                            "No header in the first {HEADER_SEARCH_ROWS} rows; a header needs {looked_en}."
                        ),
                    });
                }
                _ => r.has_roster = true,
            }
            self.sheets.push(r);
        }
    }
}
