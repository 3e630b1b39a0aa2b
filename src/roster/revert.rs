//! Undoing an import: entries it added end before they began (so they never covered anyone),
//! entries it changed or ended get back the values they had before it
//! (`roster_entry_changes`), and the import is marked reverted. Nothing is deleted: the
//! entries' past, the revert included, stays in `roster_entry_changes`, and the revert is
//! audited.
//!
//! Only while no later import has touched the same entries (undoing under a later import
//! would silently undo part of it too), only by a second person (the uploader cannot undo
//! their own import alone), and only within the reverter's scope.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, Set, Statement,
};

use entity::{roster_entry, roster_entry_change as change, roster_import};

use super::entry_changes::{self, Kind};
use super::history;
use super::import::ImportView;
use crate::audit::{self, Change};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, Msg};
use crate::roster::status::Status;

/// Entry ids handled per statement.
const CHUNK: usize = 10_000;

/// Reverts import `id` for `user`; answers the import as it now is.
pub async fn revert(
    db: &sea_orm::DatabaseConnection,
    user: &CurrentUser,
    id: i64,
) -> AppResult<ImportView> {
    let txn = crate::db::begin_write(db).await?;
    // An import running now could change the same entries after the checks below and be
    // overwritten by the revert. SQLite's write lock, taken at `begin_write`, already waits for
    // it; on PostgreSQL this lock waits for imports writing entries to commit and holds new ones
    // back until the revert has committed, so the checks see every change that lands first.
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE roster_entries IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    let import = history::find_visible(&txn, user, id).await?;
    check_revertible(&import, user)?;
    let backend = txn.get_database_backend();

    let created = ids(
        &txn,
        Query::select()
            .column(roster_entry::Column::Id)
            .from(roster_entry::Entity)
            .and_where(Expr::col(roster_entry::Column::CreatedByImportId).eq(id))
            .to_owned(),
    )
    .await?;
    let changed = ids(
        &txn,
        Query::select()
            .distinct()
            .column(change::Column::EntryId)
            .from(change::Entity)
            .and_where(Expr::col(change::Column::ImportId).eq(id))
            .and_where(Expr::col(change::Column::Kind).ne(Kind::Reverted.code()))
            .to_owned(),
    )
    .await?;
    check_scope(&txn, user, &created, &changed).await?;
    check_untouched(&txn, id).await?;

    let now = user.now;
    // Keep what is there now, then put back what was there before.
    for chunk in changed.chunks(CHUNK).chain(created.chunks(CHUNK)) {
        txn.execute_raw(entry_changes::keep_before(
            backend,
            chunk,
            id,
            Kind::Reverted,
            now,
        ))
        .await?;
    }
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(backend, RESTORE),
        [now.into(), id.into()],
    ))
    .await?;
    let void = match backend {
        DbBackend::Postgres => VOID_PG,
        _ => VOID_SQLITE,
    };
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(backend, void),
        [now.into(), id.into()],
    ))
    .await?;

    // A plan validated before this revert was made against entries it changed: it is
    // validated again before it can be activated.
    super::activate::bump_roster_version(&txn).await?;
    let mut m = import.clone().into_active_model();
    m.reverted_at = Set(Some(now));
    m.reverted_by = Set(Some(user.id));
    let after = m.update(&txn).await?;
    let view = ImportView::from_model(&after, None);
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "roster_import.revert",
            entity_type: "roster_import",
            entity_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "entries_voided": created.len(),
                "entries_restored": changed.len(),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Entries changed by the import get the values of their first change by it (the state
/// before it), from `roster_entry_changes`. Bound: the time, the import.
const RESTORE: &str = "UPDATE roster_entries SET valid_from = c.valid_from, valid_to = c.valid_to, \
     region_code = c.region_code, name_on_roster = c.name_on_roster, extra = c.extra, \
     updated_by_import_id = c.updated_by_import_id, ended_by_import_id = c.ended_by_import_id, \
     updated_at = ? \
     FROM (SELECT * FROM roster_entry_changes c1 WHERE c1.import_id = ? AND c1.kind <> 'reverted' \
       AND c1.id = (SELECT MIN(c2.id) FROM roster_entry_changes c2 \
         WHERE c2.entry_id = c1.entry_id AND c2.import_id = c1.import_id AND c2.kind <> 'reverted')) AS c \
     WHERE roster_entries.id = c.entry_id";

/// Entries added by the import end the day before they began: they never covered anyone.
const VOID_PG: &str = "UPDATE roster_entries SET valid_to = valid_from - 1, updated_at = ? \
     WHERE created_by_import_id = ?";
const VOID_SQLITE: &str = "UPDATE roster_entries SET valid_to = date(valid_from, '-1 day'), updated_at = ? \
     WHERE created_by_import_id = ?";

fn check_revertible(import: &roster_import::Model, user: &CurrentUser) -> AppResult<()> {
    if import.status != Status::Succeeded || import.duplicate_of.is_some() {
        return Err(AppError::conflict(
            "import_not_revertible",
            Msg::new(
                "只能撤销已成功导入并改动了名册的批次。",
                "Only an import that succeeded and changed the roster can be reverted.",
            ),
        ));
    }
    if let Some(at) = import.reverted_at {
        let day = at.format("%Y-%m-%d");
        return Err(AppError::conflict(
            "import_already_reverted",
            Msg::new(
                format!("该批次已于{day}撤销。"),
                format!("This import was reverted on {day}."),
            ),
        ));
    }
    if import.created_by == Some(user.id) {
        return Err(AppError::forbidden(Msg::new(
            "撤销导入须由上传人以外的另一位名册管理员或系统管理员操作。",
            "An import is reverted by a second person: a roster importer or administrator other than its uploader.",
        )));
    }
    Ok(())
}

/// Every entry the revert would touch lies inside the user's scope.
async fn check_scope(
    txn: &DatabaseTransaction,
    user: &CurrentUser,
    created: &[i64],
    changed: &[i64],
) -> AppResult<()> {
    for chunk in created.chunks(CHUNK).chain(changed.chunks(CHUNK)) {
        let outside = roster_entry::Entity::find()
            .filter(roster_entry::COLUMN.id.is_in(chunk.iter().copied()))
            .filter(
                crate::db::region_within(
                    Expr::col((roster_entry::Entity, roster_entry::Column::RegionCode)),
                    &user.region,
                )
                .not(),
            )
            .one(txn)
            .await?;
        if outside.is_some() {
            return Err(AppError::forbidden(Msg::new(
                format!(
                    "该批次改动了您的数据范围{}以外的名册记录，须由数据范围覆盖它们的人员撤销。",
                    user.region
                ),
                format!(
                    "The import changed roster entries outside your scope {}: it is reverted by someone whose scope covers them.",
                    user.region
                ),
            )));
        }
    }
    Ok(())
}

/// No later import has touched the import's entries, and the import's changes were all kept
/// (an import from before `roster_entry_changes` existed cannot be put back).
async fn check_untouched(txn: &DatabaseTransaction, id: i64) -> AppResult<()> {
    let backend = txn.get_database_backend();
    let later: Vec<i64> = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, LATER),
            [
                id.into(),
                id.into(),
                id.into(),
                id.into(),
                id.into(),
                id.into(),
                id.into(),
            ],
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .collect();
    if !later.is_empty() {
        let list = later
            .iter()
            .take(10)
            .map(|i| format!("#{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::conflict(
            "import_superseded",
            Msg::new(
                format!(
                    "之后的导入（{list}）已改动同一批名册记录，不能撤销本批次；如需撤销，请先撤销之后的导入。"
                ),
                format!(
                    "Later imports ({list}) changed the same roster entries, so this one cannot be reverted; revert those first."
                ),
            ),
        ));
    }
    let unrecorded = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, UNRECORDED),
            [id.into(), id.into(), id.into()],
        ))
        .await?
        .is_some();
    if unrecorded {
        return Err(AppError::conflict(
            "import_not_revertible",
            Msg::new(
                "该批次导入于系统开始保存修改前的原值之前，无法自动撤销；请以一次新的导入更正名册。",
                "This import ran before the service kept the values it changed, so it cannot be reverted; correct the roster with a new import.",
            ),
        ));
    }
    Ok(())
}

/// Other imports, not reverted themselves, that changed an entry after this import did, or
/// changed one it added. The last part reads the entries themselves: an import from before
/// `roster_entry_changes` existed left no change rows, only its id on the entries it changed.
const LATER: &str = "SELECT DISTINCT c2.import_id FROM roster_entry_changes c1 \
     JOIN roster_entry_changes c2 ON c2.entry_id = c1.entry_id AND c2.id > c1.id AND c2.import_id <> ? \
     WHERE c1.import_id = ? AND c2.import_id NOT IN (SELECT id FROM roster_imports WHERE reverted_at IS NOT NULL) \
     UNION SELECT DISTINCT c.import_id FROM roster_entries e \
     JOIN roster_entry_changes c ON c.entry_id = e.id AND c.import_id <> ? \
     WHERE e.created_by_import_id = ? AND c.import_id NOT IN (SELECT id FROM roster_imports WHERE reverted_at IS NOT NULL) \
     UNION SELECT DISTINCT COALESCE(e.updated_by_import_id, e.ended_by_import_id) FROM roster_entries e \
     WHERE e.created_by_import_id = ? \
     AND COALESCE(e.updated_by_import_id, e.ended_by_import_id, ?) <> ? \
     ORDER BY 1";

/// An entry the import updated or ended with no kept value from it.
const UNRECORDED: &str = "SELECT e.id FROM roster_entries e \
     WHERE (e.updated_by_import_id = ? OR e.ended_by_import_id = ?) \
     AND NOT EXISTS (SELECT 1 FROM roster_entry_changes c WHERE c.entry_id = e.id AND c.import_id = ?) \
     LIMIT 1";

async fn ids(
    txn: &DatabaseTransaction,
    select: sea_orm::sea_query::SelectStatement,
) -> AppResult<Vec<i64>> {
    let backend = txn.get_database_backend();
    Ok(txn
        .query_all_raw(backend.build(&select))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .collect())
}
