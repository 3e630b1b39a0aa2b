//! Integration tests through the real router on real databases: each `db_test!` runs on
//! SQLite and on PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod cli;
mod demo;
mod errors;
mod health;
mod openapi;
mod reports;
mod roster;
mod schema;
mod users;
