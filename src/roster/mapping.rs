//! The clerk's corrections to how a sheet's columns were read: a column, by its letter, read
//! as a field or as nothing (kept as extra data). Kept with the import
//! (`roster_imports.column_mapping`), applied when the header is settled (`rows::Validator`),
//! before two columns claiming one field are looked for: the clerk's choice wins over the
//! header's words.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::columns::Field;
use crate::error::Msg;

/// Per sheet name, per column letter: the field's code, or None for "no field".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping(pub BTreeMap<String, BTreeMap<String, Option<String>>>);

/// A column letter (A, B, ..., Z, AA, ...) read as a 0-based index; None for anything else.
pub fn letter_index(letter: &str) -> Option<usize> {
    let letter = letter.trim();
    if letter.is_empty() || letter.len() > 3 || !letter.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut n: usize = 0;
    for b in letter.bytes() {
        n = n * 26 + usize::from(b - b'A' + 1);
    }
    Some(n - 1)
}

/// Why a correction cannot be taken.
pub fn check(letter: &str, field: Option<&str>) -> Result<(usize, Option<Field>), (String, Msg)> {
    let index = letter_index(letter).ok_or_else(|| {
        (
            "column".to_owned(),
            Msg::new(
                format!("列号“{letter}”无效：请写 A、B、C……这样的列号。"),
                format!("'{letter}' is not a column letter: write A, B, C, ..."),
            ),
        )
    })?;
    let field = match field.map(str::trim).filter(|f| !f.is_empty()) {
        None => None,
        Some(code) => Some(Field::from_code(code).ok_or_else(|| {
            let codes: Vec<&str> = Field::ALL.iter().map(|f| f.label_en()).collect();
            (
                "field".to_owned(),
                Msg::new(
                    format!(
                        "“{code}”不是可读取的项目：可选 {}，或留空表示不读取。",
                        codes.join("、")
                    ),
                    format!(
                        "'{code}' is no field: use {}, or leave it empty for none.",
                        codes.join(", ")
                    ),
                ),
            )
        })?),
    };
    Ok((index, field))
}

impl Mapping {
    /// Reads the stored mapping; an unreadable one is none.
    pub fn from_json(v: Option<&serde_json::Value>) -> Mapping {
        v.and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// Sets one column of one sheet; another column set to the same field earlier loses it
    /// (reads as its header says again): the latest correction wins.
    pub fn set(&mut self, sheet: &str, letter: &str, field: Option<Field>) {
        let cols = self.0.entry(sheet.to_owned()).or_default();
        if let Some(f) = field {
            cols.retain(|l, v| l == letter || v.as_deref() != Some(f.label_en()));
        }
        cols.insert(letter.to_owned(), field.map(|f| f.label_en().to_owned()));
    }

    /// The corrections of one sheet: (column index, field or none).
    pub fn for_sheet(&self, sheet: &str) -> Vec<(usize, Option<Field>)> {
        self.0
            .get(sheet)
            .map(|cols| {
                cols.iter()
                    .filter_map(|(letter, field)| {
                        let i = letter_index(letter)?;
                        let f = match field {
                            None => None,
                            Some(code) => Some(Field::from_code(code)?),
                        };
                        Some((i, f))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }
}

/// Applies a sheet's corrections to the fields its header's columns claim: a column set to a
/// field takes it from any other column; a column set to none claims nothing.
pub fn apply(claims: &mut Vec<Option<Field>>, corrections: &[(usize, Option<Field>)]) {
    for &(i, field) in corrections {
        if let Some(f) = field {
            for c in claims.iter_mut().filter(|c| **c == Some(f)) {
                *c = None;
            }
        }
        if claims.len() <= i {
            claims.resize(i + 1, None);
        }
        claims[i] = field;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_read_back() {
        assert_eq!(letter_index("A"), Some(0));
        assert_eq!(letter_index("Z"), Some(25));
        assert_eq!(letter_index("AA"), Some(26));
        assert_eq!(letter_index("AB"), Some(27));
        for bad in ["", "a", "A1", "ABCD", "中"] {
            assert_eq!(letter_index(bad), None, "{bad}");
        }
        for i in [0, 25, 26, 701, 702] {
            assert_eq!(letter_index(&super::super::rows::column_letter(i)), Some(i));
        }
    }

    #[test]
    fn the_clerks_choice_wins_over_the_headers_words() {
        let mut claims = vec![Some(Field::IdNumber), Some(Field::ValidFrom), None];
        apply(
            &mut claims,
            &[(2, Some(Field::ValidFrom)), (0, Some(Field::IdNumber))],
        );
        assert_eq!(
            claims,
            [Some(Field::IdNumber), None, Some(Field::ValidFrom)]
        );
        apply(&mut claims, &[(2, None), (4, Some(Field::ValidTo))]);
        assert_eq!(
            claims,
            [
                Some(Field::IdNumber),
                None,
                None,
                None,
                Some(Field::ValidTo)
            ]
        );
    }

    #[test]
    fn the_latest_correction_of_a_field_wins() {
        let mut m = Mapping::default();
        m.set("S", "C", Some(Field::ValidFrom));
        m.set("S", "B", Some(Field::ValidFrom));
        m.set("S", "D", None);
        assert_eq!(m.for_sheet("S"), [(1, Some(Field::ValidFrom)), (3, None)]);
    }

    #[test]
    fn a_bad_correction_names_its_field() {
        assert_eq!(
            check("C", Some("valid_from")).unwrap(),
            (2, Some(Field::ValidFrom))
        );
        assert_eq!(check("C", Some("")).unwrap(), (2, None));
        assert_eq!(check("3", None).unwrap_err().0, "column");
        assert_eq!(check("C", Some("birthday")).unwrap_err().0, "field");
    }
}
