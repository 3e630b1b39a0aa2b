//! `/api/v1/policies`: everyone reads the subsidy policies; administrators create them and
//! correct those no visit has used.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{AppJson, AppPath, AppQuery};
use super::input;
use crate::auth::CurrentUser;
use crate::domain::Group;
use crate::domain::subsidy::Terms;
use crate::error::{AppResult, Problems};
use crate::policy::{self, Created, NewPolicy, PolicyPatch, PolicyView};
use crate::state::AppState;

/// `?group=&on=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    /// Only this group (code or label).
    pub group: Option<String>,
    /// Only the policies in force on this date.
    pub on: Option<String>,
}

/// `POST /api/v1/policies`. Money and the rate are strings ("0.60", "1000.00").
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreatePolicyRequest {
    /// Group code or label.
    pub group: Option<String>,
    /// 0 < rate <= 1.
    pub rate: Option<Value>,
    /// 起付线.
    pub deductible: Option<Value>,
    /// 单次封顶.
    pub per_visit_cap: Option<Value>,
    /// 年度封顶.
    pub annual_cap: Option<Value>,
    /// First day in force.
    pub effective_from: Option<String>,
    /// Last day in force; absent or null for open-ended.
    pub effective_to: Option<String>,
}

/// `PATCH /api/v1/policies/{id}`: absent fields stay; `"effective_to": null` makes the policy
/// open-ended.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdatePolicyRequest {
    /// New rate.
    pub rate: Option<Value>,
    /// New deductible.
    pub deductible: Option<Value>,
    /// New per-visit cap.
    pub per_visit_cap: Option<Value>,
    /// New annual cap.
    pub annual_cap: Option<Value>,
    /// New first day.
    pub effective_from: Option<String>,
    /// New last day, or null.
    #[serde(default, deserialize_with = "present")]
    pub effective_to: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit null (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn group_of(raw: Option<&str>, problems: &mut Problems) -> Option<Group> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(g) => Group::parse(g)
            .map_err(|e| problems.push_err("group", &e))
            .ok(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/policies",
    tag = "policies",
    params(PolicyQuery),
    responses(
        (status = 200, description = "Policies", body = Vec<PolicyView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/policies`: by group and start date.
pub async fn list_policies(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppQuery(q): AppQuery<PolicyQuery>,
) -> AppResult<Json<Vec<PolicyView>>> {
    let mut problems = Problems::new();
    let group = group_of(q.group.as_deref(), &mut problems);
    let on = input::date("on", q.on.as_deref(), &mut problems);
    problems.check()?;
    Ok(Json(policy::list(&state.db, group, on).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/policies/{id}",
    tag = "policies",
    params(("id" = i64, Path, description = "Id")),
    responses(
        (status = 200, description = "The policy", body = PolicyView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such policy", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/policies/{id}`.
pub async fn get_policy(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<PolicyView>> {
    Ok(Json(policy::get(&state.db, id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/policies",
    tag = "policies",
    request_body = CreatePolicyRequest,
    responses(
        (status = 201, description = "The new policy, and the open one it ended", body = Created),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Ending the open policy would change visits already granted", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad field or an overlap", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/policies`: 201 with the policy and the open-ended one it ended, if any.
pub async fn create_policy(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppJson(req): AppJson<CreatePolicyRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let mut problems = Problems::new();
    let group = group_of(req.group.as_deref(), &mut problems);
    if req.group.as_deref().is_none_or(|g| g.trim().is_empty()) {
        input::missing("group", "救助类别", &mut problems);
    }
    let rate = input::rate("rate", req.rate.as_ref(), &mut problems);
    let deductible = input::amount(
        "deductible",
        "起付线",
        req.deductible.as_ref(),
        &mut problems,
    );
    let per_visit_cap = input::amount(
        "per_visit_cap",
        "单次封顶",
        req.per_visit_cap.as_ref(),
        &mut problems,
    );
    let annual_cap = input::amount(
        "annual_cap",
        "年度封顶",
        req.annual_cap.as_ref(),
        &mut problems,
    );
    let from = input::required_date(
        "effective_from",
        "起始日期",
        req.effective_from.as_deref(),
        &mut problems,
    );
    let to = input::date("effective_to", req.effective_to.as_deref(), &mut problems);
    let parsed = match (group, rate, deductible, per_visit_cap, annual_cap, from) {
        (
            Some(group),
            Some(rate),
            Some(deductible),
            Some(per_visit_cap),
            Some(annual_cap),
            Some(from),
        ) => {
            let terms = Terms {
                rate,
                deductible,
                per_visit_cap,
                annual_cap,
            };
            policy::check_terms(&terms, from, to, &mut problems);
            Some(NewPolicy {
                group,
                terms,
                effective_from: from,
                effective_to: to,
            })
        }
        _ => None,
    };
    problems.check()?;
    let Some(new) = parsed else {
        return Err(anyhow::anyhow!("a policy field was neither parsed nor reported").into());
    };
    let created = policy::create(&state.db, &admin.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    patch,
    path = "/api/v1/policies/{id}",
    tag = "policies",
    params(("id" = i64, Path, description = "Id")),
    request_body = UpdatePolicyRequest,
    responses(
        (status = 200, description = "The corrected policy", body = PolicyView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such policy", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "A visit used it", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad field or an overlap", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `PATCH /api/v1/policies/{id}`: only while no visit has used the policy.
pub async fn update_policy(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<UpdatePolicyRequest>,
) -> AppResult<Json<PolicyView>> {
    let mut problems = Problems::new();
    let patch = PolicyPatch {
        rate: req
            .rate
            .as_ref()
            .and_then(|v| input::rate("rate", Some(v), &mut problems)),
        deductible: req
            .deductible
            .as_ref()
            .and_then(|v| input::amount("deductible", "起付线", Some(v), &mut problems)),
        per_visit_cap: req
            .per_visit_cap
            .as_ref()
            .and_then(|v| input::amount("per_visit_cap", "单次封顶", Some(v), &mut problems)),
        annual_cap: req
            .annual_cap
            .as_ref()
            .and_then(|v| input::amount("annual_cap", "年度封顶", Some(v), &mut problems)),
        effective_from: input::date(
            "effective_from",
            req.effective_from.as_deref(),
            &mut problems,
        ),
        effective_to: req
            .effective_to
            .as_ref()
            .map(|to| input::date("effective_to", to.as_deref(), &mut problems)),
    };
    problems.check()?;
    Ok(Json(
        policy::update(&state.db, &admin.actor(), id, patch).await?,
    ))
}
