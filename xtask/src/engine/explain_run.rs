//! `cargo xtask explain`'s run: one configuration counted under callgrind on a base and on
//! the working tree, both sides' per-function profiles diffed, no timing runs: where the
//! instructions went before a pull request is opened.
//!
//! # How it works
//!
//! 1. The base is prepared as for `bench --against` (`base`), the head built as usual; both
//!    must count instructions (`capabilities`).
//! 2. `counting::count_sides` counts the configuration `runs` times per side, alternating,
//!    and keeps each side's first profile.
//! 3. The counts are compared as the gate compares them (`comparison::counters`, Holm over
//!    the instruction pairs) and explained (`comparison::explain`); the `Cargo.lock`
//!    difference comes along.

use std::path::PathBuf;

use handoff_protocol::Flag;

use crate::comparison::explain::{self, ConfigExplanation};
use crate::comparison::{Comparison, ComparisonContext, Method, PairedEstimator, VerdictPolicy};
use crate::comparison::{assemble_with, counters};
use crate::engine::base::{self, BaseSpec};
use crate::engine::capabilities::PairCapabilities;
use crate::engine::counting::count_sides;
use crate::engine::progress::Progress;
use crate::engine::runner::Injections;
use crate::engine::target::Target;
use crate::model::host::HostFingerprint;
use crate::model::lockfile::LockDiff;
use crate::model::paired_record::Side;
use crate::model::results::ConfigurationResult;
use crate::model::usage::UsageError;

/// What `explain` runs.
#[derive(Debug, Clone)]
pub struct ExplainPlan {
    /// The head: workspace, executable, the binary's flags; `counters` say how to count.
    pub target: Target,
    pub policy: VerdictPolicy,
    pub against: String,
    pub exact_ref: bool,
    pub base_bench_bin: Option<PathBuf>,
    /// The configuration to explain.
    pub id: String,
}

/// What the run found.
#[derive(Debug)]
pub struct Explained {
    /// The instruction pairs, with the explanation.
    pub comparison: Comparison,
    /// The configuration's explanation, when its counts or waiting changed.
    pub explanation: Option<ConfigExplanation>,
    /// How the base's `Cargo.lock` differs from the head's.
    pub dependencies: Option<LockDiff>,
}

/// Runs the explanation (see the module docs).
pub fn run(plan: &ExplainPlan) -> anyhow::Result<Explained> {
    let target = &plan.target;
    let callgrind = target.counters.resolve()?.ok_or_else(|| {
        UsageError("explain counts instructions: it cannot run with --no-counters".to_owned())
    })?;
    let head_program = target.program()?;
    let listed = crate::engine::runner::list_ids(&head_program, std::slice::from_ref(&plan.id))?;
    if listed != [plan.id.clone()] {
        return Err(UsageError(format!(
            "{} is not a configuration of the head (see `handoff-bench --list`)",
            plan.id
        ))
        .into());
    }
    let base = base::prepare(BaseSpec {
        root: &target.root,
        against: &plan.against,
        exact_ref: plan.exact_ref,
        bench_bin: plan.base_bench_bin.as_deref(),
    })?;
    let capabilities = PairCapabilities::probe(&base.program, &head_program)?;
    if !capabilities.both(Flag::InjectLoops) {
        return Err(UsageError(format!(
            "{} cannot count instructions (it predates them): nothing to explain",
            if capabilities.base.supports(Flag::InjectLoops) {
                "the head"
            } else {
                "the base"
            }
        ))
        .into());
    }
    let ids = [plan.id.clone()];
    let runs = target.counters.runs;
    let mut progress = Progress::new(u64::from(runs) * 2);
    let counted = count_sides(
        &callgrind.command(&target.command(base.program.clone()), target.counters.count),
        &callgrind.command(&target.command(head_program), target.counters.count),
        &Injections::new(),
        &ids,
        runs,
        &mut progress,
    );
    progress.finish();
    for failure in &counted.failures {
        eprintln!(
            "FAILED {}: {}\n{}",
            failure.id, failure.reason, failure.stderr_tail
        );
    }
    let side = |side: Side| -> anyhow::Result<ConfigurationResult> {
        let samples: Vec<_> = counted
            .samples
            .iter()
            .filter(|s| s.side == side)
            .map(|s| s.measurement.clone())
            .collect();
        if samples.len() < 2 {
            anyhow::bail!(
                "{} of the {} counting runs of the {} succeeded; a comparison needs two a side",
                samples.len(),
                runs,
                side.as_str()
            );
        }
        // The counting runs serve as the samples too: explain compares counts only.
        Ok(
            ConfigurationResult::with_counters(plan.id.clone(), samples.clone(), samples)?
                .with_profile(counted.profiles.get(&(side, plan.id.clone())).cloned()),
        )
    };
    let (base_result, head_result) = (side(Side::Base)?, side(Side::Head)?);
    let head_fingerprint = HostFingerprint::detect(&target.root);
    let fingerprint = base
        .fingerprint
        .as_ref()
        .map(|b| b.diff(&head_fingerprint))
        .unwrap_or_default();
    let inputs = counters::pairs(&base_result, &head_result);
    let not_gated = counters::not_gated(&fingerprint, &plan.policy, &inputs);
    let mut comparison = assemble_with(
        ComparisonContext {
            method: Method::Paired {
                blocks: 0,
                min_blocks: 0,
                estimator: PairedEstimator::Mean,
            },
            baseline_label: base.revision.label(),
            policy: plan.policy.clone(),
            fingerprint,
            added: Vec::new(),
            removed: Vec::new(),
        },
        not_gated.into_iter().collect(),
        inputs,
    );
    comparison.explanation = explain::explain(&comparison.pairs, |_| {
        (base_result.profile.as_ref(), head_result.profile.as_ref())
    });
    let dependencies =
        crate::engine::paired_run::dependency_changes(base.lockfile.as_deref(), &target.root);
    Ok(Explained {
        explanation: comparison.explanation.first().cloned(),
        comparison,
        dependencies,
    })
}
