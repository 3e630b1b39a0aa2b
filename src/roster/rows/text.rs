//! Text helpers of the rows: a name as compared, a column's letter, the extra data as JSON.

use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;

/// The pairs as the text of a JSON object, written straight from them: building a `serde_json`
/// map for each of a million rows cost more than storing the row.
pub(super) fn json_object(pairs: &[(Arc<str>, String)]) -> Option<String> {
    (!pairs.is_empty()).then(|| {
        let mut out = String::with_capacity(pairs.len() * 24);
        out.push('{');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let pair = serde_json::to_string(&**k).and_then(|k| Ok((k, serde_json::to_string(v)?)));
            let (k, v) = pair.expect("strings serialise");
            out.push_str(&k);
            out.push(':');
            out.push_str(&v);
        }
        out.push('}');
        out
    })
}

/// "A", "B", ... "AA" for a 0-based column.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// NFKC, one kind of middle dot (买买提·吐尔逊), no spaces inside Chinese names (clerks pad
/// two-character names to line them up), single spaces elsewhere.
pub fn normalise_name(raw: &str) -> String {
    // Common case: CJK ideographs only, which NFKC leaves alone and which need no spaces.
    if !raw.is_empty() && raw.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return raw.to_owned();
    }
    let s: String = raw
        .nfkc()
        .map(|c| {
            if matches!(c, '•' | '・' | '‧' | '∙' | '･' | '．' | '⋅') {
                '·'
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = s.split_whitespace().collect();
    let cjk = s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if cjk { words.concat() } else { words.join(" ") }
}
