//! Running the benchmark binary: the flags it is handed, listing its configurations, and
//! one configuration in one fresh process with a timeout.
//!
//! # How it works
//!
//! 1. `list_ids` runs `BIN --list` and keeps the ids matching the `--only` globs (the same
//!    `wildmatch` semantics as the binary); without globs, the default suite
//!    ([`Selection`]).
//! 2. `run_one` spawns `BIN --format json --only ID ...`, drains stdout and stderr on two
//!    threads (so a chatty child cannot block on a full pipe), waits at most the timeout,
//!    kills the child when it is exceeded, and accepts exactly one valid JSON line for `ID`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use thiserror::Error;
use wait_timeout::ChildExt;

use handoff_protocol::{Flag, Work};

use crate::model::measurement::Measurement;
use crate::model::paired_record::Side;
use crate::model::profile::{Caps, ProfileError, RoleProfiles, read_window_profiles};
use crate::model::selection::Selection;

/// Lines of a failing child's stderr kept for the report.
const STDERR_TAIL_LINES: usize = 15;

/// The flags every benchmark process is handed, besides `--format` and
/// `--only`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryFlags {
    pub count: u64,
    pub work: Work,
    pub in_flight: u64,
    /// `--gap US`, passed only when given.
    pub gap_us: Option<u64>,
    /// `--inject-ns N`, passed only when given.
    pub inject_ns: Option<u64>,
    /// `--pin`.
    pub pin: bool,
    /// `--warm-up-ms MS`, passed only when given (the binary's default is 100 ms).
    pub warm_up_ms: Option<u64>,
}

impl BinaryFlags {
    /// The command-line arguments, in the order the binary documents them.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut pass = |flag: Flag, value: String| args.extend([flag.to_string(), value]);
        pass(Flag::Count, self.count.to_string());
        pass(Flag::Work, self.work.to_string());
        pass(Flag::InFlight, self.in_flight.to_string());
        if let Some(gap) = self.gap_us {
            pass(Flag::Gap, gap.to_string());
        }
        if let Some(inject) = self.inject_ns {
            pass(Flag::InjectNs, inject.to_string());
        }
        if self.pin {
            args.push(Flag::Pin.to_string());
        }
        if let Some(warm_up) = self.warm_up_ms {
            args.extend([Flag::WarmUpMs.to_string(), warm_up.to_string()]);
        }
        args
    }
}

/// Busy work one side's runs of one configuration get besides the run's flags: `calibrate`
/// injects into side B, `bench --inject-head` into the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// Nanoseconds before every call on the async side (`--inject-ns`).
    Ns(u64),
    /// Iterations of black-boxed arithmetic before every call (`--inject-loops`): the
    /// deterministic counterpart, for instruction counts.
    Loops(u64),
}

impl Injection {
    /// The binary's flag and its value.
    pub fn args(self) -> [String; 2] {
        match self {
            Injection::Ns(ns) => [Flag::InjectNs.to_string(), ns.to_string()],
            Injection::Loops(loops) => [Flag::InjectLoops.to_string(), loops.to_string()],
        }
    }
}

/// The injections of a paired session, per side and configuration id.
pub type Injections = std::collections::BTreeMap<(Side, String), Injection>;

/// How to invoke the benchmark binary for one configuration.
#[derive(Debug, Clone)]
pub struct BenchCommand {
    pub program: PathBuf,
    /// Flags passed to every run (`--count`, `--work`, ...), besides `--format` and `--only`.
    pub args: Vec<String>,
    pub timeout: Duration,
    /// Run under callgrind for instruction counts ([`crate::engine::callgrind`]).
    pub callgrind: Option<CallgrindLaunch>,
}

impl BenchCommand {
    /// This command with `injection` added, if any.
    pub fn injected(&self, injection: Option<Injection>) -> BenchCommand {
        let mut command = self.clone();
        command
            .args
            .extend(injection.into_iter().flat_map(Injection::args));
        command
    }
}

/// The command line that runs a program under callgrind: `prefix... --callgrind-out-file=DIR
/// PROGRAM ARGS`, with the dumps in a fresh folder per process, named to the binary by
/// `HANDOFF_BENCH_CALLGRIND_DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallgrindLaunch {
    /// `chrt -f 1 taskset -c N setarch -R valgrind --tool=callgrind ...`, first the program.
    pub prefix: Vec<String>,
    /// A real valgrind launch (not a test's stand-in launcher): valgrind's
    /// `--callgrind-out-file=DIR/callgrind.out.%p` follows the prefix, and the process gets
    /// the same stack layout whichever build it is ([`FIXED_PATH`]).
    pub out_file_flag: bool,
}

/// The whole environment of a counting process besides the dumps' folder. Under valgrind the
/// process runs without address randomisation, so its stack starts at an address that
/// depends on the size of its argument and environment strings, and with the stack's
/// alignment the paths of glibc's `memmove` that tokio's moves of futures take: the same
/// binary counted 2424 or 2879 instructions per call on `tokio-current/to-thread`'s loop
/// (16%) depending on its path and environment. So a counting process gets this `PATH` and
/// nothing else, and runs a copy of the binary at a path of fixed length
/// (`/tmp/hb-count-XXXXXX/handoff-bench`): base and head, today and another day, then see the
/// same layout.
pub const FIXED_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// The size every counting process's argument and environment strings are padded to (with
/// [`STACK_PAD_VARIABLE`]), so that arguments that differ between two sides (`calibrate`
/// gives side B `--inject-loops N`) or between configurations do not move the stack either:
/// an `--inject-loops 1` alone moved `tokio-current/to-thread` by +16% before.
pub const STACK_STRINGS_SIZE: usize = 4096;
/// The environment variable that pads a counting process's strings to [`STACK_STRINGS_SIZE`].
pub const STACK_PAD_VARIABLE: &str = "HANDOFF_BENCH_STACK_PAD";

/// The padding that brings `strings` (each stored with its terminating NUL) to
/// [`STACK_STRINGS_SIZE`] bytes, as the value of [`STACK_PAD_VARIABLE`].
pub fn stack_padding<'a>(strings: impl IntoIterator<Item = &'a str>) -> String {
    let used: usize = strings.into_iter().map(|s| s.len() + 1).sum();
    let pad_entry = STACK_PAD_VARIABLE.len() + 2; // "NAME=" and the NUL
    "x".repeat(STACK_STRINGS_SIZE.saturating_sub(used + pad_entry))
}

/// The environment variable through which the binary finds callgrind's dumps
/// (`src/counters.rs`).
pub const CALLGRIND_DIR_VARIABLE: &str = "HANDOFF_BENCH_CALLGRIND_DIR";

/// Why one run produced no measurement.
#[derive(Debug, Error)]
pub enum ChildFailure {
    #[error("cannot start {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("rejected its arguments (exit status 2)")]
    BadUsage { stderr_tail: String },
    #[error("exited with {status}")]
    Exit { status: String, stderr_tail: String },
    #[error("ran past the {timeout_s} s timeout and was killed")]
    Timeout { timeout_s: f64, stderr_tail: String },
    #[error("printed unusable output: {problem}")]
    BadOutput {
        problem: String,
        stderr_tail: String,
    },
}

impl ChildFailure {
    pub fn stderr_tail(&self) -> &str {
        match self {
            ChildFailure::Spawn { .. } => "",
            ChildFailure::BadUsage { stderr_tail }
            | ChildFailure::Exit { stderr_tail, .. }
            | ChildFailure::Timeout { stderr_tail, .. }
            | ChildFailure::BadOutput { stderr_tail, .. } => stderr_tail,
        }
    }
}

/// The configuration ids of the binary, filtered by `only` globs; without globs, the default
/// suite ([`Selection`]).
pub fn list_ids(program: &Path, only: &[String]) -> anyhow::Result<Vec<String>> {
    use anyhow::Context as _;
    let output = Command::new(program)
        .arg(Flag::List.to_string())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} --list", program.display()))?;
    if !output.status.success() {
        anyhow::bail!(
            "{} --list failed ({}): {}",
            program.display(),
            output.status,
            tail(&output.stderr)
        );
    }
    Ok(select_ids(&String::from_utf8_lossy(&output.stdout), only))
}

/// The ids of a `--list` output that `only` selects ([`list_ids`]).
fn select_ids(listed: &str, only: &[String]) -> Vec<String> {
    let selection = Selection::new(only);
    listed
        .lines()
        .map(str::trim)
        .filter(|id| !id.is_empty() && selection.selects(id))
        .map(str::to_owned)
        .collect()
}

/// One process's measurement, with the per-function profiles of its window when it ran
/// under callgrind and its binary tags its dumps with thread roles.
#[derive(Debug)]
pub struct Measured {
    pub measurement: Measurement,
    pub profiles: Option<RoleProfiles>,
}

/// Runs one configuration in a fresh process.
pub fn run_one(command: &BenchCommand, id: &str) -> Result<Measurement, ChildFailure> {
    run_measured(command, id).map(|measured| measured.measurement)
}

/// Runs one configuration in a fresh process, keeping the window's profiles of a counting
/// run (unbounded: a comparison diffs them before anything is cut).
pub fn run_measured(command: &BenchCommand, id: &str) -> Result<Measured, ChildFailure> {
    let spawn_failure = |source| ChildFailure::Spawn {
        program: command.program.clone(),
        source,
    };
    // Lives until the child has been read: the dumps are read by the child itself.
    let dumps = match &command.callgrind {
        Some(_) => Some(
            tempfile::Builder::new()
                .prefix("hb-count-")
                .rand_bytes(6)
                .tempdir_in("/tmp")
                .map_err(spawn_failure)?,
        ),
        None => None,
    };
    let mut process = match (&command.callgrind, &dumps) {
        (Some(launch), Some(dir)) => {
            let (first, rest) = launch.prefix.split_first().ok_or_else(|| {
                spawn_failure(std::io::Error::other("empty callgrind command line"))
            })?;
            let mut process = Command::new(first);
            process.args(rest);
            if launch.out_file_flag {
                let copy = dir.path().join("handoff-bench");
                std::fs::copy(&command.program, &copy).map_err(spawn_failure)?;
                process
                    .arg(format!(
                        "--callgrind-out-file={}",
                        dir.path().join("callgrind.out.%p").display()
                    ))
                    .arg(copy)
                    .env_clear()
                    .env("PATH", FIXED_PATH);
            } else {
                process.arg(&command.program);
            }
            process.env(CALLGRIND_DIR_VARIABLE, dir.path());
            process
        }
        _ => Command::new(&command.program),
    };
    let (format, only) = (Flag::Format.to_string(), Flag::Only.to_string());
    process
        .args([format.as_str(), "json", only.as_str(), id])
        .args(&command.args);
    if let (Some(launch), Some(dir)) = (&command.callgrind, &dumps)
        && launch.out_file_flag
    {
        let program = dir.path().join("handoff-bench");
        let dir_entry = format!("{CALLGRIND_DIR_VARIABLE}={}", dir.path().display());
        let path_entry = format!("PATH={FIXED_PATH}");
        let program = program.to_string_lossy();
        let strings = [program.as_ref(), format.as_str(), "json", only.as_str(), id]
            .into_iter()
            .chain(command.args.iter().map(String::as_str))
            .chain([dir_entry.as_str(), path_entry.as_str()]);
        process.env(STACK_PAD_VARIABLE, stack_padding(strings));
    }
    let mut child = process
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_failure)?;
    let pid = child.id();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = match child.wait_timeout(command.timeout) {
        Ok(Some(status)) => Some(status),
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr_tail = tail(&stderr.join().unwrap_or_default());
    let Some(status) = status else {
        return Err(ChildFailure::Timeout {
            timeout_s: command.timeout.as_secs_f64(),
            stderr_tail,
        });
    };
    if status.code() == Some(2) {
        return Err(ChildFailure::BadUsage { stderr_tail });
    }
    if !status.success() {
        return Err(ChildFailure::Exit {
            status: status.to_string(),
            stderr_tail,
        });
    }
    let measurement = parse_single(&String::from_utf8_lossy(&stdout), id).map_err(|problem| {
        ChildFailure::BadOutput {
            problem,
            stderr_tail: stderr_tail.clone(),
        }
    })?;
    if command.callgrind.is_some() && measurement.instructions().is_none() {
        return Err(ChildFailure::BadOutput {
            problem: "ran under callgrind but printed no instruction counts".to_owned(),
            stderr_tail,
        });
    }
    let profiles = dumps.as_ref().and_then(|dir| {
        let unbounded = Caps {
            functions: usize::MAX,
            stacks: usize::MAX,
            name_chars: usize::MAX,
        };
        match read_window_profiles(dir.path(), pid, 1, measurement.count, &unbounded) {
            Ok(profiles) => Some(profiles),
            // A binary from before the role tags, or a stand-in that prints counts without
            // dumping (a real binary that prints counts has read its dumps): no profile,
            // and no failure.
            Err(ProfileError::Untagged { .. } | ProfileError::NoDumps { .. }) => None,
            Err(error) => {
                eprintln!("warning: {id}: no per-function profile: {error}");
                None
            }
        }
    });
    Ok(Measured {
        measurement,
        profiles,
    })
}

fn parse_single(stdout: &str, id: &str) -> Result<Measurement, String> {
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    let [line] = lines.as_slice() else {
        return Err(format!("expected one JSON line, got {}", lines.len()));
    };
    let measurement = Measurement::parse_line(line).map_err(|e| e.to_string())?;
    if measurement.id != id {
        return Err(format!("asked for {id}, got {}", measurement.id));
    }
    Ok(measurement)
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// The last lines of a child's stderr.
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_passed_in_order_and_optional_ones_only_when_given() {
        let mut flags = BinaryFlags {
            count: 5,
            work: "spin:100".parse().unwrap(),
            in_flight: 2,
            gap_us: None,
            inject_ns: None,
            pin: false,
            warm_up_ms: None,
        };
        assert_eq!(
            flags.args(),
            ["--count", "5", "--work", "spin:100", "--in-flight", "2"]
        );
        flags.gap_us = Some(7);
        flags.inject_ns = Some(30);
        flags.pin = true;
        flags.warm_up_ms = Some(20);
        assert_eq!(
            flags.args()[6..],
            [
                "--gap",
                "7",
                "--inject-ns",
                "30",
                "--pin",
                "--warm-up-ms",
                "20"
            ]
        );
    }

    #[test]
    fn counting_processes_strings_are_padded_to_one_size() {
        let short = stack_padding(["a", "--inject-loops", "1"]);
        let long = stack_padding(["a", "--inject-loops", "123456", "--only", "x/y"]);
        let total = |strings: &[&str], pad: &str| {
            strings.iter().map(|s| s.len() + 1).sum::<usize>()
                + STACK_PAD_VARIABLE.len()
                + 2
                + pad.len()
        };
        assert_eq!(
            total(&["a", "--inject-loops", "1"], &short),
            STACK_STRINGS_SIZE
        );
        assert_eq!(
            total(&["a", "--inject-loops", "123456", "--only", "x/y"], &long),
            STACK_STRINGS_SIZE
        );
    }

    #[test]
    fn a_list_is_trimmed_and_filtered_by_the_selection() {
        let listed = " floor/park \n\nsmol/tokio-rusqlite\nsmol/dedicated\n";
        assert_eq!(select_ids(listed, &[]), ["floor/park", "smol/dedicated"]);
        assert_eq!(
            select_ids(listed, &["smol/*".to_owned()]),
            ["smol/tokio-rusqlite", "smol/dedicated"]
        );
    }

    #[test]
    fn accepts_exactly_one_line_for_the_right_id() {
        let line = crate::model::measurement::tests::EXAMPLE;
        assert!(parse_single(&format!("{line}\n"), "tokio-current/dedicated").is_ok());
        assert!(
            parse_single(line, "smol/dedicated")
                .unwrap_err()
                .contains("asked for")
        );
        assert!(parse_single("", "x").unwrap_err().contains("got 0"));
        assert!(
            parse_single(&format!("{line}\n{line}"), "x")
                .unwrap_err()
                .contains("got 2")
        );
        let err = parse_single("{\"schema\":1,", "x").unwrap_err();
        assert!(err.contains("line 1 column"), "{err}");
    }
}
