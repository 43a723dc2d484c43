//! Cutting a text at a line boundary so that it fits a size limit, with a note appended.

use std::borrow::Cow;

/// How a limit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values: how GitHub counts a comment body (65,536 at most).
    Chars,
    /// UTF-8 bytes: how GitHub counts the job summary (1 MiB per step).
    Bytes,
}

impl Unit {
    fn len(self, text: &str) -> usize {
        match self {
            Unit::Chars => text.chars().count(),
            Unit::Bytes => text.len(),
        }
    }
}

/// `text` unchanged when it fits in `limit`; otherwise its longest prefix made of whole
/// lines such that the prefix, a blank line and `note` fit together, followed by them.
///
/// The blank line keeps the note out of a markdown table whose rows were cut. `note` is
/// built by the caller from the number of lines kept and dropped. When not even the note
/// fits, the note alone is cut at a character boundary (a degenerate limit).
pub fn cut_at_line<'a>(
    text: &'a str,
    limit: usize,
    unit: Unit,
    note: impl Fn(Kept) -> String,
) -> Cow<'a, str> {
    if unit.len(text) <= limit {
        return Cow::Borrowed(text);
    }
    let total_lines = text.lines().count();
    // The note's length depends only weakly on the counts: build it with the worst case
    // first to reserve room, then with the real counts.
    let reserve = unit.len(&note(Kept {
        lines: total_lines,
        of_lines: total_lines,
    })) + 2 * unit.len("\n");
    let budget = limit.saturating_sub(reserve);

    let mut end = 0; // byte index just past the last kept line's '\n'
    let mut used = 0;
    let mut kept = 0;
    for line in text.split_inclusive('\n') {
        let size = unit.len(line);
        if used + size > budget {
            break;
        }
        used += size;
        end += line.len();
        kept += 1;
    }
    let mut out = String::with_capacity(end + reserve);
    out.push_str(&text[..end]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&note(Kept {
        lines: kept,
        of_lines: total_lines,
    }));
    if unit.len(&out) > limit {
        out = prefix_within(&out, limit, unit).to_owned();
    }
    Cow::Owned(out)
}

/// How much of a text was kept, for the caller's note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Whole lines kept.
    pub lines: usize,
    /// Lines in the original text.
    pub of_lines: usize,
}

fn prefix_within(text: &str, limit: usize, unit: Unit) -> &str {
    let end = match unit {
        Unit::Chars => text
            .char_indices()
            .nth(limit)
            .map_or(text.len(), |(i, _)| i),
        Unit::Bytes => {
            let mut end = limit.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            end
        }
    };
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(k: Kept) -> String {
        format!("_cut: {} of {} lines_", k.lines, k.of_lines)
    }

    #[test]
    fn short_text_is_borrowed_unchanged() {
        let out = cut_at_line("a\nb\n", 10, Unit::Chars, note);
        assert!(matches!(out, Cow::Borrowed("a\nb\n")));
    }

    #[test]
    fn long_text_is_cut_after_a_whole_line_and_fits() {
        let text: String = (0..100).map(|i| format!("| row {i} | x |\n")).collect();
        let out = cut_at_line(&text, 200, Unit::Chars, note);
        assert!(out.chars().count() <= 200, "{}", out.len());
        let (kept, tail) = out.split_once("\n\n").unwrap();
        assert!(text.starts_with(&format!("{kept}\n")));
        assert!(
            kept.lines()
                .all(|l| l.starts_with("| row ") && l.ends_with(" |"))
        );
        assert_eq!(
            tail,
            format!("_cut: {} of 100 lines_", kept.lines().count())
        );
    }

    #[test]
    fn chars_and_bytes_count_differently() {
        let text = "é\n".repeat(100); // 2 chars, 3 bytes per line
        let by_chars = cut_at_line(&text, 150, Unit::Chars, note);
        let by_bytes = cut_at_line(&text, 150, Unit::Bytes, note);
        assert!(by_chars.chars().count() <= 150);
        assert!(by_bytes.len() <= 150);
        assert!(by_chars.lines().count() > by_bytes.lines().count());
    }

    #[test]
    fn exact_fit_is_not_cut() {
        let text = "x".repeat(64);
        assert_eq!(cut_at_line(&text, 64, Unit::Bytes, note), text);
    }

    #[test]
    fn degenerate_limit_still_respected() {
        let text = "a very long single line without any break at all";
        let out = cut_at_line(text, 5, Unit::Chars, note);
        assert!(out.chars().count() <= 5);
    }
}
