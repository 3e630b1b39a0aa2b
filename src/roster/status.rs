//! Where an import stands. Stored as a code in `roster_imports.status`.
//!
//! queued → running (validating) → validated → succeeded (activated: the roster changed);
//! a validated import can instead be discarded, or expire when left alone; a run that cannot
//! finish ends failed. An activation that finds the roster changed since validation sends the
//! import back to queued, to be validated again.

/// The state of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the worker.
    Queued,
    /// Being read and validated.
    Running,
    /// Validated: the plan is staged, nothing in the roster changed yet.
    Validated,
    /// Activated: the roster holds what the file said (also a duplicate of such an import).
    Succeeded,
    /// The file could not be read or was not what the clerk meant; nothing changed.
    Failed,
    /// Someone decided against activating it.
    Discarded,
    /// Nobody activated it in time.
    Expired,
}

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

impl Status {
    /// Every state, in the order of the life of an import.
    pub const ALL: [Status; 7] = [
        Status::Queued,
        Status::Running,
        Status::Validated,
        Status::Succeeded,
        Status::Failed,
        Status::Discarded,
        Status::Expired,
    ];

    /// The stored code.
    pub const fn code(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Validated => "validated",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Discarded => "discarded",
            Status::Expired => "expired",
        }
    }

    /// The stored code read back; None for a code this version does not know.
    pub fn parse(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// What the clerk sees.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Queued => "排队中",
            Status::Running => "校验中",
            Status::Validated => "已校验，待启用",
            Status::Succeeded => "已生效",
            Status::Failed => "失败",
            Status::Discarded => "已放弃",
            Status::Expired => "已过期",
        }
    }

    /// What may be done next.
    pub fn allowed(self) -> &'static [Act] {
        match self {
            Status::Validated => &[Act::Activate, Act::Discard],
            Status::Succeeded => &[Act::Revert],
            Status::Failed => &[Act::Retry],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        assert_eq!(Status::parse("activated"), None);
    }
}
