//! The schedules: which configuration runs when, in independent runs (rotated) and in
//! paired blocks (which side first).
//!
//! # How it works
//!
//! Independent runs ([`rotated`]): `runs x ids` steps run by run; run `r` starts at offset
//! `r * ids / runs` of the id list (wrapping), so every configuration is measured early,
//! middle and late in a run across the runs, and slow drift of the machine (thermal, other
//! tenants) spreads over all configurations instead of landing on one.
//!
//! Paired blocks ([`block`]):
//!
//! 1. A block runs every selected configuration once with each binary, the two runs of a
//!    configuration back to back, so the pair sees the same state of the machine.
//! 2. Configuration `i` of block `b` runs base first when `i + b` is even, head first
//!    otherwise. Within a block the order alternates per configuration (A B | B A | A B ...,
//!    the ABBA pattern), and the next block starts the other way round (BAAB), so every
//!    configuration alternates its order from block to block. A systematic "second run is
//!    faster" effect (warm caches, frequency ramp-up) then hits base and head equally often
//!    and cancels in the mean log-ratio instead of biasing it.

use crate::model::paired_record::Side;

/// One process to start in an independent run: configuration `id` in run `run` (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub run: u32,
    pub id: String,
}

/// Every step of an independent benchmark, run by run, each run's order rotated (see the
/// module docs).
pub fn rotated(ids: &[String], runs: u32) -> Vec<Step> {
    let n = ids.len();
    (0..runs)
        .flat_map(|run| {
            let offset = if n == 0 {
                0
            } else {
                (run as usize * n / runs as usize) % n
            };
            (0..n).map(move |i| Step {
                run,
                id: ids[(offset + i) % n].clone(),
            })
        })
        .collect()
}

/// One process to start in a paired run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedStep {
    pub block: u32,
    /// 0-based position in the block.
    pub position: u32,
    pub id: String,
    pub side: Side,
}

/// The side that runs first for configuration `index` in `block`.
pub fn first_side(index: usize, block: u32) -> Side {
    if (index + block as usize).is_multiple_of(2) {
        Side::Base
    } else {
        Side::Head
    }
}

/// The steps of one block, in order.
pub fn block(ids: &[String], block: u32) -> Vec<PairedStep> {
    ids.iter()
        .enumerate()
        .flat_map(|(i, id)| {
            let first = first_side(i, block);
            [first, first.other()]
                .into_iter()
                .map(move |side| (id, side))
        })
        .enumerate()
        .map(|(position, (id, side))| PairedStep {
            block,
            position: position as u32,
            id: id.clone(),
            side,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(steps: &[PairedStep]) -> String {
        steps
            .iter()
            .map(|s| match s.side {
                Side::Base => 'A',
                Side::Head => 'B',
            })
            .collect()
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn every_run_has_every_id_once_and_starts_elsewhere() {
        let list = ids(6);
        let steps = rotated(&list, 3);
        assert_eq!(steps.len(), 18);
        let firsts: Vec<&str> = (0..3).map(|r| steps[r * 6].id.as_str()).collect();
        assert_eq!(firsts, ["c0", "c2", "c4"]);
        for run in 0..3 {
            let mut seen: Vec<&str> = steps
                .iter()
                .filter(|s| s.run == run)
                .map(|s| s.id.as_str())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4", "c5"]);
        }
        assert!(rotated(&[], 3).is_empty());
    }

    #[test]
    fn abba_then_baab_and_every_configuration_alternates() {
        let ids: Vec<String> = ["c0", "c1", "c2", "c3"].map(str::to_owned).to_vec();
        let b0 = block(&ids, 0);
        let b1 = block(&ids, 1);
        assert_eq!(pattern(&b0), "ABBAABBA");
        assert_eq!(pattern(&b1), "BAABBAAB");
        assert_eq!(pattern(&block(&ids, 2)), "ABBAABBA");
        // Each configuration's two runs are adjacent, with positions 0..8.
        for (i, pair) in b0.chunks(2).enumerate() {
            assert_eq!(pair[0].id, ids[i]);
            assert_eq!(pair[1].id, ids[i]);
            assert_ne!(pair[0].side, pair[1].side);
        }
        assert_eq!(
            b1.iter().map(|s| s.position).collect::<Vec<_>>(),
            (0..8).collect::<Vec<_>>()
        );
        // A configuration's first side flips every block.
        for i in 0..4 {
            assert_ne!(first_side(i, 0), first_side(i, 1));
            assert_eq!(first_side(i, 0), first_side(i, 2));
        }
        // Odd counts: still alternating, and flipping between blocks.
        let odd: Vec<String> = ["x", "y", "z"].map(str::to_owned).to_vec();
        assert_eq!(pattern(&block(&odd, 0)), "ABBAAB");
        assert_eq!(pattern(&block(&odd, 1)), "BAABBA");
        assert!(block(&[], 0).is_empty());
    }
}
