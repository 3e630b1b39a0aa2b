//! Activating a validated import: the second of an import's two steps.
//!
//! Validation (`roster::import`) reads the file and the roster and stages what would change:
//! `roster_import_rows` (entries to add or change, people's new names or regions) and
//! `roster_import_ends` (entries a full import ends). Activation applies that plan with a few
//! set-based statements in one transaction, never a replay of rows, after checking:
//!
//! - the version the client saw, and that the import is still validated and not expired;
//! - who activates (`roster::approval`: a second person for destructive plans);
//! - the guard of `roster::guard` (a full import that accepts nothing or ends most of its
//!   scope needs a confirmation and a reason);
//! - that the roster has not changed since validation: every activation and revert raises
//!   `roster_state.version`; a plan made against an older version is sent back to be
//!   validated again, automatically, and the clerk looks at the new plan before activating.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ColumnTrait;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set, Statement,
};

use entity::roster_import;

use super::approval::Plan;
use super::entry_changes::{self, Kind};
use super::guard::{Effect, Reason};
use super::import::{ImportView, Mode};
use super::status::{self, Status};
use crate::audit::{self, Actor, Change};
use crate::auth::CurrentUser;
use crate::config::Settings;
use crate::domain::{Label, Lang, RegionPrefix, Role};
use crate::error::{AppError, AppResult, Msg};

/// The roster's version: raised by every activation and revert.
pub async fn roster_version<C: ConnectionTrait>(db: &C) -> Result<i64, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM roster_state WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("roster_state has no row".into()))?;
    row.try_get_by_index::<i64>(0)
}

/// Raises the roster's version, inside the transaction that changes the roster.
pub async fn bump_roster_version(txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
    txn.execute_unprepared("UPDATE roster_state SET version = version + 1 WHERE id = 1")
        .await?;
    Ok(())
}

/// Who asks for the activation.
#[derive(Clone, Copy)]
pub enum Who<'a> {
    /// A signed-in user (the API, the pages).
    User(&'a CurrentUser),
    /// The uploader's one-step path (`--activate`, the upload's `activate` field): allowed only
    /// where the uploader alone may activate.
    Uploader,
}

/// What the activating person sends.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The import's version the person saw.
    pub version: i32,
    /// The confirmation, with a reason, that a destructive full import is meant.
    pub confirmation: Option<Reason>,
}

/// How an activation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The roster changed.
    Activated(ImportView),
    /// The roster changed since validation: the import is queued to be validated again.
    Revalidating(ImportView),
}

/// The region an import may change: its region, else its uploader's scope, else (from the
/// command line) the province.
pub async fn scope_of<C: ConnectionTrait>(
    db: &C,
    import: &roster_import::Model,
    province: &RegionPrefix,
) -> AppResult<RegionPrefix> {
    let uploader_region = match (import.region_code.is_none(), import.created_by) {
        (true, Some(uid)) => entity::user::Entity::find_by_id(uid)
            .one(db)
            .await?
            .map(|u| u.region_prefix),
        _ => None,
    };
    Ok(scope_with(import, uploader_region.as_deref(), province))
}

/// [`scope_of`], with the uploader's scope already read (a list reads them all at once).
pub fn scope_with(
    import: &roster_import::Model,
    uploader_region: Option<&str>,
    province: &RegionPrefix,
) -> RegionPrefix {
    import
        .region_code
        .as_deref()
        .or(uploader_region)
        .and_then(|r| RegionPrefix::parse(r).ok())
        .unwrap_or_else(|| province.clone())
}

/// Discarding or correcting an import is for its uploader, or for someone whose scope covers
/// the import's.
async fn check_may_change(
    txn: &DatabaseTransaction,
    settings: &Settings,
    m: &roster_import::Model,
    user: &CurrentUser,
) -> AppResult<()> {
    let scope = scope_of(txn, m, &settings.province).await?;
    if m.created_by == Some(user.id) || user.region.covers(&scope) {
        return Ok(());
    }
    Err(AppError::forbidden(Msg::new(
        format!(
            "本批次的范围{scope}超出您的数据范围{}：请由上传人或数据范围覆盖{scope}的名册管理员操作。",
            user.region
        ),
        format!(
            "The import's scope {scope} is outside your scope {}: its uploader, or a roster importer whose scope covers {scope}, does this.",
            user.region
        ),
    )))
}

/// The plan's figures, for the approval rule.
pub fn plan_of(import: &roster_import::Model) -> Plan {
    Plan {
        mode: Mode::parse(&import.mode).unwrap_or_default(),
        covered: import.covered,
        updated: import.updated,
        ended: import.ended,
    }
}

/// Whether the plan needs a second person under the branch's rule.
pub fn needs_second(settings: &Settings, import: &roster_import::Model) -> bool {
    settings
        .import_approval
        .needs_second(plan_of(import), settings.import_approval_percent)
}

/// Why `user` may not activate `import` (None: they may).
pub fn refusal(
    settings: &Settings,
    import: &roster_import::Model,
    scope: &RegionPrefix,
    user: &CurrentUser,
) -> Option<Msg> {
    let allowed_role =
        user.roles.contains(&Role::RosterImporter) || user.roles.contains(&Role::Admin);
    if !allowed_role {
        return Some(Msg::new(
            "只有名册管理员或系统管理员可以启用导入。",
            "Only a roster importer or an administrator activates an import.",
        ));
    }
    if !user.region.covers(scope) {
        return Some(Msg::new(
            format!(
                "本批次的范围{scope}超出您的数据范围{}，须由数据范围覆盖它的人员启用。",
                user.region
            ),
            format!(
                "The import's scope {scope} is outside your scope {}: it is activated by someone whose scope covers it.",
                user.region
            ),
        ));
    }
    // Whoever shaped the plan (uploaded the file, or corrected how it is read) is its maker.
    let maker = import.created_by == Some(user.id) || import.remapped_by == Some(user.id);
    if needs_second(settings, import) && maker {
        return Some(second_person(settings, import, scope));
    }
    None
}

fn second_person(settings: &Settings, import: &roster_import::Model, scope: &RegionPrefix) -> Msg {
    let plan = plan_of(import);
    let why = match settings.import_approval {
        super::approval::Approval::Always => (
            "本单位规定每批导入".to_owned(),
            "This branch has every import".to_owned(),
        ),
        _ if plan.mode == Mode::Full && plan.ended > 0 => (
            format!("本批次会终止 {} 名在册人员，因此", plan.ended),
            format!("This import ends {} people, so it is", plan.ended),
        ),
        _ => (
            format!(
                "本批次将改动范围内在册 {} 人中的 {} 人，超过{}%，因此",
                plan.covered,
                plan.updated + plan.ended,
                settings.import_approval_percent
            ),
            format!(
                "This import changes {} of the {} people covered in its scope, more than {}%, so it is",
                plan.updated + plan.ended,
                plan.covered,
                settings.import_approval_percent
            ),
        ),
    };
    Msg::new(
        format!(
            "{}须由上传人以外的另一位名册管理员或系统管理员（数据范围覆盖{scope}）启用。",
            why.0
        ),
        format!(
            "{} activated by a second person: a roster importer or administrator other than the uploader, whose scope covers {scope}.",
            why.1
        ),
    )
}

fn state_conflict(code: &'static str, message: Msg, m: &roster_import::Model) -> AppError {
    AppError::StateConflict {
        code,
        message,
        state: m.status.code().to_owned(),
        version: m.version,
        allowed: status::allowed(m.status)
            .iter()
            .map(|a| a.code().to_owned())
            .collect(),
    }
}

fn not_validated(m: &roster_import::Model) -> AppError {
    let label = m.status.label(Lang::Zh);
    state_conflict(
        "import_not_validated",
        Msg::new(
            format!("只有“已校验，待启用”的导入可以启用或放弃，本批次为“{label}”。"),
            format!(
                "Only a validated import can be activated or discarded; this one is {}.",
                m.status
            ),
        ),
        m,
    )
}

fn stale_version(m: &roster_import::Model, seen: i32) -> AppError {
    state_conflict(
        "version_conflict",
        Msg::new(
            format!(
                "本批次已有变化（您看到的是第{seen}版，现为第{}版）：请刷新页面，核对后再操作。",
                m.version
            ),
            format!(
                "The import changed since you read it (version {seen}, now {}): reload it and check before acting.",
                m.version
            ),
        ),
        m,
    )
}

/// The moment a validated import expires.
pub fn expires_at(settings: &Settings, m: &roster_import::Model) -> Option<DateTime<Utc>> {
    m.validated_at
        .map(|at| at + Duration::hours(i64::from(settings.import_validated_hours)))
}

/// Locks and loads the import for a change of state: the user's view of it, or any import for
/// the uploader's own path.
async fn load(txn: &DatabaseTransaction, who: Who<'_>, id: i64) -> AppResult<roster_import::Model> {
    if let Who::User(u) = who {
        super::history::find_visible(txn, u, id).await?;
    }
    roster_import::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("roster_import", id))
}

/// Activates import `id`.
pub async fn activate(
    db: &DatabaseConnection,
    settings: &Settings,
    who: Who<'_>,
    id: i64,
    req: Request,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let txn = crate::db::begin_write(db).await?;
    // One roster change at a time on PostgreSQL too (SQLite's write lock already is one):
    // activations and reverts wait here for each other, so the version check below sees
    // every change that landed first.
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE roster_entries IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    let m = load(&txn, who, id).await?;
    if m.status != Status::Validated {
        return Err(not_validated(&m));
    }
    if let Who::User(_) = who
        && m.version != req.version
    {
        return Err(stale_version(&m, req.version));
    }
    if expires_at(settings, &m).is_some_and(|at| at <= now) {
        let view = close(&txn, &m, Status::Expired, None, now).await?;
        txn.commit().await?;
        return Err(state_conflict(
            "import_expired",
            Msg::new(
                format!(
                    "本批次校验后超过{}小时未启用，已过期：请重新上传文件。",
                    settings.import_validated_hours
                ),
                format!(
                    "The import waited more than {} hours after validation and expired: upload the file again.",
                    settings.import_validated_hours
                ),
            ),
            &roster_import::Model {
                status: view.status,
                version: view.version,
                ..m
            },
        ));
    }
    let scope = scope_of(&txn, &m, &settings.province).await?;
    let actor = match who {
        Who::User(u) => {
            if let Some(why) = refusal(settings, &m, &scope, u) {
                return Err(AppError::forbidden(why));
            }
            u.actor()
        }
        Who::Uploader => {
            if needs_second(settings, &m) {
                return Err(AppError::forbidden(second_person(settings, &m, &scope)));
            }
            Actor::uploader(m.created_by, now)
        }
    };
    // A full import that accepts nothing or ends most of its scope: only with a confirmation.
    let confirmed = match (Mode::parse(&m.mode) == Some(Mode::Full))
        .then(|| {
            Effect {
                accepted: m.accepted,
                covered: m.covered,
                ended: m.ended,
            }
            .destructive()
        })
        .flatten()
    {
        None => None,
        Some(d) => {
            let reason = req
                .confirmation
                .map(|r| r.as_str().to_owned())
                .or(m.confirmed_reason.clone());
            match reason {
                None => return Err(state_conflict("confirmation_required", d.refusal(), &m)),
                Some(r) => Some((d.effect(), r)),
            }
        }
    };
    if Some(roster_version(&txn).await?) != m.roster_version {
        let view = requeue(&txn, &m, &actor, now).await?;
        txn.commit().await?;
        return Ok(Outcome::Revalidating(view));
    }

    apply(&txn, id, m.effective_date, now).await?;
    bump_roster_version(&txn).await?;

    let mut a = m.clone().into_active_model();
    a.status = Set(Status::Succeeded);
    a.version = Set(m.version + 1);
    a.activated_at = Set(Some(now));
    a.activated_by = Set(actor.id);
    a.finished_at = Set(Some(now));
    if let Some((_, reason)) = &confirmed {
        a.confirmed_reason = Set(Some(reason.clone()));
    }
    let after = a.update(&txn).await?;
    let view = ImportView::from_model(&after, None);
    audit::record(
        &txn,
        &actor,
        Change {
            action: "roster_import.activate",
            entity_type: "roster_import",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({"status": m.status, "version": m.version})),
            after: Some(serde_json::json!({
                "status": after.status,
                "added": after.added,
                "updated": after.updated,
                "ended": after.ended,
                "uploaded_by": after.created_by,
            })),
        },
    )
    .await?;
    if let Some((effect, reason)) = confirmed {
        audit::record(
            &txn,
            &actor,
            Change {
                action: "roster_import.confirmed_destructive",
                entity_type: "roster_import",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "reason": reason,
                    "accepted": effect.accepted,
                    "covered": effect.covered,
                    "ended": effect.ended,
                })),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Outcome::Activated(view))
}

/// Activates a just-validated import that asked for it (`auto_activate`) when the uploader
/// alone may; otherwise it stays validated for a second person. Answers whether it did.
pub async fn auto(
    db: &DatabaseConnection,
    settings: &Settings,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    match activate(db, settings, Who::Uploader, id, Request::default(), now).await {
        Ok(Outcome::Activated(_)) => Ok(true),
        Ok(Outcome::Revalidating(_)) => Ok(false),
        Err(AppError::Forbidden { .. }) | Err(AppError::StateConflict { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Back to the queue, to be validated against the roster as it now is.
async fn requeue(
    txn: &DatabaseTransaction,
    m: &roster_import::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<ImportView> {
    drop_plan(txn, m.id).await?;
    let mut a = m.clone().into_active_model();
    a.status = Set(Status::Queued);
    a.version = Set(m.version + 1);
    a.claimed_by = Set(None);
    a.claimed_at = Set(None);
    a.started_at = Set(None);
    a.rows_done = Set(0);
    a.validated_at = Set(None);
    let after = a.update(txn).await?;
    audit::record(
        txn,
        actor,
        Change {
            action: "roster_import.revalidate",
            entity_type: "roster_import",
            entity_id: m.id.to_string(),
            before: Some(serde_json::json!({"roster_version": m.roster_version})),
            after: Some(serde_json::json!({"status": after.status, "at": now})),
        },
    )
    .await?;
    Ok(ImportView::from_model(&after, None))
}

/// Discards a validated import: its plan is deleted, the roster never changed.
pub async fn discard(
    db: &DatabaseConnection,
    settings: &Settings,
    user: &CurrentUser,
    id: i64,
    version: i32,
) -> AppResult<ImportView> {
    let txn = crate::db::begin_write(db).await?;
    let m = load(&txn, Who::User(user), id).await?;
    if m.status != Status::Validated {
        return Err(not_validated(&m));
    }
    if m.version != version {
        return Err(stale_version(&m, version));
    }
    check_may_change(&txn, settings, &m, user).await?;
    let view = close(&txn, &m, Status::Discarded, Some(&user.actor()), user.now).await?;
    txn.commit().await?;
    Ok(view)
}

/// A correction of how one column of one sheet is read: `field` None reads it as nothing.
#[derive(Debug, Clone)]
pub struct Correction {
    /// The import's version as read.
    pub version: i32,
    /// The sheet, by name as the result lists it.
    pub sheet: String,
    /// The column letter as the result lists it.
    pub column: String,
    /// The field it is read as.
    pub field: Option<super::columns::Field>,
}

/// Corrects how a column of a validated (or failed) import is read, and sends it back to be
/// validated again from its stored file; the mapping is kept with the import and audited.
pub async fn remap(
    db: &DatabaseConnection,
    settings: &Settings,
    user: &CurrentUser,
    id: i64,
    c: Correction,
) -> AppResult<ImportView> {
    let txn = crate::db::begin_write(db).await?;
    let m = load(&txn, Who::User(user), id).await?;
    if !matches!(m.status, Status::Validated | Status::Failed) || m.purged_at.is_some() {
        return Err(state_conflict(
            "import_not_remappable",
            Msg::new(
                "只有“已校验，待启用”或失败、且文件仍在保存期内的导入可以更正列的读取方式。",
                "Only a validated or failed import whose file is still kept can have its columns read otherwise.",
            ),
            &m,
        ));
    }
    if m.version != c.version {
        return Err(stale_version(&m, c.version));
    }
    check_may_change(&txn, settings, &m, user).await?;
    // Only a column the result lists, of a sheet it lists.
    let sheets: Vec<serde_json::Value> = m
        .sheets
        .as_ref()
        .and_then(|s| s.as_array().cloned())
        .unwrap_or_default();
    let Some(sheet) = sheets.iter().find(|s| s["name"] == c.sheet.as_str()) else {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "sheet",
            Msg::new(
                format!("本批次没有名为“{}”的工作表。", c.sheet),
                format!("The import has no sheet named '{}'.", c.sheet),
            ),
        )]));
    };
    let header = sheet["columns"]
        .as_array()
        .and_then(|cols| cols.iter().find(|col| col["letter"] == c.column.as_str()))
        .and_then(|col| col["column"].as_str().map(str::to_owned));
    let Some(header) = header else {
        return Err(AppError::validation(vec![crate::error::FieldError::new(
            "column",
            Msg::new(
                format!("工作表“{}”的表头中没有 {} 列。", c.sheet, c.column),
                format!(
                    "Sheet '{}' has no column {} in its header.",
                    c.sheet, c.column
                ),
            ),
        )]));
    };
    let mut mapping = super::mapping::Mapping::from_json(m.column_mapping.as_ref());
    mapping.set(&c.sheet, &c.column, c.field);
    drop_plan(&txn, id).await?;
    let now = user.now;
    let mut a = m.clone().into_active_model();
    a.column_mapping = Set(Some(serde_json::to_value(&mapping).unwrap_or_default()));
    a.status = Set(Status::Queued);
    a.version = Set(m.version + 1);
    // The new plan is nobody's yet: no one-step activation, no confirmation given for the
    // old one, and the corrector counts as a maker.
    a.auto_activate = Set(false);
    a.confirmed_reason = Set(None);
    a.remapped_by = Set(Some(user.id));
    a.error = Set(None);
    a.claimed_by = Set(None);
    a.claimed_at = Set(None);
    a.started_at = Set(None);
    a.finished_at = Set(None);
    a.rows_done = Set(0);
    a.validated_at = Set(None);
    let after = a.update(&txn).await?;
    audit::record(
        &txn,
        &user.actor(),
        Change {
            action: "roster_import.remap",
            entity_type: "roster_import",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({"column_mapping": m.column_mapping})),
            after: Some(serde_json::json!({
                "sheet": c.sheet,
                "column": c.column,
                "header": header,
                "field": c.field.map(|f| f.label_en()),
                "at": now,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ImportView::from_model(&after, None))
}

/// Ends a validated import without activating it (discarded or expired); its plan goes.
async fn close(
    txn: &DatabaseTransaction,
    m: &roster_import::Model,
    status: Status,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> AppResult<ImportView> {
    drop_plan(txn, m.id).await?;
    let mut a = m.clone().into_active_model();
    a.status = Set(status);
    a.version = Set(m.version + 1);
    a.finished_at = Set(Some(now));
    let after = a.update(txn).await?;
    let system = Actor::system("expiry", now);
    audit::record(
        txn,
        actor.unwrap_or(&system),
        Change {
            action: match status {
                Status::Expired => "roster_import.expire",
                _ => "roster_import.discard",
            },
            entity_type: "roster_import",
            entity_id: m.id.to_string(),
            before: Some(serde_json::json!({"status": m.status})),
            after: Some(serde_json::json!({"status": after.status})),
        },
    )
    .await?;
    Ok(ImportView::from_model(&after, None))
}

/// The tables of a staged plan, each with the column that orders its rows within an import.
pub const PLAN_TABLES: [(&str, &str); 2] = [
    ("roster_import_rows", "seq"),
    ("roster_import_ends", "entry_id"),
];

/// Deletes an import's staged plan.
pub async fn drop_plan<C: ConnectionTrait>(db: &C, id: i64) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    for (table, _) in PLAN_TABLES {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, &format!("DELETE FROM {table} WHERE import_id = ?")),
            [id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Expires the validated imports left alone longer than allowed; answers how many.
pub async fn expire_stale(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let cutoff = now - Duration::hours(i64::from(settings.import_validated_hours));
    let ids: Vec<i64> = roster_import::Entity::find()
        .select_only()
        .column(roster_import::Column::Id)
        .filter(roster_import::COLUMN.status.eq(Status::Validated))
        .filter(roster_import::COLUMN.validated_at.lte(cutoff))
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 0;
    for id in ids {
        let txn = crate::db::begin_write(db).await?;
        let Some(m) = roster_import::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            continue;
        };
        if m.status == Status::Validated && m.validated_at.is_some_and(|at| at <= cutoff) {
            close(&txn, &m, Status::Expired, None, now).await?;
            n += 1;
        }
        txn.commit().await?;
    }
    Ok(n)
}

/// SQLite page cache of the activating connection, in KiB: inserting a million people
/// touches the ID-number index at random places, which the default 2 MB cache does not hold.
const ACTIVATION_CACHE_KIB: u32 = 32 * 1024;

/// The plan, applied: a handful of statements whatever the size of the file. Bound values are
/// `?` in SQLite's spelling (numbered for PostgreSQL by `retention::sql`).
async fn apply(
    txn: &DatabaseTransaction,
    id: i64,
    effective: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    if backend == DbBackend::Sqlite {
        txn.execute_unprepared(&format!("PRAGMA cache_size = -{ACTIVATION_CACHE_KIB}"))
            .await?;
        let applied = statements(txn, id, effective, now).await;
        // The connection goes back to the pool with the ordinary cache.
        txn.execute_unprepared("PRAGMA cache_size = -2000").await?;
        applied
    } else {
        statements(txn, id, effective, now).await
    }
}

async fn statements(
    txn: &DatabaseTransaction,
    id: i64,
    effective: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let run = |sql: &str, values: Vec<sea_orm::Value>| {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            values,
        ))
    };
    // New people take the ids after the largest there: only activations add people, one at
    // a time (the lock above), so no other can take them meanwhile. Entries then name their
    // person without a look-up by ID number.
    let base: i64 = txn
        .query_one_raw(Statement::from_string(
            backend,
            if pg {
                "SELECT GREATEST(COALESCE(MAX(id), 0), \
                 (SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() \
                  AND sequencename = 'persons_id_seq')) FROM persons"
            } else {
                "SELECT COALESCE(MAX(id), 0) FROM persons"
            },
        ))
        .await?
        .map(|r| r.try_get_by_index::<Option<i64>>(0))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    let timed = std::time::Instant::now();
    run(
        NEW_PEOPLE,
        vec![base.into(), now.into(), now.into(), id.into()],
    )
    .await?;
    if pg {
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('persons', 'id'), \
             GREATEST((SELECT MAX(id) FROM persons), 1))",
        )
        .await?;
    }
    let people = timed.elapsed();
    run(
        if pg {
            PEOPLE_CHANGES_PG
        } else {
            PEOPLE_CHANGES_SQLITE
        },
        vec![now.into(), base.into(), id.into()],
    )
    .await?;
    // The entries' values before, for a revert and for the people's history.
    for kind in [Kind::Updated, Kind::Ended] {
        run(
            &entry_changes::keep_planned_sql(kind),
            vec![id.into(), now.into(), id.into()],
        )
        .await?;
    }
    run(UPDATE_ENTRIES, vec![id.into(), now.into(), id.into()]).await?;
    let changed = timed.elapsed();
    run(
        ADD_ENTRIES,
        vec![base.into(), id.into(), now.into(), now.into(), id.into()],
    )
    .await?;
    let added = timed.elapsed();
    let end = effective.pred_opt().unwrap_or(effective);
    run(
        END_ENTRIES,
        vec![end.into(), id.into(), now.into(), id.into()],
    )
    .await?;
    tracing::info!(
        import.id = id,
        people_seconds = people.as_secs_f64(),
        changes_seconds = (changed - people).as_secs_f64(),
        entries_seconds = (added - changed).as_secs_f64(),
        ends_seconds = (timed.elapsed() - added).as_secs_f64(),
        "Roster import {id} activated"
    );
    Ok(())
}

const NEW_PEOPLE: &str = "INSERT INTO persons (id, id_number, name, sex, birth_date, region_code, created_at, updated_at) \
     SELECT ? + new_person, id_number, name, sex, birth_date, region_code, ?, ? \
     FROM roster_import_rows WHERE import_id = ? AND person_row";
/// A person's latest row wins (a person listed twice, in two groups).
const PEOPLE_CHANGES_PG: &str = "UPDATE persons SET name = s.name, region_code = s.region_code, updated_at = ? \
     FROM (SELECT DISTINCT ON (pid) COALESCE(person_id, ? + new_person) AS pid, name, region_code \
       FROM roster_import_rows WHERE import_id = ? AND person_changed ORDER BY pid, seq DESC) AS s \
     WHERE persons.id = s.pid";
/// SQLite takes the other columns of a `MAX()` aggregate from the row holding the maximum.
const PEOPLE_CHANGES_SQLITE: &str = "UPDATE persons SET name = s.name, region_code = s.region_code, updated_at = ? \
     FROM (SELECT COALESCE(person_id, ? + new_person) AS pid, name, region_code, MAX(seq) \
       FROM roster_import_rows WHERE import_id = ? AND person_changed GROUP BY pid) AS s \
     WHERE persons.id = s.pid";
const UPDATE_ENTRIES: &str = "UPDATE roster_entries SET valid_from = s.valid_from, valid_to = s.valid_to, \
     region_code = s.region_code, name_on_roster = s.name, extra = s.extra, \
     updated_by_import_id = ?, ended_by_import_id = NULL, updated_at = ? \
     FROM roster_import_rows s WHERE s.import_id = ? AND s.action = 'updated' AND s.entry_id = roster_entries.id";
const ADD_ENTRIES: &str = "INSERT INTO roster_entries (person_id, group_code, region_code, name_on_roster, \
     valid_from, valid_to, extra, created_by_import_id, created_at, updated_at) \
     SELECT COALESCE(person_id, ? + new_person), group_code, region_code, name, valid_from, valid_to, extra, ?, ?, ? \
     FROM roster_import_rows WHERE import_id = ? AND action = 'added'";
const END_ENTRIES: &str = "UPDATE roster_entries SET valid_to = ?, ended_by_import_id = ?, updated_at = ? \
     WHERE id IN (SELECT entry_id FROM roster_import_ends WHERE import_id = ?)";
