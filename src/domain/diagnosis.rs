//! Diagnoses as ICD-10 codes (疾病诊断编码) and the ranges of them the programme covers.
//!
//! Codes arrive as clerks type them: `C34`, `C34.1`, `c34.10`, `C341`, full-width
//! `Ｃ３４．１`. Only the normalised form exists as a [`Diagnosis`]: upper case, no spaces,
//! a dot after the three-character category. Coverage is decided on the category (`C34`),
//! so every national extension of a covered category (`C34.100x001`) is covered too.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use super::{Lang, Localized};

/// The longest subdivision accepted after the dot: the national clinical edition (国家临床版)
/// writes codes such as `C34.100x001`.
const MAX_SUBDIVISION: usize = 8;

/// Why a text is not an ICD-10 code, or not a list of ranges of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnosisError {
    /// Nothing was given.
    #[error("the diagnosis code is empty")]
    Empty,
    /// Not a letter, two digits and an optional subdivision.
    #[error(
        "'{0}' is not an ICD-10 code: write a letter, two digits and an optional subdivision, such as C34 or C34.1"
    )]
    Malformed(String),
    /// A range that is not `C00-C97` or `C50`, or that runs backwards.
    #[error("'{0}' is not a range of ICD-10 categories: write it as C00-C97 or C50")]
    BadRange(String),
}

impl Localized for DiagnosisError {
    fn code(&self) -> &'static str {
        match self {
            DiagnosisError::Empty => "diagnosis_missing",
            DiagnosisError::Malformed(_) => "invalid_diagnosis_code",
            DiagnosisError::BadRange(_) => "invalid_diagnosis_range",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (DiagnosisError::Empty, Lang::Zh) => "诊断编码为空，请填写 ICD-10 编码。".into(),
            (DiagnosisError::Malformed(v), Lang::Zh) => format!(
                "“{v}”不是有效的 ICD-10 诊断编码：应为1个字母加2位数字，可带亚目，如 C34 或 C34.1。"
            ),
            (DiagnosisError::BadRange(v), Lang::Zh) => {
                format!("“{v}”不是有效的 ICD-10 类目范围：应写作 C00-C97 或 C50。")
            }
        }
    }
}

/// An ICD-10 category: a letter and two digits, ordered as in the classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Category {
    letter: u8,
    number: u8,
}

impl Category {
    fn parse(s: &str) -> Option<Category> {
        let b = s.as_bytes();
        (b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)).then(
            || Category {
                letter: b[0],
                number: (b[1] - b'0') * 10 + (b[2] - b'0'),
            },
        )
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", self.letter as char, self.number)
    }
}

/// A normalised ICD-10 diagnosis code such as `C34` or `C34.1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnosis {
    code: String,
    category: Category,
}

fn clean(raw: &str) -> String {
    raw.nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl Diagnosis {
    /// Parses a code as typed: case, width and spaces do not matter, and the dot after the
    /// category may be left out (`C341` is `C34.1`).
    pub fn parse(raw: &str) -> Result<Diagnosis, DiagnosisError> {
        let s = clean(raw);
        if s.is_empty() {
            return Err(DiagnosisError::Empty);
        }
        let malformed = || DiagnosisError::Malformed(raw.trim().to_owned());
        let head = s.get(..3).ok_or_else(malformed)?;
        let category = Category::parse(head).ok_or_else(malformed)?;
        let rest = &s[3..];
        let sub = rest.strip_prefix('.').unwrap_or(rest);
        // The subdivision starts with a digit; letters come only later (C34.100X001).
        let sub_ok = sub.len() <= MAX_SUBDIVISION
            && sub.bytes().all(|b| b.is_ascii_alphanumeric())
            && sub.bytes().next().is_none_or(|b| b.is_ascii_digit());
        if !sub_ok {
            return Err(malformed());
        }
        let code = if sub.is_empty() {
            head.to_owned()
        } else {
            format!("{head}.{sub}")
        };
        Ok(Diagnosis { code, category })
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The three-character category (`C34` of `C34.1`).
    pub fn category(&self) -> Category {
        self.category
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl std::str::FromStr for Diagnosis {
    type Err = DiagnosisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Diagnosis::parse(s)
    }
}

impl Serialize for Diagnosis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code)
    }
}

impl<'de> Deserialize<'de> for Diagnosis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Diagnosis::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The categories the programme covers, as a list of inclusive ranges (`C00-C97,D00-D09`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisRanges(Vec<(Category, Category)>);

impl Default for DiagnosisRanges {
    /// The malignant neoplasms of ICD-10 chapter II: C00-C97.
    fn default() -> Self {
        DiagnosisRanges::parse("C00-C97").expect("C00-C97 is a valid range")
    }
}

impl DiagnosisRanges {
    /// Parses ranges separated by commas, semicolons or spaces; a single category is a range
    /// of one.
    pub fn parse(raw: &str) -> Result<DiagnosisRanges, DiagnosisError> {
        let s: String = raw
            .nfkc()
            .flat_map(char::to_uppercase)
            .map(|c| if c == '–' || c == '—' { '-' } else { c })
            .collect();
        let mut ranges = Vec::new();
        for part in s
            .split([',', ';', ' ', '，', '；'])
            .filter(|p| !p.is_empty())
        {
            let bad = || DiagnosisError::BadRange(part.to_owned());
            let (from, to) = part.split_once('-').unwrap_or((part, part));
            let from = Category::parse(from.trim()).ok_or_else(bad)?;
            let to = Category::parse(to.trim()).ok_or_else(bad)?;
            if from > to {
                return Err(bad());
            }
            ranges.push((from, to));
        }
        if ranges.is_empty() {
            return Err(DiagnosisError::BadRange(raw.trim().to_owned()));
        }
        Ok(DiagnosisRanges(ranges))
    }

    /// Whether a diagnosis falls in one of the ranges.
    pub fn covers(&self, d: &Diagnosis) -> bool {
        let c = d.category();
        self.0.iter().any(|(from, to)| *from <= c && c <= *to)
    }
}

impl fmt::Display for DiagnosisRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (from, to)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if from == to {
                write!(f, "{from}")?;
            } else {
                write!(f, "{from}-{to}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_to_upper_case_with_a_dot() {
        let cases = [
            ("C34", "C34"),
            ("C34.1", "C34.1"),
            ("c34.10", "C34.10"),
            (" c34.1 ", "C34.1"),
            ("C341", "C34.1"),
            ("C34.", "C34"),
            ("Ｃ３４．１", "C34.1"),
            ("C 34.1", "C34.1"),
            ("c34.100x001", "C34.100X001"),
            ("D09.9", "D09.9"),
        ];
        for (raw, expected) in cases {
            let d = Diagnosis::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(d.as_str(), expected, "{raw:?}");
            assert_eq!(d.category().to_string(), &expected[..3], "{raw:?}");
        }
    }

    #[test]
    fn malformed_codes_are_refused_with_what_to_write() {
        assert_eq!(Diagnosis::parse("  "), Err(DiagnosisError::Empty));
        for raw in [
            "C3",
            "34.1",
            "CC4.1",
            "C34..1",
            "C34.X1",
            "C34-1",
            "肺癌",
            "C34.123456789",
            "C",
        ] {
            let e = Diagnosis::parse(raw).expect_err(raw);
            assert_eq!(e.code(), "invalid_diagnosis_code", "{raw:?}");
            assert!(e.message(Lang::Zh).contains("ICD-10"));
            assert!(e.message(Lang::En).contains("C34.1"));
        }
    }

    #[test]
    fn the_default_covers_the_malignant_neoplasms_only() {
        let r = DiagnosisRanges::default();
        assert_eq!(r.to_string(), "C00-C97");
        for covered in ["C00", "C34.1", "c34.10", "C50.9", "C97"] {
            assert!(r.covers(&Diagnosis::parse(covered).unwrap()), "{covered}");
        }
        for not in ["D00", "D09.9", "B99", "E11.9", "Z51.1"] {
            assert!(!r.covers(&Diagnosis::parse(not).unwrap()), "{not}");
        }
    }

    #[test]
    fn ranges_are_configurable_and_checked() {
        let r = DiagnosisRanges::parse("c00-c97, D00-D09;D45").unwrap();
        assert_eq!(r.to_string(), "C00-C97,D00-D09,D45");
        assert!(r.covers(&Diagnosis::parse("D05.1").unwrap()));
        assert!(r.covers(&Diagnosis::parse("D45").unwrap()));
        assert!(!r.covers(&Diagnosis::parse("D46").unwrap()));
        for bad in ["", "C97-C00", "C0-C97", "X", "C00-", "C00-C97-D00"] {
            assert!(DiagnosisRanges::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_uses_the_normalised_code() {
        let d: Diagnosis = serde_json::from_str("\"c34.1\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"C34.1\"");
        assert!(serde_json::from_str::<Diagnosis>("\"lung\"").is_err());
    }
}
