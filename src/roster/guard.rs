//! When a full import is too destructive to run on one click.
//!
//! A full import makes its file the whole roster of a group in a region: whoever the file does
//! not list stops being covered. A header-only file, a file of the wrong county, or a sheet cut
//! short would end everyone at once, and its people would fail eligibility the next morning.
//! Such an import is activated only with a confirmation and a reason (given at activation, or
//! by the uploader with the file), which are kept with the import and written to the audit log.

use crate::error::Msg;

/// What a full import would do to its scope, known once its rows are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Rows accepted from the file.
    pub accepted: i64,
    /// People covered in the scope (the group in the region) on the effective date, before.
    pub covered: i64,
    /// Of those, how many the import would end.
    pub ended: i64,
}

/// Why a full import needs a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destructive {
    /// No row of the file was accepted.
    NothingAccepted(Effect),
    /// It would end more than half of the people covered in its scope.
    EndsMost(Effect),
}

impl Effect {
    /// Whether the import is destructive enough to need a confirmation.
    pub fn destructive(self) -> Option<Destructive> {
        if self.accepted == 0 {
            Some(Destructive::NothingAccepted(self))
        } else if self.ended * 2 > self.covered {
            Some(Destructive::EndsMost(self))
        } else {
            None
        }
    }
}

impl Destructive {
    /// The figures behind it.
    pub fn effect(self) -> Effect {
        match self {
            Destructive::NothingAccepted(e) | Destructive::EndsMost(e) => e,
        }
    }

    /// The refusal, saying what the import would have done and how to go ahead anyway.
    pub fn refusal(self) -> Msg {
        let Effect { covered, ended, .. } = self.effect();
        let (zh, en) = match self {
            Destructive::NothingAccepted(_) => (
                format!(
                    "全量导入未接受任何一行，却会终止该地区该类别在册的 {ended} 人（共 {covered} 人）。"
                ),
                format!(
                    "The full import accepted no row, yet it would end {ended} of the {covered} people covered in its group and region."
                ),
            ),
            Destructive::EndsMost(_) => (
                format!("全量导入将终止该地区该类别在册 {covered} 人中的 {ended} 人，超过一半。"),
                format!(
                    "The full import would end {ended} of the {covered} people covered in its group and region, more than half."
                ),
            ),
        };
        Msg::new(
            format!(
                "{zh}名册未作任何改动。请先核对文件、救助类别和地区；确需如此，请在启用时勾选“确认全量替换”并填写原因。"
            ),
            format!(
                "{en} Nothing was changed. Check the file, the group and the region first; if this is really meant, activate it with the confirmation ticked and a reason."
            ),
        )
    }
}

/// The uploader's reason for confirming a destructive import: 4 to 500 characters of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Longest reason kept.
    pub const MAX_CHARS: usize = 500;
    /// Shortest reason accepted (a word or two in Chinese).
    pub const MIN_CHARS: usize = 4;

    /// A reason, trimmed; a message for the `reason` field otherwise.
    pub fn parse(s: &str) -> Result<Reason, Msg> {
        let s = s.trim();
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Msg::new(
                format!(
                    "确认全量替换须填写原因（至少 {} 个字），如“2026年度重新核定，原名册作废”。",
                    Self::MIN_CHARS
                ),
                format!(
                    "Confirming a full replacement needs a reason of at least {} characters, such as 'the 2026 review replaces the old roster'.",
                    Self::MIN_CHARS
                ),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(Msg::new(
                format!("原因过长：最多 {} 个字。", Self::MAX_CHARS),
                format!(
                    "The reason is too long: at most {} characters.",
                    Self::MAX_CHARS
                ),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Msg::new(
                "原因中含有控制字符，请只填写文字。",
                "The reason holds control characters: write plain text.",
            ));
        }
        Ok(Reason(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(accepted: i64, covered: i64, ended: i64) -> Effect {
        Effect {
            accepted,
            covered,
            ended,
        }
    }

    #[test]
    fn a_file_that_accepts_nothing_or_ends_most_of_the_scope_is_destructive() {
        // The header-only file: nothing accepted, everyone ended.
        assert!(matches!(
            effect(0, 6, 6).destructive(),
            Some(Destructive::NothingAccepted(_))
        ));
        // Even with nobody to end: a full import of nothing is a mistake.
        assert!(effect(0, 0, 0).destructive().is_some());
        assert!(matches!(
            effect(10, 100, 51).destructive(),
            Some(Destructive::EndsMost(_))
        ));
        // Exactly half is allowed; so is a new roster in an empty scope.
        assert_eq!(effect(10, 100, 50).destructive(), None);
        assert_eq!(effect(10, 0, 0).destructive(), None);
        assert_eq!(effect(90, 100, 3).destructive(), None);
    }

    #[test]
    fn a_reason_is_short_plain_text() {
        assert_eq!(
            Reason::parse("  年度重新核定  ").unwrap().as_str(),
            "年度重新核定"
        );
        assert!(Reason::parse("好").is_err());
        assert!(Reason::parse("").is_err());
        assert!(Reason::parse(&"字".repeat(501)).is_err());
        assert!(Reason::parse("年度\u{7}核定名册").is_err());
    }
}
