//! Settings from the environment, with defaults that run on a fresh clone.

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::{DiagnosisRanges, RegionPrefix};
use crate::roster::limits::FileLimits;
use crate::security::{TrustedProxies, origin_of};

/// The default database: an embedded SQLite file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/cancer-aid.db?mode=rwc";

/// How long a write on SQLite waits for the write lock unless told otherwise.
pub const DEFAULT_SQLITE_BUSY: Duration = Duration::from_secs(5);

/// Everything the service can be told.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://...` (default) or `postgres://...`.
    pub database_url: String,
    /// `CANCER_AID_MAX_JSON_BYTES`: the largest JSON request body (default 1 MiB).
    pub max_json_bytes: usize,
    /// `CANCER_AID_MAX_UPLOAD_BYTES`: the largest roster upload (default 100 MiB).
    pub max_upload_bytes: usize,
    /// `CANCER_AID_SESSION_HOURS`: how long a login lasts (default 12 hours).
    pub session_ttl: Duration,
    /// `CANCER_AID_SESSION_IDLE_MINUTES`: a session unused this long ends (default 30), besides
    /// the absolute limit of `CANCER_AID_SESSION_HOURS`.
    pub session_idle: Duration,
    /// `CANCER_AID_REQUIRE_2FA`: when `true`, administrators, approvers and managers must use a
    /// second factor (TOTP); those without one enrol at their next login (default `false`).
    pub require_2fa: bool,
    /// `CANCER_AID_SESSION_CACHE_SECONDS`: how long a confirmed session is trusted without
    /// asking the database again (default 5 seconds; 0 asks every time).
    pub session_cache_ttl: Duration,
    /// `CANCER_AID_PROVINCE`: the programme's province prefix (default `22`, Jilin).
    pub province: RegionPrefix,
    /// `CANCER_AID_DIAGNOSIS_RANGES`: the ICD-10 categories the programme covers (default
    /// `C00-C97`, the malignant neoplasms; several ranges as `C00-C97,D00-D09`).
    pub diagnosis_ranges: DiagnosisRanges,
    /// `CANCER_AID_LOGIN_MAX_FAILURES`: failed logins for one account name before each
    /// further attempt must wait (default 5); the wait starts at 30 seconds and doubles, up to
    /// 15 minutes.
    pub login_max_failures: i32,
    /// `CANCER_AID_LOGIN_ADDRESS_MAX_FAILURES`: the same for one client address, whatever
    /// names it tries (default 20).
    pub login_address_max_failures: i32,
    /// What an uploaded file may hold: `CANCER_AID_MAX_UNPACKED_BYTES`,
    /// `CANCER_AID_MAX_SHARED_STRINGS`, `CANCER_AID_MAX_SHARED_STRINGS_BYTES`,
    /// `CANCER_AID_MAX_SHEETS`, `CANCER_AID_MAX_COLUMNS`, `CANCER_AID_MAX_CELL_CHARS`,
    /// `CANCER_AID_MAX_CELLS`, `CANCER_AID_MAX_SHEET_CELLS` (see `roster::limits`).
    pub file_limits: FileLimits,
    /// `CANCER_AID_PARSER_PROGRAM`: the binary that parses uploads in a child process
    /// (default: this one).
    pub parser_program: Option<PathBuf>,
    /// `CANCER_AID_PARSER_MEMORY_MIB`: the parser process's address-space limit (default 512).
    pub parser_memory_mib: u64,
    /// `CANCER_AID_PARSER_CPU_SECONDS`: the parser process's CPU-time limit (default 300).
    pub parser_cpu_seconds: u64,
    /// `CANCER_AID_IMPORT_MAX_REJECTED_ROWS`: rejected rows after which an import stops as
    /// "not the file you meant" (default 10,000).
    pub import_max_rejected_rows: u64,
    /// `CANCER_AID_REQUEST_TIMEOUT_SECONDS`: how long a request may take before it is stopped
    /// and answered 503 `request_timeout` (default 60 seconds).
    pub request_timeout: Duration,
    /// `CANCER_AID_TRANSFER_TIMEOUT_SECONDS`: the same for uploads and downloads, whose time
    /// grows with the file and the client's line (default 600 seconds: 100 MiB at about
    /// 170 KiB/s, or the .xlsx of a million rejected rows).
    pub transfer_timeout: Duration,
    /// `CANCER_AID_SQLITE_BUSY_SECONDS`: how long a write on SQLite waits for the write lock
    /// (held by a roster import, say) before it gives up with 503 `database_busy` (default 5
    /// seconds). The roster import itself waits longer, on its own connection.
    pub sqlite_busy: Duration,
    /// `CANCER_AID_UPLOAD_RETENTION_DAYS`: days after an import finished when its uploaded file
    /// and the raw data of its rejected rows are deleted (default 30).
    pub upload_retention_days: u32,
    /// `CANCER_AID_RETENTION_INTERVAL_MINUTES`: how often the background task looks for imports
    /// past their retention (default 60 minutes).
    pub retention_interval: Duration,
    /// `CANCER_AID_ACCESS_LOG_RETENTION_DAYS`: days a record of the access log (who read whose
    /// data) is kept (default 1095, three years).
    pub access_log_retention_days: u32,
    /// `CANCER_AID_BACKUP_DIR`: where `serve` writes scheduled backups of the embedded
    /// database (none: no scheduled backups).
    pub backup_dir: Option<std::path::PathBuf>,
    /// `CANCER_AID_BACKUP_INTERVAL_HOURS`: hours between scheduled backups (default 24).
    pub backup_interval: Duration,
    /// `CANCER_AID_BACKUP_KEEP`: how many scheduled backups are kept, newest first (default 14).
    pub backup_keep: usize,
    /// `CANCER_AID_PUBLIC_URL`: the address people open, such as `https://aid.example.org`;
    /// kept as its origin (`scheme://host[:port]`). When set, state-changing browser requests
    /// must come from that origin, and an `https://` URL puts the session cookie under HTTPS
    /// rules (see docs/security.md). Unset: the origin is the request's `Host`.
    pub public_origin: Option<String>,
    /// `CANCER_AID_TRUSTED_PROXIES`: comma-separated addresses or networks (`10.0.0.0/8`) of
    /// reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (default
    /// none).
    pub trusted_proxies: TrustedProxies,
    /// `CANCER_AID_IMPORT_APPROVAL`: which validated imports a second person activates:
    /// `always`, `destructive` (the default: a full import that ends anyone, or one changing
    /// more than `CANCER_AID_IMPORT_APPROVAL_PERCENT` of its scope) or `never`.
    pub import_approval: crate::roster::approval::Approval,
    /// `CANCER_AID_IMPORT_APPROVAL_PERCENT`: the share of a scope's covered people an import
    /// may change (update or end) before it needs a second person (default 20).
    pub import_approval_percent: u32,
    /// `CANCER_AID_IMPORT_VALIDATED_HOURS`: hours a validated import waits for activation
    /// before it expires (default 72).
    pub import_validated_hours: u32,
    /// The public notice (公示) of payment batches: `CANCER_AID_NOTICE_PERIOD` (`3` calendar
    /// days or `7w` working days, the default), `CANCER_AID_NOTICE_NAME_MASK` (`middle`, the
    /// default: 张*明; `surname`: 张**), `CANCER_AID_NOTICE_PHONE` (the complaint telephone),
    /// `CANCER_AID_NOTICE_ISSUER` (who publishes it).
    pub notice: crate::payment::NoticeRules,
    /// `CANCER_AID_LAYOUT_DIR`: a directory of the branch's own bank file layouts (`*.toml`),
    /// read and checked at start-up beside the shipped ones.
    pub layout_dir: Option<std::path::PathBuf>,
    /// `CANCER_AID_TIME_ZONE`: the programme's time zone, an IANA name (default
    /// Asia/Shanghai): it decides "today" and every time shown or exported.
    pub time_zone: chrono_tz::Tz,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            max_json_bytes: 1024 * 1024,
            max_upload_bytes: 100 * 1024 * 1024,
            session_ttl: Duration::from_secs(12 * 3600),
            session_cache_ttl: Duration::from_secs(5),
            session_idle: Duration::from_secs(30 * 60),
            require_2fa: false,
            province: RegionPrefix::parse("22").expect("22 is a valid prefix"),
            diagnosis_ranges: DiagnosisRanges::default(),
            login_max_failures: 5,
            login_address_max_failures: 20,
            file_limits: FileLimits::default(),
            parser_program: None,
            parser_memory_mib: 512,
            parser_cpu_seconds: 300,
            import_max_rejected_rows: 10_000,
            request_timeout: Duration::from_secs(60),
            transfer_timeout: Duration::from_secs(600),
            sqlite_busy: DEFAULT_SQLITE_BUSY,
            upload_retention_days: 30,
            retention_interval: Duration::from_secs(3600),
            access_log_retention_days: 1095,
            backup_dir: None,
            backup_interval: Duration::from_secs(24 * 3600),
            backup_keep: 14,
            public_origin: None,
            trusted_proxies: TrustedProxies::default(),
            import_approval: crate::roster::approval::Approval::Destructive,
            import_approval_percent: 20,
            import_validated_hours: 72,
            notice: crate::payment::NoticeRules::default(),
            layout_dir: None,
            time_zone: crate::clock::DEFAULT_ZONE,
        }
    }
}

fn env_parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name}={v} is not a valid value")),
        _ => Ok(None),
    }
}

/// A whole number of at least 1: a time limit or an interval of zero would stop everything.
fn env_positive(name: &str) -> anyhow::Result<Option<u64>> {
    match env_parse::<u64>(name)? {
        Some(0) => Err(anyhow::anyhow!("{name}=0 is not allowed: use 1 or more")),
        v => Ok(v),
    }
}

impl Settings {
    /// Reads the environment; a malformed value stops the start with a message naming it.
    pub fn from_env() -> anyhow::Result<Settings> {
        let mut s = Settings::default();
        if let Some(url) = env_parse::<String>("DATABASE_URL")? {
            s.database_url = url;
        }
        if let Some(v) = env_parse("CANCER_AID_MAX_JSON_BYTES")? {
            s.max_json_bytes = v;
        }
        if let Some(v) = env_parse("CANCER_AID_MAX_UPLOAD_BYTES")? {
            s.max_upload_bytes = v;
        }
        if let Some(h) = env_parse::<u64>("CANCER_AID_SESSION_HOURS")? {
            s.session_ttl = Duration::from_secs(h * 3600);
        }
        if let Some(m) = env_positive("CANCER_AID_SESSION_IDLE_MINUTES")? {
            s.session_idle = Duration::from_secs(m * 60);
        }
        if let Some(v) = env_parse::<String>("CANCER_AID_REQUIRE_2FA")? {
            s.require_2fa = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => anyhow::bail!("CANCER_AID_REQUIRE_2FA={v}: use true or false"),
            };
        }
        if let Some(secs) = env_parse::<u64>("CANCER_AID_SESSION_CACHE_SECONDS")? {
            s.session_cache_ttl = Duration::from_secs(secs);
        }
        if let Some(p) = env_parse::<String>("CANCER_AID_PROVINCE")? {
            s.province =
                RegionPrefix::parse(&p).map_err(|e| anyhow::anyhow!("CANCER_AID_PROVINCE: {e}"))?;
        }
        if let Some(r) = env_parse::<String>("CANCER_AID_DIAGNOSIS_RANGES")? {
            s.diagnosis_ranges = DiagnosisRanges::parse(&r)
                .map_err(|e| anyhow::anyhow!("CANCER_AID_DIAGNOSIS_RANGES: {e}"))?;
        }
        if let Some(v) = env_parse("CANCER_AID_LOGIN_MAX_FAILURES")? {
            s.login_max_failures = v;
        }
        if let Some(v) = env_parse("CANCER_AID_LOGIN_ADDRESS_MAX_FAILURES")? {
            s.login_address_max_failures = v;
        }
        let l = &mut s.file_limits;
        for (name, field) in [
            ("CANCER_AID_MAX_UNPACKED_BYTES", &mut l.max_unpacked_bytes),
            ("CANCER_AID_MAX_SHARED_STRINGS", &mut l.max_shared_strings),
            (
                "CANCER_AID_MAX_SHARED_STRINGS_BYTES",
                &mut l.max_shared_strings_bytes,
            ),
            ("CANCER_AID_MAX_SHEETS", &mut l.max_sheets),
            ("CANCER_AID_MAX_COLUMNS", &mut l.max_columns),
            ("CANCER_AID_MAX_CELL_CHARS", &mut l.max_cell_chars),
            ("CANCER_AID_MAX_CELLS", &mut l.max_cells),
            ("CANCER_AID_MAX_SHEET_CELLS", &mut l.max_sheet_cells),
            ("CANCER_AID_PARSER_MEMORY_MIB", &mut s.parser_memory_mib),
            ("CANCER_AID_PARSER_CPU_SECONDS", &mut s.parser_cpu_seconds),
            (
                "CANCER_AID_IMPORT_MAX_REJECTED_ROWS",
                &mut s.import_max_rejected_rows,
            ),
        ] {
            if let Some(v) = env_parse(name)? {
                *field = v;
            }
        }
        if let Some(p) = env_parse::<PathBuf>("CANCER_AID_PARSER_PROGRAM")? {
            s.parser_program = Some(p);
        }
        if let Some(secs) = env_positive("CANCER_AID_REQUEST_TIMEOUT_SECONDS")? {
            s.request_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = env_positive("CANCER_AID_TRANSFER_TIMEOUT_SECONDS")? {
            s.transfer_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = env_parse::<u64>("CANCER_AID_SQLITE_BUSY_SECONDS")? {
            s.sqlite_busy = Duration::from_secs(secs);
        }
        if let Some(a) = env_parse("CANCER_AID_IMPORT_APPROVAL")? {
            s.import_approval = a;
        }
        if let Some(p) = env_parse::<u32>("CANCER_AID_IMPORT_APPROVAL_PERCENT")? {
            anyhow::ensure!(p <= 100, "CANCER_AID_IMPORT_APPROVAL_PERCENT is 0 to 100");
            s.import_approval_percent = p;
        }
        if let Some(h) = env_positive("CANCER_AID_IMPORT_VALIDATED_HOURS")? {
            s.import_validated_hours = u32::try_from(h).unwrap_or(u32::MAX);
        }
        if let Some(p) = env_parse::<String>("CANCER_AID_NOTICE_PERIOD")? {
            s.notice.period = p
                .parse()
                .map_err(|e| anyhow::anyhow!("CANCER_AID_NOTICE_PERIOD={e}"))?;
        }
        if let Some(m) = env_parse::<String>("CANCER_AID_NOTICE_NAME_MASK")? {
            s.notice.name_mask = m
                .parse()
                .map_err(|e| anyhow::anyhow!("CANCER_AID_NOTICE_NAME_MASK={e}"))?;
        }
        let holidays = env_parse::<String>("CANCER_AID_HOLIDAYS")?.unwrap_or_default();
        let workdays = env_parse::<String>("CANCER_AID_WORKDAYS")?.unwrap_or_default();
        s.notice.calendar = crate::domain::WorkCalendar::parse(&holidays, &workdays)
            .map_err(|e| anyhow::anyhow!("CANCER_AID_HOLIDAYS / CANCER_AID_WORKDAYS: {e}"))?;
        s.layout_dir = env_parse::<std::path::PathBuf>("CANCER_AID_LAYOUT_DIR")?;
        if let Some(tz) = env_parse::<String>("CANCER_AID_TIME_ZONE")? {
            s.time_zone = tz.parse().map_err(|_| {
                anyhow::anyhow!(
                    "CANCER_AID_TIME_ZONE={tz}: an IANA time zone, such as Asia/Shanghai"
                )
            })?;
        }
        if let Some(phone) = env_parse::<String>("CANCER_AID_NOTICE_PHONE")? {
            s.notice.phone = phone;
        }
        if let Some(issuer) = env_parse::<String>("CANCER_AID_NOTICE_ISSUER")? {
            s.notice.issuer = issuer;
        }
        if let Some(days) = env_parse("CANCER_AID_UPLOAD_RETENTION_DAYS")? {
            s.upload_retention_days = days;
        }
        if let Some(m) = env_positive("CANCER_AID_RETENTION_INTERVAL_MINUTES")? {
            s.retention_interval = Duration::from_secs(m * 60);
        }
        if let Some(days) = env_parse("CANCER_AID_ACCESS_LOG_RETENTION_DAYS")? {
            s.access_log_retention_days = days;
        }
        if let Some(dir) = env_parse::<String>("CANCER_AID_BACKUP_DIR")? {
            s.backup_dir = Some(dir.into());
        }
        if let Some(h) = env_positive("CANCER_AID_BACKUP_INTERVAL_HOURS")? {
            s.backup_interval = Duration::from_secs(h * 3600);
        }
        if let Some(n) = env_positive("CANCER_AID_BACKUP_KEEP")? {
            s.backup_keep = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(url) = env_parse::<String>("CANCER_AID_PUBLIC_URL")? {
            s.public_origin = Some(origin_of(&url).ok_or_else(|| {
                anyhow::anyhow!("CANCER_AID_PUBLIC_URL={url} is not an http:// or https:// address")
            })?);
        }
        if let Some(list) = env_parse::<String>("CANCER_AID_TRUSTED_PROXIES")? {
            s.trusted_proxies = TrustedProxies::parse(&list)
                .map_err(|e| anyhow::anyhow!("CANCER_AID_TRUSTED_PROXIES: {e}"))?;
        }
        Ok(s)
    }
}
