//! What every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;

/// The database pool and the settings; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// The settings the service started with.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Bundles a pool with settings.
    pub fn new(db: DatabaseConnection, settings: Settings) -> AppState {
        AppState {
            db,
            settings: Arc::new(settings),
        }
    }
}
