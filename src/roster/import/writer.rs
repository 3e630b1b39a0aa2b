//! Staging the plan: each batch's people and entries looked up, what each row would do
//! written to the staging tables, and the entries a full import ends.

use std::sync::Arc;

// The writer's maps take a few look-ups for each of a million rows, keyed by values from the
// uploader's own file: foldhash, randomly seeded per process like SipHash, at a fraction of its cost.
use chrono::NaiveDate;
use foldhash::{HashMap, HashMapExt};
use sea_orm::Value;

use super::view::Counts;
use super::{LOOKUP_ROWS, Mode, cols};
use crate::domain::Group;
use crate::roster::rows::{Outcome, RosterRow, SheetReport};
use crate::roster::store::{Existing, Store};

/// Plans batches inside the validation's transaction and keeps the counts: what activation
/// would do goes to the staging tables (`roster::activate`), the roster itself is only read.
pub(super) struct Writer {
    import_id: i64,
    effective: NaiveDate,
    /// Staged rows so far: the next row's place in the file.
    seq: i64,
    /// People not on file, by the 17 digits of their ID number: their number among the new
    /// people, so that each of a person's rows names the same one (a person may be listed in
    /// two groups, in different batches).
    new_people: HashMap<u64, i64>,
    /// People on file whose new name or region an earlier chunk staged: a later row of theirs
    /// is staged as a change too, so that the latest row wins even when it matches the file.
    changed_people: foldhash::HashSet<i64>,
    added: i64,
    updated: i64,
    unchanged: i64,
    ended: i64,
    /// People listed (accepted) by a full import, by database id; unsorted until the end.
    listed: Option<Vec<i64>>,
    /// ID numbers of rows a full import rejected: nobody's coverage ends over a typo.
    protected: Vec<String>,
    /// Copies of the error rows written so far, while they are few enough to be worth keeping:
    /// an import that stops early rolls back, and stores these on their own.
    pub(super) kept_errors: Vec<Vec<Value>>,
    /// Rejected rows whose errors may be kept.
    keep_rows: u64,
}

fn text(s: impl Into<String>) -> Value {
    Value::String(Some(s.into()))
}

fn extra_json(extra: &[(Arc<str>, String)]) -> Option<serde_json::Value> {
    (!extra.is_empty()).then(|| {
        serde_json::Value::Object(
            extra
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    })
}

/// What a row does to its entry, as staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new entry.
    Added,
    /// The entry it continues changes (or is reopened).
    Updated,
    /// Nothing changes (staged only when the person's name or region does).
    Unchanged,
}

impl Action {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

impl Writer {
    pub(super) fn new(import_id: i64, effective: NaiveDate, mode: Mode, keep_rows: u64) -> Writer {
        Writer {
            import_id,
            effective,
            seq: 0,
            new_people: HashMap::new(),
            changed_people: Default::default(),
            added: 0,
            updated: 0,
            unchanged: 0,
            ended: 0,
            listed: (mode == Mode::Full).then(Vec::new),
            protected: Vec::new(),
            kept_errors: Vec::new(),
            keep_rows,
        }
    }

    pub(super) fn counts(&self, sheets: &[SheetReport]) -> Counts {
        let sum = |f: fn(&SheetReport) -> u64| sheets.iter().map(f).sum::<u64>() as i64;
        Counts {
            rows: sum(|s| s.rows),
            accepted: sum(|s| s.accepted),
            rejected: sum(|s| s.rejected),
            skipped: sum(|s| s.skipped),
            added: self.added,
            updated: self.updated,
            unchanged: self.unchanged,
            ended: self.ended,
        }
    }

    pub(super) async fn write<S: Store>(
        &mut self,
        store: &mut S,
        batch: Vec<Outcome>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut rows: Vec<RosterRow> = Vec::with_capacity(batch.len());
        let mut errors = Vec::new();
        for o in batch {
            match o {
                Outcome::Accepted(r) => rows.push(r),
                Outcome::Rejected(errs, id, data) => {
                    if let (Some(id), Some(_)) = (id, &self.listed) {
                        self.protected.push(id.as_str().to_owned());
                    }
                    let data = serde_json::to_value(&data).ok();
                    let first = errors.len();
                    errors.extend(errs.into_iter().map(|e| {
                        vec![
                            Value::BigInt(Some(self.import_id)),
                            text(e.sheet),
                            Value::BigInt(Some(i64::from(e.row))),
                            text(e.column),
                            text(e.value),
                            text(e.code),
                            text(e.message_zh),
                            text(e.message_en),
                            Value::Json(data.clone().map(Box::new)),
                        ]
                    }));
                    if self.keep_rows > 0 {
                        self.keep_rows -= 1;
                        self.kept_errors.extend(errors[first..].iter().cloned());
                    }
                }
                Outcome::Skipped => {}
            }
        }
        store
            .insert("roster_import_errors", cols::ERROR, errors)
            .await?;
        for part in rows.chunks_mut(LOOKUP_ROWS) {
            self.plan(store, part).await?;
        }
        Ok(())
    }

    /// Looks up the people of a chunk and their entries, and stages what each row would do.
    async fn plan<S: Store>(
        &mut self,
        store: &mut S,
        rows: &mut [RosterRow],
    ) -> Result<(), sea_orm::DbErr> {
        // The latest row of a person is the best source for the name and where they live.
        let mut latest: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            latest.insert(r.id_number.as_str(), i);
        }
        let keys = latest.keys().map(|k| (*k).to_owned()).collect();
        // id_number -> (person id, whose latest row here changes the name or region)
        let mut known: HashMap<String, (i64, bool)> = HashMap::with_capacity(latest.len());
        for (id, id_number, name, region) in store.persons(keys).await? {
            let changed = self.changed_people.contains(&id)
                || latest.get(id_number.as_str()).is_some_and(|&i| {
                    rows[i].name != name || rows[i].region.as_str() != region.as_str()
                });
            known.insert(id_number, (id, changed));
        }
        // Only the person's latest row here carries the change.
        let last: Vec<bool> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| latest.get(r.id_number.as_str()) == Some(&i))
            .collect();
        drop(latest);
        let before: Vec<i64> = known.values().map(|(id, _)| *id).collect();
        // By person: a person has a handful of entries, so the group is matched by a scan.
        let mut by_person: HashMap<i64, Vec<Existing>> = HashMap::new();
        for e in store.entries_of(before).await? {
            by_person.entry(e.person_id).or_default().push(e);
        }
        let mut staged = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            let person = known.get(r.id_number.as_str()).copied();
            let mut person_changed = last[i] && person.is_some_and(|p| p.1);
            // A new person is created from their first row; a later row of theirs brings its
            // name and region as a change, as for anyone on file.
            let (new_person, person_row) = match person {
                Some(_) => (None, false),
                None => {
                    let key: u64 = r.id_number.as_str()[..17].parse().unwrap_or_default();
                    let next = self.new_people.len() as i64 + 1;
                    match self.new_people.entry(key) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            person_changed = true;
                            (Some(*e.get()), false)
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(next);
                            (Some(next), true)
                        }
                    }
                }
            };
            let pid = person.map(|p| p.0);
            if let (true, Some(pid)) = (person_changed, pid) {
                self.changed_people.insert(pid);
            }
            if let (Some(listed), Some(pid)) = (&mut self.listed, pid) {
                listed.push(pid);
            }
            let extra = r.extra_json.take();
            let entries: Vec<&Existing> = pid
                .and_then(|pid| by_person.get(&pid))
                .map(|es| {
                    es.iter()
                        .filter(|e| e.group_code == r.group.code())
                        .collect()
                })
                .unwrap_or_default();
            let (action, entry, from) =
                match match_entry(&entries, r.valid_from, r.valid_to, self.effective) {
                    Some(e) => {
                        let from = r.valid_from.unwrap_or(e.valid_from);
                        let changed = e.valid_from != from
                            || e.valid_to != r.valid_to
                            || e.region_code != r.region.as_str()
                            || e.name_on_roster != r.name
                            || e.extra != extra_json(&r.extra)
                            || e.ended_by_import_id.is_some();
                        if changed {
                            (Action::Updated, Some(e), from)
                        } else {
                            (Action::Unchanged, Some(e), from)
                        }
                    }
                    None => (Action::Added, None, r.valid_from.unwrap_or(self.effective)),
                };
            match action {
                Action::Added => self.added += 1,
                Action::Updated => self.updated += 1,
                Action::Unchanged => self.unchanged += 1,
            }
            self.seq += 1;
            // A row that changes nothing is not staged: activation has nothing to do for it.
            if action == Action::Unchanged && !person_changed {
                continue;
            }
            let before = entry.filter(|_| action == Action::Updated);
            staged.push(vec![
                Value::BigInt(Some(self.import_id)),
                Value::BigInt(Some(self.seq)),
                text(&*r.sheet),
                Value::BigInt(Some(i64::from(r.row))),
                text(r.id_number.as_str()),
                text(r.name.as_str()),
                text(r.id_number.sex().code()),
                Value::ChronoDate(Some(r.id_number.birth_date())),
                text(r.region.as_str()),
                text(r.group.code()),
                Value::ChronoDate(Some(from)),
                Value::ChronoDate(r.valid_to),
                Value::String(extra),
                Value::BigInt(pid),
                Value::BigInt(new_person),
                Value::Bool(Some(person_row)),
                Value::BigInt(entry.map(|e| e.id)),
                text(action.code()),
                Value::Bool(Some(person_changed)),
                Value::ChronoDate(before.map(|e| e.valid_from)),
                Value::ChronoDate(before.and_then(|e| e.valid_to)),
                Value::String(before.map(|e| e.region_code.clone())),
                Value::String(before.map(|e| e.name_on_roster.clone())),
            ]);
        }
        store
            .insert("roster_import_rows", cols::STAGE, staged)
            .await
    }

    /// Full import: entries of the scope still covering the effective date whose person the
    /// file no longer lists would end the day before; staged in `roster_import_ends`. Answers
    /// the people covered in the scope.
    pub(super) async fn end_missing<S: Store>(
        &mut self,
        store: &mut S,
        group: Group,
        prefix: &str,
    ) -> Result<i64, sea_orm::DbErr> {
        let mut listed = self.listed.take().unwrap_or_default();
        // Someone whose row merely had an error stays covered until the clerk fixes it.
        let protected = std::mem::take(&mut self.protected);
        for (id, ..) in store.persons(protected).await? {
            listed.push(id);
        }
        listed.sort_unstable();
        listed.dedup();
        let current = store.current_entries(group, prefix, self.effective).await?;
        let covered = people(&current);
        let to_end: Vec<(i64, i64)> = current
            .into_iter()
            .filter(|(_, pid)| listed.binary_search(pid).is_err())
            .collect();
        drop(listed);
        for chunk in to_end.chunks(10_000) {
            let rows: Vec<Vec<Value>> = chunk
                .iter()
                .map(|(entry, person)| {
                    vec![
                        Value::BigInt(Some(self.import_id)),
                        Value::BigInt(Some(*entry)),
                        Value::BigInt(Some(*person)),
                    ]
                })
                .collect();
            self.ended += rows.len() as i64;
            store.insert("roster_import_ends", cols::END, rows).await?;
        }
        Ok(covered)
    }
}

/// Distinct people of (entry id, person id) pairs: a person may hold two entries.
fn people(entries: &[(i64, i64)]) -> i64 {
    let mut people: Vec<i64> = entries.iter().map(|(_, pid)| *pid).collect();
    people.sort_unstable();
    people.dedup();
    people.len() as i64
}

/// Which existing entry a row continues, if any: the one with the same start; else, for a row
/// without a start, the one covering the effective date or still open; else one the row's
/// period overlaps.
fn match_entry<'e>(
    entries: &[&'e Existing],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    effective: NaiveDate,
) -> Option<&'e Existing> {
    let covers =
        |e: &Existing, d: NaiveDate| e.valid_from <= d && e.valid_to.is_none_or(|t| d <= t);
    match from {
        Some(f) => entries
            .iter()
            .copied()
            .find(|e| e.valid_from == f)
            .or_else(|| {
                let end = to.unwrap_or(NaiveDate::MAX);
                entries
                    .iter()
                    .copied()
                    .filter(|e| e.valid_from <= end && e.valid_to.is_none_or(|t| t >= f))
                    .max_by_key(|e| e.valid_from)
            }),
        None => entries
            .iter()
            .copied()
            .filter(|e| covers(e, effective) || e.valid_to.is_none() || e.valid_from > effective)
            .max_by_key(|e| e.valid_from),
    }
}
