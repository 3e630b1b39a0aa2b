//! The past of roster entries: before an import changes or ends an entry (or a revert puts it
//! back), the entry's values as they were are kept in `roster_entry_changes`, with the import.
//! Entries themselves stay changed in place, as eligibility reads them; this is what lets an
//! import be reverted (`roster::revert`) and a person's history show before and after.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{DbBackend, Statement};

use entity::{roster_entry, roster_entry_change};

/// Why an entry's values were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An import changed the entry (dates, region, name or extra data, or reopened it).
    Updated,
    /// A full import ended it.
    Ended,
    /// A revert put back its values from before the import.
    Reverted,
}

impl Kind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Updated => "updated",
            Kind::Ended => "ended",
            Kind::Reverted => "reverted",
        }
    }
}

/// The statement that keeps entries `ids` as they are now, before `import_id` changes them:
/// one `INSERT ... SELECT`, however many entries.
pub fn keep_before(
    backend: DbBackend,
    ids: &[i64],
    import_id: i64,
    kind: Kind,
    now: DateTime<Utc>,
) -> Statement {
    use roster_entry::Column as E;
    use roster_entry_change::Column as C;
    let select = Query::select()
        .column(E::Id)
        .expr(Expr::val(import_id))
        .expr(Expr::val(kind.code()))
        .columns([
            E::ValidFrom,
            E::ValidTo,
            E::RegionCode,
            E::NameOnRoster,
            E::Extra,
            E::UpdatedByImportId,
            E::EndedByImportId,
        ])
        .expr(Expr::val(now))
        .from(roster_entry::Entity)
        .and_where(Expr::col(E::Id).is_in(ids.iter().copied()))
        .to_owned();
    let insert = Query::insert()
        .into_table(roster_entry_change::Entity)
        .columns([
            C::EntryId,
            C::ImportId,
            C::Kind,
            C::ValidFrom,
            C::ValidTo,
            C::RegionCode,
            C::NameOnRoster,
            C::Extra,
            C::UpdatedByImportId,
            C::EndedByImportId,
            C::ChangedAt,
        ])
        .select_from(select)
        .expect("the select has one value per column")
        .to_owned();
    backend.build(&insert)
}

/// The statement that keeps, as an activation applies its plan (`roster::activate`), the
/// entries the plan changes (`Updated`: staged rows of `roster_import_rows`) or ends (`Ended`:
/// `roster_import_ends`), one `INSERT ... SELECT` for the whole plan. Bound, in SQLite's
/// spelling: the import, the time, the import.
pub fn keep_planned_sql(kind: Kind) -> String {
    let (staged, only) = match kind {
        Kind::Ended => ("roster_import_ends", ""),
        Kind::Updated | Kind::Reverted => ("roster_import_rows", " AND s.action = 'updated'"),
    };
    format!(
        "INSERT INTO roster_entry_changes (entry_id, import_id, kind, valid_from, valid_to, \
         region_code, name_on_roster, extra, updated_by_import_id, ended_by_import_id, changed_at) \
         SELECT e.id, ?, '{code}', e.valid_from, e.valid_to, e.region_code, e.name_on_roster, \
         e.extra, e.updated_by_import_id, e.ended_by_import_id, ? \
         FROM {staged} s JOIN roster_entries e ON e.id = s.entry_id WHERE s.import_id = ?{only}",
        code = kind.code()
    )
}
