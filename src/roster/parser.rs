//! Uploaded files are read in a child process of the service's own binary
//! (`cancer-aid parse-roster`), under an address-space and a CPU-time limit, so that a file
//! that makes the spreadsheet library allocate without bound, crash or spin costs one import
//! and never the service: an allocation failure aborts the child, not the process that serves
//! everyone else. The child checks what the file declares (`roster::declared`), reads it within
//! the limits (`roster::limits`) and streams the rows back (`roster::wire`); the service
//! replays them into the same sink an in-process reader would feed.

use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::declared;
use super::file_error::FileError;
use super::limits::{FileLimits, LimitedSink};
use super::read::{self, Format, RowSink};
use super::wire::{Decoder, Encoder, Ending, WireError};

/// The subcommand the child runs as; hidden from the command line's help.
pub const SUBCOMMAND: &str = "parse-roster";

/// Everything the child is told: where the file is, what it is called, and its limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildArgs {
    /// The stored upload, written to a private temporary file.
    pub path: PathBuf,
    /// The uploaded name (it separates a text file from a damaged workbook).
    pub file_name: String,
    /// Only tell the format and check what the file declares.
    pub inspect_only: bool,
    /// What the file may hold.
    pub limits: FileLimits,
    /// The child's address-space limit, in MiB.
    pub memory_mib: u64,
    /// The child's CPU-time limit, in seconds.
    pub cpu_seconds: u64,
}

/// How the service starts parser processes.
#[derive(Debug, Clone)]
pub struct Parser {
    program: PathBuf,
    /// What a file may hold.
    pub limits: FileLimits,
    memory_mib: u64,
    cpu_seconds: u64,
    /// At most this many children inspect uploads at once; imports run one at a time anyway.
    inspections: Arc<tokio::sync::Semaphore>,
}

impl Parser {
    /// Parsers run as `program` (the service's own binary when `None`).
    pub fn new(
        program: Option<PathBuf>,
        limits: FileLimits,
        memory_mib: u64,
        cpu_seconds: u64,
    ) -> Parser {
        Parser {
            program: program
                .or_else(|| std::env::current_exe().ok())
                .unwrap_or_else(|| PathBuf::from("cancer-aid")),
            limits,
            memory_mib,
            cpu_seconds,
            inspections: Arc::new(tokio::sync::Semaphore::new(2)),
        }
    }

    fn args(&self, path: &Path, file_name: &str, inspect_only: bool) -> ChildArgs {
        ChildArgs {
            path: path.to_owned(),
            file_name: file_name.to_owned(),
            inspect_only,
            limits: self.limits.clone(),
            memory_mib: self.memory_mib,
            cpu_seconds: self.cpu_seconds,
        }
    }

    fn spawn(&self, args: &ChildArgs) -> Result<Child, FileError> {
        let json =
            serde_json::to_string(args).map_err(|e| FileError::ParserFailed(e.to_string()))?;
        Command::new(&self.program)
            .arg(SUBCOMMAND)
            .arg(json)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            // mimalloc (the binary's allocator) reserves 1 GiB of address space at its start by
            // default, before the child limits itself to `memory_mib` of it: every mapping
            // after that failed, and a parse ran only while that reservation lasted. It failed
            // about once in four imports of a million rows that need 91 MiB of address space.
            .env("MIMALLOC_ARENA_RESERVE", "0")
            .spawn()
            .map_err(|e| {
                tracing::error!(error = %e, program = %self.program.display(), "cannot start the roster parser");
                FileError::ParserUnavailable(format!("cannot start the parser: {e}"))
            })
    }

    /// The format of the file at `path`, after its declarations are checked; in a child, at
    /// most two at a time.
    pub async fn inspect(&self, path: &Path, file_name: &str) -> Result<Format, FileError> {
        let _permit = self
            .inspections
            .acquire()
            .await
            .map_err(|e| FileError::ParserFailed(e.to_string()))?;
        let parser = self.clone();
        let args = self.args(path, file_name, true);
        tokio::task::spawn_blocking(move || {
            let mut child = parser.spawn(&args)?;
            let stdout = child.stdout.take().expect("piped");
            let stderr = drain_stderr(&mut child);
            let mut decoder = Decoder::new(BufReader::new(stdout), &parser.limits);
            let (format, ending) = match decoder.format() {
                Ok(Ok(format)) => (Some(format), decoder.replay(&mut Nothing)),
                Ok(Err(end)) => (None, Ok(end)),
                Err(e) => (None, Err(e)),
            };
            drop(decoder);
            parser.conclude(child, stderr, ending)?;
            format.ok_or_else(|| FileError::ParserFailed("no format".into()))
        })
        .await
        .map_err(|e| FileError::ParserFailed(e.to_string()))?
    }

    /// Reads the file at `path` in a child and replays its sheets and rows into `sink`;
    /// blocking, for the import's parser thread. When the sink has had enough, the child is
    /// stopped.
    pub fn parse(
        &self,
        path: &Path,
        file_name: &str,
        sink: &mut dyn RowSink,
    ) -> Result<(), FileError> {
        let args = self.args(path, file_name, false);
        let mut child = self.spawn(&args)?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = drain_stderr(&mut child);
        let mut decoder = Decoder::new(BufReader::with_capacity(256 * 1024, stdout), &self.limits);
        let ending = match decoder.format() {
            Ok(Ok(_)) => decoder.replay(sink),
            Ok(Err(end)) => Ok(end),
            Err(e) => Err(e),
        };
        drop(decoder);
        self.conclude(child, stderr, ending)
    }

    /// Waits for the child and turns how its stream ended into the file's outcome.
    fn conclude(
        &self,
        mut child: Child,
        stderr: std::thread::JoinHandle<String>,
        ending: Result<Ending, WireError>,
    ) -> Result<(), FileError> {
        let died = |status: std::io::Result<ExitStatus>, stderr: &str, why: &str| {
            let status = status.map_err(|e| FileError::ParserFailed(e.to_string()))?;
            Err(self.death(status, stderr, why))
        };
        match ending {
            Ok(Ending::Done) => {
                let _ = child.wait();
                Ok(())
            }
            Ok(Ending::Stopped) => {
                let _ = child.kill();
                let _ = child.wait();
                Ok(())
            }
            Ok(Ending::Failed(e)) => {
                let _ = child.wait();
                Err(e)
            }
            Ok(Ending::Cut) => {
                let status = child.wait();
                died(status, &stderr.join().unwrap_or_default(), "cut")
            }
            Err(e) => {
                // Give a dying child a moment to be reaped as what it died of.
                std::thread::sleep(std::time::Duration::from_millis(50));
                match child.try_wait() {
                    Ok(Some(status)) => died(
                        Ok(status),
                        &stderr.join().unwrap_or_default(),
                        &e.to_string(),
                    ),
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        Err(FileError::ParserFailed(e.to_string()))
                    }
                }
            }
        }
    }

    /// Why a child that gave no answer ended: the memory limit (an allocation failed and it
    /// aborted), the CPU limit (the kernel's SIGXCPU, or SIGKILL at the hard limit), or else.
    fn death(&self, status: ExitStatus, stderr: &str, context: &str) -> FileError {
        use std::os::unix::process::ExitStatusExt;
        tracing::warn!(?status, stderr = %tail(stderr), context, "the roster parser ended without an answer");
        let out_of_memory = stderr.contains("memory allocation of")
            || stderr.contains("out of memory")
            || stderr.contains("Cannot allocate memory");
        match status.signal() {
            _ if out_of_memory => FileError::ParserOutOfMemory {
                limit_mib: self.memory_mib,
            },
            Some(24) | Some(9) => FileError::ParserOutOfTime {
                limit_seconds: self.cpu_seconds,
            },
            Some(sig) => FileError::ParserFailed(format!("the parser stopped on signal {sig}")),
            None => FileError::ParserFailed(format!(
                "the parser exited with status {}",
                status.code().unwrap_or(-1)
            )),
        }
    }
}

/// Keeps the last few KiB of the child's standard error, for the log and to tell an
/// allocation failure; read on a thread so that a chatty child never blocks on it.
fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().expect("piped");
    std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 16 * 1024 {
                kept.drain(..kept.len() - 8 * 1024);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(s.len());
    &s[start..]
}

/// A sink that wants nothing (an inspection has no rows).
struct Nothing;

impl RowSink for Nothing {
    fn begin_sheet(&mut self, _: &str, _: u64) {}
    fn row(&mut self, _: u32, _: &[read::Cell]) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Break(())
    }
    fn end_sheet(&mut self) {}
}

/// The child's side: limits itself, reads the file and writes frames to standard output.
/// Returns the process's exit code.
pub fn child_main(json: &str) -> i32 {
    let Ok(args) = serde_json::from_str::<ChildArgs>(json) else {
        eprintln!("{SUBCOMMAND}: unreadable arguments");
        return 2;
    };
    // Before the file is touched. The hard CPU limit a little above the soft one: SIGXCPU
    // first, SIGKILL if that is ignored.
    let mib = args.memory_mib.saturating_mul(1024 * 1024);
    if let Err(e) = rlimit::setrlimit(rlimit::Resource::AS, mib, mib).and_then(|()| {
        rlimit::setrlimit(
            rlimit::Resource::CPU,
            args.cpu_seconds,
            args.cpu_seconds + 5,
        )
    }) {
        eprintln!("{SUBCOMMAND}: cannot set the limits: {e}");
        return 2;
    }
    let stdout = std::io::stdout().lock();
    let mut enc = Encoder::new(BufWriter::with_capacity(256 * 1024, stdout));
    let outcome = read_child(&args, &mut enc);
    match enc.finish(outcome) {
        Ok(()) => 0,
        // The service stopped listening: nothing more to do.
        Err(_) => 0,
    }
}

fn read_child<W: std::io::Write>(args: &ChildArgs, enc: &mut Encoder<W>) -> Result<(), FileError> {
    let bytes = std::fs::read(&args.path).map_err(|e| FileError::ParserFailed(e.to_string()))?;
    let format = declared::inspect(&bytes, &args.file_name, &args.limits)?;
    enc.format(format)
        .map_err(|e| FileError::ParserFailed(e.to_string()))?;
    if args.inspect_only {
        return Ok(());
    }
    let mut limited = LimitedSink::new(enc, &args.limits);
    let read = read::read(&bytes, format, &mut limited);
    match limited.into_error() {
        Some(e) => Err(e),
        None => read,
    }
}
