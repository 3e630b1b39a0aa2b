//! An import between its parser and its transaction: the writer fed batch by batch, then
//! the checks of the whole file and the import's result written.

use std::ops::ControlFlow;

use sea_orm::ColumnTrait;
use sea_orm::{EntityTrait, QueryFilter, QueryTrait, Set, Statement, TryIntoModel};

use entity::roster_import;

use super::error::{RunError, Stopped};
use super::view::{Counts, ImportView};
use super::writer::Writer;
use crate::audit::{self, Actor, Change};
use crate::domain::{Group, RegionPrefix};
use crate::error::Msg;
use crate::roster::jobs::Progress;
use crate::roster::read::{self, FileError};
use crate::roster::rows::{Outcome, SheetReport};
use crate::roster::status::Status;
use crate::roster::store::Store;
use crate::roster::tally::{StopReason, Tally};

pub(super) struct ParseResult {
    pub(super) sheets: Vec<SheetReport>,
    pub(super) error: Option<FileError>,
    /// The file was not what the clerk meant: reading stopped early.
    pub(super) stopped: Option<StopReason>,
    /// Data rows read and rejected until then.
    pub(super) tally: Tally,
}

/// An import between its parser and its transaction.
pub(super) struct Job {
    /// The instance whose claim this run holds.
    pub(super) owner: String,
    pub(super) import: roster_import::Model,
    pub(super) writer: Writer,
    pub(super) rx: tokio::sync::mpsc::Receiver<Vec<Outcome>>,
    pub(super) parser: tokio::task::JoinHandle<ParseResult>,
    /// The group whose scope a full import replaces.
    pub(super) full_group: Option<Group>,
    /// The import's group, if it names one.
    pub(super) group: Option<Group>,
    pub(super) full_scope: RegionPrefix,
    /// The roster's version before the validation read anything (`roster::activate`).
    pub(super) roster_version: i64,
    /// The service's clock, for the time the validation ends.
    pub(super) clock: crate::clock::Clock,
}

impl Job {
    /// Writes what the parser sends, then the import's result, inside the caller's transaction.
    pub(super) async fn run<S: Store>(self, store: &mut S) -> Result<Counts, RunError> {
        let Job {
            owner,
            import,
            mut writer,
            mut rx,
            parser,
            full_group,
            group,
            full_scope,
            roster_version,
            clock,
        } = self;
        let import_id = import.id;
        // What an earlier validation of the same import staged and rejected is planned anew.
        let plan = crate::roster::activate::PLAN_TABLES.map(|(t, _)| t);
        for table in plan.into_iter().chain(["roster_import_errors"]) {
            store
                .execute(Statement::from_sql_and_values(
                    store.backend(),
                    crate::db::placeholders(
                        store.backend(),
                        &format!("DELETE FROM {table} WHERE import_id = ?"),
                    ),
                    [import_id.into()],
                ))
                .await?;
        }
        let mut write_error = None;
        while let Some(batch) = rx.recv().await {
            if let Err(e) = writer.write(store, batch).await {
                write_error = Some(e);
                break;
            }
        }
        drop(rx);
        let parsed = parser
            .await
            .map_err(|e| anyhow::anyhow!("the parser stopped: {e}"))?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        if let Some(e) = parsed.error {
            return Err(RunError::File(Msg::of(&e)));
        }
        if let Some(reason) = parsed.stopped {
            return Err(RunError::Stopped(Box::new(Stopped {
                reason,
                rows: parsed.tally.rows() as i64,
                rejected: parsed.tally.rejected() as i64,
                errors: std::mem::take(&mut writer.kept_errors),
            })));
        }
        // Two columns claiming one field: which one is meant is for the clerk to say, on the
        // failed import's result (`POST .../columns`), which keeps the sheets for it.
        if let Some(m) = crate::roster::rows::header_problems(&parsed.sheets) {
            return Err(RunError::Header(
                m,
                serde_json::to_value(&parsed.sheets).unwrap_or_default(),
            ));
        }
        if !parsed.sheets.iter().any(|s| s.has_roster) {
            let notes = parsed
                .sheets
                .iter()
                .map(|s| format!("“{}”：{}", s.name, s.note.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("；");
            return Err(RunError::File(Msg::new(
                format!("文件中没有找到名册。{notes}"),
                format!(
                    "No roster was found in the file: a header row with an ID-number column (身份证号码 / 身份证号 / 公民身份号码 / 证件号码 / id_number) and a name column (姓名 / 救助对象姓名 / 成员姓名 / name) is needed. {notes}"
                ),
            )));
        }
        let covered = match full_group {
            Some(g) => writer.end_missing(store, g, full_scope.as_str()).await?,
            None => {
                store
                    .covered(group, full_scope.as_str(), import.effective_date)
                    .await?
            }
        };
        let counts = writer.counts(&parsed.sheets);
        let total: i64 = parsed.sheets.iter().map(|s| s.rows as i64).sum();
        let now = clock.now();
        let mut m: roster_import::ActiveModel = import.clone().into();
        m.status = Set(Status::Validated);
        m.version = Set(import.version + 1);
        m.roster_version = Set(Some(roster_version));
        m.validated_at = Set(Some(now));
        m.rows_total = Set(total);
        m.rows_done = Set(total);
        m.accepted = Set(counts.accepted);
        m.rejected = Set(counts.rejected);
        m.skipped = Set(counts.skipped);
        m.added = Set(counts.added);
        m.updated = Set(counts.updated);
        m.unchanged = Set(counts.unchanged);
        m.ended = Set(counts.ended);
        m.covered = Set(covered);
        m.sheets = Set(Some(
            serde_json::to_value(&parsed.sheets).unwrap_or_default(),
        ));
        m.error = Set(None);
        let after = m.clone().try_into_model()?;
        let backend = store.backend();
        // The claim is a lease: an instance whose heartbeat stopped long enough for the import
        // to be swept as interrupted (and perhaps claimed again by another) must not finish it
        // too. Only the holder of the claim marks it done; anyone else rolls back.
        let finished = store
            .execute(
                roster_import::Entity::update_many()
                    .set(m)
                    .filter(roster_import::COLUMN.id.eq(import_id))
                    .filter(roster_import::COLUMN.status.eq(Status::Running))
                    .filter(roster_import::COLUMN.claimed_by.eq(owner.as_str()))
                    .build(backend),
            )
            .await?;
        if finished != 1 {
            return Err(RunError::LostClaim);
        }
        let actor = Actor::uploader(import.created_by, now);
        let change = Change {
            action: "roster_import.validate",
            entity_type: "roster_import",
            entity_id: import_id.to_string(),
            before: None,
            after: Some(
                serde_json::to_value(ImportView::from_model(&after, None)).unwrap_or_default(),
            ),
        };
        store
            .execute(audit::insert_statement(backend, &actor, change))
            .await?;
        Ok(counts)
    }
}

/// Passes rows on and tells the progress registry how many rows the sheets declare.
pub(super) struct TotalingSink<V> {
    pub(super) inner: V,
    pub(super) progress: Progress,
    pub(super) import_id: i64,
    pub(super) total: i64,
}

impl<V: read::RowSink> read::RowSink for TotalingSink<V> {
    fn begin_sheet(&mut self, name: &str, approx_rows: u64) {
        // The declared height counts the header row, which is not a row read; a sheet that
        // declares no size (an .xlsx without its dimension says one row) adds nothing, and the
        // page then shows the rows read without a total.
        self.total += approx_rows.saturating_sub(1) as i64;
        self.progress.set_total(self.import_id, self.total);
        self.inner.begin_sheet(name, approx_rows);
    }
    fn row(&mut self, index: u32, cells: &[read::Cell]) -> ControlFlow<()> {
        self.inner.row(index, cells)
    }
    fn end_sheet(&mut self) {
        self.inner.end_sheet();
    }
}
