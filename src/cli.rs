//! Command-line flags (clap) and their validation into a [`Config`]; clap types stop here.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use wildmatch::WildMatch;

use crate::driver::Shape;
use crate::suite::Configuration;
use crate::work::Work;

/// The flags as typed.
#[derive(Debug, Parser)]
#[command(
    name = "handoff-bench",
    version,
    about = "What one async -> thread -> async round trip costs, per runtime and handoff, beside the physical floors",
    after_help = "Exit status: 0 ran, 2 bad usage (a bad flag, an --only that matches nothing, or a --serve command that is not one), 101 an internal failure."
)]
pub struct Cli {
    /// Calls per configuration inside the timed window.
    #[arg(long, default_value_t = 250_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// What each call does on the worker (the kinds from the protocol's `--work` grammar).
    #[arg(
        long,
        default_value = "zero",
        value_name = "SPEC",
        help = work_help(),
        long_help = work_long_help()
    )]
    pub work: Work,
    /// Calls kept outstanding at once (1: strictly sequential, as in python-async-bench).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub in_flight: u64,
    /// Asynchronous wait before each call, microseconds (sparse traffic).
    #[arg(long, default_value_t = 0, value_name = "US")]
    pub gap: u64,
    /// Calibration aid: busy work on the async side before each call, nanoseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub inject_ns: u64,
    /// Calibration aid for instruction counts: N iterations of black-boxed arithmetic on the
    /// async side before each call (the deterministic counterpart of --inject-ns).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub inject_loops: u64,
    /// Pin threads for repeatable numbers: those that poll futures to one CPU, all others
    /// (workers, pools) to another. For the regression gate; off by default, because real
    /// applications are not pinned.
    #[arg(long)]
    pub pin: bool,
    /// Run only configurations whose id matches (`*` and `?` wildcards); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print the selected configuration ids, one a line, and exit.
    #[arg(long)]
    pub list: bool,
    /// How long back-to-back calls run before the first timed window, milliseconds (under
    /// valgrind: 1000 calls instead).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub warm_up_ms: u64,
    /// Serve mode, for the xtask's lock-step sampling: set up the one configuration --only
    /// selects, warm it up, print `{"ready":ID}`, then for every line `N` read from stdin
    /// run a timed window of N calls and print its JSON line; end on `quit` or end of input.
    #[arg(long, conflicts_with = "list")]
    pub serve: bool,
    /// Print what this binary supports (flags, work kinds, JSON-line fields) as one JSON
    /// object, and exit.
    #[arg(long, conflicts_with_all = ["list", "serve"])]
    pub capabilities: bool,
}

/// `--work`'s one-line help: every kind the grammar accepts.
fn work_help() -> String {
    format!(
        "What each call does on the worker: {}",
        handoff_protocol::work::kinds_sentence()
    )
}

/// `--work`'s `--help` text: every kind with what it does.
fn work_long_help() -> String {
    let mut help = String::from("What each call does on the worker:");
    for kind in handoff_protocol::work::KINDS {
        help.push_str(&format!("\n  {:<10} {}", kind.syntax, kind.meaning));
    }
    help
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// python-async-bench's table plus per-call figures.
    Table,
    /// One JSON object per configuration, one a line.
    Json,
}

/// A validated run request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The configurations to run, in report order.
    pub configurations: Vec<Configuration>,
    /// What each call does.
    pub work: Work,
    /// How the async side makes its calls.
    pub shape: Shape,
    /// Output format.
    pub format: Format,
    /// List ids instead of running.
    pub list: bool,
    /// Serve timed windows on command (`--serve`); then `configurations` holds one.
    pub serve: bool,
}

/// Flags that parse but cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--only` selected nothing.
    #[error("--only {patterns} matches no configuration; `handoff-bench --list` shows the ids")]
    NothingSelected { patterns: String },
    /// `--serve` with more than one configuration selected.
    #[error("--serve runs one configuration, but the --only given selects {count}: {first}, ...")]
    ServeNeedsOne { count: usize, first: String },
}

impl TryFrom<Cli> for Config {
    type Error = ConfigError;

    fn try_from(cli: Cli) -> Result<Self, Self::Error> {
        let patterns: Vec<WildMatch> = cli.only.iter().map(|glob| WildMatch::new(glob)).collect();
        let configurations: Vec<Configuration> = Configuration::all()
            .into_iter()
            .filter(|configuration| {
                let id = configuration.id();
                patterns.is_empty() || patterns.iter().any(|pattern| pattern.matches(id.as_str()))
            })
            .collect();
        if configurations.is_empty() {
            let patterns = cli
                .only
                .iter()
                .map(|glob| format!("'{glob}'"))
                .collect::<Vec<_>>()
                .join(" ");
            return Err(ConfigError::NothingSelected { patterns });
        }
        if cli.serve && configurations.len() > 1 {
            return Err(ConfigError::ServeNeedsOne {
                count: configurations.len(),
                first: configurations[0].id().to_string(),
            });
        }
        Ok(Config {
            configurations,
            work: cli.work,
            shape: Shape {
                count: cli.count,
                in_flight: cli.in_flight,
                gap: Duration::from_micros(cli.gap),
                inject: Duration::from_nanos(cli.inject_ns),
                inject_loops: cli.inject_loops,
                pin: cli.pin,
                warm_up: Duration::from_millis(cli.warm_up_ms),
            },
            format: cli.format,
            list: cli.list,
            serve: cli.serve,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        Config::try_from(Cli::try_parse_from(["handoff-bench"].iter().chain(args)).unwrap())
    }

    #[test]
    fn only_globs_select_by_id_and_keep_report_order() {
        let ids: Vec<String> = config(&["--only", "floor/*", "--only", "smol/to-thread"])
            .unwrap()
            .configurations
            .iter()
            .map(|c| c.id().to_string())
            .collect();
        assert_eq!(ids, ["smol/to-thread", "floor/spin", "floor/park"]);
    }

    #[test]
    fn an_only_that_matches_nothing_is_refused_with_the_pattern() {
        let error = config(&["--only", "tokio/*"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--only 'tokio/*' matches no configuration; `handoff-bench --list` shows the ids"
        );
    }

    #[test]
    fn defaults_are_python_async_benchs() {
        let config = config(&[]).unwrap();
        assert_eq!(config.shape.count, 250_000);
        assert_eq!(config.shape.in_flight, 1);
        assert_eq!(config.work, Work::Zero);
        assert_eq!(config.configurations.len(), Configuration::all().len());
        assert_eq!(config.shape.warm_up, crate::driver::WARM_UP);
        assert!(!config.serve);
    }

    #[test]
    fn serve_takes_exactly_one_configuration() {
        let one = config(&["--serve", "--only", "floor/park"]).unwrap();
        assert!(one.serve);
        assert_eq!(one.configurations.len(), 1);
        let error = config(&["--serve", "--only", "floor/*"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--serve runs one configuration, but the --only given selects 2: floor/spin, ..."
        );
    }
}
