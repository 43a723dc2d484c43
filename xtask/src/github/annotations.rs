//! GitHub Actions workflow commands (`::error ...::`, `::warning ...::`) with their escaping.
//!
//! Pure functions returning the line to print on stdout; the runner turns it into an
//! annotation on the run and, with `file`/`line`, on the diff.

use std::fmt::Write as _;

/// Severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One annotation; the optional properties are left out when `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation<'a> {
    pub level: Level,
    pub title: Option<&'a str>,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    pub message: &'a str,
}

impl Annotation<'_> {
    /// The workflow-command line, without a trailing newline.
    pub fn render(&self) -> String {
        let mut props = Vec::new();
        if let Some(title) = self.title {
            props.push(format!("title={}", escape_property(title)));
        }
        if let Some(file) = self.file {
            props.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = self.line {
            props.push(format!("line={line}"));
        }
        let mut out = format!("::{}", self.level.command());
        if !props.is_empty() {
            let _ = write!(out, " {}", props.join(","));
        }
        let _ = write!(out, "::{}", escape_data(self.message));
        out
    }
}

/// `::error title=...::message`.
pub fn error(title: &str, message: &str) -> String {
    titled(Level::Error, title, message)
}

/// `::warning title=...::message`.
pub fn warning(title: &str, message: &str) -> String {
    titled(Level::Warning, title, message)
}

/// `::notice title=...::message`.
pub fn notice(title: &str, message: &str) -> String {
    titled(Level::Notice, title, message)
}

fn titled(level: Level, title: &str, message: &str) -> String {
    Annotation {
        level,
        title: Some(title),
        file: None,
        line: None,
        message,
    }
    .render()
}

/// Escaping of a command's message (data): `%`, `\r`, `\n`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a property value: the data escapes plus `:` and `,`, which delimit
/// properties.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_and_warning_lines() {
        assert_eq!(
            error("Regression", "slower"),
            "::error title=Regression::slower"
        );
        assert_eq!(
            warning("Noisy", "cv 12%"),
            "::warning title=Noisy::cv 12%25"
        );
        assert_eq!(notice("n", "m"), "::notice title=n::m");
    }

    #[test]
    fn message_escapes_percent_cr_lf_but_keeps_colons_and_commas() {
        assert_eq!(
            error("t", "50% a:b, c\r\nnext"),
            "::error title=t::50%25 a:b, c%0D%0Anext"
        );
    }

    #[test]
    fn property_escapes_colon_and_comma() {
        assert_eq!(
            error("tokio-multi/dedicated: +12%, p=0.01", "m"),
            "::error title=tokio-multi/dedicated%3A +12%25%2C p=0.01::m"
        );
    }

    #[test]
    fn percent_is_escaped_first_so_escapes_are_not_doubled() {
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_property("%3A:"), "%253A%3A");
    }

    #[test]
    fn file_and_line_properties() {
        let a = Annotation {
            level: Level::Warning,
            title: None,
            file: Some("baselines/main,x.json"),
            line: Some(3),
            message: "stale",
        };
        assert_eq!(
            a.render(),
            "::warning file=baselines/main%2Cx.json,line=3::stale"
        );
        let bare = Annotation {
            level: Level::Error,
            title: None,
            file: None,
            line: None,
            message: "m",
        };
        assert_eq!(bare.render(), "::error::m");
    }
}
