//! Database migrations for cancer-aid: the source of truth for the schema on SQLite and PostgreSQL.
//!
//! Entities (the `entity` crate) mirror these tables; migrations never import them, so an old
//! migration keeps meaning what it meant when it was written.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_init;
mod m20261129_000002_seed_regions;
mod m20261130_000003_file_parts;
mod m20261130_000004_entry_person_check;
mod m20261130_000005_drop_group_region_index;
mod m20261206_000006_import_purged_at;
mod m20261207_000007_access_log;
mod m20261207_000008_login_guard;
mod m20261207_000009_sessions_second_factor;
mod m20261207_000010_import_confirmation;
mod m20261207_000011_entry_changes;
mod m20261207_000012_import_staging;
mod m20261207_000013_column_mapping;
mod m20261207_000014_payments;
mod m20261207_000015_reconciliation;
mod m20261207_000016_budget;

/// Runs every migration in order; called at start-up and by `cancer-aid migrate`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_init::Migration),
            Box::new(m20261129_000002_seed_regions::Migration),
            Box::new(m20261130_000003_file_parts::Migration),
            Box::new(m20261130_000004_entry_person_check::Migration),
            Box::new(m20261130_000005_drop_group_region_index::Migration),
            Box::new(m20261206_000006_import_purged_at::Migration),
            Box::new(m20261207_000007_access_log::Migration),
            Box::new(m20261207_000008_login_guard::Migration),
            Box::new(m20261207_000009_sessions_second_factor::Migration),
            Box::new(m20261207_000010_import_confirmation::Migration),
            Box::new(m20261207_000011_entry_changes::Migration),
            Box::new(m20261207_000012_import_staging::Migration),
            Box::new(m20261207_000013_column_mapping::Migration),
            Box::new(m20261207_000014_payments::Migration),
            Box::new(m20261207_000015_reconciliation::Migration),
            Box::new(m20261207_000016_budget::Migration),
        ]
    }
}
