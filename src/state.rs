//! What every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::access_log::AccessLog;
use crate::auth::session::{Limits, SessionCache};
use crate::clock::Clock;
use crate::config::Settings;
use crate::regions::Regions;
use crate::roster::jobs::Progress;

/// The database pool, the settings, the import jobs and the recently confirmed sessions of
/// this instance; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// The settings the service started with.
    pub settings: Arc<Settings>,
    /// Live progress of roster imports running here, and the worker's bell.
    pub imports: Progress,
    /// Sessions confirmed in the last few seconds.
    pub sessions: SessionCache,
    /// Who read whose data (written in the background).
    pub access_log: AccessLog,
    /// The one clock: handlers and jobs read it, services are given the instant.
    pub clock: Clock,
    /// The region list's names, read once (only a migration changes them).
    regions: Arc<tokio::sync::OnceCell<Arc<Regions>>>,
}

impl AppState {
    /// Bundles a pool with settings, and starts the access log's writer (inside a runtime).
    pub fn new(db: DatabaseConnection, settings: Settings) -> AppState {
        let sessions = SessionCache::new(settings.session_cache_ttl, Limits::of(&settings));
        AppState {
            access_log: AccessLog::spawn(db.clone()),
            db,
            imports: Progress::for_settings(&settings),
            settings: Arc::new(settings),
            sessions,
            clock: Clock::system(),
            regions: Arc::default(),
        }
    }

    /// The names of regions, read from the database on first use.
    pub async fn regions(&self) -> Result<Arc<Regions>, sea_orm::DbErr> {
        self.regions
            .get_or_try_init(|| async { Regions::load(&self.db).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The same state on another clock (tests set the day with it).
    pub fn with_clock(self, clock: Clock) -> AppState {
        AppState {
            imports: self.imports.clone().with_clock(clock.clone()),
            clock,
            ..self
        }
    }
}
