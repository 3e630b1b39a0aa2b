//! The audit log: every change, who made it, when, and the record before and after.
//!
//! [`record`] takes the transaction of the change itself, so a change and its audit row land
//! together or not at all.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};
use serde::Serialize;
use serde_json::Value;

use entity::audit_log;

/// Who made a change and when: a user, or the system itself (demo seeding, the CLI). The
/// instant is read once from the service's clock (`crate::clock`) where the change begins, so
/// every row a change writes carries the same time and no service reads the clock itself.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user's id; `None` for the system.
    pub id: Option<i64>,
    /// The username, kept even if the user is renamed later.
    pub name: String,
    /// When the change is made.
    pub at: DateTime<Utc>,
}

impl Actor {
    /// A change made by the system at `at`, named for where it came from (`"cli"`, `"demo"`).
    pub fn system(name: &str, at: DateTime<Utc>) -> Actor {
        Actor {
            id: None,
            name: format!("system:{name}"),
            at,
        }
    }

    /// The user who uploaded a roster import (the system's CLI when none did), acting at
    /// `at`: the import's own later steps are recorded in their name.
    pub fn uploader(created_by: Option<i64>, at: DateTime<Utc>) -> Actor {
        match created_by {
            Some(id) => Actor {
                id: Some(id),
                name: format!("user:{id}"),
                at,
            },
            None => Actor::system("cli", at),
        }
    }

    /// The day of the change, in the service's time zone.
    pub fn today(&self) -> NaiveDate {
        crate::clock::day_of(self.at)
    }
}

/// One change to write to the log.
pub struct Change<'a> {
    /// What was done, such as `user.create`.
    pub action: &'a str,
    /// The kind of record, such as `user`.
    pub entity_type: &'a str,
    /// The record's id.
    pub entity_id: String,
    /// The record before (None for a creation).
    pub before: Option<Value>,
    /// The record after (None for a deletion).
    pub after: Option<Value>,
}

/// Writes one audit row on the connection of the change (its transaction).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    change: Change<'_>,
) -> Result<(), DbErr> {
    row(actor, change).insert(conn).await.map(|_| ())
}

/// The statement that [`record`] runs, for a transaction that SeaORM does not drive (the
/// roster import's on SQLite).
pub fn insert_statement(backend: DbBackend, actor: &Actor, change: Change<'_>) -> Statement {
    audit_log::Entity::insert(row(actor, change)).build(backend)
}

fn row(actor: &Actor, change: Change<'_>) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(actor.at),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.clone()),
        action: Set(change.action.to_owned()),
        entity_type: Set(change.entity_type.to_owned()),
        entity_id: Set(change.entity_id),
        before: Set(change.before),
        after: Set(change.after),
        ..Default::default()
    }
}

/// What to look for in the log; every field narrows the search.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Username of the actor.
    pub actor: Option<String>,
    /// Exact action, or a prefix ending in `.` (`user.` = every user action).
    pub action: Option<String>,
    /// Kind of record.
    pub entity_type: Option<String>,
    /// Record id.
    pub entity_id: Option<String>,
    /// From this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One row of the log as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The actor's user id (none for the system).
    pub actor_id: Option<i64>,
    /// The actor's name.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// Kind of record.
    pub entity_type: String,
    /// Record id.
    pub entity_id: String,
    /// Before.
    pub before: Option<Value>,
    /// After.
    pub after: Option<Value>,
}

impl From<audit_log::Model> for Entry {
    fn from(m: audit_log::Model) -> Entry {
        Entry {
            id: m.id,
            at: m.at,
            actor_id: m.actor_id,
            actor: m.actor_name,
            action: m.action,
            entity_type: m.entity_type,
            entity_id: m.entity_id,
            before: m.before,
            after: m.after,
        }
    }
}

/// A page of log rows, newest first, with the total that match.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let mut q = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_log::COLUMN.actor_name.eq(actor.as_str()));
    }
    if let Some(action) = &filter.action {
        q = if action.ends_with('.') {
            q.filter(audit_log::COLUMN.action.starts_with(action.as_str()))
        } else {
            q.filter(audit_log::COLUMN.action.eq(action.as_str()))
        };
    }
    if let Some(t) = &filter.entity_type {
        q = q.filter(audit_log::COLUMN.entity_type.eq(t.as_str()));
    }
    if let Some(id) = &filter.entity_id {
        q = q.filter(audit_log::COLUMN.entity_id.eq(id.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_log::COLUMN.at.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_log::COLUMN.at.lt(to));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_log::COLUMN.id)
        .offset((page.saturating_sub(1)) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(Entry::from).collect(), total))
}
