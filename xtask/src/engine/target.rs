//! The benchmark a command runs: the workspace it comes from, its executable (given with
//! `--bench-bin`, or a release build), the `--only` globs, the flags every process gets and
//! how long one may take. The validated form of `commands::flags::RunArgs`.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::binary::{BENCH_BIN, build_release};
use crate::engine::callgrind::Callgrind;
use crate::engine::runner::{self, BenchCommand, BinaryFlags};
use crate::engine::sampling::Sampling;
use crate::model::usage::UsageError;

#[derive(Debug, Clone)]
pub struct Target {
    /// The workspace to build and benchmark.
    pub root: PathBuf,
    /// Run this executable instead of building one (tests substitute a fake).
    pub bench_bin: Option<PathBuf>,
    /// `--only` globs; empty selects every configuration.
    pub only: Vec<String>,
    pub flags: BinaryFlags,
    /// How long one process may run before it is killed.
    pub timeout: Duration,
    /// Whether and how instructions are counted.
    pub counters: CounterSettings,
    /// How a paired session samples the two sides (`--sampling`).
    pub sampling: Sampling,
    /// How a paired comparison estimates from the per-block log-ratios (`--estimator`).
    pub estimator: crate::comparison::PairedEstimator,
}

/// `--counters`, `--no-counters`, neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountersRequest {
    /// `--counters`: without valgrind, bad usage (exit 2).
    Required,
    /// `--no-counters`.
    Off,
    /// Neither: count where valgrind is installed (`bench`); `calibrate` reads it as off.
    WhereAvailable,
}

/// The counting runs' settings (`--counter-runs`, `--counter-count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterSettings {
    pub request: CountersRequest,
    pub runs: u32,
    pub count: u64,
}

impl CounterSettings {
    /// Whether to count, and with what: `Ok(None)` when not counting (with a note on stderr
    /// when valgrind is missing and counting was only wished for), bad usage when it was
    /// required and cannot be done.
    pub fn resolve(&self) -> Result<Option<Callgrind>, UsageError> {
        if self.request == CountersRequest::Off {
            return Ok(None);
        }
        match Callgrind::detect() {
            Ok(callgrind) => {
                if let Some(warning) = callgrind.warning() {
                    eprintln!("{warning}");
                }
                Ok(Some(callgrind))
            }
            Err(why) if self.request == CountersRequest::Required => {
                Err(UsageError(format!("--counters: {why}")))
            }
            Err(why) => {
                eprintln!("note: no instruction counts: {why}; --no-counters silences this");
                Ok(None)
            }
        }
    }
}

impl Target {
    /// The head's executable: `--bench-bin`, or a release build of the workspace.
    pub fn program(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.bench_bin {
            Some(path) => path.clone(),
            None => {
                eprintln!("building {BENCH_BIN} (release)");
                build_release(&self.root)?
            }
        })
    }

    /// The configurations of `program` selected by `--only`; bad usage when there is none.
    pub fn selected_ids(&self, program: &std::path::Path) -> anyhow::Result<Vec<String>> {
        let ids = runner::list_ids(program, &self.only)?;
        if ids.is_empty() {
            return Err(UsageError(format!(
                "no configuration of {} matches --only {:?}",
                program.display(),
                self.only
            ))
            .into());
        }
        Ok(ids)
    }

    /// How to run `program` with this target's flags and timeout.
    pub fn command(&self, program: PathBuf) -> BenchCommand {
        BenchCommand {
            program,
            args: self.flags.args(),
            timeout: self.timeout,
            callgrind: None,
        }
    }
}
