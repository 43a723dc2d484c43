//! `cargo xtask bench --against GIT_REF`: the paired run of base and head.
//!
//! # How it works
//!
//! 1. The base commit is resolved (`engine::base`: merge-base with HEAD unless
//!    `--exact-ref`), checked out in `target/xtask-against/<sha>` and built there with its
//!    own target directory; a base that does not build stops here with cargo's stderr tail
//!    (exit 1). The head is the workspace as it is, built as usual.
//! 2. Both binaries list their configurations with the same `--only` globs; the ids both
//!    have run, the others are reported as added (head only) or removed (base only).
//! 3. `engine::paired_session::run_session` runs blocks until the stop rule ends the run.
//! 4. The result file holds the head's samples as its configurations (so it can serve as a
//!    baseline) and, under `paired`, every sample of both sides with block and side, from
//!    which the comparison can be recomputed.

use std::collections::BTreeSet;

use anyhow::Context as _;

use crate::commands::bench::config::{Config, HeadInjection, PairedSettings};
use crate::commands::bench::finish::Run;
use crate::comparison::paired::PairedContext;
use crate::engine::base::{self, BaseSpec};
use crate::engine::paired_session::{Event, run_session};
use crate::engine::progress::Progress;
use crate::engine::runner;
use crate::engine::sampling::{self, ExtraFlags};
use crate::engine::stop_rule::{Clock as _, MonotonicClock, StopRule};
use crate::model::git::GitRevision;
use crate::model::host::{FingerprintDiff, HostFingerprint};
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedRecord, PairedSample, Side};
use crate::model::results::{
    ConfigurationResult, RESULTS_KIND, RESULTS_SCHEMA, ResultFile, RunFailure, confirm_pinned,
};
use crate::model::usage::UsageError;

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
pub fn run(config: &Config, paired: &PairedSettings) -> anyhow::Result<Run> {
    let target = &config.target;
    let base = base::prepare(BaseSpec {
        root: &target.root,
        against: &paired.against,
        exact_ref: paired.exact_ref,
        bench_bin: paired.base_bench_bin.as_deref(),
    })?;
    let head_program = target.program()?;
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
    if ids.is_empty() {
        return Err(UsageError(format!(
            "no configuration matching --only {only:?} exists in both the base and the head \
             (head: {}, base: {})",
            head_ids.len(),
            base_ids.len()
        ))
        .into());
    }
    // Both sides must be measured alike: pinned only if both binaries can pin.
    let cannot_pin: Vec<String> = [("base", &base.program), ("head", &head_program)]
        .into_iter()
        .filter(|(_, program)| !runner::supports_flag(program, runner::PIN_FLAG))
        .map(|(side, program)| format!("the {side} binary {}", program.display()))
        .collect();
    let pin = target.flags.pin && cannot_pin.is_empty();
    if target.flags.pin && !pin {
        eprintln!(
            "warning: {} has no {} flag; running both sides unpinned",
            cannot_pin.join(" and "),
            runner::PIN_FLAG
        );
    }
    // Counting needs both binaries to count (`--inject-loops` came with counting).
    let callgrind = match target.counters.resolve()? {
        Some(callgrind) => {
            let cannot_count: Vec<String> = [("base", &base.program), ("head", &head_program)]
                .into_iter()
                .filter(|(_, program)| !runner::supports_flag(program, COUNTING_FLAG))
                .map(|(side, program)| format!("the {side} binary {}", program.display()))
                .collect();
            if cannot_count.is_empty() {
                Some(callgrind)
            } else {
                eprintln!(
                    "warning: {} cannot count instructions (it predates them); no counts on either side",
                    cannot_count.join(" and ")
                );
                None
            }
        }
        None => None,
    };
    let sampling = target.sampling.both_can_run(&base.program, &head_program);
    let warm_up_ms =
        sampling::warm_up_both_know(target.flags.warm_up_ms, &base.program, &head_program);
    let mut sides = target.clone();
    sides.flags.pin = pin;
    sides.flags.warm_up_ms = warm_up_ms;
    let base_command = sides.command(base.program.clone());
    let head_command = sides.command(head_program);
    let counting = callgrind.as_ref().map(|callgrind| CountingCommands {
        base: callgrind.command(&base_command, target.counters.count),
        head: callgrind.command(&head_command, target.counters.count),
    });
    let mut executor = sampling.executor(
        base_command,
        head_command,
        head_injections(&paired.inject_head, &ids),
    );
    let head_fingerprint = HostFingerprint::detect(&target.root);
    let mut context = PairedContext {
        counters: Vec::new(),
        ids: ids.clone(),
        baseline_label: base.revision.label(),
        policy: config.policy.clone(),
        fingerprint: base
            .fingerprint
            .as_ref()
            .map_or_else(FingerprintDiff::default, |b| b.diff(&head_fingerprint)),
        added: added.clone(),
        removed: removed.clone(),
        min_blocks: paired.min_blocks,
        estimator: target.estimator,
    };
    let rule = StopRule {
        min_blocks: paired.min_blocks,
        max_time: paired.max_time,
    };
    let per_block = (ids.len() * 2) as u64;
    let mut progress = Progress::new(per_block * u64::from(paired.min_blocks));
    let clock = MonotonicClock::start();
    let mut outcome = run_session(executor.as_mut(), &context, rule, &clock, &mut |event| {
        report_event(&mut progress, paired.min_blocks, per_block, event);
    })?;
    progress.finish();
    if let Some(commands) = &counting {
        let counted = count_both(commands, &ids, target.counters.runs)?;
        outcome.failures.extend(counted.failures);
        context.counters = counted.samples;
        // The verdicts again, with the instruction pairs in the same Holm family.
        let settled = outcome.comparison.clone();
        outcome.comparison = crate::comparison::paired::compare(&outcome.samples, &context);
        keep_settled_blocks(&mut outcome.comparison, &settled);
    }
    eprintln!(
        "paired run: {} blocks in {:.0} s; stopped: {}",
        outcome.blocks,
        clock.elapsed().as_secs_f64(),
        outcome.stop.describe()
    );

    let configurations = ids
        .iter()
        .filter_map(|id| {
            let samples: Vec<_> = outcome
                .samples
                .iter()
                .filter(|s| s.side == Side::Head && s.measurement.id == *id)
                .map(|s| s.measurement.clone())
                .collect();
            let counted: Vec<_> = context
                .counters
                .iter()
                .filter(|s| s.side == Side::Head && s.measurement.id == *id)
                .map(|s| s.measurement.clone())
                .collect();
            (!samples.is_empty())
                .then(|| ConfigurationResult::with_counters(id.clone(), samples, counted))
        })
        .collect::<Result<Vec<_>, _>>()
        .context("summarising the head's samples")?;
    let settings = config.settings(
        outcome.blocks,
        confirm_pinned(pin, outcome.samples.iter().map(|s| &s.measurement)),
        callgrind.as_ref(),
    );
    let results = ResultFile {
        schema: RESULTS_SCHEMA,
        kind: RESULTS_KIND.to_owned(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: head_fingerprint,
        git: GitRevision::detect(&target.root),
        settings,
        configurations,
        failures: outcome.failures,
        paired: Some(PairedRecord {
            base: base.revision,
            min_blocks: paired.min_blocks,
            max_time_s: paired.max_time.map(|d| d.as_secs_f64()),
            blocks: outcome.blocks,
            stop_reason: outcome.stop.describe().to_owned(),
            added,
            removed,
            samples: outcome.samples,
            counter_samples: context.counters,
            sampling: Some(sampling.label()),
            estimator: target.estimator,
        }),
    };
    Ok(Run {
        results,
        comparison: Some(outcome.comparison),
        planned_runs: outcome.blocks as usize * ids.len() * 2,
    })
}

/// The head's extra `--inject-ns` of every configuration `--inject-head` names (the last
/// matching glob wins).
fn head_injections(injections: &[HeadInjection], ids: &[String]) -> ExtraFlags {
    let mut extra = ExtraFlags::new();
    for injection in injections {
        let glob = wildmatch::WildMatch::new(&injection.glob);
        for id in ids.iter().filter(|id| glob.matches(id)) {
            extra.insert(
                (Side::Head, id.clone()),
                vec!["--inject-ns".to_owned(), injection.inject_ns.to_string()],
            );
        }
    }
    extra
}

/// The binary's flag that came with instruction counting: a base without it cannot count.
const COUNTING_FLAG: &str = "--inject-loops";

/// The counting runs' commands of both sides.
struct CountingCommands {
    base: runner::BenchCommand,
    head: runner::BenchCommand,
}

/// What the counting runs of both sides produced.
struct Counted {
    samples: Vec<PairedSample>,
    failures: Vec<RunFailure>,
}

/// `runs` counting runs per side and configuration, alternating the sides (base first in
/// even runs, head first in odd ones), one process at a time.
fn count_both(commands: &CountingCommands, ids: &[String], runs: u32) -> anyhow::Result<Counted> {
    let mut progress = Progress::new(u64::from(runs) * ids.len() as u64 * 2);
    let mut counted = Counted {
        samples: Vec::new(),
        failures: Vec::new(),
    };
    for run in 0..runs {
        for (position, id) in ids.iter().enumerate() {
            let order = if run % 2 == 0 {
                [Side::Base, Side::Head]
            } else {
                [Side::Head, Side::Base]
            };
            for (turn, side) in order.into_iter().enumerate() {
                let command = match side {
                    Side::Base => &commands.base,
                    Side::Head => &commands.head,
                };
                let what = format!("count {} {} {id}", run + 1, side.as_str());
                progress.start(&what);
                match runner::run_one(command, id) {
                    Ok(measurement) => {
                        let per_call = Metric::Instructions.per_call(&measurement);
                        progress.done(&what, &format!("{per_call:.1} instr/call"));
                        counted.samples.push(PairedSample {
                            block: run,
                            side,
                            position: (position * 2 + turn) as u32,
                            slice: None,
                            measurement,
                        });
                    }
                    Err(failure) => {
                        progress.done(&what, "FAILED");
                        counted.failures.push(RunFailure {
                            id: id.clone(),
                            run,
                            side: Some(side),
                            reason: format!("counting: {failure}"),
                            stderr_tail: failure.stderr_tail().to_owned(),
                        });
                    }
                }
            }
        }
    }
    progress.finish();
    Ok(counted)
}

/// Copies each timing pair's "settled after N blocks" from the session's comparison into
/// the one recomputed with the counters (which has no blocks of its own).
fn keep_settled_blocks(
    comparison: &mut crate::comparison::Comparison,
    settled: &crate::comparison::Comparison,
) {
    for pair in &mut comparison.pairs {
        pair.settled_after_blocks = settled
            .pair(&pair.id, pair.metric)
            .and_then(|p| p.settled_after_blocks);
    }
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
            HeadInjection {
                glob: "tokio-current/dedicated*".to_owned(),
                inject_ns: 500,
            },
            HeadInjection {
                glob: "tokio-current/dedicated-block".to_owned(),
                inject_ns: 20_000,
            },
        ];
        let extra = head_injections(&injections, &ids);
        let flags = |id: &str| extra.get(&(Side::Head, id.to_owned())).cloned();
        assert_eq!(
            flags("tokio-current/dedicated"),
            Some(list(&["--inject-ns", "500"]))
        );
        assert_eq!(
            flags("tokio-current/dedicated-block"),
            Some(list(&["--inject-ns", "20000"])),
            "the last matching glob wins"
        );
        assert_eq!(flags("floor/park"), None);
        assert!(
            extra.keys().all(|(side, _)| *side == Side::Head),
            "never the base"
        );
    }
}
