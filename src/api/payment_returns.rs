//! The bank's return file (回盘) of a batch: uploading it, and reading back what it settled and
//! the rows it could not apply. Thin handlers over `crate::payment::reconcile`.

use axum::Json;
use axum::extract::{Multipart, State};
use serde::Deserialize;

use super::extract::{AppPath, AppQuery};
use super::paging;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::http::upload_form::read_upload_form;
use crate::payment::{self, ReturnUpload, ReturnView};
use crate::state::AppState;

/// The multipart form of a return file (for the API description).
#[derive(utoipa::ToSchema)]
pub struct ReturnForm {
    /// The bank's return file: text in the layout's encoding, or a workbook.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The layout to read it with (default: the layout the batch was exported in).
    pub layout: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-batches/{id}/return-file",
    tag = "payments",
    params(("id" = i64, Path, description = "Batch id")),
    request_body(content = ReturnForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Read: the lines it marked paid and failed, the batch as it stands (reconciled once every \
            exported line is settled), and the first page of the rows it could not apply", body = ReturnView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The batch is not exported (or is reconciled already)", body = super::openapi::ErrorEnvelope),
        (status = 413, description = "The file is larger than allowed", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No file, an unknown layout, or a file refused whole: another batch's \
            (`return_file_wrong_batch`), control lines that do not match its rows (`return_file_control_mismatch`), \
            unreadable (`return_file_unreadable`), empty or too long; nothing of it is applied", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/payment-batches/{id}/return-file` (multipart: file, layout).
pub async fn upload_return(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
    form: Multipart,
) -> AppResult<Json<ReturnView>> {
    let form = read_upload_form(form, state.settings.max_upload_bytes).await?;
    let layout = form.fields.get("layout").filter(|l| !l.is_empty()).cloned();
    let Some((file_name, file)) = form.file.filter(|(_, f)| !f.is_empty()) else {
        return Err(AppError::validation(vec![FieldError::new(
            "file",
            Msg::new(
                "请选择银行的回盘文件。".to_owned(),
                "Choose the bank's return file.".to_owned(),
            ),
        )]));
    };
    let upload = ReturnUpload {
        file_name,
        file,
        layout,
    };
    Ok(Json(
        payment::reconcile(&state.db, state.imports.parser(), &user, id, upload).await?,
    ))
}

/// `?page=&per_page=` of a return's problem rows.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProblemsQuery {
    /// Page of problem rows (from 1).
    pub page: Option<u64>,
    /// Rows per page (at most 500).
    pub per_page: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-batches/{id}/returns/{return_id}",
    tag = "payments",
    params(
        ("id" = i64, Path, description = "Batch id"),
        ("return_id" = i64, Path, description = "Return file id"),
        ProblemsQuery,
    ),
    responses(
        (status = 200, description = "A return file with a page of the rows it could not apply", body = ReturnView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not a manager", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such batch in your region, or no such return file of it", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/payment-batches/{id}/returns/{return_id}`.
pub async fn get_return(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, return_id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<ProblemsQuery>,
) -> AppResult<Json<ReturnView>> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    Ok(Json(
        payment::return_of(&state.db, &user, id, return_id, page, per_page).await?,
    ))
}
