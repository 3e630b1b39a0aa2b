//! The two languages of the product: Simplified Chinese for the clerks (the default) and English.

/// The language a message is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the default for every user.
    #[default]
    Zh,
    /// English, on request (`Accept-Language: en`).
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` value: English only when it is preferred
    /// over Chinese, since the people at the counter read Chinese.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("zh") {
                Lang::Zh
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// Chooses between a Chinese and an English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// An error a user can act on: a stable code for programs and a message for people.
pub trait Localized {
    /// A stable snake_case code, such as `invalid_id_number`.
    fn code(&self) -> &'static str;
    /// The message in the given language, saying what to fix.
    fn message(&self, lang: Lang) -> String;
}

/// A stored value's name for people: the codes of states and kinds are the entities', the
/// words for them live beside the rules that use them.
pub trait Label: Copy {
    /// The name in the given language.
    fn label(self, lang: Lang) -> &'static str;
}

/// The codes a field accepts, for a message that says what to type: "pending（待审核）、
/// approved（已审核）" in Chinese, "pending, approved or paid" in English.
pub fn choices<T: entity::Coded + Label>(lang: Lang) -> String {
    let all = T::all();
    match lang {
        Lang::Zh => all
            .iter()
            .map(|v| format!("{}（{}）", v.code(), v.label(Lang::Zh)))
            .collect::<Vec<_>>()
            .join("、"),
        Lang::En => {
            let codes: Vec<&str> = all.iter().map(|v| v.code()).collect();
            match codes.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => codes.join(""),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_must_be_preferred() {
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en"), Lang::En);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("fr, en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("de"), Lang::Zh);
    }
}
