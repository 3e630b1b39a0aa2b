//! The command line: `serve`, `migrate`, `user add`. Each calls the same code as the API.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::audit::Actor;
use crate::config::Settings;
use crate::domain::{RegionPrefix, Role};
use crate::{db, demo, startup, users};

/// cancer-aid: the Red Cross cancer-patient assistance programme.
#[derive(Debug, Parser)]
#[command(name = "cancer-aid", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (migrates the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000", env = "CANCER_AID_BIND")]
        bind: SocketAddr,
        /// On an empty database, create demo users, hospitals and policies.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage user accounts.
    User {
        /// The user command.
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add {
        /// Login name.
        name: String,
        /// Comma-separated roles: caseworker, approver, roster_importer, manager, admin.
        #[arg(long)]
        roles: String,
        /// Data scope: 22 (province), 2201 (city) or a 6-digit county.
        #[arg(long, default_value = "22")]
        region: String,
        /// Initial password (at least 8 characters).
        #[arg(long, env = "CANCER_AID_PASSWORD")]
        password: String,
        /// Name shown in the UI.
        #[arg(long, default_value = "")]
        display_name: String,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve {
            bind,
            demo: with_demo,
        } => {
            let state = startup::prepare(settings).await?;
            if with_demo {
                demo::seed(&state.db).await?;
            }
            startup::serve(state, bind).await
        }
        Command::Migrate => {
            let conn = db::connect(&settings.database_url).await?;
            db::migrate(&conn).await?;
            println!(
                "Migrations applied to {}",
                db::redact(&settings.database_url)
            );
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    roles,
                    region,
                    password,
                    display_name,
                },
        } => {
            let roles = Role::parse_list(&roles)?;
            let region = RegionPrefix::parse(&region)?;
            if let Err(e) = users::check_username(&name) {
                bail!("{}", e.message.en);
            }
            if let Err(e) = users::check_password(&password) {
                bail!("{}", e.message.en);
            }
            let state = startup::prepare(settings).await?;
            let new = users::NewUser {
                username: name.clone(),
                display_name,
                password,
                roles,
                region,
            };
            let view = users::create(&state.db, &Actor::system("cli"), new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("the user was not created")?;
            println!(
                "Created user {} (id {}) with roles {} in region {}",
                view.username,
                view.id,
                Role::join(&view.roles),
                view.region_prefix
            );
            Ok(())
        }
    }
}
