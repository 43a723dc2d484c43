//! Running the benchmark under valgrind's callgrind for instruction counts per thread role:
//! what is needed, how it is launched, and the counting runs' command.
//!
//! # How it works
//!
//! 1. [`Callgrind::detect`] checks that `valgrind`, `setarch` and `taskset` run, and probes
//!    whether `chrt -f 1` is permitted (root or `CAP_SYS_NICE`).
//! 2. Every counting process is launched as
//!    `chrt -f 1 taskset -c CPU setarch -R valgrind --tool=callgrind --fair-sched=yes
//!    --separate-threads=yes --dump-line=no --dump-instr=no --callgrind-out-file=DIR/...`
//!    (`docs/book/src/notes/2026-12-01-instruction-counts.md` measures why each part is there:
//!    one CPU at FIFO priority makes the order of a waker and the thread it woke the same in
//!    every run, and counts then reproduce to 0.001% instead of varying by 4%); without
//!    `chrt` permission it runs without it and [`Callgrind::warning`] says so.
//! 3. The binary counts (its `src/counters.rs`) and prints `instructions_*` in its JSON line;
//!    the runner checks they are there.
//!
//! Counting runs are one configuration per process, like the timing runs, so a configuration's
//! counts do not depend on which others ran before it in the same process.

use handoff_protocol::Flag;
use std::process::{Command, Stdio};

use crate::engine::runner::{BenchCommand, CallgrindLaunch};

/// The Debian/Ubuntu package that provides valgrind, for error messages.
pub const VALGRIND_PACKAGE: &str = "valgrind";

/// Tests only: a launch prefix to use instead of valgrind's (e.g. `env`), whitespace-separated;
/// with it, nothing is detected. The integration tests run the fake benchmark this way.
pub const LAUNCH_OVERRIDE_VARIABLE: &str = "HANDOFF_BENCH_CALLGRIND_LAUNCH";

/// What the counting runs are launched with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callgrind {
    /// `valgrind --version`, e.g. `valgrind-3.19.0`.
    pub version: String,
    /// Whether `chrt -f 1` is permitted here.
    pub realtime: bool,
    /// The CPU the process is confined to: the last one this process may use.
    pub cpu: usize,
    /// [`LAUNCH_OVERRIDE_VARIABLE`]'s prefix, when set.
    pub launch_override: Option<Vec<String>>,
}

fn runs(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl Callgrind {
    /// Step 1; `Err` names what is missing and how to install it.
    pub fn detect() -> Result<Self, String> {
        if let Some(prefix) = std::env::var_os(LAUNCH_OVERRIDE_VARIABLE) {
            return Ok(Self {
                version: "override".to_owned(),
                realtime: true,
                cpu: 0,
                launch_override: Some(
                    prefix
                        .to_string_lossy()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                ),
            });
        }
        let version = runs("valgrind", &["--version"]).ok_or_else(|| {
            format!(
                "instruction counts need valgrind, which is not installed \
                 (`apt-get install -y {VALGRIND_PACKAGE}`)"
            )
        })?;
        let probes: [(&str, &[&str]); 2] = [
            ("setarch", &["-R", "true"]),
            ("taskset", &["-c", "0", "true"]),
        ];
        for (tool, args) in probes {
            if runs(tool, args).is_none() {
                return Err(format!(
                    "instruction counts need `{tool}` (util-linux), which does not run here"
                ));
            }
        }
        let cpu = allowed_cpus().last().copied().unwrap_or(0);
        let realtime = runs("chrt", &["-f", "1", "true"]).is_some();
        Ok(Self {
            version,
            realtime,
            cpu,
            launch_override: None,
        })
    }

    /// Why counts may vary more than `docs/book/src/benchmark/columns.md` says, if they may.
    pub fn warning(&self) -> Option<String> {
        (!self.realtime).then(|| {
            "warning: `chrt -f 1` is not permitted here (it needs root or CAP_SYS_NICE): \
             counting runs without FIFO priority, and the counts of rows with a blocking \
             hand-off may vary by a few percent between processes"
                .to_owned()
        })
    }

    /// Step 2: the launch prefix, the program and its output flag follow.
    pub fn launch(&self) -> CallgrindLaunch {
        if let Some(prefix) = &self.launch_override {
            return CallgrindLaunch {
                prefix: prefix.clone(),
                out_file_flag: false,
            };
        }
        let mut prefix: Vec<String> = Vec::new();
        if self.realtime {
            prefix.extend(["chrt", "-f", "1"].map(str::to_owned));
        }
        prefix.extend(["taskset".to_owned(), "-c".to_owned(), self.cpu.to_string()]);
        prefix.extend(
            [
                "setarch",
                "-R",
                "valgrind",
                "--tool=callgrind",
                "--fair-sched=yes",
                "--separate-threads=yes",
                "--dump-line=no",
                "--dump-instr=no",
            ]
            .map(str::to_owned),
        );
        // Function contexts, for whole call stacks in the per-function profiles
        // (`model::profile::CONTEXT_DEPTH` says why this depth and what it costs).
        prefix.push(format!(
            "--separate-callers={}",
            crate::model::profile::CONTEXT_DEPTH
        ));
        CallgrindLaunch {
            prefix,
            out_file_flag: true,
        }
    }

    /// What the result file records of `runs` counting runs of `count` calls each.
    pub fn settings(&self, runs: u32, count: u64) -> crate::model::results::CountingSettings {
        crate::model::results::CountingSettings {
            runs,
            count,
            valgrind: self.version.clone(),
            realtime: self.realtime,
        }
    }

    /// The counting runs' command: the timing command's program and flags with `--count`
    /// set to `count` and `--pin` dropped (valgrind runs one thread at a time on one CPU).
    pub fn command(&self, timing: &BenchCommand, count: u64) -> BenchCommand {
        let (count_flag, pin_flag) = (Flag::Count.to_string(), Flag::Pin.to_string());
        let mut args = Vec::with_capacity(timing.args.len());
        let mut given = timing.args.iter();
        while let Some(arg) = given.next() {
            if *arg == count_flag {
                given.next();
                args.extend([count_flag.clone(), count.to_string()]);
            } else if *arg != pin_flag {
                args.push(arg.clone());
            }
        }
        BenchCommand {
            program: timing.program.clone(),
            args,
            timeout: timing.timeout,
            callgrind: Some(self.launch()),
        }
    }
}

/// The CPUs this process may run on (`sched_getaffinity`, read from /proc), in order.
fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(list) = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
    else {
        return Vec::new();
    };
    list.trim()
        .split(',')
        .filter_map(|range| match range.split_once('-') {
            Some((low, high)) => Some(low.trim().parse().ok()?..=high.trim().parse().ok()?),
            None => {
                let cpu: usize = range.trim().parse().ok()?;
                Some(cpu..=cpu)
            }
        })
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    const CALLGRIND: Callgrind = Callgrind {
        version: String::new(),
        realtime: true,
        cpu: 1,
        launch_override: None,
    };

    #[test]
    fn the_launch_confines_valgrind_to_one_cpu_at_fifo_priority() {
        let launch = CALLGRIND.launch().prefix.join(" ");
        assert_eq!(
            launch,
            "chrt -f 1 taskset -c 1 setarch -R valgrind --tool=callgrind --fair-sched=yes \
             --separate-threads=yes --dump-line=no --dump-instr=no --separate-callers=32"
        );
        let without = Callgrind {
            realtime: false,
            ..CALLGRIND
        };
        assert!(
            without
                .launch()
                .prefix
                .join(" ")
                .starts_with("taskset -c 1 setarch")
        );
        assert!(without.warning().is_some() && CALLGRIND.warning().is_none());
    }

    #[test]
    fn counting_runs_get_their_own_count_and_no_pinning() {
        let timing = BenchCommand {
            program: PathBuf::from("bench"),
            args: [
                "--count",
                "10000",
                "--work",
                "zero",
                "--in-flight",
                "1",
                "--pin",
            ]
            .map(str::to_owned)
            .to_vec(),
            timeout: Duration::from_secs(5),
            callgrind: None,
        };
        let counting = CALLGRIND.command(&timing, 5000);
        assert_eq!(
            counting.args,
            ["--count", "5000", "--work", "zero", "--in-flight", "1"]
        );
        assert_eq!(counting.program, timing.program);
        assert!(counting.callgrind.is_some());
    }

    #[test]
    fn this_process_may_use_some_cpu() {
        assert!(!allowed_cpus().is_empty());
    }
}
