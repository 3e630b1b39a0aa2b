//! Receiving an upload: the file checked and stored, the import queued (or recorded as a
//! duplicate); and queueing a failed import again.

use sea_orm::ColumnTrait;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use sha2::{Digest, Sha256};

use entity::roster_import;
use entity::roster_import_file_part::{self as file_part, PART_BYTES};

use super::view::ImportView;
use super::{Mode, Upload};
use crate::audit::{self, Actor, Change};
use crate::domain::RegionPrefix;
use crate::error::{AppError, AppResult, Msg};
use crate::roster::parser::Parser;
use crate::roster::read::FileError;
use crate::roster::status::Status;

fn file_error(e: &FileError) -> AppError {
    AppError::field("file", e)
}

fn fingerprint(sha: &str, u: &Upload) -> String {
    let key = format!(
        "{sha}|{}|{}|{}|{}",
        u.group.map(|g| g.code()).unwrap_or(""),
        u.region.as_ref().map(|r| r.as_str()).unwrap_or(""),
        u.mode.code(),
        u.effective_date
    );
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Stores an upload and queues it; the same file with the same parameters as an earlier
/// successful import is recorded as a duplicate that changes nothing. Returns the import and
/// whether it was queued. The file's format and what it declares are checked first, by a
/// parser process (`roster::parser`), so a hostile file is refused at the door when it can be.
pub async fn submit(
    db: &DatabaseConnection,
    parser: &Parser,
    actor: &Actor,
    scope: &RegionPrefix,
    upload: Upload,
) -> AppResult<(ImportView, bool)> {
    if upload.file.is_empty() {
        return Err(file_error(&FileError::Empty));
    }
    let format = parser
        .inspect(upload.file.path(), &upload.file_name)
        .await
        .map_err(|e| match e {
            // Not the clerk's file: an opaque 500, logged where the parser failed to start.
            FileError::ParserUnavailable(why) => AppError::Internal(anyhow::anyhow!(why)),
            e => file_error(&e),
        })?;
    if upload.mode == Mode::Full && upload.group.is_none() {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "group",
            Msg::new(
                "全量导入须选择救助类别：文件将成为该类别在所选地区的完整名册。",
                "A full import needs a group: the file becomes the whole roster of that group in the region.",
            ),
        )]));
    }
    if let Some(r) = &upload.region
        && !scope.covers(r)
    {
        return Err(AppError::forbidden(Msg::new(
            format!("地区{r}不在您的数据范围{scope}内。"),
            format!("Region {r} is outside your scope {scope}."),
        )));
    }
    let sha = upload.file.sha256().to_owned();
    let fp = fingerprint(&sha, &upload);
    let now = actor.at;
    let txn = crate::db::begin_write(db).await?;
    let earlier = roster_import::Entity::find()
        .filter(roster_import::COLUMN.fingerprint.eq(fp.as_str()))
        .filter(roster_import::COLUMN.status.eq(Status::Succeeded))
        .filter(roster_import::COLUMN.duplicate_of.is_null())
        .one(&txn)
        .await?;
    let model = roster_import::ActiveModel {
        file_name: Set(upload.file_name.clone()),
        sha256: Set(sha),
        file_size: Set(upload.file.len() as i64),
        format: Set(format.code().to_owned()),
        group_code: Set(upload.group.map(|g| g.code().to_owned())),
        region_code: Set(upload.region.as_ref().map(|r| r.as_str().to_owned())),
        mode: Set(upload.mode.code().to_owned()),
        effective_date: Set(upload.effective_date),
        confirmed_reason: Set(upload
            .confirmation
            .as_ref()
            .filter(|_| upload.mode == Mode::Full)
            .map(|r| r.as_str().to_owned())),
        fingerprint: Set(fp),
        auto_activate: Set(upload.activate),
        status: Set(if earlier.is_some() {
            Status::Succeeded
        } else {
            Status::Queued
        }),
        duplicate_of: Set(earlier.as_ref().map(|e| e.id)),
        rows_total: Set(earlier.as_ref().map_or(0, |e| e.rows_total)),
        rows_done: Set(earlier.as_ref().map_or(0, |e| e.rows_total)),
        created_by: Set(actor.id),
        created_at: Set(now),
        finished_at: Set(earlier.as_ref().map(|_| now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if earlier.is_none() {
        // A part at a time, without RETURNING: the statement, the driver and the database
        // each copy what they are given, and the driver would hand it all back.
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(upload.file.path())
            .await
            .map_err(anyhow::Error::from)?;
        for part in 0.. {
            let mut content = Vec::with_capacity(PART_BYTES);
            (&mut file)
                .take(PART_BYTES as u64)
                .read_to_end(&mut content)
                .await
                .map_err(anyhow::Error::from)?;
            if content.is_empty() {
                break;
            }
            file_part::Entity::insert(file_part::ActiveModel {
                import_id: Set(model.id),
                part: Set(part),
                content: Set(content),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    let view = ImportView::from_model(&model, None);
    audit::record(
        &txn,
        actor,
        Change {
            action: if earlier.is_some() {
                "roster_import.duplicate"
            } else {
                "roster_import.submit"
            },
            entity_type: "roster_import",
            entity_id: model.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&view).unwrap_or_default()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((view, earlier.is_none()))
}

/// Makes a failed import runnable again.
pub async fn requeue(
    db: &DatabaseConnection,
    actor: &Actor,
    import_id: i64,
) -> AppResult<roster_import::Model> {
    let txn = crate::db::begin_write(db).await?;
    // Locked, so that the retention purge cannot claim it between this check and the update.
    let m = roster_import::Entity::find_by_id(import_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("roster_import", import_id))?;
    if let Some(purged) = m.purged_at {
        return Err(crate::roster::retention::purged_conflict(purged));
    }
    if m.status != Status::Failed {
        return Err(AppError::conflict(
            "import_not_failed",
            Msg::new(
                format!("只有失败的导入可以重新运行，本批次状态为 {}。", m.status),
                format!(
                    "Only a failed import can be run again; this one is {}.",
                    m.status
                ),
            ),
        ));
    }
    let mut a: roster_import::ActiveModel = m.clone().into();
    a.status = Set(Status::Queued);
    a.error = Set(None);
    a.claimed_by = Set(None);
    a.claimed_at = Set(None);
    a.started_at = Set(None);
    a.finished_at = Set(None);
    a.rows_done = Set(0);
    let after = a.update(&txn).await?;
    // Error rows of an earlier attempt never exist: a failed run rolled them back.
    audit::record(
        &txn,
        actor,
        Change {
            action: "roster_import.retry",
            entity_type: "roster_import",
            entity_id: import_id.to_string(),
            before: Some(serde_json::json!({"status": m.status, "error": m.error})),
            after: Some(serde_json::json!({"status": Status::Queued.code()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
