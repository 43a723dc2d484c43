//! The shards of one runner's sharded run (`bench --against ... --shard K/N`), merged into
//! one results file, so that the comparison is recomputed once over all their pairs.
//!
//! # Why the merged comparison is the unsharded one
//!
//! Each shard ran a disjoint slice of the configurations, paired (its base and head side by
//! side on one machine), for the same fixed number of blocks. Pairs are formed within a
//! configuration and a block, so no pair ever spans two shards (or two machines); the
//! merged file holds exactly the pairs the shards measured. `comparison::paired_run::compare_run`
//! of the merged file then applies Holm's correction once, over every gated pair of every
//! shard, as it does for an unsharded run, and each shard's stopping depended on no other
//! shard's pairs: a shard that stopped on its own verdicts (`--max-time`) is refused here,
//! since its stop looked at its own slice's Holm only.
//!
//! A shard is merged only when it matches the runner's first file in everything but its
//! slice: the kind of run, the head and base commits, the settings other than `--only`, the
//! blocks it was asked for, the estimator and sampling, and the verdict policy. A shard that
//! does not, that repeats a configuration of another shard, or that would take the merged
//! file beyond the limits of one file (`github::limits`), is refused on its own, with the
//! reason.

use std::collections::BTreeSet;

use super::checked_results::{CheckedResults, MAX_FINGERPRINT_DIFFERENCES};
use super::limits::{Counts, MAX_CONFIGURATIONS};
use super::runners::Refusal;
use crate::model::results::{ResultFile, Settings};

/// One runner's files merged: the checked file of all of them, and their names.
#[derive(Debug, Clone)]
pub struct Merged {
    pub checked: CheckedResults,
    /// The files merged, in shard order (one for an unsharded runner).
    pub files: Vec<String>,
    /// The CPU models the files were measured on, each once (shards may run on different
    /// machines of one runner label).
    pub hosts: Vec<String>,
}

/// Merges one runner's checked files, in shard order; every file that cannot be merged is
/// refused with its reason. `None` when none is left.
pub fn merge(files: Vec<(String, CheckedResults)>) -> (Option<Merged>, Vec<Refusal>) {
    let several = files.len() > 1;
    let mut merged: Option<Merged> = None;
    let mut refused = Vec::new();
    for (name, checked) in files {
        let stopped_early = checked
            .results
            .paired
            .as_ref()
            .is_some_and(|p| p.max_time_s.is_some());
        if several && stopped_early {
            refused.push(Refusal {
                name,
                reason: "a shard must run a fixed number of blocks; this one ran with \
                         --max-time, so its stop looked at its own pairs only"
                    .to_owned(),
            });
            continue;
        }
        let host = checked.results.host.cpu_model.clone();
        match &mut merged {
            None => {
                merged = Some(Merged {
                    checked,
                    files: vec![name],
                    hosts: vec![host],
                });
            }
            Some(m) => match absorb(&mut m.checked, checked) {
                Ok(()) => {
                    m.files.push(name);
                    if !m.hosts.contains(&host) {
                        m.hosts.push(host);
                    }
                }
                Err(reason) => refused.push(Refusal { name, reason }),
            },
        }
    }
    (merged, refused)
}

/// Adds `shard` to `into` when it may be merged; otherwise leaves `into` as it was and says
/// why not.
fn absorb(into: &mut CheckedResults, shard: CheckedResults) -> Result<(), String> {
    compatible(into, &shard)?;
    let (mine, theirs) = (run_ids(&into.results), run_ids(&shard.results));
    if let Some(id) = mine.intersection(&theirs).next() {
        return Err(format!(
            "configuration {id} is in another of the runner's files too"
        ));
    }
    let counts = Counts::of(&into.results).plus(Counts::of(&shard.results));
    if let Some((part, found)) = counts.first_over() {
        return Err(format!(
            "merged with the runner's other files it would make {found} {}, more than the \
             limit of {}",
            part.name(),
            part.limit()
        ));
    }
    if mine.len() + theirs.len() > MAX_CONFIGURATIONS {
        return Err(format!(
            "merged with the runner's other files it would name more than \
             {MAX_CONFIGURATIONS} configurations"
        ));
    }
    let mut fingerprint = into.fingerprint.clone();
    for (list, more) in [
        (&mut fingerprint.host, shard.fingerprint.host),
        (&mut fingerprint.toolchain, shard.fingerprint.toolchain),
        (&mut fingerprint.unrecorded, shard.fingerprint.unrecorded),
    ] {
        for difference in more {
            if !list.contains(&difference) {
                list.push(difference);
            }
        }
    }
    if fingerprint.host.len() + fingerprint.toolchain.len() > MAX_FINGERPRINT_DIFFERENCES {
        return Err(format!(
            "merged with the runner's other files it would list more than \
             {MAX_FINGERPRINT_DIFFERENCES} host and toolchain differences"
        ));
    }
    into.fingerprint = fingerprint;
    append(&mut into.results, shard.results);
    Ok(())
}

/// Why `shard` is not a slice of the same run as `first`, if it is not.
fn compatible(first: &CheckedResults, shard: &CheckedResults) -> Result<(), String> {
    let (a, b) = (&first.results, &shard.results);
    let differs = |what: &str| Err(format!("its {what} differs from the runner's first file's"));
    if a.git.revision != b.git.revision {
        return differs("head commit");
    }
    if without_slice(&a.settings) != without_slice(&b.settings) {
        return differs("settings (other than --only)");
    }
    if first.policy != shard.policy {
        return differs("verdict policy");
    }
    match (&a.paired, &b.paired) {
        (None, None) => Ok(()),
        (Some(p), Some(q)) => {
            if p.base.commit != q.base.commit {
                differs("base commit")
            } else if p.min_blocks != q.min_blocks {
                differs("--min-blocks")
            } else if p.estimator != q.estimator {
                differs("estimator")
            } else if p.sampling != q.sampling {
                differs("sampling design")
            } else if p.dependencies != q.dependencies {
                differs("dependency diff")
            } else {
                Ok(())
            }
        }
        _ => Err(
            "a paired run and a run without a base cannot be merged (one has a paired \
             record, the other not)"
                .to_owned(),
        ),
    }
}

/// The settings without the slice a shard ran (`--only`).
fn without_slice(settings: &Settings) -> Settings {
    Settings {
        only: Vec::new(),
        ..settings.clone()
    }
}

/// Every configuration a file ran: its configurations' and its paired samples' ids.
fn run_ids(results: &ResultFile) -> BTreeSet<&str> {
    let mut ids: BTreeSet<&str> = results
        .configurations
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    if let Some(paired) = &results.paired {
        ids.extend(
            paired
                .samples
                .iter()
                .chain(&paired.counter_samples)
                .map(|s| s.measurement.id.as_str()),
        );
    }
    ids
}

/// `shard`'s configurations, failures and samples after `into`'s; the slices' `--only`
/// together; the added and removed lists (every shard's are the whole run's) once; the
/// base's profiles of every configuration (the dependency diff, the same in every shard, once).
fn append(into: &mut ResultFile, shard: ResultFile) {
    into.configurations.extend(shard.configurations);
    into.failures.extend(shard.failures);
    for glob in shard.settings.only {
        if !into.settings.only.contains(&glob) {
            into.settings.only.push(glob);
        }
    }
    if let (Some(p), Some(q)) = (&mut into.paired, shard.paired) {
        p.blocks = p.blocks.max(q.blocks);
        for (list, more) in [(&mut p.added, q.added), (&mut p.removed, q.removed)] {
            for id in more {
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
        p.samples.extend(q.samples);
        p.counter_samples.extend(q.counter_samples);
        p.base_profiles.extend(q.base_profiles);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::VerdictPolicy;
    use crate::comparison::paired::tests::synthetic;
    use crate::model::host::FingerprintDiff;
    use crate::model::paired_record::{BaseRevision, PairedRecord, Side, StopReason};
    use crate::model::results::tests::result_file;

    /// A paired shard of `ids` over `blocks` blocks (the first id's head 30% slower).
    fn shard(ids: &[&str], blocks: u32, seed: u64) -> CheckedResults {
        noisy_shard(ids, blocks, seed, 0.02)
    }

    /// [`shard`] with a run-to-run noise of `sd` (log scale).
    pub(crate) fn noisy_shard(ids: &[&str], blocks: u32, seed: u64, sd: f64) -> CheckedResults {
        let spec: Vec<(&str, f64, f64)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, 14_000.0, if i == 0 { 1.3 } else { 1.0 }))
            .collect();
        let samples = synthetic(&spec, blocks, sd, seed);
        let mut results = result_file(&[]);
        results.settings.only = ids.iter().map(|s| (*s).to_owned()).collect();
        for id in ids {
            let head: Vec<_> = samples
                .iter()
                .filter(|s| s.measurement.id == *id && s.side == Side::Head)
                .map(|s| s.measurement.clone())
                .collect();
            results.configurations.push(
                crate::model::results::ConfigurationResult::from_samples((*id).to_owned(), head)
                    .unwrap(),
            );
        }
        results.paired = Some(PairedRecord {
            base: BaseRevision {
                requested: "origin/main".to_owned(),
                commit: "1".repeat(40),
                merge_base: true,
            },
            min_blocks: blocks,
            max_time_s: None,
            blocks,
            stop_reason: StopReason::FixedBlocks,
            added: vec!["smol/new".to_owned()],
            removed: vec![],
            samples,
            counter_samples: vec![],
            sampling: None,
            estimator: Default::default(),
            base_profiles: Default::default(),
            dependencies: None,
        });
        CheckedResults {
            results,
            policy: Some(VerdictPolicy::ungated(0.05, 0.05)),
            fingerprint: FingerprintDiff::default(),
        }
    }

    fn names(refused: &[Refusal]) -> Vec<&str> {
        refused.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn disjoint_shards_merge_into_one_file_of_all_their_samples() {
        let (a, b) = (
            shard(&["floor/park"], 6, 1),
            shard(&["smol/dedicated"], 6, 2),
        );
        let samples = a.results.paired.as_ref().unwrap().samples.len()
            + b.results.paired.as_ref().unwrap().samples.len();
        let (merged, refused) = merge(vec![("a".to_owned(), a), ("b".to_owned(), b)]);
        assert!(refused.is_empty(), "{refused:?}");
        let merged = merged.unwrap();
        assert_eq!(merged.files, ["a", "b"]);
        let r = &merged.checked.results;
        let ids: Vec<&str> = r.configurations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["floor/park", "smol/dedicated"]);
        assert_eq!(r.settings.only, ["floor/park", "smol/dedicated"]);
        let paired = r.paired.as_ref().unwrap();
        assert_eq!(paired.samples.len(), samples);
        assert_eq!(paired.added, ["smol/new"], "every shard's list, once");
    }

    #[test]
    fn shards_of_another_run_are_refused_and_the_rest_merged() {
        let first = shard(&["floor/park"], 6, 1);
        let mut other_head = shard(&["floor/spin"], 6, 2);
        other_head.results.git.revision = Some("2".repeat(40));
        let mut other_base = shard(&["smol/a"], 6, 3);
        other_base.results.paired.as_mut().unwrap().base.commit = "3".repeat(40);
        let mut more_blocks = shard(&["smol/b"], 8, 4);
        more_blocks.results.settings.runs = 8;
        let mut policy = shard(&["smol/c"], 6, 5);
        policy.policy = Some(VerdictPolicy::ungated(0.01, 0.05));
        let mut settings = shard(&["smol/d"], 6, 6);
        settings.results.settings.count = 1;
        let mut stopped = shard(&["smol/e"], 6, 7);
        stopped.results.paired.as_mut().unwrap().max_time_s = Some(60.0);
        let repeated = shard(&["floor/park"], 6, 8);
        let unpaired = CheckedResults {
            results: result_file(&[("smol/f", &[1.0])]),
            policy: Some(VerdictPolicy::ungated(0.05, 0.05)),
            fingerprint: FingerprintDiff::default(),
        };
        let fine = shard(&["tokio-current/dedicated"], 6, 9);
        let files = [
            ("first", first),
            ("other-head", other_head),
            ("other-base", other_base),
            ("more-blocks", more_blocks),
            ("policy", policy),
            ("settings", settings),
            ("stopped", stopped),
            ("repeated", repeated),
            ("unpaired", unpaired),
            ("fine", fine),
        ];
        let (merged, refused) = merge(files.into_iter().map(|(n, c)| (n.to_owned(), c)).collect());
        assert_eq!(merged.unwrap().files, ["first", "fine"]);
        assert_eq!(
            names(&refused),
            [
                "other-head",
                "other-base",
                "more-blocks",
                "policy",
                "settings",
                "stopped",
                "repeated",
                "unpaired"
            ]
        );
        let reasons: Vec<&str> = refused.iter().map(|r| r.reason.as_str()).collect();
        assert!(reasons[0].contains("head commit differs"), "{reasons:?}");
        assert!(reasons[1].contains("base commit differs"), "{reasons:?}");
        assert!(reasons[5].contains("--max-time"), "{reasons:?}");
        assert!(
            reasons[6].contains("configuration floor/park is in another"),
            "{reasons:?}"
        );
        // One file alone may have stopped on its own: nothing is merged.
        let mut alone = shard(&["floor/park"], 6, 1);
        alone.results.paired.as_mut().unwrap().max_time_s = Some(60.0);
        let (merged, refused) = merge(vec![("alone".to_owned(), alone)]);
        assert!(merged.is_some() && refused.is_empty());
    }

    #[test]
    fn a_shard_that_would_take_the_merged_file_over_a_limit_is_refused() {
        let a = shard(&["floor/park"], 6, 1);
        let mut b = shard(&["floor/spin"], 6, 2);
        let paired = b.results.paired.as_mut().unwrap();
        let one = paired.samples[0].clone();
        let room = super::super::limits::MAX_SAMPLES
            - Counts::of(&a.results).get(super::super::limits::Part::Samples);
        paired.samples = vec![one; room];
        let (merged, refused) = merge(vec![("a".to_owned(), a), ("b".to_owned(), b)]);
        assert_eq!(merged.unwrap().files, ["a"]);
        assert_eq!(names(&refused), ["b"]);
        assert!(
            refused[0].reason.contains("more than the limit of 20000"),
            "{refused:?}"
        );
    }
}
