//! Text from a file quoted in an error message, kept short: an error about a hostile file
//! (serde_json's quotes the offending string whole, a schema field can hold anything) must
//! not grow with the file.

use std::fmt;

/// The most characters of a quoted message or value shown; longer ones keep their start
/// and end (where serde_json says the line and column) around a `…`.
pub const MAX_QUOTED_CHARS: usize = 240;

/// `text` cut to [`MAX_QUOTED_CHARS`]: its first and last characters around `…`.
pub fn cut(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_QUOTED_CHARS {
        return text.to_owned();
    }
    let tail = MAX_QUOTED_CHARS / 3;
    let head = MAX_QUOTED_CHARS - tail - 1;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// How an error names a configuration: the id itself when it follows the grammar, else
/// escaped and [`cut`].
pub fn id(text: &str) -> String {
    if handoff_protocol::id::is_valid(text) {
        text.to_owned()
    } else {
        cut(&format!("{text:?}"))
    }
}

/// A serde_json error shown [`cut`]; the error itself stays its source.
#[derive(Debug)]
pub struct JsonError(pub serde_json::Error);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cut(&self.0.to_string()))
    }
}

impl std::error::Error for JsonError {}

impl From<serde_json::Error> for JsonError {
    fn from(error: serde_json::Error) -> Self {
        JsonError(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_keeps_both_ends() {
        assert_eq!(cut("short"), "short");
        let long = format!("start {} end at line 1 column 9000", "x".repeat(10_000));
        let shown = cut(&long);
        assert_eq!(shown.chars().count(), MAX_QUOTED_CHARS);
        assert!(shown.starts_with("start xx"), "{shown}");
        assert!(shown.ends_with("end at line 1 column 9000"), "{shown}");
        assert!(shown.contains('…'));
    }

    #[test]
    fn ids_outside_the_grammar_are_escaped_and_cut() {
        assert_eq!(id("floor/park"), "floor/park");
        assert_eq!(id("a/b\n::x"), r#""a/b\n::x""#);
        assert!(id(&"z".repeat(10_000)).chars().count() <= MAX_QUOTED_CHARS);
    }

    #[test]
    fn a_serde_error_quoting_a_long_string_is_cut() {
        let text = format!("{{\"a\": \"{}\"}}", "y".repeat(5_000));
        let error =
            serde_json::from_str::<std::collections::BTreeMap<String, u64>>(&text).unwrap_err();
        assert!(error.to_string().len() > 5_000);
        let shown = JsonError(error).to_string();
        assert!(shown.chars().count() <= MAX_QUOTED_CHARS, "{shown}");
        assert!(shown.contains("expected u64 at line 1"), "{shown}");
    }
}
