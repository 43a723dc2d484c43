//! What a comparison found and where, in words: the configurations whose instruction counts
//! changed (by role, changes below the gate's threshold named as such, shifts between roles
//! named as shifts) with their top functions, and what changed around the code (the
//! dependencies and the toolchain). The markdown forms go on the comment's first screen; the
//! plain-text form is `cargo xtask explain`'s.
//!
//! Every function name, crate name and version came from the run's results file: each is
//! written through [`code`] (markdown) or shown as data in the terminal.

use std::fmt::Write as _;

use super::untrusted::code;
use crate::comparison::Comparison;
use crate::comparison::explain::{ChangeKind, ConfigExplanation, CountChange, RoleFunction};
use crate::comparison::profile_diff::Presence;
use crate::model::host::FieldDifference;
use crate::model::lockfile::LockDiff;
use crate::model::metric::Metric;
use crate::model::results::ResultFile;

/// Configurations listed at most; dependency changes listed at most.
pub const MAX_CONFIGURATIONS: usize = 20;
pub const MAX_DEPENDENCIES: usize = 40;

/// The role a count metric measures, for sentences.
pub fn role_word(metric: Metric) -> &'static str {
    match metric {
        Metric::InstructionsLoop => "loop",
        Metric::InstructionsWorker => "worker",
        _ => "total",
    }
}

/// `worker +5.4% [+5.3%, +5.4%] (+17.0 instr/call), changed, below the 1% threshold`.
pub fn count_phrase(c: &CountChange) -> String {
    let mut text = format!(
        "{} {} [{}, {}] ({:+.1} instr/call)",
        role_word(c.metric),
        super::percent(c.ratio),
        super::percent(c.low),
        super::percent(c.high),
        c.head - c.base
    );
    if c.below_threshold {
        let _ = write!(
            text,
            ", changed, below the {}% threshold",
            c.threshold * 100.0
        );
    }
    text
}

/// What kind of change it is, in words.
pub fn kind_phrase(e: &ConfigExplanation) -> String {
    let waiting = || {
        e.waiting
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match e.kind {
        ChangeKind::Code if e.shift => {
            "code: instructions moved between the loop and the worker, the total unchanged"
                .to_owned()
        }
        ChangeKind::Code => "code: the instructions changed".to_owned(),
        ChangeKind::Waiting => format!(
            "waiting: {} moved with the same instructions (where threads wait, not what they run)",
            waiting()
        ),
        ChangeKind::Both => format!(
            "code and waiting: the instructions changed, and {}",
            waiting()
        ),
    }
}

/// `+17.0 instr/call (new)`.
pub fn function_change(f: &RoleFunction) -> String {
    let tag = match (f.change.presence, f.change.maybe_left_out) {
        (Presence::HeadOnly, false) => " (new)",
        (Presence::BaseOnly, false) => " (gone)",
        (Presence::HeadOnly | Presence::BaseOnly, true) => {
            " (on one side only, or below the other's cut)"
        }
        (Presence::Both, _) => "",
    };
    format!(
        "{:+.1} instr/call{tag}",
        f.change.self_instructions.change()
    )
}

/// The comment's "what changed" section: empty when no configuration's counts or waiting
/// changed.
pub fn changed_markdown(cmp: &Comparison) -> String {
    if cmp.explanation.is_empty() {
        return String::new();
    }
    let counted = cmp
        .explanation
        .iter()
        .filter(|e| !e.counts.is_empty())
        .count();
    let waiting = cmp.explanation.len() - counted;
    let configurations = |n: usize| format!("{n} configuration{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if counted > 0 {
        parts.push(format!(
            "instruction counts changed in {}",
            configurations(counted)
        ));
    }
    if waiting > 0 {
        parts.push(format!("only waiting moved in {}", configurations(waiting)));
    }
    let mut out = format!(
        "**What changed**: {} (a count changed when its interval excludes no change and the \
         change exceeds the counting's resolution, whether or not it reaches the gate's \
         threshold).\n\n",
        parts.join("; ")
    );
    for e in cmp.explanation.iter().take(MAX_CONFIGURATIONS) {
        let counts: Vec<String> = e.counts.iter().map(count_phrase).collect();
        let _ = write!(out, "- {}: {}", code(&e.id), kind_phrase(e));
        if !counts.is_empty() {
            let _ = write!(out, "; {}", counts.join("; "));
        }
        out.push('\n');
        for f in &e.functions {
            let _ = writeln!(
                out,
                "  - {}: {} {}",
                f.role,
                code(&f.change.name),
                function_change(f)
            );
        }
        if e.no_profile {
            out.push_str(
                "  - no per-function profile: a side was counted without role-tagged dumps\n",
            );
        }
    }
    if cmp.explanation.len() > MAX_CONFIGURATIONS {
        let _ = writeln!(
            out,
            "- and {} more (see the results file)",
            cmp.explanation.len() - MAX_CONFIGURATIONS
        );
    }
    out.push('\n');
    out
}

/// The comment's "around the code" lines: the dependency changes of a paired run and the
/// toolchain differences; empty when there are none.
pub fn around_markdown(results: &ResultFile, cmp: &Comparison) -> String {
    let dependencies = results
        .paired
        .as_ref()
        .and_then(|p| p.dependencies.as_ref());
    around(dependencies, cmp)
}

/// [`around_markdown`] from the dependency changes themselves.
fn around(dependencies: Option<&LockDiff>, cmp: &Comparison) -> String {
    let mut out = String::new();
    if let Some(deps) = dependencies
        && !deps.changes.is_empty()
    {
        let _ = writeln!(
            out,
            "**Dependencies** (`Cargo.lock`, base → head): {}\n",
            dependency_list(deps)
        );
    }
    let toolchain = toolchain_differences(cmp);
    if !toolchain.is_empty() {
        let list: Vec<String> = toolchain
            .iter()
            .map(|d| {
                format!(
                    "{} {} → {}",
                    code(&d.field),
                    code(&d.baseline),
                    code(&d.current)
                )
            })
            .collect();
        let _ = writeln!(out, "**Toolchain**: {}\n", list.join(", "));
    }
    out
}

/// `` `tokio` `1.54.0` → `1.55.0` (direct), `mio` added `1.0.4` ``: direct dependencies
/// first, as the diff orders them.
fn dependency_list(deps: &LockDiff) -> String {
    let version = |v: &Option<String>| v.as_deref().map_or_else(|| "none".to_owned(), code);
    let mut list: Vec<String> = deps
        .changes
        .iter()
        .take(MAX_DEPENDENCIES)
        .map(|c| {
            format!(
                "{} {} → {}{}",
                code(&c.name),
                version(&c.base),
                version(&c.head),
                if c.direct { " (direct)" } else { "" }
            )
        })
        .collect();
    if deps.changes.len() > MAX_DEPENDENCIES {
        list.push(format!(
            "and {} more",
            deps.changes.len() - MAX_DEPENDENCIES
        ));
    }
    list.join(", ")
}

/// The differences that change what runs besides the dependencies (listed apart, from
/// `Cargo.lock`): the compiler, the C library, valgrind, and the CPU's features.
pub fn toolchain_differences(cmp: &Comparison) -> Vec<&FieldDifference> {
    let fp = &cmp.fingerprint;
    fp.toolchain
        .iter()
        .filter(|d| matches!(d.field.as_str(), "rustc" | "glibc" | "valgrind"))
        .chain(fp.host.iter().filter(|d| d.field.starts_with("cpu_f")))
        .collect()
}

/// `cargo xtask explain`'s text for one configuration.
pub fn terminal(
    id: &str,
    explanation: Option<&ConfigExplanation>,
    dependencies: Option<&LockDiff>,
    cmp: &Comparison,
) -> String {
    let mut out = String::new();
    let around = around(dependencies, cmp).replace('`', "");
    if !around.is_empty() {
        out.push_str(&around);
    }
    let Some(e) = explanation else {
        let _ = writeln!(
            out,
            "{id}: no instruction count changed beyond the counting's resolution, and no gated \
             timing moved"
        );
        return out;
    };
    let _ = writeln!(out, "{id}: {}", kind_phrase(e));
    for c in &e.counts {
        let _ = writeln!(out, "  {}", count_phrase(c));
    }
    if !e.functions.is_empty() {
        let _ = writeln!(
            out,
            "  functions, by the change of their own instructions per call:"
        );
        let rows: Vec<Vec<String>> = e
            .functions
            .iter()
            .map(|f| {
                vec![
                    format!("    {}", f.role),
                    function_change(f),
                    format!("inclusive {:+.1}", f.change.inclusive_instructions.change()),
                    f.change.name.clone(),
                ]
            })
            .collect();
        out.push_str(&super::columns(&rows));
    }
    if e.no_profile {
        out.push_str("  no per-function profile: a side was counted without role-tagged dumps\n");
    }
    out
}
