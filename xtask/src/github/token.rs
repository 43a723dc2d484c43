//! The API token: a newtype whose `Debug` never shows the secret, plus a scrubber for text.

use std::fmt;

/// Where the token is read from: set by GitHub Actions, or by hand for a personal token.
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

/// A GitHub API token (installation token or personal token).
///
/// It has no `Display`, its `Debug` prints `Token(<redacted>)`, and the secret is only
/// reachable through [`Token::expose`], which the client calls once to build octocrab.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token from a raw string; `None` when it is empty or only whitespace.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(Self(trimmed.to_owned()))
        }
    }

    /// The token from `GITHUB_TOKEN`, if set and not empty.
    pub fn from_env() -> Option<Self> {
        std::env::var(TOKEN_ENV).ok().and_then(Self::new)
    }

    /// The secret itself. Call sites: building the HTTP client, and nothing that prints.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret occurs in `text` (a report must never carry it).
    pub fn occurs_in(&self, text: &str) -> bool {
        text.contains(self.0.as_str())
    }

    /// `text` with every occurrence of the secret replaced by `<redacted>`: a last line of
    /// defence for messages that quote what a server or library said.
    pub fn scrub(&self, text: &str) -> String {
        text.replace(self.0.as_str(), "<redacted>")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "ghp_exampleSecret0123456789";

    #[test]
    fn debug_never_shows_the_secret() {
        let token = Token::new(SECRET).unwrap();
        let shown = format!("{token:?} {token:#?} {:?}", Some(&token));
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn empty_or_blank_is_no_token() {
        assert!(Token::new("").is_none());
        assert!(Token::new("  \n").is_none());
        assert_eq!(Token::new(" abc\n").unwrap().expose(), "abc");
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        let token = Token::new(SECRET).unwrap();
        let text = format!("Bearer {SECRET} and again {SECRET}");
        assert_eq!(token.scrub(&text), "Bearer <redacted> and again <redacted>");
    }
}
