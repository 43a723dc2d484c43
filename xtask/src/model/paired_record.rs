//! The raw data of a paired run as stored in result files: every sample of both sides with
//! its block, side and position, plus what the base was. Enough to recompute the comparison.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::lockfile::LockDiff;
use crate::model::measurement::Measurement;
use crate::model::profile::RoleProfiles;

/// Which build a sample comes from. In `calibrate`, `Base` is side A and `Head` side B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Base,
    Head,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Base => "base",
            Side::Head => "head",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Base => Side::Head,
            Side::Head => Side::Base,
        }
    }
}

/// One process of a paired run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedSample {
    /// 0-based block index.
    pub block: u32,
    pub side: Side,
    /// 0-based position of the run in its block's schedule.
    pub position: u32,
    /// Lock-step sampling: the slice's index in its serving process (slice `k` of base and
    /// slice `k` of head ran back to back); absent when the sample is a whole process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<u32>,
    pub measurement: Measurement,
}

/// The estimator of the paired method over the per-block log-ratios (`--estimator`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairedEstimator {
    /// Their mean, with the paired-t interval and p-value (`stats::paired_t`).
    #[default]
    Mean,
    /// Their Hodges-Lehmann estimate, with the signed-rank interval and p-value
    /// (`stats::signed_rank`): robust to blocks where one side fell into a slow mode, but
    /// its p-value cannot go below `2 / 2^n`.
    HodgesLehmann,
}

impl PairedEstimator {
    /// How reports name it.
    pub fn describe(self) -> &'static str {
        match self {
            PairedEstimator::Mean => {
                "ratio = geometric mean of the per-block head/base ratios with a 95% paired-t \
                 interval on the log-ratios; p from the two-sided paired t test"
            }
            PairedEstimator::HodgesLehmann => {
                "ratio = exp of the Hodges-Lehmann estimate of the per-block log-ratios with its \
                 95% signed-rank interval; p from the two-sided Wilcoxon signed-rank test"
            }
        }
    }
}

/// Why no further block was started; stored as its description, as files always held it.
/// A text this version does not know (another version's, or a hostile file's) reads as
/// [`StopReason::Unrecognised`]: it is never shown again.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    Serialize,
    Deserialize,
)]
#[serde(from = "String", into = "&'static str")]
pub enum StopReason {
    /// Every gated pair has a verdict other than inconclusive.
    #[strum(serialize = "every gated pair resolved")]
    Resolved,
    /// `--min-blocks` ran and no `--max-time` was given.
    #[strum(serialize = "fixed number of blocks (no --max-time)")]
    FixedBlocks,
    /// The next block would not have finished within `--max-time`.
    #[strum(serialize = "the next block would overrun --max-time")]
    Budget,
    /// The block cap reached (`engine::stop_rule::MAX_BLOCKS`).
    #[strum(serialize = "block cap reached")]
    BlockCap,
    /// A stored text this version does not know.
    #[strum(serialize = "unrecognised")]
    Unrecognised,
}

impl From<String> for StopReason {
    fn from(text: String) -> Self {
        text.parse().unwrap_or(StopReason::Unrecognised)
    }
}

/// How many slices of how many calls each side runs per block (lock-step sampling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceShape {
    /// Slice pairs per block.
    pub slices: u32,
    /// Calls per slice.
    pub calls: u64,
}

/// The sampling design of a paired run (`--sampling`); stored as its label, `processes` or
/// `lockstep (S slices x N calls)`, as files always held it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Sampling {
    /// One process per side and block; its one timed window is the sample.
    Processes,
    /// Per block, two serving processes side by side, their slices alternating.
    Lockstep(SliceShape),
}

impl std::fmt::Display for Sampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sampling::Processes => f.write_str("processes"),
            Sampling::Lockstep(shape) => {
                write!(
                    f,
                    "lockstep ({} slices x {} calls)",
                    shape.slices, shape.calls
                )
            }
        }
    }
}

impl From<Sampling> for String {
    fn from(sampling: Sampling) -> String {
        sampling.to_string()
    }
}

impl TryFrom<String> for Sampling {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if text == "processes" {
            return Ok(Sampling::Processes);
        }
        let shape = text
            .strip_prefix("lockstep (")
            .and_then(|rest| rest.strip_suffix(" calls)"))
            .and_then(|rest| rest.split_once(" slices x "))
            .and_then(|(slices, calls)| Some((slices.parse().ok()?, calls.parse().ok()?)));
        match shape {
            Some((slices, calls)) => Ok(Sampling::Lockstep(SliceShape { slices, calls })),
            None => Err(format!(
                "unknown sampling design {:?}",
                text.chars().take(80).collect::<String>()
            )),
        }
    }
}

/// The base build of `bench --against`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseRevision {
    /// The ref as given on the command line.
    pub requested: String,
    /// The commit that was built.
    pub commit: String,
    /// True when `commit` is the merge-base of `requested` and HEAD (the default), false
    /// with `--exact-ref`.
    pub merge_base: bool,
}

impl BaseRevision {
    /// How reports name the base: `base abc1234 (origin/main, merge-base)`; a base given as
    /// an executable (its `commit` says so) is `base (executable, main)`.
    pub fn label(&self) -> String {
        if !self.commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return format!("base (executable, {})", self.requested);
        }
        let short: String = self.commit.chars().take(7).collect();
        let merge_base = if self.merge_base { ", merge-base" } else { "" };
        format!("base {short} ({}{merge_base})", self.requested)
    }
}

/// A paired run: what `bench --against` adds to its result file (`"paired"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedRecord {
    pub base: BaseRevision,
    /// `--min-blocks`.
    pub min_blocks: u32,
    /// `--max-time` in seconds, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_s: Option<f64>,
    /// Blocks that ran.
    pub blocks: u32,
    /// Why no further block was started.
    pub stop_reason: StopReason,
    /// Configurations only the head has / only the base has (not run).
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
    /// Every sample of both sides, in the order they ran.
    pub samples: Vec<PairedSample>,
    /// The counting runs under callgrind of both sides, in the order they ran (`block` is
    /// the run's index); absent when instructions were not counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_samples: Vec<PairedSample>,
    /// The sampling design; absent in files from before lock-step sampling, which sampled
    /// whole processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<Sampling>,
    /// The estimator over the per-block log-ratios (`--estimator`), so the comparison can be
    /// recomputed as it was made; files from before the choice used the mean.
    #[serde(default)]
    pub estimator: PairedEstimator,
    /// The base's per-function profile of each configuration (one counting run's, bounded);
    /// the head's is its configuration's `profile`. Absent without counters or when the base
    /// predates role-tagged dumps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub base_profiles: BTreeMap<String, RoleProfiles>,
    /// How the base's `Cargo.lock` differs from the head's; absent when either is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<LockDiff>,
}
