//! SeaORM entities: one module per table, mirroring the migrations. No business rules live here;
//! the meaning of these rows (states, groups, money) is in the app's `domain` module.

pub mod access_log;
pub mod annual_grant;
pub mod audit_log;
pub mod case;
pub mod case_event;
pub mod hospital;
pub mod login_throttle;
pub mod person;
pub mod recovery_code;
pub mod region;
pub mod roster_entry;
pub mod roster_entry_change;
pub mod roster_import;
pub mod roster_import_end;
pub mod roster_import_error;
pub mod roster_import_file_part;
pub mod roster_import_row;
pub mod session;
pub mod subsidy_policy;
pub mod user;
pub mod visit;
