//! The demo's generated people: a roster of a few thousand believable entries over the four
//! groups and ten counties of Changchun and Yanbian (the two cities the demo caseworkers
//! serve), written as the CSV a civil-affairs office would send, so it goes through the same
//! import as any upload.

use chrono::NaiveDate;

use crate::domain::Group;
use crate::domain::id_number::check_character;

/// The counties the demo's people live in: six of Changchun, four of Yanbian.
pub const COUNTIES: &[&str] = &[
    "220102", "220103", "220104", "220105", "220106", "220122", "222401", "222402", "222403",
    "222426",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "金", "朴", "崔", "高", "于", "姜",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀兰", "霞", "平", "刚", "桂英", "玉兰", "志强", "建华", "淑珍", "凤兰", "国庆",
    "春梅", "海燕",
];

/// A small, fixed pseudo-random sequence (SplitMix64): the demo must be the same on every
/// machine and every release, which a library generator does not promise across versions.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    /// A sequence from a seed.
    pub fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    /// The next number.
    pub fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.roll() % n.max(1)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True about `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One person of the generated roster.
#[derive(Debug, Clone)]
pub struct Person {
    /// The 18-character ID number.
    pub id_number: String,
    /// The name on the roster.
    pub name: String,
    /// The group.
    pub group: Group,
    /// The county.
    pub region: &'static str,
    /// Covered from.
    pub from: NaiveDate,
    /// Covered until (a few people left the roster this year).
    pub to: Option<NaiveDate>,
}

/// `n` people, the same for the same `n` and `year` (the demo's current year).
pub fn people(n: usize, year: i32) -> Vec<Person> {
    let mut dice = Dice::new(2019);
    (0..n)
        .map(|i| {
            let region = COUNTIES[i % COUNTIES.len()];
            // Adults and the elderly, as the programme's patients are.
            let birth = NaiveDate::from_ymd_opt(1940, 1, 1).expect("a date")
                + chrono::Duration::days(dice.between(0, 365 * 50));
            let seq = dice.below(1000);
            let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let id_number = format!("{body}{}", check_character(body.as_bytes()));
            let name = format!(
                "{}{}",
                SURNAMES[dice.below(SURNAMES.len() as u64) as usize],
                GIVEN[dice.below(GIVEN.len() as u64) as usize]
            );
            let group = Group::ALL[match dice.below(10) {
                0..=3 => 0,
                4..=6 => 1,
                7..=8 => 2,
                _ => 3,
            }];
            let from = NaiveDate::from_ymd_opt(
                2016 + dice.between(0, 5) as i32,
                1 + dice.below(12) as u32,
                1,
            )
            .expect("a date");
            let to = dice.chance(4).then(|| {
                NaiveDate::from_ymd_opt(year, 1 + dice.below(6) as u32, 28).expect("a date")
            });
            Person {
                id_number,
                name,
                group,
                region,
                from,
                to,
            }
        })
        .collect()
}

/// The people as a roster CSV (UTF-8, one header line), as an office exports it.
pub fn roster_csv(people: &[Person]) -> Vec<u8> {
    let mut out =
        String::from("序号,姓名,身份证号码,救助类别,行政区划代码,保障起始日期,终止日期\n");
    for (i, p) in people.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            i + 1,
            p.name,
            p.id_number,
            p.group.label_zh(),
            p.region,
            p.from,
            p.to.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::IdNumber;

    #[test]
    fn the_people_are_valid_unique_and_the_same_every_time() {
        let a = people(3000, 2026);
        let b = people(3000, 2026);
        assert_eq!(a.len(), 3000);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.id_number == y.id_number && x.name == y.name)
        );
        let mut ids: Vec<&str> = a.iter().map(|p| p.id_number.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 3000, "no ID number twice");
        assert!(a.iter().all(|p| IdNumber::parse(&p.id_number).is_ok()));
        for g in Group::ALL {
            assert!(a.iter().filter(|p| p.group == g).count() > 200, "{g:?}");
        }
        assert!(a.iter().any(|p| p.to.is_some()), "some coverage ended");
    }
}
