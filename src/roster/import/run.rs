//! Running a claimed import: the duplicate check, the file put together, the parser thread
//! feeding the writer batch by batch, and the result or the failure recorded.

use std::ops::ControlFlow;

use sea_orm::ColumnTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Value};

use entity::roster_import;
use entity::roster_import_file_part::{self as file_part};

use super::error::{RunError, Stopped};
use super::job::{Job, ParseResult, TotalingSink};
use super::sqlite::run_on_sqlite;
use super::view::Counts;
use super::writer::Writer;
use super::{Mode, batch_rows, cols, queued_batches};
use crate::domain::{Group, RegionPrefix};
use crate::roster::jobs::Progress;
use crate::roster::rows::{Outcome, Params, Validator};
use crate::roster::status::Status;
use crate::roster::store::PgStore;
use crate::roster::tally::Tally;
use crate::roster::upload::{UploadWriter, UploadedFile};

/// Runs a claimed import to the end and records the result; never leaves half a roster.
pub async fn run(
    db: &DatabaseConnection,
    import_id: i64,
    progress: Progress,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let outcome = run_inner(db, import_id, progress.clone()).await;
    progress.finish(import_id);
    match outcome {
        Ok(counts) => {
            tracing::info!(
                import.id = import_id,
                ?counts,
                seconds = started.elapsed().as_secs_f64(),
                "Roster import {import_id} validated"
            );
            let wanted = roster_import::Entity::find_by_id(import_id)
                .one(db)
                .await?
                .is_some_and(|m| m.auto_activate && m.status == Status::Validated);
            if wanted {
                let done = crate::roster::activate::auto(
                    db,
                    progress.settings(),
                    import_id,
                    progress.now(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("activating import {import_id}: {e}"))?;
                tracing::info!(import.id = import_id, activated = done, "one-step import");
            }
            Ok(())
        }
        Err(RunError::LostClaim) => {
            tracing::warn!(
                import.id = import_id,
                "Roster import {import_id}: the claim was lost (swept or taken over); rolled back"
            );
            Ok(())
        }
        Err(e) => {
            let msg = e.message();
            tracing::warn!(import.id = import_id, error = %msg.en, "Roster import {import_id} failed");
            // The transaction is gone: record the failure on its own, with the rejected rows
            // of an import that stopped early.
            let txn = crate::db::begin_write(db).await?;
            let mut update = roster_import::Entity::update_many()
                .col_expr(
                    roster_import::Column::Status,
                    Expr::value(Status::Failed.code()),
                )
                .col_expr(
                    roster_import::Column::Error,
                    Expr::value(format!("{} / {}", msg.zh, msg.en)),
                )
                .col_expr(
                    roster_import::Column::FinishedAt,
                    Expr::value(progress.now()),
                );
            if let RunError::Header(_, sheets) = &e {
                update =
                    update.col_expr(roster_import::Column::Sheets, Expr::value(sheets.clone()));
            }
            if let RunError::Stopped(stopped) = e {
                let Stopped {
                    rows,
                    rejected,
                    errors,
                    ..
                } = *stopped;
                update = update
                    .col_expr(
                        roster_import::Column::Accepted,
                        Expr::value(rows - rejected),
                    )
                    .col_expr(roster_import::Column::Rejected, Expr::value(rejected))
                    .col_expr(roster_import::Column::RowsDone, Expr::value(rows));
                keep_errors(&txn, errors).await?;
            }
            // Only while this instance still holds the claim: a run whose claim was swept
            // leaves the import as the sweep (or its new holder) left it.
            let held = update
                .filter(roster_import::COLUMN.id.eq(import_id))
                .filter(roster_import::COLUMN.status.eq(Status::Running))
                .filter(roster_import::COLUMN.claimed_by.eq(progress.instance()))
                .exec(&txn)
                .await?
                .rows_affected;
            if held == 0 {
                tracing::warn!(import.id = import_id, "the failed import's claim was lost");
                return Ok(());
            }
            txn.commit().await?;
            Ok(())
        }
    }
}

/// Stores the error rows of an import that stopped early, a few hundred at a time.
async fn keep_errors(
    txn: &sea_orm::DatabaseTransaction,
    errors: Vec<Vec<Value>>,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    for chunk in errors.chunks(500) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("roster_import_errors"))
            .columns(cols::ERROR.iter().map(|c| Alias::new(c.name())));
        for row in chunk {
            insert
                .values(row.iter().cloned().map(Into::into))
                .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// The uploaded file of an import, put together from its parts one part at a time into a
/// temporary file for the parser process.
async fn load_file(
    db: &DatabaseConnection,
    import: &roster_import::Model,
) -> Result<UploadedFile, RunError> {
    let mut out = UploadWriter::new().await.map_err(anyhow::Error::from)?;
    for part in 0.. {
        match file_part::Entity::find_by_id((import.id, part))
            .one(db)
            .await?
        {
            Some(p) => out.write(&p.content).await.map_err(anyhow::Error::from)?,
            None => break,
        }
    }
    if out.len() as i64 != import.file_size {
        return Err(anyhow::anyhow!(
            "the file of import {} is missing or incomplete: {} of {} bytes",
            import.id,
            out.len(),
            import.file_size
        )
        .into());
    }
    Ok(out.finish().await.map_err(anyhow::Error::from)?)
}

async fn run_inner(
    db: &DatabaseConnection,
    import_id: i64,
    progress: Progress,
) -> Result<Counts, RunError> {
    let import = roster_import::Entity::find_by_id(import_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("import {import_id} vanished"))?;
    // Two identical uploads may both have been queued before either finished: the later one
    // changes nothing and points to the earlier. Not when the clerk corrected how the file is
    // read: then it is not the same import.
    let remapped = import.column_mapping.is_some();
    let earlier = roster_import::Entity::find()
        .filter(
            roster_import::COLUMN
                .fingerprint
                .eq(import.fingerprint.as_str()),
        )
        .filter(roster_import::COLUMN.status.eq(Status::Succeeded))
        .filter(roster_import::COLUMN.duplicate_of.is_null())
        .filter(roster_import::COLUMN.id.ne(import_id))
        .one(db)
        .await?
        .filter(|_| !remapped);
    if let Some(first) = earlier {
        // A plan of an earlier validation (one sent back when the other was activated) goes:
        // a duplicate changes nothing and counts nothing.
        let txn = crate::db::begin_write(db).await?;
        let mut update = roster_import::Entity::update_many()
            .col_expr(
                roster_import::Column::Status,
                Expr::value(Status::Succeeded.code()),
            )
            .col_expr(roster_import::Column::DuplicateOf, Expr::value(first.id))
            .col_expr(
                roster_import::Column::FinishedAt,
                Expr::value(progress.now()),
            )
            .col_expr(
                roster_import::Column::Version,
                Expr::value(import.version + 1),
            );
        for c in [
            roster_import::Column::Added,
            roster_import::Column::Updated,
            roster_import::Column::Unchanged,
            roster_import::Column::Ended,
        ] {
            update = update.col_expr(c, Expr::value(0));
        }
        let held = update
            .filter(roster_import::COLUMN.id.eq(import_id))
            .filter(roster_import::COLUMN.status.eq(Status::Running))
            .filter(roster_import::COLUMN.claimed_by.eq(progress.instance()))
            .exec(&txn)
            .await?
            .rows_affected;
        if held != 1 {
            return Err(RunError::LostClaim);
        }
        crate::roster::activate::drop_plan(&txn, import_id).await?;
        txn.commit().await?;
        return Ok(Counts::default());
    }
    let content = load_file(db, &import).await?;
    let group = import
        .group_code
        .as_deref()
        .map(Group::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let region = import
        .region_code
        .as_deref()
        .map(RegionPrefix::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let scope = match import.created_by {
        Some(uid) => {
            let u = entity::user::Entity::find_by_id(uid)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the uploader {uid} is gone"))?;
            RegionPrefix::parse(&u.region_prefix).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => region
            .clone()
            .unwrap_or_else(|| progress.province().clone()),
    };
    // A full import without a region parameter covers the uploader's own scope, never more.
    let full_scope = region.clone().unwrap_or_else(|| scope.clone());
    let params = Params {
        group,
        region: region.clone(),
        scope,
        mapping: crate::roster::mapping::Mapping::from_json(import.column_mapping.as_ref()),
    };
    let mode = Mode::parse(&import.mode).unwrap_or_default();
    let effective = import.effective_date;
    // Read before anything of the roster: an activation that lands during the validation
    // raises it, and the plan is then made again before it can be activated.
    let roster_version = crate::roster::activate::roster_version(db).await?;

    let (tx, rx) =
        tokio::sync::mpsc::channel::<Vec<Outcome>>(queued_batches(db.get_database_backend()));
    let batch_size = batch_rows(db.get_database_backend());
    let file_name = import.file_name.clone();
    let parse_progress = progress.clone();
    let file_parser = progress.parser().clone();
    let mut tally = Tally::new(progress.max_rejected_rows());
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(batch_size);
        let mut done: i64 = 0;
        let mut stopped = None;
        let mut sink = TotalingSink {
            inner: Validator::new(params, |o| {
                let stop = match &o {
                    Outcome::Skipped => None,
                    o => tally.observe(matches!(o, Outcome::Rejected(..))),
                };
                batch.push(o);
                done += 1;
                if stop.is_some() {
                    // What was read goes to the writer, which keeps the rejected rows.
                    stopped = stop;
                    return ControlFlow::Break(());
                }
                if batch.len() >= batch_size {
                    parse_progress.set_done(import_id, done);
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if tx.blocking_send(full).is_err() {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            }),
            progress: parse_progress.clone(),
            import_id,
            total: 0,
        };
        let error = file_parser
            .parse(content.path(), &file_name, &mut sink)
            .err();
        let sheets = std::mem::take(&mut sink.inner.sheets);
        drop(sink);
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        parse_progress.set_done(import_id, done);
        ParseResult {
            sheets,
            error,
            stopped,
            tally,
        }
    });

    let job = Job {
        owner: progress.instance().to_owned(),
        import,
        writer: Writer::new(import_id, effective, mode, progress.max_rejected_rows() + 1),
        rx,
        parser,
        full_group: if mode == Mode::Full { group } else { None },
        group,
        full_scope,
        roster_version,
        clock: progress.clock(),
    };
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => run_on_sqlite(db, job).await,
        _ => {
            let pg_err = |e: sea_orm::sqlx::Error| {
                RunError::Db(sea_orm::DbErr::Custom(format!("PostgreSQL: {e}")))
            };
            let mut txn = db
                .get_postgres_connection_pool()
                .begin()
                .await
                .map_err(pg_err)?;
            // The import's statements are short and many, and some are planned as costly
            // enough for PostgreSQL to compile them to machine code with LLVM, every time:
            // that compiling was 63 % of the server's work importing a known roster again.
            sea_orm::sqlx::raw_sql("SET LOCAL jit = off")
                .execute(&mut *txn)
                .await
                .map_err(pg_err)?;
            let counts = job.run(&mut PgStore::new(&mut txn)).await?;
            txn.commit().await.map_err(pg_err)?;
            Ok(counts)
        }
    }
}
