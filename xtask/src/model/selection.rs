//! Which configurations a run selects: those its `--only` globs match (the binary's
//! `wildmatch` semantics), or without globs the default suite.

use wildmatch::WildMatch;

/// Configurations the default suite leaves out; `--only` selects them like any other. The
/// real SQLite crates and the pools open SQLite connections and threads of their own, and
/// measure what a user of those crates pays rather than what a change to this project
/// costs; with them the pull-request gate would outgrow its time budget
/// (`docs/book/src/benchmark/configurations.md`).
pub const OUTSIDE_DEFAULT_SUITE: [&str; 6] = [
    "*/dedicated-pool",
    "*/tokio-rusqlite",
    "*/async-sqlite",
    "*/async-sqlite-pool",
    "*/deadpool-sqlite",
    "*/handoff-sqlite*",
];

/// A run's selection, compiled once.
#[derive(Debug)]
pub struct Selection {
    only: Vec<WildMatch>,
    outside_default: Vec<WildMatch>,
}

impl Selection {
    /// The selection of a run given the `--only` globs `only`.
    pub fn new(only: &[String]) -> Self {
        Self {
            only: only.iter().map(|glob| WildMatch::new(glob)).collect(),
            outside_default: OUTSIDE_DEFAULT_SUITE
                .iter()
                .map(|glob| WildMatch::new(glob))
                .collect(),
        }
    }

    /// Whether the run selects configuration `id`.
    pub fn selects(&self, id: &str) -> bool {
        if self.only.is_empty() {
            !self.outside_default.iter().any(|glob| glob.matches(id))
        } else {
            self.only.iter().any(|glob| glob.matches(id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_suite_leaves_the_real_crates_and_pools_out_and_only_brings_them_back() {
        let ids = [
            "tokio-current/dedicated",
            "tokio-current/dedicated-pool",
            "tokio-current/tokio-rusqlite",
            "smol/async-sqlite",
            "smol/async-sqlite-pool",
            "async-std/deadpool-sqlite",
            "smol/handoff-sqlite",
            "tokio-current/handoff-sqlite-batched",
            "smol/pool-mutex",
            "floor/park",
        ];
        let selected = |only: &[&str]| {
            let only: Vec<String> = only.iter().map(|g| (*g).to_owned()).collect();
            let selection = Selection::new(&only);
            ids.into_iter()
                .filter(|id| selection.selects(id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            selected(&[]),
            ["tokio-current/dedicated", "smol/pool-mutex", "floor/park"]
        );
        assert_eq!(
            selected(&["*sqlite*"]),
            [
                "tokio-current/tokio-rusqlite",
                "smol/async-sqlite",
                "smol/async-sqlite-pool",
                "async-std/deadpool-sqlite",
                "smol/handoff-sqlite",
                "tokio-current/handoff-sqlite-batched"
            ]
        );
        assert_eq!(selected(&["*"]).len(), ids.len());
    }
}
