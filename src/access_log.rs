//! The access log: every read of a person's data (an eligibility check, a case, a visit, a
//! statement, roster entries or their history, a rejected-rows download, an export holding ID
//! numbers) leaves a record of who read it, when, through which route and from which address,
//! as PIPL expects of a system holding sensitive personal information. Province-scoped
//! administrators ask it "who looked at this patient?" and "what did this user look at?".
//!
//! Records are written by one background task in batches, so that a read costs a message on
//! a channel, not a write to the database (on SQLite a write per read would queue every
//! eligibility check behind the write lock). The channel is bounded: when the writer falls
//! behind, readers wait for room rather than a record being dropped. A record waits at most
//! [`FLUSH_EVERY`] before it is written; a crash of the process loses at most that much.
//! Readers of the log flush first, so they see every read made before their question.
//!
//! The table is append-only (a trigger refuses updates); records leave only by age
//! (`CANCER_AID_ACCESS_LOG_RETENTION_DAYS`, see [`purge`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use entity::access_log;

use crate::auth::CurrentUser;

/// How long a record may wait before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Records written by one statement at most.
const BATCH: usize = 500;

/// Records waiting at most; past that, readers wait for the writer.
const QUEUE: usize = 10_000;

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An eligibility check (API or page).
    EligibilityCheck,
    /// A person's roster entries.
    RosterEntries,
    /// A person's roster history: every entry over time, with the imports behind each.
    RosterHistory,
    /// A case, with its person.
    CaseRead,
    /// A visit, with its person.
    VisitRead,
    /// A person's statement (JSON or .xlsx).
    Statement,
    /// The rejected rows of an import (their names and ID numbers), as JSON or a file.
    RejectedRows,
    /// The people a validated import would add, change or end (or did).
    ImportPlan,
    /// A list or export that holds ID numbers (visits, spending by visit).
    Export,
}

impl Action {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Action::EligibilityCheck => "eligibility.check",
            Action::RosterEntries => "roster.entries",
            Action::RosterHistory => "roster.history",
            Action::CaseRead => "case.read",
            Action::VisitRead => "visit.read",
            Action::Statement => "person.statement",
            Action::RejectedRows => "roster_import.rejected_rows",
            Action::ImportPlan => "roster_import.plan",
            Action::Export => "export",
        }
    }
}

/// Where a request came from: the route it matched and the client's address.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The matched route (`/api/v1/cases/{id}`), never the address itself.
    pub route: String,
    /// The client's address, as the connection (or a trusted proxy) gives it.
    pub client: String,
}

/// One read.
#[derive(Debug, Clone)]
pub struct Read {
    at: DateTime<Utc>,
    user_id: i64,
    username: String,
    source: Source,
    action: Action,
    person_id: Option<i64>,
    resource: Option<String>,
}

impl Read {
    /// A read by `user` through `source`, at the instant of the request.
    pub fn new(user: &CurrentUser, source: &Source, action: Action) -> Read {
        Read {
            at: user.now,
            user_id: user.id,
            username: user.username.clone(),
            source: source.clone(),
            action,
            person_id: None,
            resource: None,
        }
    }

    /// The person whose data was read.
    pub fn person(mut self, id: i64) -> Read {
        self.person_id = Some(id);
        self
    }

    /// The record read, when it is not (only) a person: `case:12`, `import:5`.
    pub fn resource(mut self, r: impl Into<String>) -> Read {
        self.resource = Some(r.into());
        self
    }

    fn row(self) -> access_log::ActiveModel {
        access_log::ActiveModel {
            at: Set(self.at),
            user_id: Set(Some(self.user_id)),
            username: Set(self.username),
            route: Set(self.source.route),
            action: Set(self.action.code().to_owned()),
            person_id: Set(self.person_id),
            resource: Set(self.resource),
            client: Set(self.source.client),
            ..Default::default()
        }
    }
}

enum Message {
    Record(Read),
    Flush(oneshot::Sender<()>),
}

/// The handle every request records through; cheap to clone.
#[derive(Clone)]
pub struct AccessLog {
    tx: mpsc::Sender<Message>,
}

impl AccessLog {
    /// Starts the writer on `db` (inside a Tokio runtime).
    pub fn spawn(db: DatabaseConnection) -> AccessLog {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(db, rx));
        AccessLog { tx }
    }

    /// Records a read; waits only when the writer is [`QUEUE`] records behind.
    pub async fn record(&self, read: Read) {
        if self.tx.send(Message::Record(read)).await.is_err() {
            tracing::error!("the access log's writer has stopped: a read went unrecorded");
        }
    }

    /// Returns once every read recorded before the call is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_loop(db: DatabaseConnection, mut rx: mpsc::Receiver<Message>) {
    let mut batch: Vec<Read> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        // Wait for the first message, then gather what else arrives within FLUSH_EVERY.
        let Some(first) = rx.recv().await else { break };
        let take = |m: Message, batch: &mut Vec<Read>, waiting: &mut Vec<_>| match m {
            Message::Record(r) => batch.push(r),
            Message::Flush(done) => waiting.push(done),
        };
        take(first, &mut batch, &mut waiting);
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < BATCH && waiting.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(m)) => take(m, &mut batch, &mut waiting),
                Ok(None) | Err(_) => break,
            }
        }
        while let Ok(m) = rx.try_recv() {
            take(m, &mut batch, &mut waiting);
            if batch.len() >= BATCH {
                break;
            }
        }
        // A failed write is tried again (the database may be restarting): nothing is dropped.
        let mut pause = Duration::from_millis(100);
        while !batch.is_empty() {
            let rows: Vec<_> = batch.iter().cloned().map(Read::row).collect();
            match access_log::Entity::insert_many(rows)
                .exec_without_returning(&db)
                .await
            {
                Ok(_) => batch.clear(),
                Err(e) => {
                    tracing::warn!(error = %e, records = batch.len(), "the access log cannot be written yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// One record as the log's readers see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AccessEntry)]
pub struct Entry {
    /// Id (records are numbered in the order they were written).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the user's id).
    pub user_id: Option<i64>,
    /// Who (the login name).
    pub username: String,
    /// What was read (`eligibility.check`, `case.read`, ...).
    pub action: String,
    /// Through which route.
    pub route: String,
    /// Whose data (the person's record id), when one person's.
    pub person_id: Option<i64>,
    /// Which record (`case:12`, `import:5`).
    pub resource: Option<String>,
    /// From which address.
    pub client: String,
}

impl From<access_log::Model> for Entry {
    fn from(m: access_log::Model) -> Entry {
        Entry {
            id: m.id,
            at: m.at,
            user_id: m.user_id,
            username: m.username,
            action: m.action,
            route: m.route,
            person_id: m.person_id,
            resource: m.resource,
            client: m.client,
        }
    }
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Reads of this person's data.
    pub person_id: Option<i64>,
    /// Reads by this user.
    pub user_id: Option<i64>,
    /// From this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the log, newest first, and how many records match in all.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let mut cond = Condition::all();
    if let Some(p) = filter.person_id {
        cond = cond.add(access_log::COLUMN.person_id.eq(p));
    }
    if let Some(u) = filter.user_id {
        cond = cond.add(access_log::COLUMN.user_id.eq(u));
    }
    if let Some(from) = filter.from {
        cond = cond.add(access_log::COLUMN.at.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(access_log::COLUMN.at.lt(to));
    }
    let q = access_log::Entity::find().filter(cond);
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(access_log::COLUMN.id)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(Entry::from).collect(), total))
}

/// Deletes the records older than `days` days before `now`; returns how many.
pub async fn purge(db: &DatabaseConnection, days: u32, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    Ok(access_log::Entity::delete_many()
        .filter(access_log::COLUMN.at.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
