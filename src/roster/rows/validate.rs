//! Checking a data row field by field, and assembling the accepted row or the row's errors.

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use super::header::Columns;
use super::text::{column_letter, json_object, normalise_name};
use super::{Outcome, RosterRow, RowError, Validator};
use crate::domain::{Group, IdNumber, Lang, Localized, RegionCode};
use crate::roster::columns::Field;
use crate::roster::dates::{self, DateError};
use crate::roster::read::Cell;

/// A problem found in a row: the field, the raw value, and (code, Chinese, English).
type Problem = (Field, String, (&'static str, String, String));

fn msg(code: &'static str, zh: String, en: String) -> (&'static str, String, String) {
    (code, zh, en)
}

fn person_key(id: &IdNumber, group: Group) -> u64 {
    let digits: u64 = id.as_str()[..17].parse().unwrap_or_default();
    digits * 4 + group as u64
}

impl<E: FnMut(Outcome) -> ControlFlow<()>> Validator<E> {
    fn column_name(cols: &Columns, field: Field) -> String {
        cols.fields
            .get(field)
            .and_then(|i| cols.headers.get(i))
            .map(|h| h.to_string())
            .unwrap_or_else(|| field.label_zh().to_owned())
    }

    pub(super) fn validate(&mut self, index: u32, cells: &[Cell], cols: &Columns) -> Outcome {
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
}
