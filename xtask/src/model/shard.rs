//! `bench --against ... --shard K/N`: one slice of a paired run's configurations, so that N
//! jobs (machines) together run the whole suite, each base and head side by side.
//!
//! # How the suite is split
//!
//! Over the configurations both builds have, in the head's `--list` order (after `--only`),
//! shard `K` of `N` runs the `K`-th of `N` contiguous slices of equal length (they differ by
//! at most one). The split depends on nothing but the two lists, so every shard computes
//! the same one without talking to the others, and merging the shards' files in shard order
//! (`github::merge`) gives back the list's order, hence the unsharded report's.
//!
//! Slices are balanced by count, not by time: a configuration's time per block depends on
//! its cost per call, which the run does not know before measuring it. The notes quote how
//! far apart the shards' times were.

use std::fmt;
use std::str::FromStr;

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 8;

/// Shard `index` of `count` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, when `1 <= index <= count <= MAX_SHARDS`.
    pub fn new(index: u32, count: u32) -> Option<Self> {
        ((1..=count).contains(&index) && count <= MAX_SHARDS).then_some(Shard { index, count })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// This shard's slice of `ids` (see the module docs); empty when there are fewer ids
    /// than shards and this one gets none.
    pub fn slice(self, ids: &[String]) -> Vec<String> {
        let n = ids.len();
        let bound = |k: u32| n * k as usize / self.count as usize;
        ids[bound(self.index - 1)..bound(self.index)].to_vec()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let shown: String = text.chars().take(40).collect();
        let bad = || {
            format!(
                "`{shown}`: expected K/N, shard K of N with 1 <= K <= N <= {MAX_SHARDS} \
                 (e.g. 2/3)"
            )
        };
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let number = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        Shard::new(
            number(index).ok_or_else(bad)?,
            number(count).ok_or_else(bad)?,
        )
        .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r/c{i}")).collect()
    }

    #[test]
    fn k_of_n_parses_within_its_bounds() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in [
            "0/3", "4/3", "1/9", "3", "a/b", "1/", "/2", "+1/2", "1/2/3", " 1/2",
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains("expected K/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn thirty_four_configurations_in_three_shards() {
        let all = ids(34);
        let slices: Vec<Vec<String>> = (1..=3)
            .map(|k| Shard::new(k, 3).unwrap().slice(&all))
            .collect();
        assert_eq!(
            slices.iter().map(Vec::len).collect::<Vec<_>>(),
            [11, 11, 12]
        );
        assert_eq!(slices[0][0], "r/c0");
        assert_eq!(slices[2][11], "r/c33");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The slices of 1..=N, in order, are the list itself, each within one of n/N.
        #[test]
        fn the_slices_partition_the_list_in_order_and_balance_it(n in 0usize..60, count in 1u32..=MAX_SHARDS) {
            let all = ids(n);
            let slices: Vec<Vec<String>> = (1..=count)
                .map(|k| Shard::new(k, count).unwrap().slice(&all))
                .collect();
            prop_assert_eq!(slices.concat(), all);
            let (min, max) = (
                slices.iter().map(Vec::len).min().unwrap(),
                slices.iter().map(Vec::len).max().unwrap(),
            );
            prop_assert!(max - min <= 1, "{:?}", slices.iter().map(Vec::len).collect::<Vec<_>>());
        }
    }
}
