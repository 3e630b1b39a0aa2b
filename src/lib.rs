//! cancer-aid: the Red Cross cancer-patient assistance programme, from roster import to
//! spending totals.
//!
//! Dependencies flow downwards: `startup` (the router) → `api` and `web` (handlers, which do
//! not import each other) → `http` (what both share) → services (`auth`, `users`, `audit`,
//! `eligibility`, `case`, ...) → `domain` (pure rules) and `entity` (rows). The few cycles
//! left between services are listed in docs/architecture.md.

pub mod access;
pub mod access_log;
pub mod api;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod budget;
pub mod case;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod eligibility;
pub mod error;
pub mod export_safe;
pub mod fields;
pub mod hospital;
pub mod http;
pub mod payment;
pub mod person;
pub mod policy;
pub mod regions;
pub mod report;
pub mod roster;
pub mod security;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod todo;
pub mod users;
pub mod visit;
pub mod web;
