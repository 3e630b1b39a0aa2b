//! Integration tests through the real router on real databases: each `db_test!` runs on
//! SQLite and on PostgreSQL.

mod conformance;
mod fixtures;
mod helpers;

mod access;
mod access_log;
mod annual_cap;
mod audit;
mod auth;
mod cases;
mod cli;
mod clock;
mod demo;
mod eligibility;
mod errors;
mod exports;
mod flow;
mod health;
mod hospitals;
mod hostile;
mod hostile_files;
mod limits;
mod login_guard;
mod openapi;
mod policies;
mod reports;
mod retention;
mod roster;
mod roster_activation;
mod roster_columns;
mod roster_history;
mod roster_revert;
mod schema;
mod scope;
mod second_factor;
mod security;
mod sessions;
mod snapshot;
mod users;
mod visits;
mod web;
mod web_admin;
mod web_cases;
mod web_reports;
mod web_roster;
