//! "Nothing live": a comment body parsed as GitHub-flavoured markdown (pulldown-cmark, with
//! tables, footnotes, math and GitHub's alerts) holds no link, image, HTML, footnote or
//! math but the renderer's own, and no text outside code spans that GitHub would turn into
//! a mention, a reference or an autolink.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support"
)]

use pulldown_cmark::{Event, Options, Parser, Tag};

const MARKER: &str = "<!-- handoff-bench:pr-comment -->";

/// The HTML the renderer writes itself: collapsible sections and their titles.
const OWN_HTML_TAGS: [&str; 4] = ["<details>", "</details>", "<summary>", "</summary>"];
const OWN_SUMMARIES: [&str; 3] = [
    "Every metric",
    "Measurements per call",
    "Method and environment",
];

/// The summary of the collapsed unchanged rows: `N unchanged configuration(s)`.
fn is_unchanged_count(summary: &str) -> bool {
    summary
        .strip_suffix(" unchanged configurations")
        .or_else(|| summary.strip_suffix(" unchanged configuration"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What the body shows as code (inert, quoted data), for checks that hostile text arrived.
#[derive(Debug, Default)]
pub struct Shown {
    pub code: Vec<String>,
    pub text: Vec<String>,
}

/// Panics unless `body` is inert (see the module docs); `links` are the only link targets
/// allowed (the renderer's own). Returns what it shows.
pub fn assert_inert(body: &str, links: &[&str], max_code_chars: usize) -> Shown {
    assert!(
        body.starts_with(MARKER),
        "the body must start with the marker:\n{body}"
    );
    assert_eq!(
        body.matches("<!--").count(),
        1,
        "an HTML comment besides the marker:\n{body}"
    );
    let mut shown = Shown::default();
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM;
    let mut first_html = true;
    for event in Parser::new_ext(body, options) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => assert!(
                links.contains(&dest_url.as_ref()),
                "a link to {dest_url} in:\n{body}"
            ),
            Event::Start(Tag::Image { dest_url, .. }) => panic!("an image {dest_url} in:\n{body}"),
            Event::Start(Tag::HtmlBlock) => {}
            Event::Html(html) | Event::InlineHtml(html) => {
                if first_html && html.trim() == MARKER {
                    first_html = false;
                    continue;
                }
                first_html = false;
                let mut rest = html.to_string();
                for tag in OWN_HTML_TAGS {
                    rest = rest.replace(tag, "");
                }
                let rest = rest.trim();
                assert!(
                    rest.is_empty() || OWN_SUMMARIES.contains(&rest) || is_unchanged_count(rest),
                    "HTML the renderer did not write: {html:?} in:\n{body}"
                );
            }
            Event::FootnoteReference(r) => panic!("a footnote reference {r} in:\n{body}"),
            Event::Start(Tag::FootnoteDefinition(r)) => panic!("a footnote {r} in:\n{body}"),
            Event::InlineMath(m) | Event::DisplayMath(m) => panic!("math {m:?} in:\n{body}"),
            Event::Text(text) => {
                assert_no_autolink(&text, body);
                shown.text.push(text.to_string());
            }
            Event::Code(code) => {
                assert!(
                    code.chars().count() <= max_code_chars,
                    "a code span of {} characters in:\n{body}",
                    code.chars().count()
                );
                assert!(
                    !code.chars().any(char::is_control),
                    "a control character in code {code:?}"
                );
                shown.code.push(code.to_string());
            }
            _ => {}
        }
    }
    shown
}

/// Text (outside code) that GitHub's filters would link: `@user`, `#123`, `GH-123`,
/// `x://`, `www.`, `user@host`.
fn assert_no_autolink(text: &str, body: &str) {
    let chars: Vec<char> = text.chars().collect();
    for (i, pair) in chars.windows(2).enumerate() {
        let live = match pair {
            ['@', c] => c.is_ascii_alphanumeric(),
            ['#', c] => c.is_ascii_digit(),
            _ => false,
        };
        assert!(
            !live,
            "a mention or reference {:?} in text {text:?} of:\n{body}",
            chars[i..].iter().take(20).collect::<String>()
        );
    }
    for needle in ["://", "www.", "GH-", "mailto:"] {
        assert!(
            !text.contains(needle),
            "a would-be autolink ({needle}) in text {text:?} of:\n{body}"
        );
    }
}
