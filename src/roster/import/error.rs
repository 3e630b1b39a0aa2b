//! Why a run failed, and the message recorded on the failed import.

use sea_orm::Value;

use super::cols;
use crate::error::Msg;
use crate::roster::tally::StopReason;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file cannot be read as a roster.
    #[error("{}", .0.en)]
    File(Msg),
    /// Two columns of a sheet claim one field; the sheets as read, for the clerk to correct.
    #[error("{}", .0.en)]
    Header(Msg, serde_json::Value),
    /// The file is not what the clerk meant (`roster::tally`).
    #[error("{}", .0.reason.message().en)]
    Stopped(Box<Stopped>),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Something else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// This instance no longer holds the import's claim (see `jobs`): another instance swept
    /// or took it over, so this run is rolled back and records nothing.
    #[error("the claim on the import was lost")]
    LostClaim,
}

/// An import stopped early, with the rejected rows read until then: they are kept for the
/// clerk to download although nothing else of the import lands.
#[derive(Debug)]
pub struct Stopped {
    pub(super) reason: StopReason,
    pub(super) rows: i64,
    pub(super) rejected: i64,
    /// Error rows as the writer would have stored them.
    pub(super) errors: Vec<Vec<Value>>,
}

impl Stopped {
    /// The reason, then the first few errors.
    pub(super) fn message(&self) -> Msg {
        let mut m = self.reason.message();
        let first: Vec<(String, String)> = self
            .errors
            .iter()
            .take(3)
            .map(|row| {
                // The row's values are in the order of `cols::ERROR`: found by name.
                let get = |name: &str| {
                    cols::ERROR
                        .iter()
                        .position(|c| c.name() == name)
                        .and_then(|i| row.get(i))
                };
                let text = |name: &str| match get(name) {
                    Some(Value::String(Some(s))) => s.to_string(),
                    _ => String::new(),
                };
                let at = match get("row_number") {
                    Some(Value::BigInt(Some(n))) => *n,
                    _ => 0,
                };
                let sheet = text("sheet");
                (
                    format!("“{sheet}”第{at}行：{}", text("message_zh")),
                    format!("'{sheet}' row {at}: {}", text("message_en")),
                )
            })
            .collect();
        if !first.is_empty() {
            let zh: Vec<&str> = first.iter().map(|(z, _)| z.as_str()).collect();
            let en: Vec<&str> = first.iter().map(|(_, e)| e.as_str()).collect();
            m = Msg::new(
                format!("{} 前几个错误：{}", m.zh, zh.join("；")),
                format!("{} The first errors: {}", m.en, en.join("; ")),
            );
        }
        m
    }
}

impl RunError {
    pub(super) fn message(&self) -> Msg {
        match self {
            RunError::File(m) | RunError::Header(m, _) => m.clone(),
            RunError::Stopped(s) => s.message(),
            RunError::Db(e) => Msg::new(
                format!("数据库出错，本次导入未生效，可重新运行：{e}"),
                format!(
                    "A database error stopped the import; nothing was changed and it can be run again: {e}"
                ),
            ),
            RunError::Other(e) => Msg::new(
                format!("导入出错，本次导入未生效，可重新运行：{e}"),
                format!("The import failed; nothing was changed and it can be run again: {e}"),
            ),
            RunError::LostClaim => Msg::new(
                "本实例已失去该导入的处理权，本次运行未生效。",
                "This instance lost its claim on the import; this run changed nothing.",
            ),
        }
    }
}
