//! The paired schedule: which configuration runs on which side, in which order, per block.
//!
//! # How it works
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
