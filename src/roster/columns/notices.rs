//! The result of reading a header: which column became which field, and the columns that
//! claim one field.

use std::sync::Arc;

use serde::Serialize;

use super::Field;
use crate::roster::rows::column_letter;

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
pub(super) fn column_name(headers: &[Arc<str>], i: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
