//! The life of a case as a state machine, and who may move it: pure rules, no database.
//!
//! ```text
//!            ┌─approve──▶ approved ──close──▶ closed
//! submitted ─┼─reject───▶ rejected ──resubmit──▶ submitted
//!            └─withdraw─▶ withdrawn
//! ```

use std::fmt;

use serde::Serialize;

use crate::domain::{Label, Lang, Localized, Role};

pub use entity::case::State as CaseState;

impl Label for CaseState {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            CaseState::Submitted => lang.pick("已提交", "Submitted"),
            CaseState::Approved => lang.pick("已批准", "Approved"),
            CaseState::Rejected => lang.pick("已驳回", "Rejected"),
            CaseState::Withdrawn => lang.pick("已撤回", "Withdrawn"),
            CaseState::Closed => lang.pick("已结案", "Closed"),
        }
    }
}

/// The states that keep a person from opening another case in the same year.
pub const BLOCKING: [CaseState; 2] = [CaseState::Submitted, CaseState::Approved];

/// The actions allowed from a state.
pub fn allowed(state: CaseState) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.from() == state)
        .collect()
}

/// What can be done to a case after it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CaseAction)]
pub enum Action {
    /// submitted → approved (an approver who did not submit it; eligibility checked again).
    Approve,
    /// submitted → rejected (an approver who did not submit it; with a reason).
    Reject,
    /// submitted → withdrawn (its opener, or an approver).
    Withdraw,
    /// rejected → submitted (a caseworker; eligibility checked again).
    Resubmit,
    /// approved → closed (an approver or a manager; with a reason).
    Close,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Action::Approve,
        Action::Reject,
        Action::Withdraw,
        Action::Resubmit,
        Action::Close,
    ];

    /// The API and event code (also the last segment of its URL).
    pub fn code(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Resubmit => "resubmit",
            Action::Close => "close",
        }
    }

    /// The label shown to users.
    pub fn label(self, lang: Lang) -> &'static str {
        let zh = match self {
            Action::Approve => "批准",
            Action::Reject => "驳回",
            Action::Withdraw => "撤回",
            Action::Resubmit => "重新提交",
            Action::Close => "结案",
        };
        lang.pick(zh, self.code())
    }

    /// The only state the action starts from.
    pub fn from(self) -> CaseState {
        match self {
            Action::Approve | Action::Reject | Action::Withdraw => CaseState::Submitted,
            Action::Resubmit => CaseState::Rejected,
            Action::Close => CaseState::Approved,
        }
    }

    /// The state it leads to.
    pub fn to(self) -> CaseState {
        match self {
            Action::Approve => CaseState::Approved,
            Action::Reject => CaseState::Rejected,
            Action::Withdraw => CaseState::Withdrawn,
            Action::Resubmit => CaseState::Submitted,
            Action::Close => CaseState::Closed,
        }
    }

    /// Whether the person acting must say why (kept in the case's events).
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Reject | Action::Close)
    }

    /// Whether eligibility is checked again: nobody approves, or sends back for approval, a
    /// patient who no longer qualifies.
    pub fn rechecks_eligibility(self) -> bool {
        matches!(self, Action::Approve | Action::Resubmit)
    }

    /// The roles that may take the action at all (who among them may is [`authorize`]'s).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::Approve | Action::Reject => &[Role::Approver],
            Action::Withdraw => &[Role::Caseworker, Role::Approver],
            Action::Resubmit => &[Role::Caseworker],
            Action::Close => &[Role::Approver, Role::Manager],
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An action the case's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {state} case cannot be {action}d; allowed: {}", allowed_list(.allowed, Lang::En))]
pub struct NotAllowed {
    /// The case's state.
    pub state: CaseState,
    /// What was asked.
    pub action: Action,
    /// What the state allows.
    pub allowed: Vec<Action>,
}

fn allowed_list(allowed: &[Action], lang: Lang) -> String {
    if allowed.is_empty() {
        return lang.pick("无", "none").to_owned();
    }
    allowed
        .iter()
        .map(|a| a.label(lang))
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "))
}

impl Localized for NotAllowed {
    fn code(&self) -> &'static str {
        "transition_not_allowed"
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => format!(
                "A {} case cannot be {}; what it allows now: {}.",
                self.state.code(),
                match self.action {
                    Action::Approve => "approved",
                    Action::Reject => "rejected",
                    Action::Withdraw => "withdrawn",
                    Action::Resubmit => "resubmitted",
                    Action::Close => "closed",
                },
                allowed_list(&self.allowed, lang)
            ),
            Lang::Zh => format!(
                "案件当前状态为“{}”，不能{}；当前可进行的操作：{}。",
                self.state.label(lang),
                self.action.label(lang),
                allowed_list(&self.allowed, lang)
            ),
        }
    }
}

/// The state an action leads to from `state`, or why it cannot be taken.
pub fn transition(state: CaseState, action: Action) -> Result<CaseState, NotAllowed> {
    if action.from() == state {
        Ok(action.to())
    } else {
        Err(NotAllowed {
            state,
            action,
            allowed: allowed(state),
        })
    }
}

/// Who is acting, as far as the rules care.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// The user's id.
    pub user_id: i64,
    /// The user's roles.
    pub roles: &'a [Role],
}

/// Why someone may not take an action on a case they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The user has none of the action's roles.
    #[error("this action needs one of these roles: {0:?}")]
    Role(&'static [Role]),
    /// An approver deciding a case they opened or resubmitted themselves.
    #[error("you submitted this case, so someone else must decide it")]
    OwnCase,
    /// A caseworker withdrawing someone else's case.
    #[error("only the caseworker who opened the case, or an approver, may withdraw it")]
    NotOpener,
}

impl Localized for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::Role(_) => "role_required",
            Refusal::OwnCase => "own_case",
            Refusal::NotOpener => "not_case_opener",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refusal::Role(roles), Lang::Zh) => format!(
                "此操作需要{}角色，您的账号没有该权限。",
                roles
                    .iter()
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("或")
            ),
            (Refusal::Role(roles), Lang::En) => format!(
                "This needs the role {}, which your account does not have.",
                roles
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            (Refusal::OwnCase, Lang::Zh) => {
                "该案件由您提交，须由其他审核人审核（审批分离）。".into()
            }
            (Refusal::OwnCase, Lang::En) => {
                "You submitted this case, so another approver must decide it (separation of duties)."
                    .into()
            }
            (Refusal::NotOpener, Lang::Zh) => {
                "只有开立该案件的经办人或审核人可以撤回。".into()
            }
            (Refusal::NotOpener, Lang::En) => {
                "Only the caseworker who opened the case, or an approver, may withdraw it.".into()
            }
        }
    }
}

/// Whether `who` may take `action` on a case opened by `opened_by` and submitted (opened or
/// resubmitted) by `submitters`. Separation of duties: nobody decides a case they submitted,
/// even when they hold both roles.
pub fn authorize(
    action: Action,
    who: Acting<'_>,
    opened_by: i64,
    submitters: &[i64],
) -> Result<(), Refusal> {
    let roles = action.roles();
    if !roles.iter().any(|r| who.roles.contains(r)) {
        return Err(Refusal::Role(roles));
    }
    match action {
        Action::Approve | Action::Reject
            if who.user_id == opened_by || submitters.contains(&who.user_id) =>
        {
            Err(Refusal::OwnCase)
        }
        Action::Withdraw if who.user_id != opened_by && !who.roles.contains(&Role::Approver) => {
            Err(Refusal::NotOpener)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_moves_from_exactly_one_state() {
        let table = [
            (CaseState::Submitted, Action::Approve, CaseState::Approved),
            (CaseState::Submitted, Action::Reject, CaseState::Rejected),
            (CaseState::Submitted, Action::Withdraw, CaseState::Withdrawn),
            (CaseState::Rejected, Action::Resubmit, CaseState::Submitted),
            (CaseState::Approved, Action::Close, CaseState::Closed),
        ];
        for &state in CaseState::ALL {
            for action in Action::ALL {
                let expected = table
                    .iter()
                    .find(|(s, a, _)| *s == state && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(state, action).ok(),
                    expected,
                    "{state} --{action}-->"
                );
            }
        }
    }

    #[test]
    fn a_refused_transition_names_what_is_allowed() {
        let e = transition(CaseState::Approved, Action::Approve).unwrap_err();
        assert_eq!(e.allowed, vec![Action::Close]);
        assert_eq!(e.code(), "transition_not_allowed");
        assert!(e.message(Lang::Zh).contains("已批准"));
        assert!(e.message(Lang::Zh).contains("结案"));
        assert!(e.message(Lang::En).contains("close"));
        let e = transition(CaseState::Closed, Action::Withdraw).unwrap_err();
        assert!(e.allowed.is_empty());
        assert!(e.message(Lang::En).contains("none"));
        assert_eq!(
            allowed(CaseState::Submitted),
            vec![Action::Approve, Action::Reject, Action::Withdraw]
        );
    }

    #[test]
    fn nobody_decides_a_case_they_submitted() {
        let both = [Role::Caseworker, Role::Approver];
        let me = Acting {
            user_id: 7,
            roles: &both,
        };
        assert_eq!(
            authorize(Action::Approve, me, 7, &[7]),
            Err(Refusal::OwnCase)
        );
        assert_eq!(
            authorize(Action::Reject, me, 3, &[3, 7]),
            Err(Refusal::OwnCase),
            "a resubmitter is a submitter too"
        );
        assert_eq!(authorize(Action::Approve, me, 3, &[3]), Ok(()));
        // Withdrawing or closing one's own case is not a decision on it.
        assert_eq!(authorize(Action::Withdraw, me, 7, &[7]), Ok(()));
    }

    #[test]
    fn roles_and_openers_bound_each_action() {
        let worker = Acting {
            user_id: 1,
            roles: &[Role::Caseworker],
        };
        let approver = Acting {
            user_id: 2,
            roles: &[Role::Approver],
        };
        let manager = Acting {
            user_id: 3,
            roles: &[Role::Manager],
        };
        assert!(matches!(
            authorize(Action::Approve, worker, 9, &[9]),
            Err(Refusal::Role(_))
        ));
        assert_eq!(authorize(Action::Withdraw, worker, 1, &[1]), Ok(()));
        assert_eq!(
            authorize(Action::Withdraw, worker, 9, &[9]),
            Err(Refusal::NotOpener)
        );
        assert_eq!(authorize(Action::Withdraw, approver, 9, &[9]), Ok(()));
        assert_eq!(authorize(Action::Resubmit, worker, 9, &[9]), Ok(()));
        assert!(authorize(Action::Resubmit, approver, 9, &[9]).is_err());
        assert_eq!(authorize(Action::Close, manager, 9, &[9]), Ok(()));
        assert_eq!(authorize(Action::Close, approver, 9, &[9]), Ok(()));
        assert!(authorize(Action::Close, worker, 9, &[9]).is_err());
        assert!(Refusal::OwnCase.message(Lang::Zh).contains("审批分离"));
    }
}
