//! `cargo xtask bench`: build the benchmark once, run every selected configuration in fresh
//! processes, summarise, compare with a baseline, report.
//!
//! # How it works
//!
//! 1. Flags are validated into a [`Config`] (`config`; bad ones exit 2 before anything
//!    runs), and the baseline is loaded first, so an unreadable baseline fails in a second,
//!    not after the whole suite.
//! 2. The binary is built once (`$CARGO build --release --bin handoff-bench`), or taken from
//!    `--bench-bin` (tests substitute a deterministic fake there).
//! 3. `BIN --list` gives the ids; `--only` globs filter them.
//! 4. `runs x ids` processes run one at a time in a rotated order
//!    (`engine::independent_session`). A failing child is reported with its stderr tail and
//!    the rest still runs; a child rejecting its arguments (exit 2) stops everything, since
//!    every other would too.
//! 5. Samples become a result file (summaries per metric), compared with the baseline
//!    (`independent`), rendered to stdout and to the requested report files; `--save-baseline`
//!    writes `baselines/NAME.json` atomically, and only from a run where nothing failed
//!    (`finish`).
//! 6. On GitHub Actions the markdown report is appended to the job summary and every gated
//!    regression (inconclusive pair) is printed as an `::error::` (`::warning::`) command.
//!
//! With `--against GIT_REF`, steps 2-5 are the paired run of `paired` instead: base and
//! head built side by side and run interleaved in blocks.

mod config;
mod finish;
mod independent;
mod paired;

pub use config::{Args, Config, PairedSettings};

use crate::commands::exit::Outcome;

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let config = Config::try_from(self)?;
        let run = match &config.paired {
            Some(paired) => paired::run(&config, paired)?,
            None => independent::run(&config)?,
        };
        finish::finish(&config, &run)
    }
}
