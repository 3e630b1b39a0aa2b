//! Reading a header by its words: the word tables, each field's rule, and the header as
//! compared ([`normalise`]).

use unicode_normalization::UnicodeNormalization;

use super::Field;

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
    pub(super) fn matches(&self, key: &str) -> bool {
        let holds = |words: &[&str]| words.iter().any(|w| key.contains(w));
        self.needs.iter().all(|w| holds(w)) && !self.unless.iter().any(|w| holds(w))
    }
}

impl Field {
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
