//! A role's call stacks as a result file keeps them (names once, stacks as indices into
//! them) and as folded text (`outer;inner;innermost COUNT`, one stack a line), the input
//! of flame graph tools such as inferno.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::Caps;
use super::names;
use super::stacks::ThreadStacks;

/// The first frame of a stack cut at the recorded depth, in folded text.
pub const CUT_FRAME: &str = "[deeper callers not recorded]";
/// The one frame of the stacks a bounded profile left out, in folded text.
pub const OTHER_STACKS_FRAME: &str = "[other stacks]";

/// Call stacks with their instructions, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stacks {
    /// Function names, each once; stacks refer to them by index.
    pub names: Vec<String>,
    /// The stacks.
    pub stacks: Vec<FoldedStack>,
    /// What [`Stacks::bounded`] left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_stacks: Option<OtherStacks>,
}

/// One call stack and the instructions its innermost frame executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedStack {
    /// Indices into [`Stacks::names`], outermost frame first.
    pub frames: Vec<u32>,
    /// Instructions in the window (totals, not per call).
    pub instructions: u64,
    /// Whether its outer frames are missing (deeper than the recorded depth).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

/// Stacks a bounded profile leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherStacks {
    /// How many.
    pub stacks: u64,
    /// Their instructions, summed.
    pub instructions: u64,
}

impl Stacks {
    /// The stacks of a role's threads, summed; `None` without contexts (one-frame stacks
    /// are no stacks).
    pub fn from_thread_stacks(stacks: &ThreadStacks) -> Option<Self> {
        if !stacks.has_contexts {
            return None;
        }
        let mut names = NameTable::default();
        let mut folded: Vec<FoldedStack> = stacks
            .stacks
            .iter()
            .map(|(key, &instructions)| FoldedStack {
                frames: key.frames.iter().map(|frame| names.index(frame)).collect(),
                instructions,
                cut: key.cut,
            })
            .collect();
        sort(&mut folded);
        Some(Self {
            names: names.names,
            stacks: folded,
            other_stacks: None,
        })
    }

    /// The largest `caps.stacks` stacks, the rest summed into [`Stacks::other_stacks`];
    /// names cut to `caps.name_chars`, and only those still used kept.
    pub fn bounded(self, caps: &Caps) -> Self {
        let mut kept = Vec::new();
        let mut other = self.other_stacks.unwrap_or(OtherStacks {
            stacks: 0,
            instructions: 0,
        });
        // Stacks that become one after names are cut are merged.
        let mut index: BTreeMap<(bool, Vec<u32>), usize> = BTreeMap::new();
        let mut names = NameTable::default();
        for (rank, stack) in self.stacks.into_iter().enumerate() {
            if rank >= caps.stacks {
                other.stacks += 1;
                other.instructions += stack.instructions;
                continue;
            }
            let frames: Vec<u32> = stack
                .frames
                .iter()
                .map(|&frame| {
                    let name = self.names.get(frame as usize).map_or("", String::as_str);
                    names.index(&names::bounded(name, caps.name_chars))
                })
                .collect();
            match index.get(&(stack.cut, frames.clone())) {
                Some(&at) => {
                    let merged: &mut FoldedStack = &mut kept[at];
                    merged.instructions += stack.instructions;
                }
                None => {
                    index.insert((stack.cut, frames.clone()), kept.len());
                    kept.push(FoldedStack {
                        frames,
                        instructions: stack.instructions,
                        cut: stack.cut,
                    });
                }
            }
        }
        sort(&mut kept);
        Self {
            names: names.names,
            stacks: kept,
            other_stacks: (other.stacks > 0).then_some(other),
        }
    }

    /// All instructions, the left-out stacks' included.
    pub fn total(&self) -> u64 {
        let kept: u64 = self.stacks.iter().map(|stack| stack.instructions).sum();
        kept + self.other_stacks.map_or(0, |other| other.instructions)
    }

    /// Folded text: `outer;inner COUNT` a line, largest first; a cut stack starts with
    /// [`CUT_FRAME`], the left-out stacks are one line [`OTHER_STACKS_FRAME`]. A `;` in a
    /// name (`[u8; 16]`) becomes `；` (U+FF1B), which looks the same and separates nothing.
    pub fn folded(&self) -> String {
        let mut text = String::new();
        for stack in &self.stacks {
            let mut frames: Vec<String> = Vec::with_capacity(stack.frames.len() + 1);
            if stack.cut {
                frames.push(CUT_FRAME.to_owned());
            }
            frames.extend(stack.frames.iter().map(|&frame| {
                self.names
                    .get(frame as usize)
                    .map_or(String::new(), |name| name.replace(';', "\u{ff1b}"))
            }));
            text.push_str(&format!("{} {}\n", frames.join(";"), stack.instructions));
        }
        if let Some(other) = self.other_stacks {
            text.push_str(&format!("{OTHER_STACKS_FRAME} {}\n", other.instructions));
        }
        text
    }
}

/// Largest first, then by frames, so that equal inputs give equal files.
fn sort(stacks: &mut [FoldedStack]) {
    stacks.sort_by(|a, b| {
        b.instructions
            .cmp(&a.instructions)
            .then_with(|| (a.cut, &a.frames).cmp(&(b.cut, &b.frames)))
    });
}

/// Names, each once, with their indices.
#[derive(Debug, Default)]
struct NameTable {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl NameTable {
    fn index(&mut self, name: &str) -> u32 {
        if let Some(&index) = self.index.get(name) {
            return index;
        }
        let index = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), index);
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::callgrind;

    const KNOWN_SHAPE: &str = include_str!("../../../tests/fixtures/callgrind/known-shape.out");

    fn known() -> Stacks {
        let dump = callgrind::parse(KNOWN_SHAPE).unwrap();
        Stacks::from_thread_stacks(&ThreadStacks::from_dump(&dump)).unwrap()
    }

    #[test]
    fn the_known_shape_folds_into_its_stacks() {
        assert_eq!(
            known().folded(),
            "[deeper callers not recorded];b;rec;rec;a;leaf 400\n\
             clone;start;run;b;leaf 200\n\
             clone;start;run;a;leaf 100\n\
             [deeper callers not recorded];run;b;rec;rec;a 40\n\
             clone;start;run;b 30\n\
             clone;start;run;a 20\n\
             clone;start;run 10\n\
             [deeper callers not recorded];start;run;b;rec;rec 7\n\
             clone;start;run;b;rec 5\n\
             clone;start 2\n\
             clone 1\n"
        );
        assert_eq!(known().total(), 815);
    }

    #[test]
    fn bounding_keeps_the_largest_stacks_and_the_total() {
        let caps = Caps {
            stacks: 3,
            name_chars: 4,
            ..Caps::default()
        };
        let bounded = known().bounded(&caps);
        assert_eq!(bounded.total(), 815);
        assert_eq!(
            bounded.other_stacks,
            Some(OtherStacks {
                stacks: 8,
                instructions: 115
            })
        );
        assert_eq!(
            bounded.folded(),
            "[deeper callers not recorded];b;rec;rec;a;leaf 400\n\
             clo…;sta…;run;b;leaf 200\n\
             clo…;sta…;run;a;leaf 100\n\
             [other stacks] 115\n"
        );
        // Only the names still used are kept.
        assert_eq!(bounded.names.len(), 7);
    }

    #[test]
    fn separators_inside_names_do_not_split_frames() {
        let dump =
            callgrind::parse("events: Ir\nfn=main\n0 1\nfn=<[u8; 16] as Debug>::fmt'main\n0 5\n")
                .unwrap();
        let stacks = Stacks::from_thread_stacks(&ThreadStacks::from_dump(&dump)).unwrap();
        assert_eq!(
            stacks.folded(),
            "main;<[u8； 16] as Debug>::fmt 5\nmain 1\n"
        );
    }

    #[test]
    fn dumps_without_contexts_have_no_stacks() {
        let dump = callgrind::parse("events: Ir\nfn=f\n0 3\n").unwrap();
        assert_eq!(
            Stacks::from_thread_stacks(&ThreadStacks::from_dump(&dump)),
            None
        );
    }
}
