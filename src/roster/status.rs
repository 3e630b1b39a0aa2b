//! Where an import stands (the states are the entity's `roster_import::Status`) and what may
//! be done to it there.
//!
//! queued → running (validating) → validated → succeeded (activated: the roster changed);
//! a validated import can instead be discarded, or expire when left alone; a run that cannot
//! finish ends failed. An activation that finds the roster changed since validation sends the
//! import back to queued, to be validated again.

use crate::domain::{Label, Lang};

pub use entity::roster_import::Status;

/// What can be done to an import in a given state (the `allowed` of a 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Activate,
    Discard,
    Retry,
    Revert,
}

impl Act {
    /// The code clients see.
    pub fn code(self) -> &'static str {
        match self {
            Act::Activate => "activate",
            Act::Discard => "discard",
            Act::Retry => "retry",
            Act::Revert => "revert",
        }
    }
}

impl Label for Status {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Queued => lang.pick("排队中", "Queued"),
            Status::Running => lang.pick("校验中", "Validating"),
            Status::Validated => lang.pick("已校验，待启用", "Validated, awaiting activation"),
            Status::Succeeded => lang.pick("已生效", "Activated"),
            Status::Failed => lang.pick("失败", "Failed"),
            Status::Discarded => lang.pick("已放弃", "Discarded"),
            Status::Expired => lang.pick("已过期", "Expired"),
        }
    }
}

/// What may be done next to an import in a state.
pub fn allowed(status: Status) -> &'static [Act] {
    match status {
        Status::Validated => &[Act::Activate, Act::Discard],
        Status::Succeeded => &[Act::Revert],
        Status::Failed => &[Act::Retry],
        _ => &[],
    }
}
