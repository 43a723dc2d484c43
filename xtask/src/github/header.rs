//! The comment's header line, built from what the workflow knows about the run (branch,
//! commit, run URL). The branch name is the pull request's choice: it is shown only as an
//! inert code span ([`code`]), the commit only if it is hex, the URL only if it is plain.

use crate::report::untrusted::code;

/// What the header line says about the run being reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderInfo<'a> {
    /// The pull request's head branch (untrusted: shown as a code span).
    pub head_ref: Option<&'a str>,
    /// The head commit; kept only if it is 7-40 hex digits.
    pub head_sha: Option<&'a str>,
    /// Where the full report is: the comment job's own workflow run, whose `bench-report`
    /// artifact holds the HTML page that job drew from the results file
    /// (`.github/workflows/bench-comment.yml`); kept only if it is an http(s) URL without
    /// spaces or markdown-breaking characters.
    pub details_url: Option<&'a str>,
}

/// One line such as ``**handoff-bench** for branch `feat`, commit abc1234 ([full
/// report](URL): the page in its `bench-report` artifact, ...)``, or `None` when there is
/// nothing to say. The link never points at the pull request's own `bench.html`: that page
/// was written by the pull request's code.
pub fn header_line(info: &HeaderInfo<'_>) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(head_ref) = info.head_ref.filter(|r| !r.trim().is_empty()) {
        parts.push(format!("branch {}", code(head_ref)));
    }
    if let Some(sha) = info.head_sha.filter(|s| is_hex_sha(s)) {
        parts.push(format!("commit {}", &sha[..sha.len().min(12)]));
    }
    let link = info.details_url.filter(|u| is_plain_url(u)).map(|u| {
        format!(
            " ([full report]({u}): the page in its `bench-report` artifact, drawn from the results \
             by the default branch's code)"
        )
    });
    if parts.is_empty() && link.is_none() {
        return None;
    }
    let what = if parts.is_empty() {
        String::new()
    } else {
        format!(" for {}", parts.join(", "))
    };
    Some(format!(
        "**handoff-bench**{what}{}",
        link.unwrap_or_default()
    ))
}

fn is_hex_sha(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An http(s) URL that can sit inside `(...)` of a markdown link unchanged.
pub fn is_plain_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, '(' | ')' | '<' | '>' | '"' | '\'' | '`' | '\\')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_inert() {
        let line = header_line(&HeaderInfo {
            head_ref: Some("x](http://evil)<b>@mallory#1`"),
            ..HeaderInfo::default()
        })
        .unwrap();
        assert_eq!(
            line,
            "**handoff-bench** for branch `x](http://evil)<b>@mallory#1ˋ`"
        );
    }

    #[test]
    fn header_with_everything() {
        let line = header_line(&HeaderInfo {
            head_ref: Some("feat/[x]"),
            head_sha: Some("0123456789abcdef0123456789abcdef01234567"),
            details_url: Some("https://github.com/o/r/actions/runs/1"),
        })
        .unwrap();
        assert_eq!(
            line,
            "**handoff-bench** for branch `feat/[x]`, commit 0123456789ab ([full report](https://github.com/o/r/actions/runs/1): the page in its `bench-report` artifact, drawn from the results by the default branch's code)"
        );
    }

    #[test]
    fn header_drops_what_is_not_well_formed() {
        let info = HeaderInfo {
            head_ref: None,
            head_sha: Some("not-a-sha"),
            details_url: Some("javascript:alert(1)"),
        };
        assert_eq!(header_line(&info), None);
        assert!(!is_plain_url("https://x/a b"));
        assert!(!is_plain_url("https://x/a)b"));
    }
}
