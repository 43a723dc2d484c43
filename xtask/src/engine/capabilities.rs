//! What a benchmark binary supports, asked once per binary: `BIN --capabilities` answers
//! with the protocol's [`Capabilities`]. A paired run's base may predate that flag; for such
//! a binary, [`from_help`] is the one place that reads a `--help` text.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use handoff_protocol::capabilities::{Capabilities, Flag};
use handoff_protocol::work::KINDS;
use strum::IntoEnumIterator as _;

/// The capabilities of `program`.
pub fn probe(program: &Path) -> anyhow::Result<Capabilities> {
    let output = Command::new(program)
        .arg(Flag::Capabilities.to_string())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !output.status.success() {
        // A binary from before the flag rejects it as bad usage.
        return from_help(program);
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "{} {} printed no capabilities",
            program.display(),
            Flag::Capabilities
        )
    })
}

/// What a binary from before `--capabilities` supports, read from its `--help`: the flags
/// it lists, every work kind (such binaries refuse an unknown one with exit 2, which the
/// run reports), and the line fields that came with those flags.
fn from_help(program: &Path) -> anyhow::Result<Capabilities> {
    let output = Command::new(program)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} --help", program.display()))?;
    Ok(capabilities_in_help(&String::from_utf8_lossy(
        &output.stdout,
    )))
}

/// [`from_help`]'s reading of a help text.
fn capabilities_in_help(help: &str) -> Capabilities {
    let words: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .collect();
    let flags: Vec<Flag> = Flag::iter()
        .filter(|flag| words.contains(&flag.to_string().as_str()))
        .collect();
    let mut fields: Vec<String> = FIRST_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    let mut add = |names: &[&str]| fields.extend(names.iter().map(|n| (*n).to_owned()));
    if flags.contains(&Flag::Pin) {
        add(&["pinned"]);
    }
    if flags.contains(&Flag::InjectLoops) {
        add(&[
            "inject_loops",
            "instructions_loop",
            "instructions_worker",
            "instructions_other",
        ]);
    }
    if flags.contains(&Flag::Serve) {
        add(&["slice"]);
    }
    Capabilities {
        schema: handoff_protocol::SCHEMA,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        work: KINDS.iter().map(|k| k.syntax.to_owned()).collect(),
        fields,
    }
}

/// The fields every binary that the gate can pair with writes.
const FIRST_FIELDS: [&str; 16] = [
    "schema",
    "id",
    "runtime",
    "handoff",
    "count",
    "in_flight",
    "work",
    "wall_ns",
    "cpu_total_ns",
    "cpu_loop_ns",
    "cpu_worker_ns",
    "cpu_other_ns",
    "vcsw_loop",
    "vcsw_worker",
    "ivcsw_loop",
    "ivcsw_worker",
];

/// The capabilities of a paired run's two binaries.
#[derive(Debug, Clone)]
pub struct PairCapabilities {
    pub base: Capabilities,
    pub head: Capabilities,
    /// The two binaries, `[base, head]`, for warnings.
    pub programs: [std::path::PathBuf; 2],
}

impl PairCapabilities {
    pub fn probe(base: &Path, head: &Path) -> anyhow::Result<Self> {
        Ok(PairCapabilities {
            base: probe(base)?,
            head: probe(head)?,
            programs: [base.to_owned(), head.to_owned()],
        })
    }

    /// Whether both binaries accept `flag`.
    pub fn both(&self, flag: Flag) -> bool {
        self.base.supports(flag) && self.head.supports(flag)
    }

    /// `false` with a warning on stderr naming the binaries that lack `flag`, when `wanted`
    /// and one of them does; `wanted` otherwise. Both sides must be run alike.
    pub fn both_or_warn(&self, wanted: bool, flag: Flag, consequence: &str) -> bool {
        if !wanted || self.both(flag) {
            return wanted;
        }
        let lacking: Vec<String> = [("base", &self.base), ("head", &self.head)]
            .into_iter()
            .zip(&self.programs)
            .filter(|((_, caps), _)| !caps.supports(flag))
            .map(|((side, _), program)| format!("the {side} binary {}", program.display()))
            .collect();
        eprintln!(
            "warning: {} has no {flag} flag; {consequence}",
            lacking.join(" and ")
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_binarys_help_gives_its_flags_and_their_fields() {
        // The help text of a binary from before serve mode and capabilities.
        let help = "Usage: handoff-bench [OPTIONS]\n\nOptions:\n      --count <COUNT>\n      \
                    --work <SPEC>  What each call does: zero, yield, spin:NS, sleep:US or loops:N\n      \
                    --inject-loops <N>\n      --pin\n      --only <GLOB>\n  -h, --help";
        let caps = capabilities_in_help(help);
        assert!(caps.supports(Flag::Pin) && caps.supports(Flag::InjectLoops));
        assert!(caps.counts_instructions());
        assert!(!caps.supports(Flag::Serve) && !caps.supports(Flag::WarmUpMs));
        assert!(!caps.supports(Flag::Capabilities));
        assert!(!caps.fields.iter().any(|f| f == "slice"));
        let oldest = capabilities_in_help("Usage: handoff-bench [--count N] [--work SPEC]");
        assert!(!oldest.supports(Flag::Pin) && !oldest.counts_instructions());
    }

    #[test]
    fn the_pair_supports_what_both_do() {
        let head = Capabilities::of_this_version();
        let base = capabilities_in_help("--count --pin");
        let pair = PairCapabilities {
            base,
            head,
            programs: ["b".into(), "h".into()],
        };
        assert!(pair.both(Flag::Pin));
        assert!(!pair.both(Flag::Serve));
        assert!(pair.both_or_warn(true, Flag::Pin, "unpinned"));
        assert!(!pair.both_or_warn(true, Flag::Serve, "whole processes"));
        assert!(!pair.both_or_warn(false, Flag::Pin, "unpinned"));
    }
}
