//! Running the benchmark binary: listing its configurations, the rotated run schedule, and
//! one configuration in one fresh process with a timeout.
//!
//! # How it works
//!
//! 1. `list_ids` runs `BIN --list` and keeps the ids matching the `--only` globs (the same
//!    `wildmatch` semantics as the binary).
//! 2. `schedule` orders `runs x ids` steps run by run; run `r` starts at offset
//!    `r * ids / runs` of the id list (wrapping), so every configuration is measured early,
//!    middle and late in a run across the runs, and slow drift of the machine (thermal,
//!    other tenants) spreads over all configurations instead of landing on one.
//! 3. `run_one` spawns `BIN --format json --only ID ...`, drains stdout and stderr on two
//!    threads (so a chatty child cannot block on a full pipe), waits at most the timeout,
//!    kills the child when it is exceeded, and accepts exactly one valid JSON line for `ID`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use thiserror::Error;
use wait_timeout::ChildExt;
use wildmatch::WildMatch;

use crate::model::measurement::Measurement;

/// Lines of a failing child's stderr kept for the report.
const STDERR_TAIL_LINES: usize = 15;

/// How to invoke the benchmark binary for one configuration.
#[derive(Debug, Clone)]
pub struct BenchCommand {
    pub program: PathBuf,
    /// Flags passed to every run (`--count`, `--work`, ...), besides `--format` and `--only`.
    pub args: Vec<String>,
    pub timeout: Duration,
}

/// One process to start: configuration `id` in run `run` (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub run: u32,
    pub id: String,
}

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

/// The benchmark's flag that pins threads by role (binaries from before it lack it).
pub const PIN_FLAG: &str = "--pin";

/// Whether `program --help` lists `flag` (so an older base binary is not handed a flag it
/// would reject).
pub fn supports_flag(program: &Path, flag: &str) -> bool {
    Command::new(program)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|output| {
            String::from_utf8_lossy(&output.stdout)
                .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
                .any(|word| word == flag)
        })
}

/// The configuration ids of the binary, filtered by `only` globs (all when empty).
pub fn list_ids(program: &Path, only: &[String]) -> anyhow::Result<Vec<String>> {
    use anyhow::Context as _;
    let output = Command::new(program)
        .arg("--list")
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
    let globs: Vec<WildMatch> = only.iter().map(|g| WildMatch::new(g)).collect();
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .filter(|id| globs.is_empty() || globs.iter().any(|g| g.matches(id)))
        .map(str::to_owned)
        .collect())
}

/// Every step of the benchmark, run by run, each run's order rotated (see module docs).
pub fn schedule(ids: &[String], runs: u32) -> Vec<Step> {
    let n = ids.len();
    (0..runs)
        .flat_map(|run| {
            let offset = if n == 0 {
                0
            } else {
                (run as usize * n / runs as usize) % n
            };
            (0..n).map(move |i| Step {
                run,
                id: ids[(offset + i) % n].clone(),
            })
        })
        .collect()
}

/// Runs one configuration in a fresh process.
pub fn run_one(command: &BenchCommand, id: &str) -> Result<Measurement, ChildFailure> {
    let mut child = Command::new(&command.program)
        .args(["--format", "json", "--only", id])
        .args(&command.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ChildFailure::Spawn {
            program: command.program.clone(),
            source,
        })?;
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
    parse_single(&String::from_utf8_lossy(&stdout), id).map_err(|problem| ChildFailure::BadOutput {
        problem,
        stderr_tail,
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
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn every_run_has_every_id_once_and_starts_elsewhere() {
        let list = ids(6);
        let steps = schedule(&list, 3);
        assert_eq!(steps.len(), 18);
        let firsts: Vec<&str> = (0..3).map(|r| steps[r * 6].id.as_str()).collect();
        assert_eq!(firsts, ["c0", "c2", "c4"]);
        for run in 0..3 {
            let mut seen: Vec<&str> = steps
                .iter()
                .filter(|s| s.run == run)
                .map(|s| s.id.as_str())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4", "c5"]);
        }
        assert!(schedule(&[], 3).is_empty());
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
