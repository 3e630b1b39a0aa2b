//! The columns a roster sheet may have, under the many names clerks give them.
//!
//! A header is first looked up among the exact spellings of the template and of the common
//! rosters; any other header is read by the words it is made of: "享受起始日期（年月日）" holds a
//! word for start and a word for date, so it is the start of coverage. The rules are small
//! tables of words ([`Field::rule`]); a header that reads as two fields, or as none, is kept as
//! extra data. Two columns that claim one field stop the import ([`clashes`]), and the first
//! values of the columns read as no field are looked at ([`Sniffer`]), so that a column of
//! dates or ID numbers under a header nobody foresaw is pointed out rather than kept silently.

use std::sync::Arc;

use chrono::Datelike;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::dates;
use super::read::Cell;
use super::rows::column_letter;
use crate::domain::{Group, IdNumber, IdNumberError};

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

/// A header longer than this is a title or a remark rather than a column's name: it is read
/// only by its exact spelling, never by its parts.
const MAX_HEADER_CHARS: usize = 24;

// The words headers are read by, already normalised (see [`normalise`]): no spaces, lower case.

/// The person's own resident ID number.
const ID_WORDS: &[&str] = &[
    "身份证",
    "身份号",
    "证件号",
    "证件编号",
    "公民身份",
    "身份证明号",
    "idcard",
    "idnumber",
    "idno",
    "nationalid",
    "citizenid",
    "identity",
];
/// Facts about an ID card other than its number ("证件类型", "身份证有效期").
const ID_DETAILS: &[&str] = &[
    "类型",
    "类别",
    "种类",
    "有效期",
    "期限",
    "地址",
    "住址",
    "签发",
    "发证",
    "机关",
    "照片",
    "复印",
    "是否",
    "姓名",
    "type",
    "expir",
    "address",
    "issue",
    "name",
];
/// Someone other than the person covered: a household roster lists the head of household's
/// name and ID number beside each member's.
const OTHER_PERSON: &[&str] = &[
    "户主",
    "监护人",
    "代理人",
    "委托人",
    "联系人",
    "配偶",
    "父亲",
    "母亲",
    "子女",
    "赡养人",
    "抚养人",
    "扶养人",
    "经办",
    "填报",
    "填表",
    "审核",
    "负责人",
    "录入",
    "收款",
    "开户",
    "持卡",
    "银行",
    "账户",
    "guardian",
    "householder",
    "household",
    "contact",
    "spouse",
    "agent",
    "bank",
    "account",
];
/// Certificates other than the ID card, whose numbers are not ID numbers ("低保证号").
const OTHER_DOCUMENT: &[&str] = &[
    "低保证",
    "残疾证",
    "优抚证",
    "特困证",
    "供养证",
    "救助证",
    "保障证",
    "社保",
    "医保",
    "户口",
    "护照",
    "军官",
    "passport",
];

/// A person's name; English names are read only by their exact spellings, "name" being part
/// of too many other English headers (file name, hospital name).
const NAME_WORDS: &[&str] = &["姓名", "名字"];
/// Other forms of a name than the one on the ID card.
const NAME_DETAILS: &[&str] = &["曾用", "拼音", "英文", "别名"];

/// Who or what a group is the group of.
const GROUP_SUBJECTS: &[&str] = &[
    "救助",
    "救济",
    "保障",
    "对象",
    "人员",
    "身份",
    "群体",
    "assistance",
    "relief",
    "beneficiary",
    "recipient",
    "welfare",
    "person",
];
/// A kind or class.
const KIND_WORDS: &[&str] = &[
    "类别", "类型", "种类", "分类", "属性", "性质", "group", "category", "type", "class",
];
/// Classes that are not the programme's groups: within one group ("低保类别" is A, B or C;
/// "优抚对象类别" is the kind of entitlement), of a disability, an illness or a household
/// registration, or of a certificate.
const GROUP_DETAILS: &[&str] = &[
    "低保", "特困", "优抚", "五保", "供养", "残疾", "疾病", "病种", "医疗", "户籍", "户口", "证",
];

/// An administrative region.
const REGION_WORDS: &[&str] = &[
    "区划",
    "行政区",
    "区域",
    "地区",
    "县",
    "辖区",
    "属地",
    "region",
    "district",
    "county",
    "division",
];
/// A code ("代码", "编码" and "区划码" all hold 码).
const CODE_WORDS: &[&str] = &["码", "编号", "code"];
/// Codes and numbers that are not region codes, and a region's name.
const REGION_DETAILS: &[&str] = &[
    "电话", "手机", "邮政", "邮编", "号码", "身份", "证件", "名称", "医院", "机构", "单位", "银行",
    "phone", "postal", "zip", "name",
];

/// A date, a month or a time.
const DATE_WORDS: &[&str] = &[
    "日期", "时间", "年月", "日", "月份", "date", "month", "time",
];
/// The start of coverage; "享受" (receiving) and "纳入" (taken in) date the start unless an
/// end word says otherwise ("享受终止日期").
const START_WORDS: &[&str] = &[
    "起始",
    "开始",
    "起",
    "始",
    "纳入",
    "享受",
    "生效",
    "批准",
    "审批",
    "核准",
    "认定",
    "入保",
    "纳保",
    "新增",
    "准入",
    "列入",
    "首次",
    "start",
    "begin",
    "effective",
    "from",
    "since",
];
/// The end of coverage; an end word wins over a start word ("停保起始日期" is when the
/// coverage stops). English "end" alone is part of too many words (calendar, attendance).
const END_WORDS: &[&str] = &[
    "终止", "结束", "截止", "停止", "止", "退出", "到期", "失效", "注销", "停保", "退保", "停发",
    "取消", "撤销", "enddate", "endmonth", "endtime", "until", "expir", "stop",
];
/// Both ends in one column ("保障起止日期": 2020.01-2022.12), which is neither date.
const SPAN_WORDS: &[&str] = &["起止", "起讫", "起迄", "起至", "始末", "period", "range"];
/// Dates of other events than the coverage.
const OTHER_EVENTS: &[&str] = &[
    "出生",
    "生日",
    "死亡",
    "录入",
    "填报",
    "填表",
    "制表",
    "申请",
    "打印",
    "更新",
    "修改",
    "变更",
    "入院",
    "出院",
    "就诊",
    "身份证",
    "证件",
    "发证",
    "签发",
    "入伍",
    "退伍",
    "复员",
    "转业",
    "参战",
    "牺牲",
    "病故",
    "伤残",
    "残疾",
    "评定",
    "工作",
    "birth",
    "death",
    "update",
    "created",
    "modified",
    "admission",
    "discharge",
];

/// How a header is read by its parts: it names the field when it holds at least one word of
/// every list in `needs` and no word of any list in `unless`.
pub struct Rule {
    needs: &'static [&'static [&'static str]],
    unless: &'static [&'static [&'static str]],
}

impl Rule {
    fn matches(&self, key: &str) -> bool {
        let holds = |words: &[&str]| words.iter().any(|w| key.contains(w));
        self.needs.iter().all(|w| holds(w)) && !self.unless.iter().any(|w| holds(w))
    }
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

    /// The English name, which is also the field's code in the import's result.
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

    /// The field in English words, for messages and pages.
    pub fn words_en(self) -> &'static str {
        match self {
            Field::IdNumber => "ID number",
            Field::Name => "name",
            Field::Group => "group",
            Field::Region => "region code",
            Field::ValidFrom => "start of coverage",
            Field::ValidTo => "end of coverage",
        }
    }

    /// The field of a code as [`Field::label_en`] gives it.
    pub fn from_code(code: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.label_en() == code)
    }

    /// The spellings recognised exactly, already normalised (see [`normalise`]).
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
                "personname",
                "patientname",
                "membername",
                "beneficiaryname",
                "applicantname",
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
                "行政代码",
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
                "validuntil",
                "enddate",
                "to",
            ],
        }
    }

    /// How a header that is none of the exact spellings is read by its parts.
    pub fn rule(self) -> Rule {
        match self {
            Field::IdNumber => Rule {
                needs: &[ID_WORDS],
                unless: &[ID_DETAILS, OTHER_PERSON, OTHER_DOCUMENT],
            },
            Field::Name => Rule {
                needs: &[NAME_WORDS],
                unless: &[NAME_DETAILS, OTHER_PERSON],
            },
            Field::Group => Rule {
                needs: &[GROUP_SUBJECTS, KIND_WORDS],
                unless: &[GROUP_DETAILS],
            },
            Field::Region => Rule {
                needs: &[REGION_WORDS, CODE_WORDS],
                unless: &[REGION_DETAILS],
            },
            Field::ValidFrom => Rule {
                needs: &[START_WORDS, DATE_WORDS],
                unless: &[END_WORDS, SPAN_WORDS, OTHER_EVENTS],
            },
            Field::ValidTo => Rule {
                needs: &[END_WORDS, DATE_WORDS],
                unless: &[SPAN_WORDS, OTHER_EVENTS],
            },
        }
    }

    /// Which field a header names, if any: an exact spelling, or else the one field whose
    /// rule its parts satisfy (a header that satisfies two is no field: "身份证号及姓名").
    pub fn from_header(header: &str) -> Option<Field> {
        let key = normalise(header);
        if key.is_empty() {
            return None;
        }
        if let Some(f) = Field::ALL
            .into_iter()
            .find(|f| f.aliases().contains(&key.as_str()))
        {
            return Some(f);
        }
        if key.chars().count() > MAX_HEADER_CHARS {
            return None;
        }
        let mut by_parts = Field::ALL.into_iter().filter(|f| f.rule().matches(&key));
        match (by_parts.next(), by_parts.next()) {
            (Some(f), None) => Some(f),
            _ => None,
        }
    }
}

/// A header as compared: NFKC, lower case, without spaces, punctuation, a required-field star
/// or a remark or unit in brackets ("身份证号码（必填）", "起始日期【年月日】"). A header that
/// is nothing but a bracket ("【姓名】") keeps what the bracket holds.
pub fn normalise(header: &str) -> String {
    let outside = strip(header, false);
    if outside.is_empty() {
        strip(header, true)
    } else {
        outside
    }
}

fn strip(header: &str, keep_bracketed: bool) -> String {
    let mut depth = 0u32;
    header
        .nfkc()
        .filter(|c| match c {
            // NFKC has already folded （） and ［］ into ( ) and [ ]; 【】 and 〔〕 it keeps.
            '(' | '[' | '【' | '〔' | '〈' | '《' => {
                depth += 1;
                false
            }
            ')' | ']' | '】' | '〕' | '〉' | '》' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => {
                (depth == 0 || keep_bracketed)
                    && !c.is_whitespace()
                    && !"*:_-.、/,;#'\"“”‘’".contains(*c)
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

// ---- the result: which column became which field ----

/// How one column of a sheet was read, as the import's result shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnReport {
    /// The column's letter as Excel shows it.
    pub letter: String,
    /// The header as written in the sheet.
    pub column: String,
    /// The field it was read as ([`Field::label_en`]), or none.
    pub field: Option<&'static str>,
    /// Its values are kept with each accepted row as extra data, not read.
    pub kept_as_extra: bool,
}

/// Something about a sheet's columns that the clerk should know: a warning (the import goes
/// on) or a header problem (nothing of the file is imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Stable code.
    pub code: &'static str,
    /// The columns concerned, as written (or their letters when blank).
    pub columns: Vec<String>,
    /// Chinese message.
    pub message_zh: String,
    /// English message.
    pub message_en: String,
}

/// A column's header, or its letter when the header is blank.
fn column_name(headers: &[Arc<str>], i: usize) -> String {
    match headers.get(i) {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => column_letter(i),
    }
}

/// Every named column of a header and the field it became.
pub fn report(headers: &[Arc<str>], claims: &[Option<Field>]) -> Vec<ColumnReport> {
    headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
        .map(|(i, h)| {
            let field = claims.get(i).copied().flatten();
            ColumnReport {
                letter: column_letter(i),
                column: h.to_string(),
                field: field.map(Field::label_en),
                kept_as_extra: field.is_none(),
            }
        })
        .collect()
}

/// Fields that more than one column claims, as a header problem naming every such column:
/// choosing one of them would be a guess about which one the clerk meant.
pub fn clashes(sheet: &str, headers: &[Arc<str>], claims: &[Option<Field>]) -> Option<Notice> {
    let mut columns = Vec::new();
    let mut zh = Vec::new();
    let mut en = Vec::new();
    for field in Field::ALL {
        let claiming: Vec<usize> = (0..claims.len())
            .filter(|i| claims[*i] == Some(field))
            .collect();
        if claiming.len() < 2 {
            continue;
        }
        let named: Vec<(String, String)> = claiming
            .iter()
            .map(|i| (column_name(headers, *i), column_letter(*i)))
            .collect();
        zh.push(format!(
            "{}这{}列都被识别为{}",
            named
                .iter()
                .map(|(h, l)| format!("“{h}”（{l}列）"))
                .collect::<Vec<_>>()
                .join("、"),
            named.len(),
            field.label_zh()
        ));
        en.push(format!(
            "{} all read as the {}",
            named
                .iter()
                .map(|(h, l)| format!("'{h}' (column {l})"))
                .collect::<Vec<_>>()
                .join(", "),
            field.words_en()
        ));
        columns.extend(named.into_iter().map(|(h, _)| h));
    }
    (!columns.is_empty()).then(|| Notice {
        code: "header_column_clash",
        columns,
        message_zh: format!(
            "工作表“{sheet}”中，{}。系统不会替您选择其中一列：请在导入结果页“各列的读取方式”中把多余的列改为“附加信息（不读取）”，系统会用已上传的文件重新校验；也可删除多余的列后重新上传。名册未作任何改动。",
            zh.join("；")
        ),
        message_en: format!(
            "In sheet '{sheet}', {}. The importer will not choose one of them for you: on the import's page, under how the columns were read, set the extra column to extra data and the stored file is validated again; or delete the extra column and upload again. Nothing in the roster changed.",
            en.join("; ")
        ),
    })
}

// ---- what the values of a column read as no field look like ----

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

    /// Headers as they come in real rosters, at least forty a field: each is read as its
    /// field, by its exact spelling or by its parts.
    const SPELLINGS: &[(Field, &[&str])] = &[
        (
            Field::IdNumber,
            &[
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "公民身份证号码",
                "证件号码",
                "证件号",
                "身份证",
                "身份证件号码",
                "身份证编号",
                "居民身份证号码",
                "居民身份证号",
                "身份证号码（18位）",
                "身份证号(必填)",
                "身份号码",
                "救助对象身份证号码",
                "对象身份证号码",
                "成员身份证号码",
                "成员身份证号",
                "人员身份证号码",
                "保障对象身份证号",
                "申请人身份证号码",
                "患者身份证号码",
                "本人身份证号码",
                "身份证号码*",
                "*身份证号码",
                "【身份证号码】",
                "身 份 证 号 码",
                "公民身份号",
                "证件编号",
                "证件号码（身份证）",
                "身份证件号",
                "二代身份证号码",
                "身份证号码（文本格式）",
                "公民身份号码(18位)",
                "供养对象身份证号",
                "优抚对象身份证号码",
                "特困人员身份证号",
                "低保对象身份证号码",
                "家庭成员身份证号码",
                "身份证号码【必填】",
                "ID card number",
                "ID Card No.",
                "ID number",
                "National ID",
                "id_no",
                "citizen ID number",
            ],
        ),
        (
            Field::Name,
            &[
                "姓名",
                "救助对象姓名",
                "成员姓名",
                "对象姓名",
                "人员姓名",
                "保障对象姓名",
                "供养对象姓名",
                "优抚对象姓名",
                "姓 名",
                "名字",
                "患者姓名",
                "病人姓名",
                "申请人姓名",
                "家庭成员姓名",
                "低保对象姓名",
                "特困人员姓名",
                "特困供养人员姓名",
                "享受人姓名",
                "享受人员姓名",
                "被救助人姓名",
                "救助人员姓名",
                "本人姓名",
                "姓名（必填）",
                "姓名*",
                "*姓名",
                "【姓名】",
                "姓名(与身份证一致)",
                "身份证姓名",
                "对象名字",
                "成员名字",
                "优抚人员姓名",
                "保障人员姓名",
                "困难群众姓名",
                "居民姓名",
                "参保人姓名",
                "受助人姓名",
                "受助对象姓名",
                "服务对象姓名",
                "姓名/Name",
                "Name",
                "Full Name",
                "full_name",
                "Patient name",
            ],
        ),
        (
            Field::Group,
            &[
                "救助类别",
                "保障类别",
                "人员类别",
                "对象类别",
                "救助对象类别",
                "类别",
                "救助类型",
                "保障类型",
                "人员类型",
                "对象类型",
                "救助对象类型",
                "保障对象类别",
                "保障对象类型",
                "救助人员类别",
                "救助种类",
                "保障种类",
                "对象种类",
                "人员分类",
                "对象分类",
                "救助分类",
                "保障分类",
                "人员属性",
                "对象属性",
                "救助属性",
                "人员性质",
                "对象性质",
                "救助对象属性",
                "身份类别",
                "人员身份类型",
                "救助类别（低保/特困/优抚）",
                "救助类别*",
                "*救助类别",
                "【救助类别】",
                "救 助 类 别",
                "保障对象分类",
                "救济类别",
                "救济对象类别",
                "群体类别",
                "帮扶对象类别",
                "救助对象种类",
                "人员类别（城市低保、农村低保）",
                "group",
                "Category",
                "assistance group",
                "Assistance category",
                "beneficiary type",
            ],
        ),
        (
            Field::Region,
            &[
                "行政区划代码",
                "区划代码",
                "行政区划",
                "行政区域代码",
                "区划编码",
                "行政区划编码",
                "地区代码",
                "行政区划代码（6位）",
                "区划代码(县级)",
                "所属区划代码",
                "户籍地区划代码",
                "户籍所在地行政区划代码",
                "居住地区划代码",
                "所在地区代码",
                "所属地区代码",
                "区县代码",
                "县区代码",
                "县(市、区)代码",
                "行政区代码",
                "行政区编码",
                "行政区划编号",
                "区划编号",
                "区域代码",
                "区域编码",
                "辖区代码",
                "辖区编码",
                "属地代码",
                "属地区划代码",
                "地区编码",
                "地区编号",
                "区划码",
                "行政区划码",
                "所在区划代码",
                "行政代码",
                "行政区划代码*",
                "*区划代码",
                "【行政区划代码】",
                "行 政 区 划 代 码",
                "区县编码",
                "县区编码",
                "户籍区划代码",
                "常住地区划代码",
                "Region code",
                "region_code",
                "Region",
                "district code",
                "county code",
                "admin division code",
            ],
        ),
        (
            Field::ValidFrom,
            &[
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
                "享受起始日期（年月日）",
                "享受日期",
                "享受时间",
                "享受年月",
                "批准日期",
                "批准时间",
                "审批日期",
                "审批时间",
                "认定日期",
                "核准日期",
                "纳入保障日期",
                "纳入保障时间",
                "纳入低保时间",
                "纳入特困供养时间",
                "开始享受日期",
                "开始享受时间",
                "开始享受年月",
                "救助起始日期",
                "救助开始时间",
                "保障起始年月",
                "低保起始日期",
                "起始日期(年-月-日)",
                "起保日期",
                "起保年月",
                "享受起始月份",
                "生效时间",
                "生效年月",
                "补助起始日期",
                "发放起始年月",
                "新增日期",
                "首次享受日期",
                "起始日期【年月日】",
                "*享受起始日期",
                "起始日",
                "生效日",
                "开始年月",
                "起 始 日 期",
                "入保日期",
                "列入时间",
                "Start date",
                "coverage start date",
                "Effective date",
                "valid_from",
                "begin date",
            ],
        ),
        (
            Field::ValidTo,
            &[
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
                "结束时间",
                "截止时间",
                "截止年月",
                "停止日期",
                "停止享受日期",
                "停止享受时间",
                "停发日期",
                "停发年月",
                "退出年月",
                "退出保障日期",
                "退出低保时间",
                "到期日期",
                "到期时间",
                "失效日期",
                "注销日期",
                "注销时间",
                "取消日期",
                "保障结束日期",
                "救助终止日期",
                "享受截止日期",
                "享受截止年月",
                "保障截止时间",
                "终止日",
                "截止日",
                "退保日期",
                "停保时间",
                "终止日期（年月日）",
                "【终止日期】",
                "*终止日期",
                "终 止 日 期",
                "享受终止月份",
                "救助结束年月",
                "停保起始日期",
                "End date",
                "coverage end date",
                "Expiry date",
                "valid until",
                "stop date",
            ],
        ),
    ];

    #[test]
    fn real_world_spellings_are_read_as_their_field() {
        for (field, spellings) in SPELLINGS {
            assert!(spellings.len() >= 40, "{field:?}: {}", spellings.len());
            for h in *spellings {
                assert_eq!(Field::from_header(h), Some(*field), "{h}");
            }
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
            "联系电话",
            "手机号码",
            "家庭住址",
            "性别",
            "民族",
            "年龄",
            // Someone else's name or number, or another document's.
            "户主身份证号码",
            "监护人姓名",
            "监护人身份证号",
            "联系人姓名",
            "开户人姓名",
            "银行卡号",
            "低保证号",
            "残疾证号",
            "证件类型",
            "身份证有效期",
            "身份证地址",
            "姓名拼音",
            // A word for start or end without one for a date, or both ends in one column.
            "开始",
            "起始",
            "终止",
            "享受",
            "保障期限",
            "保障起止日期",
            "享受起止年月",
            // Dates of other things.
            "出生日期",
            "出生年月",
            "申请日期",
            "录入时间",
            "填报日期",
            "死亡日期",
            "入伍时间",
            "首次就诊日期",
            "发放年月",
            // Classes that are not the programme's groups.
            "低保类别",
            "优抚对象类别",
            "残疾类别",
            "疾病类别",
            "户口性质",
            "供养方式",
            "困难类型",
            // Regions by name, and other codes.
            "所在地区",
            "行政区划名称",
            "邮政编码",
            "村(社区)代码",
            "乡镇(街道)代码",
            "定点医院代码",
            "file name",
            "hospital name",
        ] {
            assert_eq!(Field::from_header(h), None, "{h}");
        }
    }

    #[test]
    fn a_header_that_reads_as_two_fields_is_none() {
        assert_eq!(Field::from_header("救助类别及区划代码"), None);
        assert_eq!(Field::from_header("姓名及救助类别"), None);
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

    #[test]
    fn every_exact_chinese_spelling_agrees_with_its_rule() {
        // The rules are not a second opinion that contradicts the list: a Chinese alias read
        // by its parts is the same field or none.
        for f in Field::ALL {
            for alias in f.aliases().iter().filter(|a| !a.is_ascii()) {
                for g in Field::ALL.into_iter().filter(|g| *g != f) {
                    assert!(!g.rule().matches(alias), "{alias}: {g:?}");
                }
            }
        }
    }

    fn headers(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    #[test]
    fn two_columns_claiming_one_field_name_both() {
        let h = headers(&["身份证号码", "姓名", "公民身份号码"]);
        let claims: Vec<_> = h.iter().map(|h| Field::from_header(h)).collect();
        let n = clashes("城关镇", &h, &claims).unwrap();
        assert_eq!(n.code, "header_column_clash");
        assert_eq!(n.columns, vec!["身份证号码", "公民身份号码"]);
        for text in [&n.message_zh, &n.message_en] {
            assert!(
                text.contains("身份证号码") && text.contains("公民身份号码"),
                "{text}"
            );
            assert!(text.contains("城关镇"), "{text}");
        }
        assert!(n.message_zh.contains("A列") && n.message_zh.contains("C列"));
        let fine = headers(&["身份证号码", "姓名", "户主身份证号码"]);
        let claims: Vec<_> = fine.iter().map(|h| Field::from_header(h)).collect();
        assert_eq!(clashes("城关镇", &fine, &claims), None);
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
