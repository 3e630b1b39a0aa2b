//! From rows of cells to roster rows: finding the header, skipping titles, blanks and footers,
//! and accepting or rejecting every other row with a reason a clerk can act on.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::columns::{self, ColumnReport, Field, Notice, Sniffer};
use super::dates::{self, DateError};
use super::read::{Cell, RowSink};
use crate::domain::{Group, IdNumber, Lang, Localized, RegionCode, RegionPrefix};
use crate::error::Msg;

/// How many rows from the top of a sheet may hold titles before the header.
pub const HEADER_SEARCH_ROWS: u32 = 30;

/// What the upload says about every row.
#[derive(Debug, Clone)]
pub struct Params {
    /// The group of a one-group file.
    pub group: Option<Group>,
    /// The region (or region prefix) of the file.
    pub region: Option<RegionPrefix>,
    /// The uploader's own scope: rows outside it are refused.
    pub scope: RegionPrefix,
    /// The clerk's corrections to how columns are read (`roster::mapping`).
    pub mapping: super::mapping::Mapping,
}

/// An accepted row.
#[derive(Debug, Clone)]
pub struct RosterRow {
    /// Sheet name.
    pub sheet: Arc<str>,
    /// Row number as Excel shows it.
    pub row: u32,
    /// The person.
    pub id_number: IdNumber,
    /// Name as listed, normalised.
    pub name: String,
    /// Group.
    pub group: Group,
    /// County-level region (a city or province prefix is padded with zeros).
    pub region: RegionCode,
    /// Start of coverage, if the sheet gives one.
    pub valid_from: Option<NaiveDate>,
    /// End of coverage, if any.
    pub valid_to: Option<NaiveDate>,
    /// Columns kept but not interpreted: header and value.
    pub extra: Vec<(Arc<str>, String)>,
    /// The same as the text of a JSON object, as it is stored; made here, on the parser's
    /// thread, because the writer's thread is the one a large import waits for.
    pub extra_json: Option<String>,
}

/// One problem with one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// Sheet name.
    pub sheet: String,
    /// Row number as Excel shows it.
    pub row: u32,
    /// The column's header as written in the sheet.
    pub column: String,
    /// The cell as the clerk sees it.
    pub value: String,
    /// Stable code.
    pub code: &'static str,
    /// Chinese message.
    #[serde(skip)]
    pub message_zh: String,
    /// English message.
    #[serde(skip)]
    pub message_en: String,
}

/// What became of a row.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Valid: to be written.
    Accepted(RosterRow),
    /// Refused, with every problem found; the ID number when it was readable, so that a full
    /// import does not end the coverage of someone whose row merely had a typo; and the row as
    /// it was (header, value), so that the clerk gets it back to fix.
    Rejected(Vec<RowError>, Option<IdNumber>, Vec<(String, String)>),
    /// A blank, title or footer row.
    Skipped,
}

/// How a sheet was read.
#[derive(Debug, Clone, Serialize)]
pub struct SheetReport {
    /// Sheet name.
    pub name: String,
    /// Whether a roster was found in it.
    pub has_roster: bool,
    /// Row number of the header, when found.
    pub header_row: Option<u32>,
    /// Data rows (accepted + rejected + skipped after the header).
    pub rows: u64,
    /// Accepted rows.
    pub accepted: u64,
    /// Rejected rows.
    pub rejected: u64,
    /// Skipped rows.
    pub skipped: u64,
    /// Why no roster was found, when not.
    pub note: Option<String>,
    /// The same in English.
    pub note_en: Option<String>,
    /// Each named column of the header: the field it was read as, or kept as extra data.
    pub columns: Vec<ColumnReport>,
    /// What the clerk should look at although the sheet was read (a column of dates under a
    /// header that was not recognised).
    pub warnings: Vec<Notice>,
    /// Why nothing of the file may be imported: columns that claim one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_error: Option<Notice>,
}

/// The header problems of a file's sheets as one message, if any: an import with one lands
/// nothing.
pub fn header_problems(sheets: &[SheetReport]) -> Option<Msg> {
    let found: Vec<&Notice> = sheets
        .iter()
        .filter_map(|s| s.header_error.as_ref())
        .collect();
    (!found.is_empty()).then(|| {
        Msg::new(
            found
                .iter()
                .map(|n| n.message_zh.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            found
                .iter()
                .map(|n| n.message_en.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
    })
}

/// Where each interpreted field sits: looked up for every cell of a million rows, so an array
/// indexed by the field rather than a hash map.
#[derive(Default)]
struct FieldMap([Option<usize>; Field::ALL.len()]);

impl FieldMap {
    fn get(&self, f: Field) -> Option<usize> {
        self.0[f as usize]
    }
    fn insert(&mut self, f: Field, i: usize) {
        self.0[f as usize] = Some(i);
    }
    fn holds_column(&self, i: usize) -> bool {
        self.0.contains(&Some(i))
    }
}

struct Columns {
    fields: FieldMap,
    /// Header text by column, shared by every row's extra data.
    headers: Vec<Arc<str>>,
    /// The field each column's header names, before the header is settled.
    claims: Vec<Option<Field>>,
    /// Looks at the first values of the columns read as no field; gone after the first rows.
    sniffer: Option<Sniffer>,
}

enum State {
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

/// A problem found in a row: the field, the raw value, and (code, Chinese, English).
type Problem = (Field, String, (&'static str, String, String));

fn msg(code: &'static str, zh: String, en: String) -> (&'static str, String, String) {
    (code, zh, en)
}

/// Validates rows as they are read and hands each outcome to `emit`.
pub struct Validator<E: FnMut(Outcome) -> ControlFlow<()>> {
    params: Params,
    emit: E,
    state: State,
    sheet: Arc<str>,
    sheet_index: u16,
    report: Option<SheetReport>,
    /// Sheets read so far.
    pub sheets: Vec<SheetReport>,
    /// (person, group) -> where first seen, compactly: 17 digits * 4 + group. A million rows
    /// make a million look-ups: foldhash, seeded per process, not SipHash.
    seen: foldhash::HashMap<u64, (u16, u32)>,
    sheet_names: Vec<Arc<str>>,
    group_cache: HashMap<String, Group>,
    /// A sheet's header had a problem that fails the import.
    refused: bool,
}

fn person_key(id: &IdNumber, group: Group) -> u64 {
    let digits: u64 = id.as_str()[..17].parse().unwrap_or_default();
    digits * 4 + group as u64
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

    fn header_fields(cells: &[Cell]) -> Vec<(usize, Field)> {
        cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Cell::Text(t) => Field::from_header(t).map(|f| (i, f)),
                _ => None,
            })
            .collect()
    }

    fn columns_from(cells: &[Cell]) -> Columns {
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
    fn merge_sub_header(cols: &mut Columns, cells: &[Cell]) -> bool {
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
    fn settle(&mut self, mut cols: Columns) -> State {
        let corrections = self.params.mapping.for_sheet(&self.sheet);
        super::mapping::apply(&mut cols.claims, &corrections);
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
    fn sniffed(&mut self, cols: &mut Columns) {
        if let Some(s) = cols.sniffer.take()
            && let Some(r) = self.report.as_mut()
        {
            r.warnings = s.warnings(&cols.headers);
        }
    }

    /// Validates a data row, and shows it to the sniffer while it is still looking.
    fn data_row(&mut self, index: u32, cells: &[Cell], cols: &mut Columns) -> Outcome {
        let outcome = self.validate(index, cells, cols);
        if !matches!(outcome, Outcome::Skipped)
            && let Some(s) = cols.sniffer.as_mut()
            && s.observe(cells)
        {
            self.sniffed(cols);
        }
        outcome
    }

    fn column_name(cols: &Columns, field: Field) -> String {
        cols.fields
            .get(field)
            .and_then(|i| cols.headers.get(i))
            .map(|h| h.to_string())
            .unwrap_or_else(|| field.label_zh().to_owned())
    }

    fn is_footer(cells: &[Cell]) -> bool {
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

    fn validate(&mut self, index: u32, cells: &[Cell], cols: &Columns) -> Outcome {
        let row = index + 1;
        let get = |f: Field| {
            cols.fields
                .get(f)
                .and_then(|i| cells.get(i))
                .unwrap_or(&Cell::Empty)
        };
        let id_cell = get(Field::IdNumber);
        let name_cell = get(Field::Name);
        if cells.iter().all(Cell::is_blank) {
            return Outcome::Skipped;
        }
        if id_cell.is_blank() && (name_cell.is_blank() || Self::is_footer(cells)) {
            return Outcome::Skipped;
        }
        // A footer may carry digits ("3人") in the ID column, but never an ID's 15 or more.
        if Self::is_footer(cells)
            && !matches!(id_cell, Cell::Text(t) if t.nfkc().filter(char::is_ascii_digit).count() >= 15)
        {
            return Outcome::Skipped;
        }
        let mut problems: Vec<Problem> = Vec::new();

        let id_number = match id_cell {
            Cell::Int(_) | Cell::Float(_) => {
                problems.push((
                    Field::IdNumber,
                    id_cell.display(),
                    msg(
                        "id_number_is_number",
                        "身份证号码被保存成了数字，Excel 只保留15位有效数字，后几位已丢失：请把该列设为“文本”格式，重新录入号码后再上传。".into(),
                        "The ID number is stored as a number, and Excel keeps only 15 significant digits, so the last digits are lost: format the column as Text, retype the numbers and upload again.".into(),
                    ),
                ));
                None
            }
            Cell::Text(t) => match IdNumber::parse(t) {
                Ok(id) => Some(id),
                Err(e) => {
                    problems.push((
                        Field::IdNumber,
                        t.clone(),
                        msg(e.code(), e.message(Lang::Zh), e.message(Lang::En)),
                    ));
                    None
                }
            },
            Cell::Empty => {
                problems.push((
                    Field::IdNumber,
                    String::new(),
                    msg(
                        "id_number_missing",
                        "身份证号码为空，请填写。".into(),
                        "The ID number is missing.".into(),
                    ),
                ));
                None
            }
            other => {
                problems.push((
                    Field::IdNumber,
                    other.display(),
                    msg(
                        "id_number_character",
                        "身份证号码格式不正确，请填写18位号码。".into(),
                        "This is not an ID number: write the 18 characters.".into(),
                    ),
                ));
                None
            }
        };

        let name = normalise_name(&name_cell.text());
        if name.is_empty() {
            problems.push((
                Field::Name,
                String::new(),
                msg(
                    "name_missing",
                    "姓名为空，请填写。".into(),
                    "The name is missing.".into(),
                ),
            ));
        } else if name.chars().count() > 64 {
            problems.push((
                Field::Name,
                name_cell.display(),
                msg(
                    "name_too_long",
                    "姓名超过64个字符，请核对。".into(),
                    "The name is longer than 64 characters.".into(),
                ),
            ));
        }

        let group_cell = get(Field::Group);
        let group = if group_cell.is_blank() {
            match self.params.group {
                Some(g) => Some(g),
                None => {
                    problems.push((
                        Field::Group,
                        String::new(),
                        msg(
                            "group_missing",
                            "救助类别为空：请在该列填写，或在上传时选择救助类别。".into(),
                            "The group is missing: fill the column, or choose the group when uploading.".into(),
                        ),
                    ));
                    None
                }
            }
        } else {
            match self.parse_group(&group_cell.text()) {
                Ok(g) => match self.params.group {
                    Some(p) if p != g => {
                        problems.push((
                            Field::Group,
                            group_cell.display(),
                            msg(
                                "group_conflict",
                                format!(
                                    "本行救助类别为“{}”，与上传时选择的“{}”不一致，请核对。",
                                    g.label_zh(),
                                    p.label_zh()
                                ),
                                format!(
                                    "The row says {} but the upload was for {}.",
                                    g.label_en(),
                                    p.label_en()
                                ),
                            ),
                        ));
                        None
                    }
                    _ => Some(g),
                },
                Err(e) => {
                    problems.push((
                        Field::Group,
                        group_cell.display(),
                        msg(e.code(), e.message(Lang::Zh), e.message(Lang::En)),
                    ));
                    None
                }
            }
        };

        let region = self.region_of(get(Field::Region), &mut problems);

        let date_of = |field: Field, problems: &mut Vec<_>| -> Option<NaiveDate> {
            let cell = get(field);
            match dates::parse_cell(cell) {
                Ok(d) => d,
                Err(DateError::Invalid) => {
                    problems.push((
                        field,
                        cell.display(),
                        msg(
                            "invalid_date",
                            format!(
                                "“{}”不是有效日期：请写成 2020-06-01 或 2020年6月1日 这样的形式。",
                                cell.display()
                            ),
                            format!(
                                "'{}' is not a date: write it like 2020-06-01.",
                                cell.display()
                            ),
                        ),
                    ));
                    None
                }
                Err(DateError::Ambiguous { first, second }) => {
                    problems.push((
                        field,
                        cell.display(),
                        msg(
                            "ambiguous_date",
                            format!(
                                "“{}”是数字，可能是{}也可能是{}（如2020.10会被 Excel 存成2020.1）：请把该列设为“文本”或“日期”格式并写完整日期。",
                                cell.display(), first.format("%Y年%-m月%-d日"), second.format("%Y年%-m月%-d日")
                            ),
                            format!(
                                "'{}' is a number that reads as {first} or as {second} (Excel stores 2020.10 as 2020.1): format the column as Text or Date and write the full date.",
                                cell.display()
                            ),
                        ),
                    ));
                    None
                }
            }
        };
        let valid_from = date_of(Field::ValidFrom, &mut problems);
        let valid_to = date_of(Field::ValidTo, &mut problems);
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to < from
        {
            problems.push((
                Field::ValidTo,
                get(Field::ValidTo).display(),
                msg(
                    "date_order",
                    format!("终止日期{to}早于起始日期{from}，请核对。"),
                    format!("The end date {to} is before the start date {from}."),
                ),
            ));
        }

        if let (Some(id), Some(g)) = (&id_number, group)
            && problems.is_empty()
        {
            let key = person_key(id, g);
            match self.seen.get(&key) {
                Some((sheet_idx, first_row)) => {
                    let first_sheet = self
                        .sheet_names
                        .get(*sheet_idx as usize)
                        .cloned()
                        .unwrap_or_default();
                    problems.push((
                        Field::IdNumber,
                        id.to_string(),
                        msg(
                            "duplicate_in_file",
                            format!("此人在本文件中已出现（工作表“{first_sheet}”第{first_row}行，同一救助类别），本行未导入：请删除重复行。"),
                            format!("This person is already listed in the same group (sheet '{first_sheet}', row {first_row}); this row was not imported."),
                        ),
                    ));
                }
                None => {
                    self.seen.insert(key, (self.sheet_index, row));
                }
            }
        }

        if problems.is_empty() {
            let extra = cells
                .iter()
                .enumerate()
                .filter(|(i, c)| !c.is_blank() && !cols.fields.holds_column(*i))
                .map(|(i, c)| {
                    let header = cols
                        .headers
                        .get(i)
                        .filter(|h| !h.is_empty())
                        .cloned()
                        .unwrap_or_else(|| Arc::from(column_letter(i)));
                    (header, c.text().trim().to_owned())
                })
                .collect::<Vec<_>>();
            return Outcome::Accepted(RosterRow {
                sheet: self.sheet.clone(),
                row,
                id_number: id_number.expect("checked above"),
                name,
                group: group.expect("checked above"),
                region: region.expect("checked above"),
                valid_from,
                valid_to,
                extra_json: json_object(&extra),
                extra,
            });
        }
        let errors = problems
            .into_iter()
            .map(|(field, value, (code, zh, en))| RowError {
                sheet: self.sheet.to_string(),
                row,
                column: Self::column_name(cols, field),
                value,
                code,
                message_zh: zh,
                message_en: en,
            })
            .collect();
        let row_data = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let header = cols
                    .headers
                    .get(i)
                    .filter(|h| !h.is_empty())
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| column_letter(i));
                (header, c.display())
            })
            .collect();
        Outcome::Rejected(errors, id_number, row_data)
    }

    fn region_of(&self, cell: &Cell, problems: &mut Vec<Problem>) -> Option<RegionCode> {
        let from_param = || {
            self.params
                .region
                .as_ref()
                .and_then(|p| RegionCode::parse(&format!("{:0<6}", p.as_str())).ok())
        };
        let code = if cell.is_blank() {
            match from_param() {
                Some(c) => c,
                None => {
                    problems.push((
                        Field::Region,
                        String::new(),
                        msg(
                            "region_missing",
                            "行政区划代码为空：请在该列填写6位代码，或在上传时选择地区。".into(),
                            "The region code is missing: fill the column, or choose the region when uploading.".into(),
                        ),
                    ));
                    return None;
                }
            }
        } else {
            let raw = cell.text();
            match RegionCode::parse(&raw) {
                Ok(c) => {
                    if let Some(p) = &self.params.region
                        && !p.contains(&c)
                    {
                        problems.push((
                            Field::Region,
                            raw.into_owned(),
                            msg(
                                "region_conflict",
                                format!("行政区划代码{c}不在上传时选择的地区{p}内，请核对。"),
                                format!(
                                    "Region {c} is outside the region {p} chosen for the upload."
                                ),
                            ),
                        ));
                        return None;
                    }
                    c
                }
                Err(e) => {
                    problems.push((
                        Field::Region,
                        raw.into_owned(),
                        msg(e.code(), e.message(Lang::Zh), e.message(Lang::En)),
                    ));
                    return None;
                }
            }
        };
        if !self.params.scope.contains(&code) {
            problems.push((
                Field::Region,
                code.to_string(),
                msg(
                    "region_outside_scope",
                    format!(
                        "行政区划代码{code}不在您的数据范围{}内，不能导入。",
                        self.params.scope
                    ),
                    format!("Region {code} is outside your scope {}.", self.params.scope),
                ),
            ));
            return None;
        }
        Some(code)
    }

    /// Group labels repeat on every row: parse each spelling once.
    fn parse_group(&mut self, raw: &str) -> Result<Group, crate::domain::group::UnknownGroup> {
        if let Some(g) = self.group_cache.get(raw) {
            return Ok(*g);
        }
        let g = Group::parse(raw)?;
        if self.group_cache.len() < 64 {
            self.group_cache.insert(raw.to_owned(), g);
        }
        Ok(g)
    }

    fn finish_sheet_report(&mut self) {
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

/// The pairs as the text of a JSON object, written straight from them: building a `serde_json`
/// map for each of a million rows cost more than storing the row.
fn json_object(pairs: &[(Arc<str>, String)]) -> Option<String> {
    (!pairs.is_empty()).then(|| {
        let mut out = String::with_capacity(pairs.len() * 24);
        out.push('{');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let pair = serde_json::to_string(&**k).and_then(|k| Ok((k, serde_json::to_string(v)?)));
            let (k, v) = pair.expect("strings serialise");
            out.push_str(&k);
            out.push(':');
            out.push_str(&v);
        }
        out.push('}');
        out
    })
}

/// "A", "B", ... "AA" for a 0-based column.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// NFKC, one kind of middle dot (买买提·吐尔逊), no spaces inside Chinese names (clerks pad
/// two-character names to line them up), single spaces elsewhere.
pub fn normalise_name(raw: &str) -> String {
    // Common case: CJK ideographs only, which NFKC leaves alone and which need no spaces.
    if !raw.is_empty() && raw.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return raw.to_owned();
    }
    let s: String = raw
        .nfkc()
        .map(|c| {
            if matches!(c, '•' | '・' | '‧' | '∙' | '･' | '．' | '⋅') {
                '·'
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = s.split_whitespace().collect();
    let cjk = s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if cjk { words.concat() } else { words.join(" ") }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    fn run(params: Params, sheet: Vec<Vec<Cell>>) -> (Vec<Outcome>, Vec<SheetReport>) {
        let mut out = Vec::new();
        let mut v = Validator::new(params, |o| {
            out.push(o);
            ControlFlow::Continue(())
        });
        v.begin_sheet("城关镇", 0);
        for (i, r) in sheet.iter().enumerate() {
            let _ = v.row(i as u32, r);
        }
        v.end_sheet();
        let sheets = v.sheets.clone();
        drop(v);
        (out, sheets)
    }

    fn params() -> Params {
        Params {
            group: Some(Group::LowIncomeUrban),
            region: Some(RegionPrefix::parse("2201").unwrap()),
            scope: RegionPrefix::parse("22").unwrap(),
            mapping: Default::default(),
        }
    }

    fn codes(o: &Outcome) -> Vec<&'static str> {
        match o {
            Outcome::Rejected(e, _, _) => e.iter().map(|e| e.code).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn titles_two_row_headers_blanks_and_footers() {
        let sheet = vec![
            vec![t("2020年6月城市低保名册")],
            vec![t("填报单位：南关区民政局")],
            vec![
                t("序号"),
                t("姓名"),
                t("公民身份号码"),
                t("区划代码"),
                t("保障期限"),
                Cell::Empty,
                t("户主姓名"),
            ],
            vec![
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                t("起始日期"),
                t("终止日期"),
            ],
            vec![
                Cell::Int(1),
                t("张 三"),
                t("11010519491231002x"),
                t("220102"),
                t("2020.06"),
                Cell::Empty,
                t("张三"),
            ],
            vec![],
            vec![
                Cell::Int(2),
                t("买买提•吐尔逊"),
                t("440524188001010014"),
                t("220102"),
                Cell::Date(NaiveDate::from_ymd_opt(2019, 3, 1).unwrap()),
                t("2021-12-31"),
                t("买买提"),
            ],
            vec![t("合计"), t("2人")],
            vec![t("制表人：李四"), Cell::Empty, t("审核人：王五")],
        ];
        let (out, sheets) = run(params(), sheet);
        let accepted: Vec<&RosterRow> = out
            .iter()
            .filter_map(|o| match o {
                Outcome::Accepted(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(accepted.len(), 2, "{out:?}");
        assert_eq!(accepted[0].row, 5);
        assert_eq!(accepted[0].name, "张三");
        assert_eq!(accepted[0].id_number.as_str(), "11010519491231002X");
        assert_eq!(accepted[0].valid_from, NaiveDate::from_ymd_opt(2020, 6, 1));
        assert_eq!(accepted[0].region.as_str(), "220102");
        assert_eq!(
            accepted[0].extra,
            vec![
                (Arc::from("序号"), "1".to_owned()),
                (Arc::from("户主姓名"), "张三".to_owned())
            ]
        );
        let stored: serde_json::Value =
            serde_json::from_str(accepted[0].extra_json.as_deref().unwrap()).unwrap();
        assert_eq!(stored, serde_json::json!({"序号": "1", "户主姓名": "张三"}));
        assert_eq!(accepted[1].name, "买买提·吐尔逊");
        assert_eq!(accepted[1].valid_to, NaiveDate::from_ymd_opt(2021, 12, 31));
        assert_eq!(sheets[0].header_row, Some(3));
        assert_eq!(
            (sheets[0].accepted, sheets[0].rejected, sheets[0].skipped),
            (2, 0, 3)
        );
        // The sub-header's columns replace the merged parent's, whose name stays on no column.
        let fields: Vec<(&str, Option<&str>)> = sheets[0]
            .columns
            .iter()
            .map(|c| (c.column.as_str(), c.field))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("序号", None),
                ("姓名", Some("name")),
                ("公民身份号码", Some("id_number")),
                ("区划代码", Some("region_code")),
                ("起始日期", Some("valid_from")),
                ("终止日期", Some("valid_to")),
                ("户主姓名", None),
            ]
        );
        assert!(sheets[0].warnings.is_empty(), "{:?}", sheets[0].warnings);
    }

    #[test]
    fn every_row_problem_has_its_code() {
        let header = vec![
            t("身份证号码"),
            t("姓名"),
            t("救助类别"),
            t("行政区划代码"),
            t("保障起始日期"),
            t("终止日期"),
        ];
        let row = |id: Cell, name: &str, group: &str, region: &str, from: Cell, to: Cell| {
            vec![id, t(name), t(group), t(region), from, to]
        };
        let ok_from = t("2020-01-01");
        let sheet = vec![
            header,
            row(
                t("110105194912310021"),
                "甲",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                Cell::Float(1.101_051_949_123_1e17),
                "乙",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("110105491231002"),
                "丙",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("１１０１０５ １９４９１２３１００２Ｘ"),
                "丁",
                "低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "农村低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "220102",
                t("2020-02-30"),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "220102",
                Cell::Float(2020.1),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "220102",
                t("2020-06-01"),
                t("2020-05-01"),
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "222401",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
            row(
                t("440524188001010014"),
                "戊",
                "城市低保",
                "220102",
                ok_from.clone(),
                Cell::Empty,
            ),
        ];
        let (out, _) = run(params(), sheet);
        let got: Vec<Vec<&str>> = out.iter().map(codes).collect();
        assert_eq!(got[0], vec!["id_number_check"]);
        assert_eq!(got[1], vec!["id_number_is_number"]);
        assert!(
            matches!(&out[2], Outcome::Accepted(r) if r.id_number.as_str() == "11010519491231002X")
        );
        assert_eq!(got[3], vec!["unknown_group"]);
        assert_eq!(got[4], vec!["name_missing"]);
        assert_eq!(got[5], vec!["group_conflict"]);
        assert_eq!(got[6], vec!["invalid_date"]);
        assert_eq!(got[7], vec!["ambiguous_date"]);
        assert_eq!(got[8], vec!["date_order"]);
        assert_eq!(got[9], vec!["region_conflict"]);
        assert!(matches!(&out[10], Outcome::Accepted(_)));
        assert_eq!(got[11], vec!["duplicate_in_file"]);
        let Outcome::Rejected(errs, id, _) = &out[11] else {
            panic!()
        };
        assert!(
            errs[0].message_zh.contains("第12行"),
            "{}",
            errs[0].message_zh
        );
        assert!(id.is_some());
        let Outcome::Rejected(errs, _, data) = &out[1] else {
            panic!()
        };
        assert_eq!(errs[0].column, "身份证号码");
        assert_eq!(data[1], ("姓名".to_owned(), "乙".to_owned()));
        assert!(errs[0].message_zh.contains("文本"));
    }

    #[test]
    fn a_sheet_without_an_id_column_is_reported() {
        let (out, sheets) = run(
            params(),
            vec![
                vec![t("姓名"), t("家庭人口")],
                vec![t("张三"), Cell::Int(3)],
            ],
        );
        assert!(out.is_empty());
        assert!(!sheets[0].has_roster);
        assert!(sheets[0].note.as_ref().unwrap().contains("身份证号码"));
        assert!(
            sheets[0]
                .note_en
                .as_ref()
                .unwrap()
                .contains("no ID-number column")
        );
    }

    #[test]
    fn outside_the_uploaders_scope_is_refused() {
        let p = Params {
            group: Some(Group::EntitledCare),
            region: None,
            scope: RegionPrefix::parse("2224").unwrap(),
            mapping: Default::default(),
        };
        let (out, _) = run(
            p,
            vec![
                vec![t("身份证号码"), t("姓名"), t("区划代码")],
                vec![t("440524188001010014"), t("甲"), t("220102")],
            ],
        );
        assert_eq!(codes(&out[0]), vec!["region_outside_scope"]);
    }

    #[test]
    fn a_header_under_an_unlisted_spelling_is_read_and_shown() {
        let (out, sheets) = run(
            params(),
            vec![
                vec![
                    t("序号"),
                    t("救助对象身份证号码"),
                    t("姓 名"),
                    t("享受起始日期（年月日）"),
                    t("批复时点"),
                ],
                vec![
                    Cell::Int(1),
                    t("440524188001010014"),
                    t("甲"),
                    t("2020-06-15"),
                    t("2020-05-20"),
                ],
                vec![
                    Cell::Int(2),
                    t("11010519491231002X"),
                    t("乙"),
                    t("2020-13-01"),
                    t("2020-05-21"),
                ],
            ],
        );
        assert!(
            matches!(&out[0], Outcome::Accepted(r) if r.valid_from == NaiveDate::from_ymd_opt(2020, 6, 15))
        );
        assert_eq!(codes(&out[1]), vec!["invalid_date"]);
        let Outcome::Rejected(errs, _, _) = &out[1] else {
            panic!()
        };
        assert_eq!(errs[0].column, "享受起始日期（年月日）");
        let r = &sheets[0];
        let mapped: Vec<(&str, Option<&str>, bool)> = r
            .columns
            .iter()
            .map(|c| (c.column.as_str(), c.field, c.kept_as_extra))
            .collect();
        assert_eq!(
            mapped,
            vec![
                ("序号", None, true),
                ("救助对象身份证号码", Some("id_number"), false),
                ("姓 名", Some("name"), false),
                ("享受起始日期（年月日）", Some("valid_from"), false),
                ("批复时点", None, true),
            ]
        );
        let warned: Vec<(&str, &str)> = r
            .warnings
            .iter()
            .map(|w| (w.code, w.columns[0].as_str()))
            .collect();
        assert_eq!(warned, vec![("column_looks_like_dates", "批复时点")]);
        assert!(r.header_error.is_none() && header_problems(&sheets).is_none());
    }

    #[test]
    fn two_columns_claiming_one_field_refuse_the_file() {
        let mut out = Vec::new();
        let mut v = Validator::new(params(), |o| {
            out.push(o);
            ControlFlow::Continue(())
        });
        let good = [
            vec![t("身份证号码"), t("姓名")],
            vec![t("440524188001010014"), t("甲")],
        ];
        let clash = [
            vec![t("身份证号码"), t("姓名"), t("公民身份号码")],
            vec![t("11010519491231002X"), t("乙"), t("11010519491231002X")],
        ];
        for (name, sheet) in [("一", &good), ("二", &clash), ("三", &good)] {
            v.begin_sheet(name, 0);
            for (i, r) in sheet.iter().enumerate() {
                let _ = v.row(i as u32, r);
            }
            v.end_sheet();
        }
        let sheets = v.sheets.clone();
        drop(v);
        // The first sheet was read before the clash was seen; nothing after it is.
        assert_eq!(out.len(), 1);
        assert!(sheets[0].header_error.is_none());
        let e = sheets[1].header_error.as_ref().unwrap();
        assert_eq!(e.columns, vec!["身份证号码", "公民身份号码"]);
        assert_eq!(sheets[2].rows, 0);
        let m = header_problems(&sheets).unwrap();
        assert!(
            m.zh.contains("“二”") && m.zh.contains("公民身份号码"),
            "{}",
            m.zh
        );
        assert!(
            m.en.contains("'二'") && m.en.contains("公民身份号码"),
            "{}",
            m.en
        );
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }
}
