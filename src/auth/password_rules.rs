//! What a new password must be: long, not the account's own name, not a common password.
//!
//! Length matters far more than character classes (NIST SP 800-63B), so there are no rules
//! about digits or capitals: a sentence of Chinese characters is as good as anything. The list
//! of common passwords is SecLists' "10k most common" (MIT licence), compiled into the binary
//! so that an offline branch has it too.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::{FieldError, Msg};

/// The shortest password accepted, in characters (not bytes, so Chinese counts per character).
pub const MIN_CHARS: usize = 12;
/// The longest, in bytes: Argon2 hashes anything, but nobody types more, and it bounds the work.
pub const MAX_BYTES: usize = 256;
/// A password with fewer different characters than this ("aaaaaaaaaaaa", "121212121212") is
/// refused however long it is.
const MIN_DISTINCT: usize = 5;

static COMMON_LIST: &str = include_str!("common_passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_LIST
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// A password that passed the rules; only [`NewPassword::parse`] makes one, so no code path
/// can store a password that skipped them.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Checks a password chosen for the account `username`.
    pub fn parse(text: &str, username: &str) -> Result<NewPassword, FieldError> {
        let problem = |zh: String, en: String| Err(FieldError::new("password", Msg::new(zh, en)));
        let chars = text.chars().count();
        if chars < MIN_CHARS {
            return problem(
                format!("密码至少{MIN_CHARS}个字符（现在是{chars}个）；可以用一句好记的话。"),
                format!(
                    "A password has at least {MIN_CHARS} characters (this one has {chars}); \
                     a short sentence is easy to remember."
                ),
            );
        }
        if text.len() > MAX_BYTES {
            return problem(
                format!("密码太长，最多{MAX_BYTES}字节。"),
                format!("A password has at most {MAX_BYTES} bytes."),
            );
        }
        let lower = text.trim().to_lowercase();
        let name = username.trim().to_lowercase();
        if !name.is_empty() && stem(&lower) == stem(&name) {
            return problem(
                "密码不能是用户名（加上数字或符号也不行）。".into(),
                "A password cannot be the username, with or without digits or symbols added."
                    .into(),
            );
        }
        if is_common(&lower) {
            return problem(
                "这个密码属于最常见的密码，很容易被猜到，请换一个。".into(),
                "This is one of the most common passwords and easy to guess; choose another."
                    .into(),
            );
        }
        if lower.chars().all(|c| c.is_ascii_digit()) {
            // Phone numbers, birth dates and ID numbers are the digits people choose.
            return problem(
                "密码不能只有数字（电话、生日、身份证号都容易被猜到）。".into(),
                "A password cannot be digits only (phone numbers, birthdays and ID numbers are \
                 easy to guess)."
                    .into(),
            );
        }
        let mut distinct: Vec<char> = lower.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < MIN_DISTINCT {
            return problem(
                format!("密码里不同的字符太少，至少要有{MIN_DISTINCT}个不同的字符。"),
                format!("A password needs at least {MIN_DISTINCT} different characters."),
            );
        }
        Ok(NewPassword(text.to_owned()))
    }

    /// The password itself, to be hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The password without the digits and symbols people tack on at the end ("password2024!").
fn stem(lower: &str) -> &str {
    lower.trim_end_matches(|c: char| !c.is_alphabetic())
}

/// On the list as it is, or a listed word with digits or symbols added at the end.
fn is_common(lower: &str) -> bool {
    let list = common();
    list.contains(lower) || {
        let s = stem(lower);
        !s.is_empty() && list.contains(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: &str, user: &str) -> String {
        NewPassword::parse(p, user).unwrap_err().message.zh
    }

    #[test]
    fn the_list_is_shipped_whole() {
        assert!(common().len() > 9_000, "{} entries", common().len());
        assert!(common().contains("password") && common().contains("qwerty"));
    }

    #[test]
    fn short_passwords_are_counted_in_characters() {
        assert!(refused("12345678", "admin").contains("至少12个字符（现在是8个）"));
        // Twelve Chinese characters are twelve characters, though 36 bytes.
        assert!(NewPassword::parse("红十字会救助癌症患者很好", "admin").is_ok());
        assert!(refused("红十字会救助癌症患者", "admin").contains("现在是10个"));
        assert!(refused(&"x".repeat(MAX_BYTES + 1), "admin").contains("太长"));
    }

    #[test]
    fn the_username_with_or_without_a_tail_is_refused() {
        assert!(refused("zhang.san.wei", "Zhang.San.Wei").contains("用户名"));
        assert!(refused("zhang.san.wei2024!", "zhang.san.wei").contains("用户名"));
        assert!(NewPassword::parse("zhang.san.wei-at-the-desk", "zhang.san.wei").is_ok());
        // A name ending in digits: the same name with other digits is still the name.
        assert!(refused("li.ming.wei2024!", "li.ming.wei01").contains("用户名"));
    }

    #[test]
    fn common_passwords_are_refused_with_digits_added() {
        assert!(refused("1234567890123", "admin").contains("只有数字"));
        assert!(refused("password123456", "admin").contains("最常见"));
        assert!(refused("Qwerty!!2024!", "admin").contains("最常见"));
        assert!(refused("aaaaaaaaaaaaaaaa", "admin").contains("不同的字符"));
        assert!(NewPassword::parse("correct horse battery", "admin").is_ok());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let p = NewPassword::parse("correct horse battery", "admin").unwrap();
        assert_eq!(format!("{p:?}"), "NewPassword(***)");
    }
}
