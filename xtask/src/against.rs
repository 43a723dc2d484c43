//! `cargo xtask bench --against GIT_REF`: the paired run of base and head.
//!
//! # How it works
//!
//! 1. The base commit is resolved (`worktree::resolve`: merge-base with HEAD unless
//!    `--exact-ref`), checked out in `target/xtask-against/<sha>` and built there with its
//!    own target directory; a base that does not build stops here with cargo's stderr tail
//!    (exit 1). The head is the workspace as it is, built as usual.
//! 2. Both binaries list their configurations with the same `--only` globs; the ids both
//!    have run, the others are reported as added (head only) or removed (base only).
//! 3. `paired_run::run_session` runs blocks until the stop rule ends the run.
//! 4. The result file holds the head's samples as its configurations (so it can serve as a
//!    baseline) and, under `paired`, every sample of both sides with block and side, from
//!    which the comparison can be recomputed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::bench::{Config, PairedSettings};
use crate::binary::build_release_captured;
use crate::comparison::Comparison;
use crate::comparison::paired::PairedContext;
use crate::exit::UsageError;
use crate::git::GitRevision;
use crate::host::{FingerprintDiff, HostFingerprint};
use crate::metric::Metric;
use crate::paired_record::{BaseRevision, PairedRecord, Side};
use crate::paired_run::{Event, ProcessExecutor, run_session};
use crate::progress::Progress;
use crate::results::{
    ConfigurationResult, RESULTS_KIND, RESULTS_SCHEMA, ResultFile, confirm_pinned,
};
use crate::runner::{self, BenchCommand};
use crate::sequential::{MonotonicClock, StopRule};
use crate::worktree;

/// What the paired run produced.
#[derive(Debug)]
pub struct PairedRun {
    pub results: ResultFile,
    pub comparison: Comparison,
    /// Processes the run started (for the failure summary).
    pub planned_runs: usize,
}

/// The base: a built worktree, or a given executable (tests).
struct Base {
    revision: BaseRevision,
    program: PathBuf,
    fingerprint: Option<HostFingerprint>,
}

fn prepare_base(config: &Config, paired: &PairedSettings) -> anyhow::Result<Base> {
    if let Some(program) = &paired.base_bench_bin {
        return Ok(Base {
            revision: BaseRevision {
                requested: paired.against.clone(),
                commit: format!("(executable {})", program.display()),
                merge_base: false,
            },
            program: program.clone(),
            fingerprint: None,
        });
    }
    let revision = worktree::resolve(&config.root, &paired.against, paired.exact_ref)
        .context("cannot resolve the --against ref")?;
    let dir =
        worktree::checkout(&config.root, &revision.commit).context("cannot check out the base")?;
    let short: String = revision.commit.chars().take(7).collect();
    eprintln!(
        "building base {short} ({}{}) in {} (release)",
        paired.against,
        if revision.merge_base {
            ", merge-base with HEAD"
        } else {
            ""
        },
        dir.display()
    );
    let program = build_release_captured(
        &dir,
        &worktree::base_target_dir(&config.root),
        &format!("the base {short} ({})", paired.against),
    )?;
    Ok(Base {
        fingerprint: Some(HostFingerprint::detect(&dir)),
        revision,
        program,
    })
}

/// Runs the paired benchmark (see the module docs).
pub fn run(config: &Config, paired: &PairedSettings) -> anyhow::Result<PairedRun> {
    let base = prepare_base(config, paired)?;
    let head_program = config.head_program()?;
    let only = &config.settings.only;
    let head_ids =
        runner::list_ids(&head_program, only).context("listing the head's configurations")?;
    let base_ids =
        runner::list_ids(&base.program, only).context("listing the base's configurations")?;
    let base_set: BTreeSet<&String> = base_ids.iter().collect();
    let head_set: BTreeSet<&String> = head_ids.iter().collect();
    let ids: Vec<String> = head_ids
        .iter()
        .filter(|id| base_set.contains(id))
        .cloned()
        .collect();
    let added: Vec<String> = head_ids
        .iter()
        .filter(|id| !base_set.contains(id))
        .cloned()
        .collect();
    let removed: Vec<String> = base_ids
        .iter()
        .filter(|id| !head_set.contains(id))
        .cloned()
        .collect();
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
    let pin = config.settings.pin && cannot_pin.is_empty();
    if config.settings.pin && !pin {
        eprintln!(
            "warning: {} has no {} flag; running both sides unpinned",
            cannot_pin.join(" and "),
            runner::PIN_FLAG
        );
    }
    let args: Vec<String> = config
        .pass_through_args()
        .into_iter()
        .filter(|arg| pin || arg != runner::PIN_FLAG)
        .collect();
    let command = |program: PathBuf| BenchCommand {
        program,
        args: args.clone(),
        timeout: config.timeout,
    };
    let mut executor = ProcessExecutor::new(command(base.program.clone()), command(head_program));
    let head_fingerprint = HostFingerprint::detect(&config.root);
    let context = PairedContext {
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
    };
    let rule = StopRule {
        min_blocks: paired.min_blocks,
        max_time: paired.max_time,
    };
    let per_block = (ids.len() * 2) as u64;
    let mut progress = Progress::new(per_block * u64::from(paired.min_blocks));
    let clock = MonotonicClock::start();
    let outcome = run_session(&mut executor, &context, rule, &clock, &mut |event| {
        report_event(&mut progress, paired.min_blocks, per_block, event);
    })?;
    progress.finish();
    eprintln!(
        "paired run: {} blocks in {:.0} s; stopped: {}",
        outcome.blocks,
        clock_secs(&clock),
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
            (!samples.is_empty()).then(|| ConfigurationResult::from_samples(id.clone(), samples))
        })
        .collect::<Result<Vec<_>, _>>()
        .context("summarising the head's samples")?;
    let mut settings = config.settings.clone();
    settings.runs = outcome.blocks;
    settings.pin = confirm_pinned(pin, outcome.samples.iter().map(|s| &s.measurement));
    let results = ResultFile {
        schema: RESULTS_SCHEMA,
        kind: RESULTS_KIND.to_owned(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: head_fingerprint,
        git: GitRevision::detect(&config.root),
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
        }),
    };
    Ok(PairedRun {
        results,
        comparison: outcome.comparison,
        planned_runs: outcome.blocks as usize * ids.len() * 2,
    })
}

fn clock_secs(clock: &MonotonicClock) -> f64 {
    use crate::sequential::Clock as _;
    clock.elapsed().as_secs_f64()
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
