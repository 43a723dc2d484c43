//! The paired run of `bench --against GIT_REF`: base and head built side by side, run
//! interleaved in blocks, counted under callgrind, and compared.
//!
//! # How it works
//!
//! 1. The base commit is resolved (`base`: merge-base with HEAD unless `--exact-ref`),
//!    checked out in `target/xtask-against/<sha>` and built there with its own target
//!    directory; a base that does not build stops here with cargo's stderr tail (exit 1).
//!    The head is the workspace as it is, built as usual.
//! 2. Each binary is asked once what it supports (`capabilities`); both sides are run alike,
//!    so a flag only one supports (pinning, serve mode, warm-up, counting) is used on
//!    neither, with a warning.
//! 3. Both binaries list their configurations with the same `--only` globs; the ids both
//!    have run (with `--shard K/N`, only its slice of them: `model::shard`), the others are
//!    reported as added (head only) or removed (base only).
//! 4. `paired_session::run_session` runs blocks until the stop rule ends the run; then, when
//!    counting, `counting::count_sides` counts both sides.
//! 5. The result file holds the head's samples as its configurations (so it can serve as a
//!    baseline) and, under `paired`, every sample of both sides with block and side. The
//!    comparison is `comparison::paired_run::compare_run` of that file: the function the
//!    pull-request comment recomputes it with, so both agree to the byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use handoff_protocol::Flag;

use crate::comparison::paired::PairedContext;
use crate::comparison::{Comparison, VerdictPolicy};
use crate::engine::base::{self, BaseSpec};
use crate::engine::capabilities::PairCapabilities;
use crate::engine::counting::{Counted, count_sides};
use crate::engine::paired_session::{Event, run_session};
use crate::engine::progress::Progress;
use crate::engine::runner::{self, Injection, Injections};
use crate::engine::sampling;
use crate::engine::stop_rule::{Clock as _, MonotonicClock, StopRule};
use crate::engine::target::Target;
use crate::model::git::GitRevision;
use crate::model::host::{FingerprintDiff, HostFingerprint};
use crate::model::lockfile::{LockDiff, diff_lockfiles};
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedRecord, Side};
use crate::model::profile::Caps;
use crate::model::results::{
    ConfigurationResult, HeadInjection, RESULTS_KIND, RESULTS_SCHEMA, ResultFile, Settings,
    confirm_pinned,
};
use crate::model::shard::Shard;
use crate::model::usage::UsageError;

/// What a paired run runs: `bench --against`'s validated flags.
#[derive(Debug, Clone)]
pub struct PairedPlan {
    /// The head: workspace, executable, `--only`, the binary's flags.
    pub target: Target,
    pub policy: VerdictPolicy,
    /// The ref as given, its merge-base with HEAD unless `exact_ref`.
    pub against: String,
    pub exact_ref: bool,
    /// Use this executable as the base instead of building `against` (tests).
    pub base_bench_bin: Option<PathBuf>,
    pub min_blocks: u32,
    pub max_time: Option<Duration>,
    /// Busy work injected into the head's runs of some configurations, on purpose.
    pub inject_head: Vec<HeadInjection>,
    /// Run only this slice of the configurations both builds have (`model::shard`).
    pub shard: Option<Shard>,
    /// The settings the result file records; `runs`, `pin` and `counters` are filled in by
    /// what the run did.
    pub settings: Settings,
}

/// What a paired run produced.
#[derive(Debug)]
pub struct PairedRun {
    pub results: ResultFile,
    pub comparison: Comparison,
    /// Processes the run started (for the failure summary).
    pub planned_runs: usize,
}

/// The configurations of the two builds: those both have run, the others are listed.
#[derive(Debug, PartialEq, Eq)]
struct CommonIds {
    /// In the head's order.
    ids: Vec<String>,
    /// Only the head has them.
    added: Vec<String>,
    /// Only the base has them.
    removed: Vec<String>,
}

fn common_ids(head_ids: &[String], base_ids: &[String]) -> CommonIds {
    let base_set: BTreeSet<&String> = base_ids.iter().collect();
    let head_set: BTreeSet<&String> = head_ids.iter().collect();
    let (ids, added) = head_ids
        .iter()
        .cloned()
        .partition(|id| base_set.contains(id));
    CommonIds {
        ids,
        added,
        removed: base_ids
            .iter()
            .filter(|id| !head_set.contains(id))
            .cloned()
            .collect(),
    }
}

/// Runs the paired benchmark (see the module docs).
pub fn run(plan: &PairedPlan) -> anyhow::Result<PairedRun> {
    let target = &plan.target;
    let base = base::prepare(BaseSpec {
        root: &target.root,
        against: &plan.against,
        exact_ref: plan.exact_ref,
        bench_bin: plan.base_bench_bin.as_deref(),
    })?;
    let head_program = target.program()?;
    let capabilities = PairCapabilities::probe(&base.program, &head_program)?;
    let only = &target.only;
    let head_ids =
        runner::list_ids(&head_program, only).context("listing the head's configurations")?;
    let base_ids =
        runner::list_ids(&base.program, only).context("listing the base's configurations")?;
    let CommonIds {
        ids,
        added,
        removed,
    } = common_ids(&head_ids, &base_ids);
    let ids = match plan.shard {
        Some(shard) => shard.slice(&ids),
        None => ids,
    };
    if ids.is_empty() {
        let shard = plan
            .shard
            .map(|s| format!(" in shard {s}"))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "no configuration matching --only {only:?} exists in both the base and the head\
             {shard} (head: {}, base: {})",
            head_ids.len(),
            base_ids.len()
        ))
        .into());
    }
    let pin = capabilities.both_or_warn(target.flags.pin, Flag::Pin, "running both sides unpinned");
    let callgrind = target.counters.resolve()?.filter(|_| {
        capabilities.both_or_warn(
            true,
            Flag::InjectLoops,
            "it predates instruction counts: no counts on either side",
        )
    });
    let sampling = sampling::both_can_run(target.sampling, &capabilities);
    let mut sides = target.clone();
    sides.flags.pin = pin;
    sides.flags.warm_up_ms = sampling::warm_up_both_know(target.flags.warm_up_ms, &capabilities);
    let base_command = sides.command(base.program.clone());
    let head_command = sides.command(head_program);
    let injections = head_injections(&plan.inject_head, &ids);
    let mut executor = sampling::executor(
        sampling,
        base_command.clone(),
        head_command.clone(),
        injections.clone(),
    );
    let head_fingerprint = HostFingerprint::detect(&target.root);
    let fingerprint = base
        .fingerprint
        .as_ref()
        .map_or_else(FingerprintDiff::default, |b| b.diff(&head_fingerprint));
    let context = PairedContext {
        counters: Vec::new(),
        ids: ids.clone(),
        baseline_label: base.revision.label(),
        policy: plan.policy.clone(),
        fingerprint: fingerprint.clone(),
        added: added.clone(),
        removed: removed.clone(),
        min_blocks: plan.min_blocks,
        estimator: target.estimator,
    };
    let rule = StopRule {
        min_blocks: plan.min_blocks,
        max_time: plan.max_time,
    };
    let per_block = (ids.len() * 2) as u64;
    let mut progress = Progress::new(per_block * u64::from(plan.min_blocks));
    let clock = MonotonicClock::start();
    let mut session = run_session(executor.as_mut(), &context, rule, &clock, &mut |event| {
        report_event(&mut progress, plan.min_blocks, per_block, event);
    })?;
    progress.finish();
    let counted = match &callgrind {
        Some(callgrind) => {
            let runs = target.counters.runs;
            let mut progress = Progress::new(u64::from(runs) * ids.len() as u64 * 2);
            let counted = count_sides(
                &callgrind.command(&base_command, target.counters.count),
                &callgrind.command(&head_command, target.counters.count),
                &Injections::new(),
                &ids,
                runs,
                &mut progress,
            );
            progress.finish();
            counted
        }
        None => Counted::default(),
    };
    session.failures.extend(counted.failures);
    eprintln!(
        "paired run: {} blocks in {:.0} s; stopped: {}",
        session.blocks,
        clock.elapsed().as_secs_f64(),
        session.stop
    );

    let head_of = |samples: &[crate::model::paired_record::PairedSample], id: &str| {
        samples
            .iter()
            .filter(|s| s.side == Side::Head && s.measurement.id == id)
            .map(|s| s.measurement.clone())
            .collect::<Vec<_>>()
    };
    let mut profiles = counted.profiles;
    let configurations = ids
        .iter()
        .filter_map(|id| {
            let samples = head_of(&session.samples, id);
            let counted = head_of(&counted.samples, id);
            let profile = profiles.remove(&(Side::Head, id.clone()));
            (!samples.is_empty()).then(|| {
                ConfigurationResult::with_counters(id.clone(), samples, counted)
                    .map(|result| result.with_profile(profile))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .context("summarising the head's samples")?;
    let base_profiles = profiles
        .into_iter()
        .filter(|((side, _), _)| *side == Side::Base)
        .map(|((_, id), profile)| (id, profile.bounded(&Caps::default())))
        .collect();
    let dependencies = dependency_changes(base.lockfile.as_deref(), &target.root);
    let settings = Settings {
        runs: session.blocks,
        pin: confirm_pinned(pin, session.samples.iter().map(|s| &s.measurement)),
        counters: callgrind
            .as_ref()
            .map(|callgrind| callgrind.settings(target.counters.runs, target.counters.count)),
        ..plan.settings.clone()
    };
    let results = ResultFile {
        schema: RESULTS_SCHEMA,
        kind: RESULTS_KIND.to_owned(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: head_fingerprint,
        git: GitRevision::detect(&target.root),
        settings,
        configurations,
        failures: session.failures,
        paired: Some(PairedRecord {
            base: base.revision,
            min_blocks: plan.min_blocks,
            max_time_s: plan.max_time.map(|d| d.as_secs_f64()),
            blocks: session.blocks,
            stop_reason: session.stop,
            added,
            removed,
            samples: session.samples,
            counter_samples: counted.samples,
            sampling: Some(sampling),
            estimator: target.estimator,
            base_profiles,
            dependencies,
        }),
    };
    let comparison =
        crate::comparison::paired_run::compare_run(&results, plan.policy.clone(), fingerprint)
            .context("the paired run's result file has its paired record")?;
    let planned_runs = results.settings.runs as usize * ids.len() * 2;
    Ok(PairedRun {
        results,
        comparison,
        planned_runs,
    })
}

/// How the base's `Cargo.lock` differs from the head's (the workspace's); `None`, with a
/// warning, when either cannot be read.
pub fn dependency_changes(base: Option<&Path>, root: &Path) -> Option<LockDiff> {
    let base = base?;
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| {
                eprintln!(
                    "warning: no dependency changes: cannot read {}: {e}",
                    path.display()
                )
            })
            .ok()
    };
    let (base_text, head_text) = (read(base)?, read(&root.join("Cargo.lock"))?);
    diff_lockfiles(&base_text, &head_text)
        .map_err(|e| eprintln!("warning: no dependency changes: {e}"))
        .ok()
}

/// The head's `--inject-ns` of every configuration `--inject-head` names (the last
/// matching glob wins).
fn head_injections(injections: &[HeadInjection], ids: &[String]) -> Injections {
    let mut out = Injections::new();
    for injection in injections {
        let glob = wildmatch::WildMatch::new(&injection.glob);
        for id in ids.iter().filter(|id| glob.matches(id)) {
            out.insert((Side::Head, id.clone()), Injection::Ns(injection.inject_ns));
        }
    }
    out
}

fn report_event(progress: &mut Progress, min_blocks: u32, per_block: u64, event: Event<'_>) {
    match event {
        Event::Run { step, outcome } => {
            if step.position == 0 && step.block >= min_blocks {
                // A block beyond --min-blocks started: its steps join the total.
                progress.extend(per_block);
            }
            let what = format!(
                "block {} {} {}",
                step.block + 1,
                step.side.as_str(),
                step.id
            );
            match outcome {
                Ok(m) => {
                    let wall_us = Metric::Wall.per_call(m) / 1000.0;
                    progress.done(&what, &format!("{wall_us:.3} us/call"));
                }
                Err(failure) => {
                    progress.done(&what, "FAILED");
                    progress.message(&format!(
                        "FAILED {what}: {failure}\n--- stderr (tail) ---\n{}\n---",
                        failure.stderr_tail()
                    ));
                }
            }
        }
        Event::BlockDone {
            block,
            duration,
            unresolved,
        } => {
            let status = match unresolved {
                Some(0) => "every gated pair resolved".to_owned(),
                Some(n) => format!("{n} gated pairs inconclusive"),
                None => "verdicts not looked at yet".to_owned(),
            };
            progress.message(&format!(
                "block {} done in {:.1} s: {status}",
                block + 1,
                duration.as_secs_f64()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_both_builds_have_run_and_the_others_are_listed() {
        let list = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let common = common_ids(&list(&["a", "new", "b"]), &list(&["b", "gone", "a"]));
        assert_eq!(
            common,
            CommonIds {
                ids: list(&["a", "b"]),
                added: list(&["new"]),
                removed: list(&["gone"]),
            }
        );
    }

    #[test]
    fn head_injections_reach_the_matching_head_configurations_only() {
        let list = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let ids = list(&[
            "tokio-current/dedicated",
            "tokio-current/dedicated-block",
            "floor/park",
        ]);
        let injections = [
            "tokio-current/dedicated*=500".parse().unwrap(),
            "tokio-current/dedicated-block=20000".parse().unwrap(),
        ];
        let out = head_injections(&injections, &ids);
        let of = |id: &str| out.get(&(Side::Head, id.to_owned())).copied();
        assert_eq!(of("tokio-current/dedicated"), Some(Injection::Ns(500)));
        assert_eq!(
            of("tokio-current/dedicated-block"),
            Some(Injection::Ns(20_000)),
            "the last matching glob wins"
        );
        assert_eq!(of("floor/park"), None);
        assert!(
            out.keys().all(|(side, _)| *side == Side::Head),
            "never the base"
        );
    }
}
