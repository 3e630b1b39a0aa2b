//! The civil-affairs assistance groups a patient may belong to.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::{Lang, Localized};

/// An assistance group (救助类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// 城市低保: urban minimum-subsistence households.
    LowIncomeUrban,
    /// 农村低保: rural minimum-subsistence households.
    LowIncomeRural,
    /// 特困供养人员 (特困人员, 五保): people in extreme hardship.
    ExtremeHardship,
    /// 优抚对象: disabled servicemen, families of martyrs, veterans.
    EntitledCare,
}

/// A group label that matches no group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown group '{0}': use 城市低保, 农村低保, 特困供养人员 or 优抚对象 (or low_income_urban, low_income_rural, extreme_hardship, entitled_care)"
)]
pub struct UnknownGroup(pub String);

impl Localized for UnknownGroup {
    fn code(&self) -> &'static str {
        "unknown_group"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Zh => format!(
                "救助类别“{}”无法识别：请填写 城市低保、农村低保、特困供养人员 或 优抚对象。",
                self.0
            ),
        }
    }
}

impl Group {
    /// Every group, in display order.
    pub const ALL: [Group; 4] = [
        Group::LowIncomeUrban,
        Group::LowIncomeRural,
        Group::ExtremeHardship,
        Group::EntitledCare,
    ];

    /// Spellings of the group column's header in real sheets.
    pub const HEADER_ALIASES: &'static [&'static str] = &[
        "救助类别",
        "保障类别",
        "人员类别",
        "对象类别",
        "救助对象类别",
        "类别",
        "group",
        "category",
    ];

    /// The stored and API code.
    pub fn code(self) -> &'static str {
        match self {
            Group::LowIncomeUrban => "low_income_urban",
            Group::LowIncomeRural => "low_income_rural",
            Group::ExtremeHardship => "extreme_hardship",
            Group::EntitledCare => "entitled_care",
        }
    }

    /// The Chinese label shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Group::LowIncomeUrban => "城市低保",
            Group::LowIncomeRural => "农村低保",
            Group::ExtremeHardship => "特困供养人员",
            Group::EntitledCare => "优抚对象",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Group::LowIncomeUrban => "Urban low-income",
            Group::LowIncomeRural => "Rural low-income",
            Group::ExtremeHardship => "Extreme hardship",
            Group::EntitledCare => "Entitled care",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.label_zh(), self.label_en())
    }

    /// How clerks write the group in a cell, besides the code and the label.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Group::LowIncomeUrban => &[
                "城市低保",
                "城市低保对象",
                "城市低保户",
                "城镇低保",
                "城市最低生活保障",
                "城市居民最低生活保障",
                "城低保",
                "urbanlowincome",
            ],
            Group::LowIncomeRural => &[
                "农村低保",
                "农村低保对象",
                "农村低保户",
                "农村最低生活保障",
                "农村居民最低生活保障",
                "农低保",
                "rurallowincome",
            ],
            Group::ExtremeHardship => &[
                "特困",
                "特困人员",
                "特困供养",
                "特困供养人员",
                "城市特困",
                "农村特困",
                "城市特困人员",
                "农村特困人员",
                "五保",
                "五保户",
                "五保供养",
                "五保对象",
                "extremehardship",
            ],
            Group::EntitledCare => &[
                "优抚",
                "优抚对象",
                "重点优抚对象",
                "优抚人员",
                "entitledcare",
            ],
        }
    }

    /// Parses a code, a label or an alias, ignoring spaces, width and case.
    pub fn parse(raw: &str) -> Result<Group, UnknownGroup> {
        let key: String = raw
            .nfkc()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        Group::ALL
            .into_iter()
            .find(|g| g.code().replace('_', "") == key || g.aliases().contains(&key.as_str()))
            .ok_or_else(|| UnknownGroup(raw.trim().to_owned()))
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Group {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Group::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_labels_and_aliases_all_parse() {
        for g in Group::ALL {
            assert_eq!(Group::parse(g.code()), Ok(g));
            assert_eq!(Group::parse(g.label_zh()), Ok(g));
            assert_eq!(Group::parse(g.label_en()), Ok(g), "{}", g.label_en());
            for a in g.aliases() {
                assert_eq!(Group::parse(a), Ok(g), "{a}");
            }
        }
        assert_eq!(Group::parse(" 五保户 "), Ok(Group::ExtremeHardship));
        assert_eq!(Group::parse("LOW_INCOME_URBAN"), Ok(Group::LowIncomeUrban));
    }

    #[test]
    fn no_alias_belongs_to_two_groups() {
        for a in Group::ALL {
            for b in Group::ALL.into_iter().filter(|b| *b != a) {
                for alias in a.aliases() {
                    assert!(!b.aliases().contains(alias), "{alias} in {a} and {b}");
                }
            }
        }
    }

    #[test]
    fn unknown_labels_are_refused_with_the_choices() {
        let e = Group::parse("低收入").unwrap_err();
        assert_eq!(e.code(), "unknown_group");
        assert!(e.message(Lang::Zh).contains("城市低保"));
        assert!(Group::parse("").is_err());
    }
}
