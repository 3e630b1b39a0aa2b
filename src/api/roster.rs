//! `/api/v1/roster-imports` and `/api/v1/roster-entries`: uploading rosters, following their
//! import, and reading a person's entries.

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use entity::{person, roster_entry, roster_import};

use super::extract::{AppJson, AppPath, AppQuery};
use super::{PageOf, input, paging};
use crate::access_log::{Action, Read, Source};
use crate::auth::CurrentUser;
use crate::domain::{Group, IdNumber};
use crate::error::{AppError, AppResult, FieldError, current_lang};
use crate::http::upload_form::{check_upload, field_error, read_upload_form};
use crate::roster::import::{self, ImportView, Upload};
use crate::roster::status::Status;
use crate::roster::{export, history, revert};
use crate::state::AppState;

/// The multipart form of a roster upload (for the API description).
#[derive(utoipa::ToSchema)]
pub struct UploadForm {
    /// The roster: .xlsx/.xlsm, .xls, .xlsb, .ods or .csv (UTF-8 or GBK).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The group of a one-group roster (code or Chinese label), when the file has no group column.
    pub group: Option<String>,
    /// The region of a one-region roster, when the file has no region column.
    pub region_code: Option<String>,
    /// incremental (default) or full: a full import makes the file the whole roster of its scope.
    pub mode: Option<String>,
    /// YYYY-MM-DD (default: today).
    pub effective_date: Option<String>,
    /// true: activate as soon as it is validated, when the uploader alone may (an incremental
    /// import that ends nobody, under the default rule); otherwise it waits, validated.
    pub activate: Option<bool>,
    /// true, with `reason`: the uploader confirms a full import that accepts no row or ends
    /// more than half of its scope (it can also be confirmed at activation).
    pub confirm_full_replace: Option<bool>,
    /// Why (4 to 500 characters), with `confirm_full_replace`.
    pub reason: Option<String>,
}

/// `POST /api/v1/roster-imports` (multipart: file, group, region_code, mode, effective_date).
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports",
    tag = "roster",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued to be validated (then `validated`, waiting for activation)", body = ImportView),
        (status = 200, description = "The same file with the same parameters was imported before: that import", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 413, description = "The file is larger than allowed", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad parameter or no file", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn upload_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Multipart,
) -> AppResult<Response> {
    let upload = read_upload(form, state.settings.max_upload_bytes, user.today()).await?;
    let (view, queued) = import::submit(
        &state.db,
        state.imports.parser(),
        &user.actor(),
        &user.region,
        upload,
    )
    .await?;
    if queued {
        state.imports.ring();
        Ok((StatusCode::ACCEPTED, Json(view)).into_response())
    } else {
        Ok((StatusCode::OK, Json(view)).into_response())
    }
}

/// Reads an upload's multipart form (file, group, region_code, mode, effective_date) and checks
/// its parameters.
async fn read_upload(form: Multipart, limit: usize, today: NaiveDate) -> AppResult<Upload> {
    check_upload(read_upload_form(form, limit).await?, today)
}

async fn find_visible(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> AppResult<roster_import::Model> {
    history::find_visible(&state.db, user, id).await
}

/// Paging and status filter of the import list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// queued | running | succeeded | failed.
    pub status: Option<String>,
    /// Page from 1.
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

/// `GET /api/v1/roster-imports`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/roster-imports",
    tag = "roster",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of imports", body = PageOf<ImportView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_imports(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<ListQuery>,
) -> AppResult<Json<PageOf<ImportView>>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    let status = input::coded::<Status>("状态", q.status.as_deref())
        .map_err(|m| AppError::validation(vec![FieldError::new("status", m)]))?;
    let (rows, total) = history::list(&state.db, &user, status, page, per_page).await?;
    let items = rows
        .iter()
        .map(|m| ImportView::from_model(m, state.imports.get(m.id)))
        .collect();
    Ok(Json(PageOf {
        items,
        page,
        per_page,
        total,
    }))
}

/// `GET /api/v1/roster-imports/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/roster-imports/{id}",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import with its progress and counts", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<ImportView>> {
    let m = find_visible(&state, &user, id).await?;
    Ok(Json(ImportView::from_model(&m, state.imports.get(id))))
}

/// `POST /api/v1/roster-imports/{id}/retry`: runs a failed import again.
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports/{id}/retry",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    responses(
        (status = 202, description = "Queued again", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Only a failed import can be retried (`import_not_failed`), and only while its file is kept (`import_purged`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn retry_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<(StatusCode, Json<ImportView>)> {
    find_visible(&state, &user, id).await?;
    let m = import::requeue(&state.db, &user.actor(), id).await?;
    state.imports.ring();
    Ok((StatusCode::ACCEPTED, Json(ImportView::from_model(&m, None))))
}

/// `POST /api/v1/roster-imports/{id}/revert`: undoes what an import changed in the roster.
#[utoipa::path(
    post,
    path = "/api/v1/roster-imports/{id}/revert",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id")),
    responses(
        (status = 200, description = "Reverted: entries it added end before they began, entries it changed or ended have their earlier values again", body = ImportView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator, the import's own uploader, or entries outside the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Not a succeeded import, or from before changes were kept (`import_not_revertible`), reverted already (`import_already_reverted`), or a later import changed the same entries (`import_superseded`)", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revert_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<ImportView>> {
    Ok(Json(revert::revert(&state.db, &user, id).await?))
}

/// `?format=` of downloads.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// json (default), xlsx or csv.
    pub format: Option<String>,
    /// Page of the JSON answer (1-based).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    /// Rows per JSON page (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

/// One rejected row problem, as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorView {
    sheet: String,
    row: i64,
    column: String,
    value: String,
    code: String,
    message: String,
}

/// An attachment: the UTF-8 name for today's browsers, an ASCII one for the rest.
pub(crate) fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition(file_name)),
        ],
        bytes,
    )
        .into_response()
}

fn disposition(file_name: &str) -> String {
    let ext = file_name.rsplit('.').next().unwrap_or("bin");
    format!(
        "attachment; filename=\"download.{ext}\"; filename*=UTF-8''{}",
        percent_encode(file_name)
    )
}

/// An attachment sent as its pieces come out of `pieces` (see [`download`]); an error piece
/// cuts the download short.
pub(crate) fn download_stream(
    pieces: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    content_type: &str,
    file_name: &str,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition(file_name)),
        ],
        Body::from_stream(ReceiverStream::new(pieces)),
    )
        .into_response()
}

/// How much of a file a download reads at a time.
const FILE_PIECE: usize = 64 * 1024;

/// An attachment streamed from a finished file (see [`download`]), a piece at a time, with its
/// length; the file is closed (an unlinked temporary file's space thus freed) when the download
/// ends or the client goes away.
pub(crate) fn download_file(file: std::fs::File, content_type: &str, file_name: &str) -> Response {
    let length = file.metadata().ok().map(|m| m.len());
    // One piece ahead: the reads (on tokio's blocking pool) keep pace with the client.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::from_std(file);
        loop {
            let mut piece = vec![0; FILE_PIECE];
            let read = match file.read(&mut piece).await {
                Ok(0) => return,
                Ok(n) => {
                    piece.truncate(n);
                    Ok(piece)
                }
                Err(e) => Err(e),
            };
            let failed = read.is_err();
            if tx.send(read).await.is_err() || failed {
                return;
            }
        }
    });
    let mut res = download_stream(rx, content_type, file_name);
    if let Some(length) = length {
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, length.into());
    }
    res
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn bad_format(f: &str) -> AppError {
    AppError::validation(vec![field_error(
        "format",
        format!("不支持的格式“{f}”：可用 json、xlsx、csv。"),
        format!("Unknown format '{f}': use json, xlsx or csv."),
    )])
}

/// `GET /api/v1/roster-imports/{id}/errors[?format=xlsx|csv]`.
#[utoipa::path(
    get,
    path = "/api/v1/roster-imports/{id}/errors",
    tag = "roster",
    params(("id" = i64, Path, description = "Import id"), FormatQuery),
    responses(
        (status = 200, description = "A page of the rejected rows' problems as JSON (the default); with \
            format=xlsx the problems and the rejected rows ready to fix and upload again; with format=csv the problems \
            as UTF-8 CSV with a byte-order mark",
            content(
                (PageOf<ErrorView> = "application/json"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such import in the user's scope", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad format or page", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn import_errors(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<FormatQuery>,
) -> AppResult<Response> {
    find_visible(&state, &user, id).await?;
    // The rejected rows hold the names and ID numbers of the people on them.
    let read = Read::new(&user, &source, Action::RejectedRows);
    state
        .access_log
        .record(read.resource(format!("roster_import:{id}")))
        .await;
    let lang = current_lang();
    let format = q.format.as_deref().unwrap_or("json");
    if format == "json" {
        // A million-row file can reject a good share of its rows: the JSON comes a page at a time.
        let (page, per_page) = paging(q.page, q.per_page)?;
        let (errors, total) = import::errors_page(&state.db, id, page, per_page).await?;
        let items: Vec<ErrorView> = errors
            .iter()
            .map(|e| ErrorView {
                sheet: e.sheet.clone(),
                row: e.row_number,
                column: e.column_name.clone(),
                value: e.value.clone(),
                code: e.code.clone(),
                message: import::error_message(e, lang).to_owned(),
            })
            .collect();
        return Ok(Json(PageOf {
            items,
            page,
            per_page,
            total,
        })
        .into_response());
    }
    // An import can reject hundreds of thousands of rows: both files are read from the
    // database a chunk at a time and streamed, never whole in memory.
    match format {
        "xlsx" => {
            let file = export::errors_xlsx(&state.db, id, lang).await?;
            Ok(download_file(file, XLSX, &format!("导入{id}错误行.xlsx")))
        }
        "csv" => Ok(download_stream(
            export::errors_csv(&state.db, id, lang).await?,
            "text/csv; charset=utf-8",
            &format!("导入{id}错误行.csv"),
        )),
        other => Err(bad_format(other)),
    }
}

/// `GET /api/v1/roster-imports/template[?format=xlsx|csv]`.
#[utoipa::path(
    get,
    path = "/api/v1/roster-imports/template",
    tag = "roster",
    params(FormatQuery),
    responses(
        (status = 200, description = "An empty roster with every recognised column (format=xlsx, the \
            default), or its header line as CSV (format=csv)",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv"),
            )),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a roster importer or administrator", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A bad format", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn template(
    _user: CurrentUser,
    AppQuery(q): AppQuery<FormatQuery>,
) -> AppResult<Response> {
    match q.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => {
            let bytes = export::template_xlsx().map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(download(bytes, XLSX, "名册模板.xlsx"))
        }
        "csv" => Ok(download(
            export::template_csv(),
            "text/csv; charset=utf-8",
            "名册模板.csv",
        )),
        other => Err(bad_format(other)),
    }
}

/// `?id_number=` of the entry lookup, or the JSON body of `POST /api/v1/roster-entries/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// The person's ID number, in any accepted form.
    pub id_number: Option<String>,
}

/// One roster entry with where it came from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = RosterEntryView)]
pub struct EntryView {
    id: i64,
    group: String,
    group_label: String,
    region_code: String,
    name_on_roster: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    extra: Option<serde_json::Value>,
    created_by_import: Option<i64>,
    updated_by_import: Option<i64>,
    ended_by_import: Option<i64>,
}

/// A person and their roster entries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonEntries {
    /// The normalised ID number.
    pub id_number: String,
    /// The person; null when no roster in the user's scope lists them.
    pub person: Option<RosterPerson>,
    /// The entries inside the user's scope, newest first.
    pub entries: Vec<EntryView>,
}

/// A person as the roster knows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RosterPerson {
    /// The person's record id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// male | female.
    pub sex: String,
    /// From the ID number.
    pub birth_date: NaiveDate,
    /// Region.
    pub region_code: String,
}

/// `GET /api/v1/roster-entries?id_number=`: a person's entries, newest first, with history.
#[utoipa::path(
    get,
    path = "/api/v1/roster-entries",
    tag = "roster",
    params(EntriesQuery),
    responses(
        (status = 200, description = "The person and their entries", body = PersonEntries),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not read roster entries", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a valid ID number", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn person_entries(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppQuery(q): AppQuery<EntriesQuery>,
) -> AppResult<Json<PersonEntries>> {
    entries_of(&state, &user, &source, q).await
}

/// The same look-up with the ID number in the body (recommended: addresses end up in logs).
#[utoipa::path(
    post,
    path = "/api/v1/roster-entries/search",
    tag = "roster",
    request_body = EntriesQuery,
    responses(
        (status = 200, description = "The person and their entries", body = PersonEntries),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not read roster entries", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a valid ID number", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn search_entries(
    State(state): State<AppState>,
    user: CurrentUser,
    source: Source,
    AppJson(q): AppJson<EntriesQuery>,
) -> AppResult<Json<PersonEntries>> {
    entries_of(&state, &user, &source, q).await
}

async fn entries_of(
    state: &AppState,
    user: &CurrentUser,
    source: &Source,
    q: EntriesQuery,
) -> AppResult<Json<PersonEntries>> {
    let raw = q.id_number.unwrap_or_default();
    let id = IdNumber::parse(&raw).map_err(|e| AppError::field("id_number", &e))?;
    // Someone living outside the user's scope is not read: the answer is the one for an ID
    // number no roster lists.
    let p = person::Entity::find()
        .filter(person::COLUMN.id_number.eq(id.as_str()))
        .filter(user.scope(person::Column::RegionCode))
        .one(&state.db)
        .await?;
    let read = Read::new(user, source, Action::RosterEntries);
    let Some(p) = p else {
        // A look-up of someone unknown (or outside the scope) is a look-up all the same.
        state.access_log.record(read.resource(id.masked())).await;
        return Ok(Json(PersonEntries {
            id_number: id.as_str().to_owned(),
            person: None,
            entries: Vec::new(),
        }));
    };
    state.access_log.record(read.person(p.id)).await;
    let entries = roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.person_id.eq(p.id))
        .filter(user.scope(roster_entry::Column::RegionCode))
        .order_by_desc(roster_entry::COLUMN.valid_from)
        .all(&state.db)
        .await?;
    let lang = current_lang();
    let views: Vec<EntryView> = entries
        .into_iter()
        .map(|e| EntryView {
            id: e.id,
            group_label: Group::parse(&e.group_code)
                .map(|g| g.label(lang).to_owned())
                .unwrap_or_default(),
            group: e.group_code,
            region_code: e.region_code,
            name_on_roster: e.name_on_roster,
            valid_from: e.valid_from,
            valid_to: e.valid_to,
            extra: e.extra,
            created_by_import: e.created_by_import_id,
            updated_by_import: e.updated_by_import_id,
            ended_by_import: e.ended_by_import_id,
        })
        .collect();
    Ok(Json(PersonEntries {
        id_number: id.as_str().to_owned(),
        person: Some(RosterPerson {
            id: p.id,
            name: p.name,
            sex: p.sex,
            birth_date: p.birth_date,
            region_code: p.region_code,
        }),
        entries: views,
    }))
}
