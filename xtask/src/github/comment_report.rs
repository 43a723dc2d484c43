//! The pull-request comment's report, made by this xtask from a checked results file: the
//! paired comparison recomputed from the raw samples with this xtask's statistics, then
//! rendered with this xtask's markdown renderer. Nothing of the artifact's own markdown, and
//! none of the file's stored summaries, verdicts or labels, is used; of its stored
//! comparison only the settings are taken (the verdict policy, checked, and the host and
//! toolchain differences, shown as code).
//!
//! In the comment job this xtask is the default branch's, so the words of the comment are
//! the project's own whatever the pull request changed. The numbers are not: the samples
//! were measured by the pull request's code (`docs/book/src/github/trust.md` says why the gate is no security
//! boundary against a hostile pull request).

use std::fmt::Write as _;

use crate::comparison::Comparison;
use crate::report;

use super::checked_results::CheckedResults;
use super::runners::Refusal;
use super::sections::Section;

/// The markdown report of `checked`: with the recomputed comparison for a paired run,
/// the results alone otherwise (a run against a stored baseline cannot be recomputed
/// without that baseline, so its verdicts are not shown).
pub fn render(checked: &CheckedResults) -> String {
    let comparison = comparison(checked);
    report::markdown::render(&checked.results, comparison.as_ref())
}

/// The comment of one or more runners: one runner's report as [`render`] makes it; for
/// several, a section per runner, headed by its host (as code) and the runner's own verdict.
/// A runner merged from shards, or missing some, says so below its report.
pub fn render_sections(sections: &[Section]) -> String {
    if let [section] = sections {
        let mut out =
            report::markdown::render(&section.merged.checked.results, section.comparison.as_ref());
        out.push_str(&shards_note(section));
        return out;
    }
    let mut out = format!("## handoff-bench on {} runners\n\n", sections.len());
    for (i, section) in sections.iter().enumerate() {
        let results = &section.merged.checked.results;
        let report = report::markdown::render(results, section.comparison.as_ref());
        let (title, rest) = report.split_once('\n').unwrap_or((&report, ""));
        let verdict = title
            .trim_start_matches("## handoff-bench")
            .trim_start_matches(": ");
        let h = &results.host;
        let shards = match section.merged.files.len() {
            1 => String::new(),
            n => format!(", {n} shards"),
        };
        let _ = writeln!(
            out,
            "### Runner {}: {} ({} cores), kernel {}{shards}: {verdict}{rest}",
            i + 1,
            report::untrusted::code(&h.cpu_model),
            h.cores,
            report::untrusted::code(&h.kernel),
        );
        out.push_str(&shards_note(section));
    }
    out
}

/// What a runner merged from shards adds below its report: the files, the one comparison
/// over them, the hosts when they differ, and the shards it lacks.
fn shards_note(section: &Section) -> String {
    let files = &section.merged.files;
    let mut out = String::new();
    if files.len() > 1 {
        let names: Vec<String> = files.iter().map(|f| report::untrusted::code(f)).collect();
        let _ = writeln!(
            out,
            "\nMerged from {} shards of one run ({}): one comparison over all their \
             configurations, with Holm's correction over all their gated pairs at once.",
            files.len(),
            names.join(", ")
        );
        let hosts = &section.merged.hosts;
        if hosts.len() > 1 {
            let shown: Vec<String> = hosts.iter().map(|h| report::untrusted::code(h)).collect();
            let _ = writeln!(
                out,
                "\nThe shards ran on {} kinds of CPU: {}; each pair was measured on one \
                 machine.",
                hosts.len(),
                shown.join(", ")
            );
        }
    }
    if !section.missing_shards.is_empty() {
        let count = section
            .merged
            .files
            .len()
            .saturating_add(section.missing_shards.len());
        let missing: Vec<String> = section.missing_shards.iter().map(u32::to_string).collect();
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> Shard {} of {count} of this runner is missing (not uploaded, or \
             left out below): its configurations are not in this report.",
            missing.join(", ")
        );
    }
    out
}

/// At most this many refused files are listed; the rest are counted.
pub const MAX_LISTED_REFUSALS: usize = 40;

/// The files left out of the comment, one line each: the file's name and the reason, both
/// as inert code (the reason cut short, in spans of at most
/// [`report::untrusted::MAX_SHOWN_CHARS`] characters). Empty when none was.
pub fn refusals(refused: &[Refusal]) -> String {
    if refused.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n### Left out of this comment\n\n{} result file{} could not be used:\n\n",
        refused.len(),
        if refused.len() == 1 { "" } else { "s" }
    );
    for refusal in refused.iter().take(MAX_LISTED_REFUSALS) {
        let _ = writeln!(
            out,
            "- {}: {}",
            report::untrusted::code(&refusal.name),
            inert_spans(&refusal.reason)
        );
    }
    if refused.len() > MAX_LISTED_REFUSALS {
        let _ = writeln!(
            out,
            "- and {} more (the comment job's log names them all)",
            refused.len() - MAX_LISTED_REFUSALS
        );
    }
    out
}

/// `text`, cut to `model::shown::MAX_QUOTED_CHARS`, as code spans split at spaces, each short
/// enough for `report::untrusted::code` to show whole (a word longer than a span is split).
fn inert_spans(text: &str) -> String {
    let mut spans: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in crate::model::shown::cut(text).split(' ') {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(SPAN_CHARS) {
            let piece: String = piece.iter().collect();
            if !current.is_empty()
                && current.chars().count() + 1 + piece.chars().count() > SPAN_CHARS
            {
                spans.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
    }
    spans.push(current);
    spans
        .iter()
        .map(|span| report::untrusted::code(span))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Characters per span: room for a few escapes (`\u{202e}` shows one character as eight)
/// within the 120 a span shows.
const SPAN_CHARS: usize = 90;

/// The paired comparison recomputed from the file's samples, by the function
/// `bench --against` made it with.
pub fn comparison(checked: &CheckedResults) -> Option<Comparison> {
    crate::comparison::paired_run::compare_run(
        &checked.results,
        checked.policy.clone()?,
        checked.fingerprint.clone(),
    )
}
