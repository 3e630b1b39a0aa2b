//! The case's application and approval form (救助申请审批表), printed for the file: the
//! patient, the group and the roster entries the eligibility rested on, the diagnosis, and the
//! opinions of the caseworker (经办人), the approver (审核人) and the person in charge (负责人)
//! with their dates and boxes to sign. In Chinese, like every paper of the programme.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{WebUser, app_error_page, evidence, fmt, render};
use crate::access;
use crate::access_log::{Action as LogAction, Read, Source};
use crate::case::{self, CaseDetail, workflow::CaseState};
use crate::domain::{Label, Lang};
use crate::error::AppError;
use crate::state::AppState;

/// This page's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/cases/{id}/form", get(form))
}

/// An opinion on the form: who, what, when.
struct Opinion {
    role: &'static str,
    name: String,
    text: String,
    date: String,
}

#[derive(Template)]
#[template(path = "cases/form.html")]
struct FormPage {
    title: &'static str,
    c: case::CaseView,
    groups: String,
    entries: Vec<String>,
    opinions: Vec<Opinion>,
    printed: String,
    org: &'static str,
}

async fn form(
    State(state): State<AppState>,
    web: WebUser,
    source: Source,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let user = web.require(access::pages::CASES)?;
    let fail = |e: AppError| app_error_page(Some(user.clone()), e);
    let CaseDetail {
        case: c, events, ..
    } = case::get(&state.db, &user, id).await.map_err(fail)?;
    let read = Read::new(&user, &source, LogAction::CaseRead);
    state
        .access_log
        .record(read.person(c.person.id).resource(format!("case:{id}")))
        .await;
    let zh = Lang::Zh;
    let (groups, entries) = evidence::case_basis(c.evidence.as_ref(), zh);
    let name = super::cases::name_of;
    // The decision: the latest approval or rejection, with its reason.
    let decision = events
        .iter()
        .rev()
        .find(|e| matches!(e.to, CaseState::Approved | CaseState::Rejected));
    let opinions = vec![
        Opinion {
            role: "经办人意见",
            name: name(c.opened_by.as_ref()),
            text: "经核查，申请人符合救助条件，建议给予救助。".to_owned(),
            date: c.created_at.format("%Y-%m-%d").to_string(),
        },
        Opinion {
            role: "审核人意见",
            name: decision.map(|e| name(e.by.as_ref())).unwrap_or_default(),
            text: decision
                .map(|e| {
                    let verdict = e.to.label(zh);
                    match &e.reason {
                        Some(r) if !r.is_empty() => format!("{verdict}：{r}"),
                        _ => verdict.to_owned(),
                    }
                })
                .unwrap_or_else(|| "（待审核）".to_owned()),
            date: decision
                .map(|e| crate::clock::day_of(e.at).to_string())
                .unwrap_or_default(),
        },
        Opinion {
            role: "负责人意见",
            name: String::new(),
            text: String::new(),
            date: String::new(),
        },
    ];
    Ok(render(&FormPage {
        title: "肿瘤患者救助申请审批表",
        groups,
        entries,
        opinions,
        printed: fmt::at(&user.now),
        org: "红十字会 肿瘤患者救助项目",
        c,
    }))
}
