//! A person's roster history (名册记录): every entry of every group over time, each with the
//! imports that added it, last changed it and ended it, and who uploaded those imports. One
//! reading for the API (`GET /api/v1/persons/{person}/roster-history`) and the page
//! (`/persons/{person_id}/roster-history`), so both show the same entries.
//!
//! An import changes an entry in place, and the entry names the import that changed it last
//! (`updated_by_import_id`); every change itself, with the values before it, is in
//! `roster_entry_changes` (kept since migration m20261207_000011), and the history lists them,
//! each as before → after.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use entity::{roster_entry, roster_entry_change, roster_import, user};

use crate::auth::CurrentUser;
use crate::domain::{Group, Lang, RegionCode};
use crate::error::{AppError, AppResult};
use crate::person::PersonKey;

/// Who uploaded an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Uploader {
    /// User id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name (may be empty).
    pub display_name: String,
}

impl Uploader {
    /// The display name, else the login name.
    pub fn shown(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

/// An import as an entry's history names it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRef {
    /// Import id.
    pub id: i64,
    /// The file's name as uploaded.
    pub file_name: String,
    /// The import's effective date.
    pub effective_date: NaiveDate,
    /// `incremental` or `full`.
    pub mode: String,
    /// Who uploaded it; null for an import run from the command line.
    pub uploaded_by: Option<Uploader>,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Who activated it (the uploader, on the one-step path; null from the command line or for
    /// an import from before imports had two steps).
    pub activated_by: Option<Uploader>,
    /// When it changed the roster.
    pub activated_at: Option<DateTime<Utc>>,
}

/// An entry's values at one moment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EntryValues {
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub region_code: String,
    pub name_on_roster: String,
}

/// One change of an entry, by an import or by the revert of one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryChange {
    /// `updated`, `ended` or `reverted` (the import named was undone).
    pub kind: String,
    /// The import that made the change (for `reverted`: the import undone).
    pub import: Option<ImportRef>,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// The values before the change.
    pub before: EntryValues,
    /// The values after it.
    pub after: EntryValues,
}

/// One roster entry and the imports behind it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// Entry id.
    pub id: i64,
    /// Group code.
    pub group: String,
    /// Group label in the request's language.
    pub group_label: String,
    /// Region on the roster.
    pub region_code: String,
    /// Name on the roster.
    pub name_on_roster: String,
    /// First covered day.
    pub valid_from: NaiveDate,
    /// Last covered day; null while open.
    pub valid_to: Option<NaiveDate>,
    /// The roster's other columns, as the file had them.
    pub extra: Option<serde_json::Value>,
    /// The import that added the entry.
    pub added_by: Option<ImportRef>,
    /// The import that changed it last (imports change entries in place: earlier changes and
    /// the values before them are not part of the history).
    pub changed_by: Option<ImportRef>,
    /// The import that ended it (a full import that no longer listed the person).
    pub ended_by: Option<ImportRef>,
    /// Every change since it was added, oldest first, each as before → after.
    pub changes: Vec<EntryChange>,
}

/// The person the history is of.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    /// Record id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The ID number, masked (`220104********0028`): the caller named the person by record id,
    /// and the history needs no more than that to be read.
    pub id_number: String,
    /// Home region.
    pub region_code: String,
}

/// A person's roster history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RosterHistory {
    /// Whose.
    pub person: PersonRef,
    /// The entries inside the caller's scope, newest first.
    pub entries: Vec<HistoryEntry>,
}

impl RosterHistory {
    /// The ids of every import the history names, once each.
    pub fn import_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .entries
            .iter()
            .flat_map(|e| {
                [&e.added_by, &e.changed_by, &e.ended_by]
                    .into_iter()
                    .chain(e.changes.iter().map(|c| &c.import))
            })
            .filter_map(|i| i.as_ref().map(|i| i.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The roster history of the person `key` names, as `user` may see it.
///
/// Scope works as for `/api/v1/roster-entries`: a person whose home region lies outside the
/// user's scope is "not found", word for word as a person that does not exist; for a person
/// inside it, entries of regions outside the scope are left out (not shown masked), so the
/// history shows what the user's own regions' rosters say.
pub async fn of<C: ConnectionTrait>(
    db: &C,
    user: &CurrentUser,
    key: &PersonKey,
    lang: Lang,
) -> AppResult<RosterHistory> {
    let in_scope =
        |region: &str| RegionCode::parse(region).is_ok_and(|code| user.region.contains(&code));
    let p = key
        .find(db)
        .await?
        .filter(|p| in_scope(&p.region_code))
        .ok_or_else(|| AppError::not_found("person", key.shown()))?;
    let entries = roster_entry::Entity::find()
        .filter(roster_entry::COLUMN.person_id.eq(p.id))
        .filter(user.scope(roster_entry::Column::RegionCode))
        .order_by_desc(roster_entry::COLUMN.valid_from)
        .order_by_desc(roster_entry::COLUMN.id)
        .all(db)
        .await?;
    let changes = roster_entry_change::Entity::find()
        .filter(
            roster_entry_change::COLUMN
                .entry_id
                .is_in(entries.iter().map(|e| e.id)),
        )
        .order_by_asc(roster_entry_change::COLUMN.id)
        .all(db)
        .await?;
    let mut import_ids: Vec<i64> = changes.iter().map(|c| c.import_id).collect();
    import_ids.extend(entries.iter().flat_map(|e| {
        [
            e.created_by_import_id,
            e.updated_by_import_id,
            e.ended_by_import_id,
        ]
        .into_iter()
        .flatten()
    }));
    let imports = imports_by_id(db, import_ids).await?;
    let import = |id: Option<i64>| id.and_then(|id| imports.get(&id).cloned());
    let entries = entries
        .into_iter()
        .map(|e| HistoryEntry {
            // A change whose values lie in a region outside the user's scope is another
            // region's roster: left out, as its entries are.
            changes: changes_of(&e, &changes, &import)
                .into_iter()
                .filter(|c| in_scope(&c.before.region_code) && in_scope(&c.after.region_code))
                .collect(),
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
            added_by: import(e.created_by_import_id),
            changed_by: import(e.updated_by_import_id),
            ended_by: import(e.ended_by_import_id),
        })
        .collect();
    let id_number = crate::domain::IdNumber::parse(&p.id_number)
        .map(|n| n.masked())
        .unwrap_or_else(|_| "*".repeat(p.id_number.chars().count()));
    Ok(RosterHistory {
        person: PersonRef {
            id: p.id,
            name: p.name,
            id_number,
            region_code: p.region_code,
        },
        entries,
    })
}

/// The changes of entry `e`, oldest first: each kept row holds the values before its change;
/// the values after are the next row's before, or the entry as it is now.
fn changes_of(
    e: &roster_entry::Model,
    all: &[roster_entry_change::Model],
    import: &impl Fn(Option<i64>) -> Option<ImportRef>,
) -> Vec<EntryChange> {
    let mine: Vec<&roster_entry_change::Model> =
        all.iter().filter(|c| c.entry_id == e.id).collect();
    let now = EntryValues {
        valid_from: e.valid_from,
        valid_to: e.valid_to,
        region_code: e.region_code.clone(),
        name_on_roster: e.name_on_roster.clone(),
    };
    let values = |c: &roster_entry_change::Model| EntryValues {
        valid_from: c.valid_from,
        valid_to: c.valid_to,
        region_code: c.region_code.clone(),
        name_on_roster: c.name_on_roster.clone(),
    };
    mine.iter()
        .enumerate()
        .map(|(i, c)| EntryChange {
            kind: c.kind.clone(),
            import: import(Some(c.import_id)),
            changed_at: c.changed_at,
            before: values(c),
            after: mine
                .get(i + 1)
                .map_or_else(|| now.clone(), |next| values(next)),
        })
        .collect()
}

/// The imports named, with their uploaders and activators, by import id: two queries whatever
/// the number of entries.
async fn imports_by_id<C: ConnectionTrait>(
    db: &C,
    mut ids: Vec<i64>,
) -> AppResult<HashMap<i64, ImportRef>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let imports = roster_import::Entity::find()
        .filter(roster_import::COLUMN.id.is_in(ids))
        .all(db)
        .await?;
    let mut user_ids: Vec<i64> = imports
        .iter()
        .flat_map(|i| [i.created_by, i.activated_by])
        .flatten()
        .collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let uploaders: HashMap<i64, Uploader> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::COLUMN.id.is_in(user_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| {
                (
                    u.id,
                    Uploader {
                        id: u.id,
                        username: u.username,
                        display_name: u.display_name,
                    },
                )
            })
            .collect()
    };
    Ok(imports
        .into_iter()
        .map(|i| {
            let r = ImportRef {
                id: i.id,
                uploaded_by: i.created_by.and_then(|u| uploaders.get(&u).cloned()),
                activated_by: i.activated_by.and_then(|u| uploaders.get(&u).cloned()),
                activated_at: i.activated_at,
                file_name: i.file_name,
                effective_date: i.effective_date,
                mode: i.mode,
                uploaded_at: i.created_at,
            };
            (r.id, r)
        })
        .collect())
}
