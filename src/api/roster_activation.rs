//! The second step of an import: reading what a validated import would change, then
//! activating or discarding it (`roster::activate`, `roster::staged`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{AppJson, AppPath, AppQuery};
use super::roster::download_stream;
use super::{PageOf, paging};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, FieldError, Msg, current_lang};
use crate::roster::activate::{self, Outcome, Request, Who};
use crate::roster::guard::Reason;
use crate::roster::history;
use crate::roster::import::ImportView;
use crate::roster::staged::{self, ChangeView, Kind};
use crate::state::AppState;

/// The body of an activation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActivateBody {
    /// The import's `version` as read: an import that changed since is not activated blind.
    pub version: i32,
    /// true, with `reason`: a full import that accepts no row or ends more than half of its
    /// scope is meant.
    #[serde(default)]
    pub confirm_full_replace: bool,
    /// Why (4 to 500 characters).
    pub reason: Option<String>,
}

/// The body of a discard.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DiscardBody {
    /// The import's `version` as read.
    pub version: i32,
}

/// `POST /api/v1/roster-imports/{id}/activate`: the roster changes as the validated plan says.
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports/{id}/activate",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    request_body = ActivateBody,
    responses(
        (status = 200, description = "Activated: the roster holds the plan (status succeeded)", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "A second person must activate it, or its scope is outside the user's", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not validated (`import_not_validated`), another version (`version_conflict`), expired (`import_expired`), a destructive full import without confirmation (`confirmation_required`), or the roster changed since validation (`import_stale`: it is being validated again)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad reason", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn activate_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<ActivateBody>,
) -> AppResult<Json<ImportView>> {
    let confirmation = if body.confirm_full_replace {
        Some(
            Reason::parse(body.reason.as_deref().unwrap_or_default())
                .map_err(|m| AppError::validation(vec![FieldError::new("reason", m)]))?,
        )
    } else {
        None
    };
    let req = Request {
        version: body.version,
        confirmation,
    };
    match activate::activate(
        &state.db,
        &state.settings,
        Who::User(&user),
        id,
        req,
        user.now,
    )
    .await?
    {
        Outcome::Activated(view) => Ok(Json(view)),
        Outcome::Revalidating(view) => {
            state.imports.ring();
            Err(AppError::StateConflict {
                code: "import_stale",
                message: Msg::new(
                    "名册在本批次校验之后已被其他导入改变，本批次正在按最新名册重新校验：请稍候核对新的结果，再启用。",
                    "The roster changed after this import was validated; it is being validated again against the roster as it is now: check the new result, then activate.",
                ),
                state: view.status.code().to_owned(),
                version: view.version,
                allowed: vec![],
            })
        }
    }
}

/// `POST /api/v1/roster-imports/{id}/discard`: the validated import is dropped; the roster
/// never changed.
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports/{id}/discard",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    request_body = DiscardBody,
    responses(
        (status = 200, description = "Discarded", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Its scope is outside the user's", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not validated (`import_not_validated`) or another version (`version_conflict`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn discard_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<DiscardBody>,
) -> AppResult<Json<ImportView>> {
    Ok(Json(
        activate::discard(&state.db, &state.settings, &user, id, body.version).await?,
    ))
}

/// The body of a column correction.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ColumnBody {
    /// The import's `version` as read.
    pub version: i32,
    /// The sheet's name, as `sheets[].name` gives it.
    pub sheet: String,
    /// The column's letter, as `sheets[].columns[].letter` gives it.
    pub column: String,
    /// The field it is read as (`id_number`, `name`, `group`, `region_code`, `valid_from`,
    /// `valid_to`); empty or absent: read as no field (kept as extra data).
    pub field: Option<String>,
}

/// `POST /api/v1/roster-imports/{id}/columns`: reads a column of a validated or failed import
/// as another field (or as none) and validates the import again from its stored file.
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports/{id}/columns",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    request_body = ColumnBody,
    responses(
        (status = 202, description = "Queued to be validated again with the correction", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Its scope is outside the user's", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not validated or failed, or its file was purged (`import_not_remappable`), or another version (`version_conflict`)", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A sheet, column or field the import does not have", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn remap_column(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<ColumnBody>,
) -> AppResult<(axum::http::StatusCode, Json<ImportView>)> {
    let (_, field) = crate::roster::mapping::check(&body.column, body.field.as_deref())
        .map_err(|(f, m)| AppError::validation(vec![FieldError::new(&f, m)]))?;
    let correction = activate::Correction {
        version: body.version,
        sheet: body.sheet,
        column: body.column.trim().to_owned(),
        field,
    };
    let view = activate::remap(&state.db, &state.settings, &user, id, correction).await?;
    state.imports.ring();
    Ok((axum::http::StatusCode::ACCEPTED, Json(view)))
}

/// Which list of the plan, and how.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// added (the default), updated or ended.
    pub kind: Option<String>,
    /// Only the rows of this sheet (added and updated).
    pub sheet: Option<String>,
    /// json (default) or csv (the whole list).
    pub format: Option<String>,
    /// Page from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

/// `GET /api/v1/roster-imports/{id}/changes?kind=added|updated|ended`: who the import would
/// add, change (before → after) or end; after activation, who it did.
#[utoipa::path(
    get,
    path = "/api/v1/roster-imports/{id}/changes",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id"), ChangesQuery),
    responses(
        (status = 200, description = "A page of the list as JSON, or with format=csv the whole list as UTF-8 CSV with a byte-order mark",
            content(
                (PageOf<ChangeView> = "application/json"),
                (String = "text/csv"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad kind, format or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn import_changes(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ChangesQuery>,
) -> AppResult<Response> {
    history::find_visible(&state.db, &user, id).await?;
    let kind_code = q.kind.as_deref().unwrap_or("added");
    let kind = Kind::parse(kind_code).ok_or_else(|| {
        AppError::validation(vec![FieldError::new(
            "kind",
            Msg::new(
                format!("名单类别“{kind_code}”无效：可用 added（将新增）、updated（将变更）、ended（将终止）。"),
                format!("Unknown kind '{kind_code}': use added, updated or ended."),
            ),
        )])
    })?;
    let read = Read::new(&user, &source, Action::ImportPlan);
    state
        .access_log
        .record(read.resource(format!("roster_import:{id}")))
        .await;
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let (page, per_page) = paging(q.page, q.per_page)?;
            let sheet = q.sheet.as_deref().filter(|s| !s.is_empty());
            let (items, total) = staged::page(&state.db, id, kind, sheet, page, per_page).await?;
            Ok(Json(PageOf {
                items,
                page,
                per_page,
                total,
            })
            .into_response())
        }
        "csv" => Ok(download_stream(
            staged::csv(&state.db, id, kind, current_lang()).await?,
            "text/csv; charset=utf-8",
            &format!("导入{id}{}.csv", kind.label(crate::domain::Lang::Zh, true)),
        )),
        other => Err(AppError::validation(vec![FieldError::new(
            "format",
            Msg::new(
                format!("不支持的格式“{other}”：可用 json、csv。"),
                format!("Unknown format '{other}': use json or csv."),
            ),
        )])),
    }
}
