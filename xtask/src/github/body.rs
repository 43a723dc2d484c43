//! The comment body: hidden marker, optional header, report, cut to GitHub's limit.

use super::sticky::MARKER;
use super::truncate::{Unit, cut_at_line};

/// GitHub's limit on an issue comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// What goes into the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyParts<'a> {
    /// A header line (already escaped), e.g. from [`super::header::header_line`].
    pub header: Option<&'a str>,
    /// The markdown report.
    pub report: &'a str,
    /// Where the full report is, for the truncation note, as markdown (e.g. a link).
    pub full_report_at: &'a str,
    /// What follows the report and is never cut (the files left out of the comment);
    /// empty for nothing.
    pub footer: &'a str,
}

/// Where the full report is, for the truncation note: the HTML page in the `bench-report`
/// artifact of the comment job's own run, linked when its URL is known (and plain, see
/// [`super::header::is_plain_url`]).
pub fn full_report_at(details_url: Option<&str>) -> String {
    match details_url.filter(|u| super::header::is_plain_url(u)) {
        Some(url) => format!("in the `bench-report` artifact of [this comment's run]({url})"),
        None => "in the `bench-report` artifact of the bench-comment workflow run".to_owned(),
    }
}

/// The full body: `MARKER`, the header, the report and the footer, all within `limit`
/// characters (the report cut at a line boundary with a note saying where the full report
/// is, so that the footer always fits).
pub fn compose(parts: &BodyParts<'_>, limit: usize) -> String {
    let mut head = format!("{MARKER}\n");
    if let Some(header) = parts.header {
        head.push_str(header);
        head.push_str("\n\n");
    }
    let room = limit.saturating_sub(head.chars().count() + parts.footer.chars().count());
    let report = cut_at_line(parts.report, room, Unit::Chars, |kept| {
        format!(
            "> [!NOTE]\n> Report truncated to fit GitHub's {COMMENT_LIMIT}-character comment \
             limit: {} of {} lines shown. The full report is {}.",
            kept.lines, kept.of_lines, parts.full_report_at
        )
    });
    head.push_str(&report);
    head.push_str(parts.footer);
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_report_is_marker_header_report() {
        let body = compose(
            &BodyParts {
                header: Some("**h**"),
                report: "| a |\n|---|\n",
                full_report_at: "there",
                footer: "",
            },
            COMMENT_LIMIT,
        );
        insta::assert_snapshot!(body, @r"
        <!-- handoff-bench:pr-comment -->
        **h**

        | a |
        |---|
        ");
    }

    #[test]
    fn long_report_is_cut_to_the_limit_with_the_note() {
        let report: String = (0..10_000)
            .map(|i| format!("| cfg-{i} | 1.00x |\n"))
            .collect();
        let body = compose(
            &BodyParts {
                header: None,
                report: &report,
                full_report_at: "in the artifact",
                footer: "",
            },
            COMMENT_LIMIT,
        );
        assert!(body.chars().count() <= COMMENT_LIMIT);
        assert!(body.starts_with(MARKER));
        assert!(body.ends_with("The full report is in the artifact."));
        let rows = body.lines().filter(|l| l.starts_with("| cfg-")).count();
        assert!(rows > 3000, "{rows}");
        assert!(
            body.lines()
                .filter(|l| l.starts_with('|'))
                .all(|l| l.ends_with(" |"))
        );
    }

    #[test]
    fn the_footer_survives_the_cut_whole() {
        let report: String = (0..10_000).map(|i| format!("| cfg-{i} |\n")).collect();
        let footer = "\n### Left out of this comment\n\n- `x`: `why`\n";
        let body = compose(
            &BodyParts {
                header: None,
                report: &report,
                full_report_at: "there",
                footer,
            },
            COMMENT_LIMIT,
        );
        assert!(body.chars().count() <= COMMENT_LIMIT);
        assert!(body.ends_with(footer), "{}", &body[body.len() - 300..]);
        assert!(body.contains("Report truncated"));
    }
}
