//! Generated rosters for benchmarks and load tests: valid, unique people in nine columns,
//! written in constant memory.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::domain::id_number::check_character;

const REGIONS: &[&str] = &[
    "220102", "220103", "220104", "220105", "220106", "220112", "220202", "220203", "222401",
    "222402",
];
const GROUPS: &[&str] = &["城市低保", "农村低保", "特困供养人员", "优抚对象"];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "金", "朴",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
];

/// A valid ID number for row `i`, unique per row up to 200 million rows.
pub fn id_for(i: u64) -> String {
    let region = REGIONS[(i % REGIONS.len() as u64) as usize];
    let days = (i / REGIONS.len() as u64) % 20000;
    let birth =
        chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap() + chrono::Duration::days(days as i64);
    let seq = (i / (REGIONS.len() as u64 * 20000)) % 1000;
    let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_character(body.as_bytes());
    format!("{body}{check}")
}

/// The order of the generated people's ID numbers down the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdOrder {
    /// Row by row through the ten regions: an ID-number index takes its inserts at ten places.
    #[default]
    Cycled,
    /// Spread over the whole range: each row's ID lands anywhere in an ID-number index, as in a
    /// roster sorted by name or by household.
    Scattered,
}

/// A step coprime to `n` near 0.618 n: `i * step mod n` is then a bijection of `0..n` that
/// sends neighbours far apart.
fn scatter_step(n: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut step = (n as f64 * 0.618) as u64 | 1;
    while gcd(step, n) != 1 {
        step += 1;
    }
    step
}

/// Writes a roster of `n` rows (plus the header) to `path`, IDs in the [`IdOrder::Cycled`]
/// order.
pub fn write_roster(n: u64, path: &Path) -> Result<(), XlsxError> {
    write_roster_in(n, path, IdOrder::Cycled)
}

/// Writes a roster of `n` rows (plus the header) to `path`, IDs in the given order.
pub fn write_roster_in(n: u64, path: &Path, order: IdOrder) -> Result<(), XlsxError> {
    let step = scatter_step(n.max(1));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory()?;
    let head = Format::new().set_bold();
    let headers = [
        "序号",
        "姓名",
        "身份证号码",
        "救助类别",
        "行政区划代码",
        "保障起始日期",
        "终止日期",
        "家庭人口",
        "月保障金",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &head)?;
    }
    for i in 0..n {
        let r = (i + 1) as u32;
        let name = format!(
            "{}{}",
            SURNAMES[(i % 12) as usize],
            GIVEN[(i / 12 % 15) as usize]
        );
        sheet.write_number(r, 0, (i + 1) as f64)?;
        sheet.write_string(r, 1, &name)?;
        let person = match order {
            IdOrder::Cycled => i,
            IdOrder::Scattered => (u128::from(i) * u128::from(step) % u128::from(n)) as u64,
        };
        sheet.write_string(r, 2, id_for(person))?;
        sheet.write_string(r, 3, GROUPS[(i % 4) as usize])?;
        sheet.write_string(r, 4, REGIONS[(i % REGIONS.len() as u64) as usize])?;
        sheet.write_string(r, 5, format!("20{:02}-{:02}-01", 15 + i % 10, 1 + i % 12))?;
        if i % 10 == 0 {
            sheet.write_string(r, 6, "2030-12-31")?;
        }
        sheet.write_number(r, 7, (1 + i % 5) as f64)?;
        sheet.write_number(r, 8, 300.0 + (i % 400) as f64)?;
    }
    book.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scattering_gives_every_person_once_and_spreads_neighbours() {
        for n in [1u64, 2, 10, 999, 1000, 4096] {
            let step = scatter_step(n);
            let mut seen: Vec<u64> = (0..n).map(|i| (i * step) % n).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        let step = scatter_step(1_000_000);
        assert!((600_000..640_000).contains(&step), "{step}");
    }
}
