//! `cargo xtask bench --against GIT_REF`: the paired run of base and head, owned by the
//! engine (`engine::paired_run`); this command hands over its validated flags.

use crate::commands::bench::config::{Config, PairedSettings};
use crate::commands::bench::finish::Run;
use crate::engine::paired_run::{self, PairedPlan};

/// Runs the paired benchmark.
pub fn run(config: &Config, paired: &PairedSettings) -> anyhow::Result<Run> {
    let run = paired_run::run(&PairedPlan {
        target: config.target.clone(),
        policy: config.policy.clone(),
        against: paired.against.clone(),
        exact_ref: paired.exact_ref,
        base_bench_bin: paired.base_bench_bin.clone(),
        min_blocks: paired.min_blocks,
        max_time: paired.max_time,
        inject_head: paired.inject_head.clone(),
        shard: paired.shard,
        settings: config.settings(0, config.target.flags.pin),
    })?;
    Ok(Run {
        results: run.results,
        comparison: Some(run.comparison),
        planned_runs: run.planned_runs,
    })
}
