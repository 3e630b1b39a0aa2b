//! The second step of an import on its page: what the validated import would change (the
//! three lists), and the activate or discard buttons, or who must activate it; and the list of
//! validated imports waiting for activation. Decisions are `roster::activate`'s; the page only
//! shows them and sends the forms to the API.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use sea_orm::{EntityTrait, QueryFilter};

use entity::roster_import;

use super::i18n::Texts;
use super::{Page, WebUser, app_error_page, fmt, render};
use crate::access;
use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::error::AppResult;
use crate::roster::guard::Effect;
use crate::roster::import::Mode;
use crate::roster::staged::{self, ChangeView, Kind};
use crate::roster::status::Status;
use crate::roster::{activate, history};
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[
    ("plan.title", "启用前请核对", "Check before activating"),
    (
        "plan.hint",
        "名册尚未改动。以下是启用后将发生的变化；核对无误后启用，或放弃本批次。",
        "Nothing in the roster has changed yet. Below is what activation would do; activate when it is right, or discard the import.",
    ),
    (
        "plan.done_title",
        "本次导入的改动",
        "What this import changed",
    ),
    ("plan.unchanged", "无变化", "Unchanged"),
    ("plan.none", "无。", "None."),
    (
        "plan.purged",
        "名单已随上传文件在保存期满后删除，上面的数字仍是本次导入的结果。",
        "The lists were deleted with the uploaded file after the retention period; the figures above are still the import's.",
    ),
    (
        "plan.more",
        "仅显示前 {n} 人，完整名单请下载。",
        "Only the first {n} are shown; download the whole list.",
    ),
    ("plan.before", "原", "Before"),
    ("plan.id_number", "身份证号码", "ID number"),
    ("plan.name", "姓名", "Name"),
    ("plan.period", "救助期间", "Period"),
    (
        "plan.activate",
        "启用，更新名册",
        "Activate: change the roster",
    ),
    (
        "plan.activate_confirm",
        "确定启用本批次？名册将按上面的核对结果更新，此操作会记入操作日志。",
        "Activate this import? The roster changes as checked above; the activation is audited.",
    ),
    ("plan.discard", "放弃本批次", "Discard this import"),
    (
        "plan.discard_confirm",
        "确定放弃本批次？名册不会改动，需要时请重新上传。",
        "Discard this import? The roster stays as it is; upload the file again if needed.",
    ),
    (
        "plan.waiting",
        "等待第二人启用",
        "Waiting for a second person",
    ),
    (
        "plan.expires",
        "未启用的批次过期时间",
        "Expires unless activated at",
    ),
    (
        "plan.confirm_label",
        "确认全量替换：我已核对，确需终止上述人员",
        "Confirm the full replacement: I checked, these people are to be ended",
    ),
    ("plan.reason", "原因", "Reason"),
    (
        "import_approvals.title",
        "待启用的导入",
        "Imports to activate",
    ),
    (
        "import_approvals.hint",
        "已校验、尚未启用的批次。标“可启用”的由您启用；其余等待有权限的人员。",
        "Validated imports not yet activated. Those marked as yours to activate wait for you; the others wait for someone allowed.",
    ),
    (
        "import_approvals.none",
        "没有等待启用的导入。",
        "No import waits for activation.",
    ),
    ("import_approvals.yours", "可由您启用", "Yours to activate"),
    ("import_approvals.validated_at", "校验时间", "Validated at"),
];

/// One of the three lists, first page.
pub struct PlanList {
    /// added, updated or ended.
    pub kind: &'static str,
    /// Title.
    pub label: &'static str,
    /// How many in all.
    pub total: String,
    /// More than shown.
    pub more: bool,
    /// The rows shown.
    pub rows: Vec<ChangeView>,
}

/// What the import page shows of the second step.
pub struct PlanView {
    /// The lists, with their totals.
    pub lists: Vec<PlanList>,
    /// Rows that change nothing.
    pub unchanged: String,
    /// Whether it still waits (validated) or is done (succeeded).
    pub pending: bool,
    /// For a validated import: what this user may do.
    pub activation: Option<Activation>,
    /// Rows shown per list.
    pub shown: u64,
    /// The lists were deleted with the file, after the retention period.
    pub purged: bool,
}

/// The activation box.
pub struct Activation {
    /// The import's version, sent back with the form.
    pub version: i32,
    /// This user may activate it.
    pub may: bool,
    /// Why not, or who must.
    pub why_not: Option<String>,
    /// A destructive full import: the form asks for a confirmation and a reason.
    pub needs_confirmation: bool,
    /// When it expires.
    pub expires: Option<String>,
}

/// Rows shown per list on the page.
pub const SHOWN: u64 = 20;

/// The second step of `m` for `user`, when it has one (validated, or activated with a plan).
pub async fn plan_view(
    state: &AppState,
    user: &CurrentUser,
    m: &roster_import::Model,
) -> AppResult<Option<PlanView>> {
    let pending = m.status == Status::Validated;
    let activated = m.status == Status::Succeeded && m.activated_at.is_some();
    if !(pending || activated) {
        return Ok(None);
    }
    let mut lists = Vec::new();
    for kind in Kind::ALL {
        let (rows, total) = staged::page(&state.db, m.id, kind, None, 1, SHOWN).await?;
        lists.push(PlanList {
            kind: kind.code(),
            label: kind.label(crate::error::current_lang(), pending),
            total: fmt::count(total as i64),
            more: total > SHOWN,
            rows,
        });
    }
    let activation = if pending {
        Some(activation(state, &state.settings, user, m).await?)
    } else {
        None
    };
    Ok(Some(PlanView {
        lists,
        unchanged: fmt::count(m.unchanged),
        pending,
        activation,
        shown: SHOWN,
        purged: m.purged_at.is_some(),
    }))
}

async fn activation(
    state: &AppState,
    settings: &Settings,
    user: &CurrentUser,
    m: &roster_import::Model,
) -> AppResult<Activation> {
    let scope = activate::scope_of(&state.db, m, &settings.province).await?;
    let why_not = activate::refusal(settings, m, &scope, user);
    let needs_confirmation = Mode::parse(&m.mode) == Some(Mode::Full)
        && Effect {
            accepted: m.accepted,
            covered: m.covered,
            ended: m.ended,
        }
        .destructive()
        .is_some()
        && m.confirmed_reason.is_none();
    Ok(Activation {
        version: m.version,
        may: why_not.is_none(),
        why_not: why_not.map(|w| w.get(crate::error::current_lang()).to_owned()),
        needs_confirmation,
        expires: activate::expires_at(settings, m).as_ref().map(fmt::at),
    })
}

/// A validated import in the approvals list.
pub struct Waiting {
    pub id: i64,
    pub file_name: String,
    pub who: String,
    pub when: String,
    pub added: String,
    pub updated: String,
    pub ended: String,
    pub mine: bool,
    pub why_not: Option<String>,
}

#[derive(Template)]
#[template(path = "roster/approvals.html")]
struct ApprovalsPage {
    page: Page,
    rows: Vec<Waiting>,
}

/// `/roster/approvals`: the validated imports the user can see, those they may activate first.
pub async fn approvals(State(state): State<AppState>, web: WebUser) -> Result<Response, Response> {
    let user = web.require(access::ROSTER_IMPORTER)?;
    let fail = |e| app_error_page(Some(user.clone()), e);
    let page = Page::new(
        "import_approvals.title",
        Some(user.clone()),
        "/roster/approvals",
    );
    let (models, _) = history::list(&state.db, &user, Some(Status::Validated), 1, 200)
        .await
        .map_err(fail)?;
    let names = history::uploader_names(&state.db, &models)
        .await
        .map_err(fail)?;
    // The uploaders' scopes, in one query: an import without a region covers its uploader's.
    let uploader_ids: Vec<i64> = models.iter().filter_map(|m| m.created_by).collect();
    let regions: std::collections::HashMap<i64, String> = entity::user::Entity::find()
        .filter(entity::user::COLUMN.id.is_in(uploader_ids))
        .all(&state.db)
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|u| (u.id, u.region_prefix))
        .collect();
    let mut rows = Vec::new();
    for m in &models {
        let uploader_region = m
            .created_by
            .and_then(|id| regions.get(&id))
            .map(String::as_str);
        let scope = activate::scope_with(m, uploader_region, &state.settings.province);
        let why = activate::refusal(&state.settings, m, &scope, &user);
        rows.push(Waiting {
            id: m.id,
            file_name: m.file_name.clone(),
            who: m
                .created_by
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "—".to_owned()),
            when: m.validated_at.as_ref().map(fmt::at).unwrap_or_default(),
            added: fmt::count(m.added),
            updated: fmt::count(m.updated),
            ended: fmt::count(m.ended),
            mine: why.is_none(),
            why_not: why.map(|w| w.get(crate::error::current_lang()).to_owned()),
        });
    }
    rows.sort_by_key(|w| !w.mine);
    Ok(render(&ApprovalsPage { page, rows }))
}
