//! What the values of a column read as no field look like: a column of dates or ID numbers
//! under a header nobody foresaw is pointed out rather than kept silently.

use std::sync::Arc;

use chrono::Datelike;

use super::notices::column_name;
use super::{Field, Notice};
use crate::domain::{IdNumber, IdNumberError};
use crate::roster::dates;
use crate::roster::read::Cell;
use crate::roster::rows::column_letter;

/// Non-empty values looked at in each column.
const SNIFF_VALUES: u32 = 20;
/// Data rows after which the looking stops even if a sparse column has fewer values.
const SNIFF_ROWS: u32 = 200;

/// The years a coverage could start or end in; whole numbers read as Excel serial days fall
/// in them only from about 18,000 on, so amounts of money and family sizes do not.
const COVERAGE_YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// A value as the start or end of a coverage would be written.
pub fn looks_like_date(cell: &Cell) -> bool {
    matches!(dates::parse_cell(cell), Ok(Some(d)) if COVERAGE_YEARS.contains(&d.year()))
}

/// A value as an 18-character ID number is written (a mistyped check character included), or
/// one that Excel turned into a number.
pub fn looks_like_id_number(cell: &Cell) -> bool {
    match cell {
        Cell::Text(t) => {
            crate::domain::id_number::normalise(t).len() == 18
                && matches!(
                    IdNumber::parse(t),
                    Ok(_) | Err(IdNumberError::BadCheckCharacter { .. })
                )
        }
        Cell::Int(i) => (100_000_000_000_000_000..1_000_000_000_000_000_000).contains(i),
        Cell::Float(f) => (1e17..1e18).contains(f),
        _ => false,
    }
}

struct Sniffed {
    index: usize,
    values: u32,
    dates: u32,
    ids: u32,
}

/// Looks at the first values of the columns read as no field, during the first rows only.
pub struct Sniffer {
    columns: Vec<Sniffed>,
    rows: u32,
}

impl Sniffer {
    /// For the columns (up to the header's width) that no field claims; none when every
    /// column is claimed.
    pub fn new(claims: &[Option<Field>]) -> Option<Sniffer> {
        let columns: Vec<Sniffed> = claims
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_none())
            .map(|(index, _)| Sniffed {
                index,
                values: 0,
                dates: 0,
                ids: 0,
            })
            .collect();
        (!columns.is_empty()).then_some(Sniffer { columns, rows: 0 })
    }

    /// Looks at a data row; true once it has seen enough.
    pub fn observe(&mut self, cells: &[Cell]) -> bool {
        self.rows += 1;
        let mut wanting = false;
        for c in &mut self.columns {
            if c.values >= SNIFF_VALUES {
                continue;
            }
            if let Some(cell) = cells.get(c.index).filter(|v| !v.is_blank()) {
                c.values += 1;
                c.ids += u32::from(looks_like_id_number(cell));
                c.dates += u32::from(looks_like_date(cell));
            }
            wanting |= c.values < SNIFF_VALUES;
        }
        !wanting || self.rows >= SNIFF_ROWS
    }

    /// A warning for each column whose values are mostly (four in five) ID numbers or dates.
    pub fn warnings(&self, headers: &[Arc<str>]) -> Vec<Notice> {
        let mostly = |n: u32, of: u32| of > 0 && n * 5 >= of * 4;
        self.columns
            .iter()
            .filter_map(|c| {
                let name = column_name(headers, c.index);
                let letter = column_letter(c.index);
                let (code, zh, en) = if mostly(c.ids, c.values) {
                    (
                        "column_looks_like_id_numbers",
                        format!(
                            "“{name}”（{letter}列）的内容像身份证号码，但表头未被识别为身份证号码列，已作为附加信息保存。如果这是救助对象本人的身份证号码，请在导入结果页“各列的读取方式”中把该列改为“身份证号码”，无需重新上传。"
                        ),
                        format!(
                            "Column '{name}' ({letter}) holds what look like ID numbers, but its header was not recognised as the ID-number column, so it was kept as extra data. If these are the covered people's own ID numbers, read the column as the ID number on the import's page; no new upload is needed."
                        ),
                    )
                } else if mostly(c.dates, c.values) {
                    (
                        "column_looks_like_dates",
                        format!(
                            "“{name}”（{letter}列）的内容像日期，但表头未被识别为保障起始日期或终止日期，已作为附加信息保存，其中的日期没有读取。如果这是保障的起始或终止日期，请在导入结果页“各列的读取方式”中把该列改为“保障起始日期”或“终止日期”，无需重新上传。"
                        ),
                        format!(
                            "Column '{name}' ({letter}) holds what look like dates, but its header was not recognised as the start or end of coverage, so it was kept as extra data and its dates were not read. If it is the start or end of coverage, read the column as such on the import's page; no new upload is needed."
                        ),
                    )
                } else {
                    return None;
                };
                Some(Notice {
                    code,
                    columns: vec![name],
                    message_zh: zh,
                    message_en: en,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn dates_and_id_numbers_are_told_from_other_values() {
        for c in [
            t("2020-06-01"),
            t("2020年6月"),
            t("2020.06"),
            Cell::Date(chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap()),
            Cell::Int(43983),
            Cell::Float(2020.06),
        ] {
            assert!(looks_like_date(&c), "{c:?}");
        }
        for c in [
            t("备注"),
            t("3"),
            Cell::Int(3),
            Cell::Int(650),
            Cell::Float(650.5),
            t("13812345678"),
            t("0431-85551234"),
            t("130000"),
            t("220102"),
            t("2020"),
            t("2020-13-01"),
            t("1936-05-01"),
        ] {
            assert!(!looks_like_date(&c), "{c:?}");
        }
        assert!(looks_like_id_number(&t("11010519491231002x")));
        assert!(
            looks_like_id_number(&t("110105194912310021")),
            "a mistyped check character"
        );
        assert!(looks_like_id_number(&Cell::Float(1.101_051_949_123_1e17)));
        for c in [
            t("110105491231002"),
            t("110105194913310021"),
            t("13812345678"),
            t("6222021234567890123"),
            Cell::Int(3),
        ] {
            assert!(!looks_like_id_number(&c), "{c:?}");
        }
    }

    #[test]
    fn columns_of_dates_or_id_numbers_under_unread_headers_are_pointed_out() {
        let h = headers(&[
            "身份证号码",
            "姓名",
            "批复时点",
            "户主证件",
            "联系电话",
            "家庭人口",
            "备注",
        ]);
        let claims: Vec<_> = h.iter().map(|h| Field::from_header(h)).collect();
        assert_eq!(claims[2..].iter().flatten().count(), 0);
        let mut s = Sniffer::new(&claims).unwrap();
        let rows = [
            ["2020-06-01", "110105194912310021", "13812345678", "3", ""],
            [
                "2020.7",
                "11010519491231002X",
                "0431-85551234",
                "2",
                "2020-01-01",
            ],
            ["2020年8月", "440524188001010014", "", "4", "户主"],
            [
                "2021-13-01",
                "440524188001010014",
                "13912345678",
                "1",
                "新增",
            ],
            [
                "2020-06-01",
                "110105194912310021",
                "13812345678",
                "5",
                "停保",
            ],
        ];
        for r in rows {
            let mut cells = vec![t("x"), t("y")];
            cells.extend(r.iter().map(|v| t(v)));
            assert!(!s.observe(&cells));
        }
        let w = s.warnings(&h);
        let got: Vec<(&str, &str)> = w.iter().map(|n| (n.code, n.columns[0].as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("column_looks_like_dates", "批复时点"),
                ("column_looks_like_id_numbers", "户主证件")
            ]
        );
        assert!(w[0].message_zh.contains("C列") && w[0].message_en.contains("(C)"));
    }

    #[test]
    fn looking_stops_after_the_first_values() {
        let h = headers(&["身份证号码", "姓名", "备注"]);
        let claims = [Some(Field::IdNumber), Some(Field::Name), None];
        let mut s = Sniffer::new(&claims).unwrap();
        let row = [t("x"), t("y"), t("2020-01-01")];
        let seen = (1..).find(|_| s.observe(&row)).unwrap();
        assert_eq!(seen, SNIFF_VALUES);
        let mut sparse = Sniffer::new(&claims).unwrap();
        let blank = [t("x"), t("y"), Cell::Empty];
        assert_eq!((1..).find(|_| sparse.observe(&blank)).unwrap(), SNIFF_ROWS);
        assert!(sparse.warnings(&h).is_empty());
        assert!(Sniffer::new(&[Some(Field::IdNumber)]).is_none());
    }
}
