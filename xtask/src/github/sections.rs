//! The comment's input read: every results file loaded under the limits
//! (`github::artifact`), each runner's files merged (`github::merge`) and its comparison
//! recomputed once; every file that could not be used refused by name, with its reason.

use std::path::Path;

use super::artifact;
use super::merge::{Merged, merge};
use super::runners::{self, Found, Refusal};
use crate::comparison::Comparison;
use crate::comparison::{paired, paired_run};
use crate::model::paired_record::StopReason;

/// One runner's section of the comment.
#[derive(Debug, Clone)]
pub struct Section {
    /// The runner, as its artifact's directory names it (untrusted: shown as code).
    pub runner: String,
    pub merged: Merged,
    /// Shards its file names count but that are not in it (1-based): never uploaded, or
    /// refused.
    pub missing_shards: Vec<u32>,
    pub comparison: Option<Comparison>,
}

/// What the comment reports: the sections it can, and the files it cannot use.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    pub sections: Vec<Section>,
    pub refused: Vec<Refusal>,
}

/// The sections of `--results-dir DIR` (see `github::runners` for the layout). A directory
/// that cannot be read, or holds no results file, is bad input.
pub fn from_dir(dir: &Path) -> anyhow::Result<Sections> {
    Ok(from_found(runners::find(dir)?))
}

/// The section of `--results FILE`, or its refusal.
pub fn from_file(path: &Path) -> Sections {
    from_found(vec![Found {
        path: path.to_owned(),
        name: path.display().to_string(),
        runner: String::new(),
        shard: None,
    }])
}

fn from_found(found: Vec<Found>) -> Sections {
    let (runners, mut refused) = runners::group(found);
    let mut sections = Vec::new();
    for runner in runners {
        let mut loaded = Vec::new();
        for file in &runner.files {
            match artifact::load_results(&file.path) {
                Ok(checked) => loaded.push((file.name.clone(), checked)),
                Err(error) => refused.push(Refusal {
                    reason: runners::reason(&file.path, &error),
                    name: file.name.clone(),
                }),
            }
        }
        let (merged, not_merged) = merge(loaded);
        refused.extend(not_merged);
        if let Some(mut merged) = merged {
            let used: Vec<Found> = runner
                .files
                .into_iter()
                .filter(|f| merged.files.contains(&f.name))
                .collect();
            let count = used.iter().filter_map(|f| f.shard).map(|s| s.count).max();
            let missing_shards = runners::missing_shards(&used, count);
            let checked = &merged.checked;
            // The paired comparison recomputed from the samples, by the function
            // `bench --against` made it with (as `comment_report::comparison` does).
            let comparison = checked.policy.clone().and_then(|policy| {
                paired_run::compare_run(&checked.results, policy, checked.fingerprint.clone())
            });
            if merged.files.len() > 1 {
                restate_stop(&mut merged, comparison.as_ref());
            }
            sections.push(Section {
                runner: runner.runner,
                merged,
                missing_shards,
                comparison,
            });
        }
    }
    Sections { sections, refused }
}

/// Why the merged run stopped, by the rule an unsharded run of fixed blocks stops by
/// (`engine::stop_rule`): after `--min-blocks`, with every gated pair resolved or not. Each
/// shard said it of its own pairs only; merged shards all ran a fixed number of blocks
/// (`github::merge` refuses the others).
fn restate_stop(merged: &mut Merged, comparison: Option<&Comparison>) {
    if let (Some(paired), Some(comparison)) = (&mut merged.checked.results.paired, comparison) {
        paired.stop_reason = if paired::unresolved(comparison) == 0 {
            StopReason::Resolved
        } else {
            StopReason::FixedBlocks
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::merge::tests::noisy_shard;

    /// Merged shards stop as the unsharded run would have: resolved only when every gated
    /// pair of all of them is, whatever each shard said of its own.
    #[test]
    fn a_merged_run_says_why_it_stopped_over_all_its_pairs() {
        for (noise, expected) in [
            (0.001, StopReason::Resolved),
            (0.5, StopReason::FixedBlocks),
        ] {
            let mut resolved = noisy_shard(&["floor/park"], 8, 1, 0.001);
            resolved.results.paired.as_mut().unwrap().stop_reason = StopReason::Resolved;
            let mut other = noisy_shard(&["smol/dedicated"], 8, 2, noise);
            other.results.paired.as_mut().unwrap().stop_reason = StopReason::FixedBlocks;
            let (merged, refused) =
                merge(vec![("a".to_owned(), resolved), ("b".to_owned(), other)]);
            assert!(refused.is_empty(), "{refused:?}");
            let mut merged = merged.unwrap();
            let checked = &merged.checked;
            let comparison = paired_run::compare_run(
                &checked.results,
                checked.policy.clone().unwrap(),
                checked.fingerprint.clone(),
            )
            .unwrap();
            restate_stop(&mut merged, Some(&comparison));
            let stop = merged.checked.results.paired.unwrap().stop_reason;
            assert_eq!(
                stop,
                expected,
                "noise {noise}: {:?}",
                comparison.gate_tally()
            );
        }
    }
}
