//! The multipart form of a roster upload, read and checked once for the API and for the
//! upload page, so both refuse alike.

use axum::extract::Multipart;
use axum::http::StatusCode;
use chrono::NaiveDate;

use crate::domain::{Group, RegionPrefix};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::roster::import::{Mode, Upload};
use crate::roster::upload::{UploadWriter, UploadedFile};

pub(crate) fn field_error(field: &str, zh: String, en: String) -> FieldError {
    FieldError::new(field, Msg::new(zh, en))
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: usize) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge { limit }
    } else {
        AppError::BadRequest {
            code: "bad_upload",
            message: Msg::new(
                format!("上传内容无法读取：{}", e.body_text()),
                format!("The upload could not be read: {}", e.body_text()),
            ),
        }
    }
}

/// An upload form as sent: the file (name and bytes) and the text fields, trimmed.
pub struct UploadFields {
    /// The `file` field's name and bytes (in a temporary file).
    pub file: Option<(String, UploadedFile)>,
    /// The other fields.
    pub fields: std::collections::HashMap<String, String>,
}

/// Reads the multipart form of an upload; the roster pages' plain form post reads it here too
/// and checks it with [`check_upload`], so the page and the API refuse alike.
///
/// The file goes to a temporary file chunk by chunk as it arrives, so an upload costs a buffer
/// of memory whatever its size; the other fields are short texts, at most
/// [`MAX_FORM_FIELDS`] of them, each at most [`MAX_FIELD_BYTES`].
pub async fn read_upload_form(mut form: Multipart, limit: usize) -> AppResult<UploadFields> {
    let mut file: Option<(String, UploadedFile)> = None;
    let mut fields: std::collections::HashMap<String, String> = Default::default();
    let mut count = 0;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        count += 1;
        if count > MAX_FORM_FIELDS {
            return Err(form_too_long());
        }
        let name = field
            .name()
            .unwrap_or_default()
            .chars()
            .take(64)
            .collect::<String>();
        if name == "file" {
            let file_name = field
                .file_name()
                .unwrap_or("roster")
                .chars()
                .take(255)
                .collect::<String>();
            let mut out = UploadWriter::new().await.map_err(anyhow::Error::from)?;
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
                out.write(&chunk).await.map_err(anyhow::Error::from)?;
            }
            file = Some((file_name, out.finish().await.map_err(anyhow::Error::from)?));
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
                if text.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(AppError::validation(vec![field_error(
                        &name,
                        format!("字段“{name}”过长：最多 {MAX_FIELD_BYTES} 字节。"),
                        format!("The field '{name}' is too long: at most {MAX_FIELD_BYTES} bytes."),
                    )]));
                }
                text.extend_from_slice(&chunk);
            }
            fields.insert(name, String::from_utf8_lossy(&text).trim().to_owned());
        }
    }
    Ok(UploadFields { file, fields })
}

/// Fields an upload form may have (file, group, region_code, mode, effective_date and a few
/// a browser may add).
pub const MAX_FORM_FIELDS: usize = 16;
/// Bytes a text field of an upload form may have.
pub const MAX_FIELD_BYTES: usize = 1024;

fn form_too_long() -> AppError {
    AppError::BadRequest {
        code: "bad_upload",
        message: Msg::new(
            format!("上传表单的字段过多：最多 {MAX_FORM_FIELDS} 个。"),
            format!("The upload form has too many fields: at most {MAX_FORM_FIELDS}."),
        ),
    }
}

/// The upload an upload form asks for, or every problem with its parameters at once.
pub fn check_upload(form: UploadFields, today: NaiveDate) -> AppResult<Upload> {
    let UploadFields { file, fields } = form;
    let mut problems = Vec::new();
    let get = |k: &str| fields.get(k).filter(|v| !v.is_empty()).cloned();
    let group = match get("group").map(|g| Group::parse(&g)) {
        Some(Ok(g)) => Some(g),
        Some(Err(e)) => {
            problems.push(FieldError::new("group", Msg::of(&e)));
            None
        }
        None => None,
    };
    let region = match get("region_code").map(|r| RegionPrefix::parse(&r)) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            problems.push(FieldError::new("region_code", Msg::of(&e)));
            None
        }
        None => None,
    };
    let mode = Mode::parse(&get("mode").unwrap_or_default()).unwrap_or_else(|| {
        problems.push(field_error(
            "mode",
            "导入方式须为 incremental（增量）或 full（全量）。".into(),
            "mode is incremental or full.".into(),
        ));
        Mode::Incremental
    });
    let effective_date = match get("effective_date") {
        None => today,
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap_or_else(|_| {
            problems.push(field_error(
                "effective_date",
                format!("生效日期“{d}”无效：请用 YYYY-MM-DD。"),
                format!("effective_date '{d}' is not a date: use YYYY-MM-DD."),
            ));
            NaiveDate::MIN
        }),
    };
    // A reason without the box ticked confirms nothing: the clerk meant to think again.
    let confirmation = match get("confirm_full_replace").as_deref() {
        None | Some("false" | "0" | "off" | "no") => None,
        Some("true" | "1" | "on" | "yes") => {
            match crate::roster::guard::Reason::parse(&get("reason").unwrap_or_default()) {
                Ok(r) => Some(r),
                Err(m) => {
                    problems.push(FieldError::new("reason", m));
                    None
                }
            }
        }
        Some(other) => {
            problems.push(field_error(
                "confirm_full_replace",
                format!("“确认全量替换”的值“{other}”无效：请填 true 或 false。"),
                format!("confirm_full_replace '{other}' is not true or false."),
            ));
            None
        }
    };
    let activate = match get("activate").as_deref() {
        None | Some("false" | "0" | "off" | "no") => false,
        Some("true" | "1" | "on" | "yes") => true,
        Some(other) => {
            problems.push(field_error(
                "activate",
                format!("“校验后直接启用”的值“{other}”无效：请填 true 或 false。"),
                format!("activate '{other}' is not true or false."),
            ));
            false
        }
    };
    if file.is_none() {
        problems.push(field_error(
            "file",
            "请选择要上传的名册文件（字段名 file）。".into(),
            "Attach the roster as the multipart field 'file'.".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    let (file_name, bytes) = file.expect("checked above");
    Ok(Upload {
        activate,
        file_name,
        file: bytes,
        group,
        region,
        mode,
        effective_date,
        confirmation,
    })
}
