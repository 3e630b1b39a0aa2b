//! The command line: `serve`, `migrate`, `user add`. Each calls the same code as the API.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sea_orm::EntityTrait;

use crate::audit::Actor;
use crate::auth::password_rules::NewPassword;
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
    Migrate {
        /// Only tell where the database stands and change nothing: exit 0 when current, 1 when
        /// behind (migrations to apply), 2 when ahead (a newer release migrated it; `serve`
        /// refuses to start on it).
        #[arg(long)]
        check: bool,
    },
    /// Import a roster file, as an upload would, and print the result.
    Import {
        /// The .xlsx, .xls, .xlsb, .ods or .csv file.
        file: std::path::PathBuf,
        /// The group of a one-group file (城市低保, low_income_urban, ...).
        #[arg(long)]
        group: Option<String>,
        /// The region (prefix) of the file.
        #[arg(long)]
        region: Option<String>,
        /// incremental (default) or full.
        #[arg(long, default_value = "incremental")]
        mode: String,
        /// The date the roster takes effect (YYYY-MM-DD, default today).
        #[arg(long)]
        effective_date: Option<String>,
        /// For a full import that accepts no row or ends more than half of the people covered
        /// in its scope: why it is meant (without it such an import is refused).
        #[arg(long, value_name = "REASON")]
        confirm_full_replace: Option<String>,
        /// Activate the import as soon as it is validated, when no second person is needed
        /// (`CANCER_AID_IMPORT_APPROVAL`); otherwise it waits, validated, for one.
        #[arg(long)]
        activate: bool,
    },
    /// Write a consistent copy of the running embedded database to FILE, with FILE.sha256.
    Backup {
        /// Where the copy goes (must not exist).
        file: std::path::PathBuf,
    },
    /// Put a backup in place of the embedded database after checking it (stop the service
    /// first): its checksum, SQLite's integrity check and its schema version.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
        /// Only check the backup; change nothing.
        #[arg(long)]
        check: bool,
    },
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
        /// Initial password (at least 12 characters, not the username, not a common one).
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
                demo::seed(&state).await?;
            }
            startup::serve(state, bind).await
        }
        Command::Import {
            file,
            group,
            region,
            mode,
            effective_date,
            confirm_full_replace,
            activate,
        } => {
            let parameters = ImportParameters {
                group,
                region,
                mode,
                effective_date,
                confirm_full_replace,
                activate,
            };
            import_file(settings, file, parameters).await
        }
        Command::Migrate { check: true } => {
            let conn = db::connect(&settings.database_url).await?;
            let code = match db::schema_state(&conn).await? {
                db::SchemaState::Current => {
                    println!(
                        "The database is current: every migration of this release is applied."
                    );
                    0
                }
                db::SchemaState::Behind { pending } => {
                    println!(
                        "The database is behind: {} migration(s) to apply ({}). Run `cancer-aid migrate` (serve does it at start).",
                        pending.len(),
                        pending.join(", ")
                    );
                    1
                }
                db::SchemaState::Ahead { unknown } => {
                    println!(
                        "The database is ahead: a newer release applied {} (unknown here). This release will not start on it.",
                        unknown.join(", ")
                    );
                    2
                }
            };
            std::process::exit(code);
        }
        Command::Backup { file } => {
            let conn = db::connect(&settings.database_url).await?;
            let w = crate::backup::backup(&conn, &file).await?;
            println!(
                "Backup written: {} ({} bytes, SHA-256 {}; checksum in {}.sha256)",
                w.path.display(),
                w.bytes,
                w.sha256,
                w.path.display()
            );
            Ok(())
        }
        Command::Restore { file, check } => {
            let checked = if check {
                crate::backup::check(&file).await?
            } else {
                crate::backup::restore(&file, &settings.database_url).await?
            };
            let sum = match checked.checksum {
                Some(_) => "checksum agrees",
                None => "no checksum file beside it",
            };
            let schema = match &checked.schema {
                db::SchemaState::Current => "schema current".to_owned(),
                db::SchemaState::Behind { pending } => format!(
                    "schema of an older release: {} migration(s) will be applied at the next start",
                    pending.len()
                ),
                db::SchemaState::Ahead { .. } => "schema of a newer release".to_owned(),
            };
            if check {
                println!(
                    "{} is a sound backup: {sum}, integrity ok, {schema}.",
                    file.display()
                );
            } else {
                println!(
                    "Restored {} to {}: {sum}, integrity ok, {schema}.",
                    file.display(),
                    db::redact(&settings.database_url)
                );
            }
            Ok(())
        }
        Command::Migrate { check: false } => {
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
            let password = match NewPassword::parse(&password, &name) {
                Ok(p) => p,
                Err(e) => bail!("{}", e.message.en),
            };
            let state = startup::prepare(settings).await?;
            let new = users::NewUser {
                username: name.clone(),
                display_name,
                password,
                roles,
                region,
            };
            let view = users::create(&state.db, &Actor::system("cli", state.clock.now()), new)
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

/// What `cancer-aid import` was asked, as typed.
struct ImportParameters {
    group: Option<String>,
    region: Option<String>,
    mode: String,
    effective_date: Option<String>,
    confirm_full_replace: Option<String>,
    activate: bool,
}

async fn import_file(
    settings: Settings,
    file: std::path::PathBuf,
    parameters: ImportParameters,
) -> anyhow::Result<()> {
    let ImportParameters {
        group,
        region,
        mode,
        effective_date,
        confirm_full_replace,
        activate,
    } = parameters;
    use crate::roster::import::{self, Mode, Upload};
    use crate::roster::jobs;

    let bytes = crate::roster::upload::UploadedFile::from_path(&file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    let group = group.map(|g| crate::domain::Group::parse(&g)).transpose()?;
    let region = region.map(|r| RegionPrefix::parse(&r)).transpose()?;
    let mode =
        Mode::parse(&mode).ok_or_else(|| anyhow::anyhow!("--mode is incremental or full"))?;
    let effective_date = effective_date
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .with_context(|| format!("--effective-date {d}: use YYYY-MM-DD"))
        })
        .transpose()?;
    let confirmation = confirm_full_replace
        .map(|r| crate::roster::guard::Reason::parse(&r))
        .transpose()
        .map_err(|m| anyhow::anyhow!("--confirm-full-replace: {}", m.en))?;
    let province = settings.province.clone();
    let state = startup::prepare(settings).await?;
    let effective_date = effective_date.unwrap_or_else(|| state.clock.today());
    let upload = Upload {
        file_name: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: bytes,
        group,
        region,
        mode,
        effective_date,
        confirmation,
        activate,
    };
    let (view, queued) = import::submit(
        &state.db,
        state.imports.parser(),
        &Actor::system("cli", state.clock.now()),
        &province,
        upload,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !queued {
        println!(
            "Import {}: the same file with the same parameters was already imported as import {}; nothing changed.",
            view.id,
            view.duplicate_of.unwrap_or_default()
        );
        return Ok(());
    }
    let progress = state.imports.clone();
    if !jobs::claim(&state.db, &progress, view.id).await? {
        bail!("import {} was claimed by another instance", view.id);
    }
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        let id = view.id;
        tokio::spawn(async move {
            loop {
                if let Some((done, total)) = progress.get(id) {
                    bar.set_length(total.max(done) as u64);
                    bar.set_position(done as u64);
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    });
    import::run(&state.db, view.id, progress).await?;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let done = entity::roster_import::Entity::find_by_id(view.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("import {} vanished", view.id))?;
    let view = import::ImportView::from_model(&done, None);
    println!("{}", serde_json::to_string_pretty(&view)?);
    // The first page only: an import can have hundreds of thousands of rejected rows.
    let (errors, total) = import::errors_page(&state.db, view.id, 1, 100).await?;
    for e in &errors {
        println!(
            "{} row {} [{}] {:?}: {} ({})",
            e.sheet, e.row_number, e.column_name, e.value, e.message_zh, e.code
        );
    }
    if total > errors.len() as u64 {
        println!("... and {} more", total - errors.len() as u64);
    }
    use crate::roster::status::Status;
    match view.status {
        Status::Succeeded => Ok(()),
        Status::Validated if activate => {
            println!(
                "Import {} is validated and waits for a second person (a roster importer or administrator other than the uploader) to activate it: CANCER_AID_IMPORT_APPROVAL={}.",
                view.id,
                state.settings.import_approval.code()
            );
            Ok(())
        }
        Status::Validated => {
            println!(
                "Import {} is validated; nothing in the roster changed yet. Activate it on its page or with POST /api/v1/roster-imports/{}/activate, or import with --activate.",
                view.id, view.id
            );
            Ok(())
        }
        _ => bail!(
            "import {} failed: {}",
            view.id,
            view.error.unwrap_or_default()
        ),
    }
}
