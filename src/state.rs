//! What every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::roster::jobs::Progress;

/// The database pool, the settings and the import jobs of this instance; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// The settings the service started with.
    pub settings: Arc<Settings>,
    /// Live progress of roster imports running here, and the worker's bell.
    pub imports: Progress,
}

impl AppState {
    /// Bundles a pool with settings.
    pub fn new(db: DatabaseConnection, settings: Settings) -> AppState {
        AppState {
            db,
            imports: Progress::for_province(settings.province.clone()),
            settings: Arc::new(settings),
        }
    }
}
