//! The columns a roster sheet may have, under the many names clerks give them.

use unicode_normalization::UnicodeNormalization;

use crate::domain::Group;

/// A column the importer interprets; every other column is kept as extra data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// 身份证号码 (required).
    IdNumber,
    /// 姓名 (required).
    Name,
    /// 救助类别.
    Group,
    /// 行政区划代码.
    Region,
    /// 保障起始日期.
    ValidFrom,
    /// 终止日期.
    ValidTo,
}

impl Field {
    /// Every interpreted field.
    pub const ALL: [Field; 6] = [
        Field::IdNumber,
        Field::Name,
        Field::Group,
        Field::Region,
        Field::ValidFrom,
        Field::ValidTo,
    ];

    /// The header the template uses.
    pub fn label_zh(self) -> &'static str {
        match self {
            Field::IdNumber => "身份证号码",
            Field::Name => "姓名",
            Field::Group => "救助类别",
            Field::Region => "行政区划代码",
            Field::ValidFrom => "保障起始日期",
            Field::ValidTo => "终止日期",
        }
    }

    /// The English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Field::IdNumber => "id_number",
            Field::Name => "name",
            Field::Group => "group",
            Field::Region => "region_code",
            Field::ValidFrom => "valid_from",
            Field::ValidTo => "valid_to",
        }
    }

    /// The spellings recognised, already normalised (see [`normalise`]).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::IdNumber => &[
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "公民身份证号码",
                "证件号码",
                "证件号",
                "身份证",
                "身份证件号码",
                "身份证编号",
                "idnumber",
                "id",
                "idno",
                "idcard",
                "idcardno",
                "idcardnumber",
            ],
            Field::Name => &[
                "姓名",
                "救助对象姓名",
                "成员姓名",
                "对象姓名",
                "人员姓名",
                "保障对象姓名",
                "供养对象姓名",
                "优抚对象姓名",
                "name",
                "fullname",
            ],
            Field::Group => Group::HEADER_ALIASES,
            Field::Region => &[
                "行政区划代码",
                "区划代码",
                "行政区划",
                "行政区域代码",
                "区划编码",
                "行政区划编码",
                "地区代码",
                "regioncode",
                "region",
            ],
            Field::ValidFrom => &[
                "保障起始日期",
                "纳入时间",
                "纳入日期",
                "享受起始年月",
                "享受起始日期",
                "享受开始时间",
                "起始日期",
                "起始年月",
                "开始日期",
                "保障开始日期",
                "生效日期",
                "起始时间",
                "validfrom",
                "startdate",
                "from",
            ],
            Field::ValidTo => &[
                "终止日期",
                "退出时间",
                "退出日期",
                "保障终止日期",
                "享受终止年月",
                "享受终止日期",
                "终止年月",
                "结束日期",
                "截止日期",
                "停保日期",
                "终止时间",
                "validto",
                "enddate",
                "to",
            ],
        }
    }

    /// Which field a header names, if any.
    pub fn from_header(header: &str) -> Option<Field> {
        let key = normalise(header);
        if key.is_empty() {
            return None;
        }
        Field::ALL
            .into_iter()
            .find(|f| f.aliases().contains(&key.as_str()))
    }
}

/// A header as compared: NFKC, lower case, without spaces, punctuation, a required-field star
/// or a remark in brackets ("身份证号码（必填）").
pub fn normalise(header: &str) -> String {
    let mut depth = 0u32;
    header
        .nfkc()
        .filter(|c| match c {
            '(' | '[' => {
                depth += 1;
                false
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0 && !c.is_whitespace() && !"*:_-.、/".contains(*c),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spellings_of_design_md_are_recognised() {
        for (h, f) in [
            ("姓名", Field::Name),
            ("救助对象姓名", Field::Name),
            ("成员姓名", Field::Name),
            ("身份证号", Field::IdNumber),
            ("身份证号码", Field::IdNumber),
            ("公民身份号码", Field::IdNumber),
            ("证件号码", Field::IdNumber),
            ("*身份证号码", Field::IdNumber),
            ("身份证号码（必填）", Field::IdNumber),
            ("救助类别", Field::Group),
            ("保障类别", Field::Group),
            ("人员类别", Field::Group),
            ("对象类别", Field::Group),
            ("行政区划代码", Field::Region),
            ("区划代码", Field::Region),
            ("保障起始日期", Field::ValidFrom),
            ("纳入时间", Field::ValidFrom),
            ("享受起始年月", Field::ValidFrom),
            ("终止日期", Field::ValidTo),
            ("退出时间", Field::ValidTo),
            ("ID Number", Field::IdNumber),
            ("Name", Field::Name),
            ("valid_from", Field::ValidFrom),
        ] {
            assert_eq!(Field::from_header(h), Some(f), "{h}");
        }
    }

    #[test]
    fn kept_columns_are_not_mistaken_for_interpreted_ones() {
        for h in [
            "户主姓名",
            "与户主关系",
            "家庭人口",
            "月保障金",
            "乡镇(街道)",
            "村(社区)",
            "序号",
            "备注",
        ] {
            assert_eq!(Field::from_header(h), None, "{h}");
        }
    }

    #[test]
    fn no_alias_names_two_fields() {
        for a in Field::ALL {
            for b in Field::ALL.into_iter().filter(|b| *b != a) {
                for alias in a.aliases() {
                    assert!(!b.aliases().contains(alias), "{alias}");
                }
            }
        }
    }
}
