//! Pages of this area (filled in by its own change).

use axum::Router;

use super::i18n::Texts;
use crate::state::AppState;

/// This area's page texts.
pub const TEXTS: Texts = &[];

/// This area's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
