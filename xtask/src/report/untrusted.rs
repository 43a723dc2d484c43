//! Text that came from a results file (configuration ids, host fields, git refs, failure
//! reasons, ...) as it may appear in a markdown report: one inline code span, made here.
//!
//! # Why a code span, and why this is complete
//!
//! A results file posted by the comment job was written by a pull request's code, so every
//! string in it is chosen by a stranger. The markdown renderer puts each such string into
//! the report only through [`code`], never with `{}` alone. Inside a code span:
//!
//! 1. CommonMark parses nothing: no emphasis, links, images, autolinks (`<http://..>`),
//!    raw HTML or HTML comments, entities or backslash escapes. The text is shown as it is.
//! 2. GitHub's own text filters skip `<code>`: `@user` / `@org/team` mentions (and their
//!    notifications), `#123` / `GH-123` / `owner/repo#123` references, commit SHAs, bare
//!    URLs and `www.` autolinks, custom autolink references, `:emoji:` codes. (Escaping with
//!    backslashes would not do: GitHub finds mentions in the *rendered* text, where `\@` is
//!    `@` again.)
//!
//! What is left is what could end the span or the line early, or fool a reader or a tool
//! reading the raw body; each is replaced, so the span's content is an allow-list: printable
//! characters only.
//!
//! - a backtick (the only thing that closes the span) becomes `ˋ` (U+02CB);
//! - `|` (which splits a table row even inside a code span) becomes `¦`;
//! - line breaks, tabs and every other control, format (bidi overrides, zero-width
//!   characters), private-use, unassigned or combining character is shown as its Rust
//!   escape, `\n`, `\u{202e}` (`char::escape_debug`), so the text stays on its line and
//!   reads in the order it is stored;
//! - `<!--` becomes `<!- -`, so the raw body holds exactly one HTML comment, the sticky
//!   comment's marker, and no copy of it can be planted;
//! - at most [`MAX_SHOWN_CHARS`] characters are shown, then `…`, so no line grows long.
//!
//! The surrounding text is the renderer's own; it must not put a `$` right before or after a
//! span (GitHub reads `` $`...`$ `` as math).

/// The most characters of one untrusted string shown in a report (escapes included).
pub const MAX_SHOWN_CHARS: usize = 120;

/// `text` for places a code span cannot protect (a Mermaid chart, an SVG chart's labels):
/// at most `max` characters, every one outside `[A-Za-z0-9/._:-]` replaced by `_`, which is
/// all a configuration id needs.
pub fn label(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/._:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `text` on one line for a log: every control character (a line break first of all) shown
/// as its escape, so that text quoted from a results file cannot start a line of its own
/// (a GitHub workflow command such as `::add-mask::` is only read at a line's start).
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` as one inline code span, made inert (see the module docs).
pub fn code(text: &str) -> String {
    let mut content = String::with_capacity(text.len().min(4 * MAX_SHOWN_CHARS));
    let mut shown = 0;
    for c in text.chars() {
        let piece = shown_as(c);
        let len = piece.chars().count();
        if shown + len > MAX_SHOWN_CHARS {
            content.push('…');
            break;
        }
        shown += len;
        content.push_str(&piece);
    }
    let content = content.replace("<!--", "<!- -");
    if content.is_empty() {
        // "``" would not be a code span; a span of one space shows as nothing.
        return "` `".to_owned();
    }
    format!("`{content}`")
}

/// How one character is shown inside the span.
fn shown_as(c: char) -> String {
    match c {
        '`' => 'ˋ'.to_string(),
        '|' => '¦'.to_string(),
        ' '..='~' => c.to_string(),
        _ => c.escape_debug().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_quoted_text_off_a_line_of_its_own() {
        assert_eq!(
            one_line("bad id \"a\n::add-mask::x\"\tend"),
            "bad id \"a\\n::add-mask::x\"\\tend"
        );
        assert!(!one_line("x\r\n::error::y").contains('\n'));
    }

    #[test]
    fn plain_values_are_unchanged_inside_the_span() {
        assert_eq!(code("tokio-current/dedicated"), "`tokio-current/dedicated`");
        assert_eq!(
            code("rustc 1.95.0 (59807616e 2026-04-14)"),
            "`rustc 1.95.0 (59807616e 2026-04-14)`"
        );
        assert_eq!(
            code("Intel(R) Xeon(R) @ 2.0GHz"),
            "`Intel(R) Xeon(R) @ 2.0GHz`"
        );
        assert_eq!(code("naïve"), "`naïve`");
        assert_eq!(code(""), "` `");
    }

    #[test]
    fn what_could_end_the_span_or_the_line_is_replaced() {
        assert_eq!(code("a`b``c"), "`aˋbˋˋc`");
        assert_eq!(code("x | y"), "`x ¦ y`");
        assert_eq!(code("line\nbreak\r\ttab"), r"`line\nbreak\r\ttab`");
        assert_eq!(code("abc\u{202e}def\u{200b}"), r"`abc\u{202e}def\u{200b}`");
        assert_eq!(code("e\u{301}"), r"`e\u{301}`");
    }

    #[test]
    fn no_html_comment_survives() {
        let marker = "<!-- handoff-bench:pr-comment -->";
        let out = code(&format!("x{marker}<!---y"));
        assert!(!out.contains("<!--"), "{out}");
        assert_eq!(out, "`x<!- - handoff-bench:pr-comment --><!- --y`");
    }

    #[test]
    fn long_text_is_capped() {
        let out = code(&"a".repeat(10_000));
        assert_eq!(out.chars().count(), MAX_SHOWN_CHARS + 3);
        assert!(out.ends_with("a…`"), "{out}");
        // Escapes count as what is shown.
        let out = code(&"\u{202e}".repeat(100));
        assert!(out.chars().count() <= MAX_SHOWN_CHARS + 3, "{out}");
        assert_eq!(
            code(&"b".repeat(MAX_SHOWN_CHARS)).chars().count(),
            MAX_SHOWN_CHARS + 2
        );
    }
}
