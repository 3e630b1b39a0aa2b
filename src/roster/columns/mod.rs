//! The columns a roster sheet may have, under the many names clerks give them.
//!
//! A header is first looked up among the exact spellings of the template and of the common
//! rosters; any other header is read by the words it is made of: "享受起始日期（年月日）" holds a
//! word for start and a word for date, so it is the start of coverage. The rules are small
//! tables of words ([`Field::rule`]); a header that reads as two fields, or as none, is kept as
//! extra data. Two columns that claim one field stop the import ([`clashes`]), and the first
//! values of the columns read as no field are looked at ([`Sniffer`]), so that a column of
//! dates or ID numbers under a header nobody foresaw is pointed out rather than kept silently.
//!
//! The files: [`aliases`] holds the exact spellings, [`words`] the word tables, the rules and
//! how a header is read by them, [`notices`] the result (which column became which field, and
//! the columns that clash), and [`sniff`] the look at the values of the unread columns.

mod aliases;
mod notices;
mod sniff;
mod words;

#[cfg(test)]
mod tests;

pub use notices::{ColumnReport, Notice, clashes, report};
pub use sniff::{Sniffer, looks_like_date, looks_like_id_number};
pub use words::{Rule, normalise};

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
}
