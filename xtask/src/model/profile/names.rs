//! Function names of a profile: callgrind's name of a function split into its frames (the
//! function, callgrind's recursion level, and its callers under `--separate-callers`), each
//! demangled without its hash so that the same function of two builds has one name, and
//! names bounded in length.
//!
//! Callgrind writes a function of recursion level N as `f'N` and a function with callers
//! in its context as `f'g'h` (`g` called `f`, `h` called `g`), so `'` separates frames.
//! Symbols as the linker has them (`--demangle=no`) never contain `'`; demangled names may
//! (`<&'a T as Trait>::f`), but only inside brackets, where a separator never is, so
//! quotes inside `<>`, `()` or `[]` are kept as part of the name.

/// One function of a dump with what its name says about where it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The function, then its callers, nearest first; demangled.
    pub frames: Vec<String>,
    /// Callgrind's recursion level of the function: 1, or N for the Nth activation of a
    /// function that is already on the stack (callgrind's `--separate-recs`).
    pub recursion: u32,
}

impl Context {
    /// The function itself.
    pub fn function(&self) -> &str {
        &self.frames[0]
    }

    /// Whether the function is already on the stack where it runs, as far as the name
    /// tells: a recursion level above 1, or the function among its own callers.
    pub fn is_recursive(&self) -> bool {
        self.recursion > 1
            || self.frames[1..]
                .iter()
                .any(|caller| *caller == self.frames[0])
    }
}

/// Splits and demangles a name as callgrind wrote it.
pub fn context(raw: &str) -> Context {
    let mut parts = split_frames(raw).into_iter();
    let function = demangle(parts.next().unwrap_or_default());
    let mut recursion = 1;
    let mut frames = vec![function];
    for (position, part) in parts.enumerate() {
        match part.parse::<u32>() {
            // Only right after the function: a caller's name is never a number.
            Ok(level) if position == 0 && level > 0 => recursion = level,
            _ => frames.push(demangle(part)),
        }
    }
    Context { frames, recursion }
}

/// `raw` cut at every `'` outside brackets.
fn split_frames(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut previous = '\0';
    for (at, c) in raw.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            // `->` in a function type closes nothing.
            '>' if previous == '-' => {}
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            '\'' if depth == 0 => {
                parts.push(&raw[start..at]);
                start = at + 1;
            }
            _ => {}
        }
        previous = c;
    }
    parts.push(&raw[start..]);
    parts
}

/// A symbol demangled in rustc-demangle's alternate form (no hash); a name that is not a
/// Rust symbol as it is, except that a hash valgrind's own demangler left (`::h` and 16 hex
/// digits at the end) is cut too.
pub fn demangle(symbol: &str) -> String {
    match rustc_demangle::try_demangle(symbol) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => without_hash(symbol).to_owned(),
    }
}

fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            path
        }
        _ => name,
    }
}

/// What marks a name that was cut.
pub const CUT_MARK: char = '…';

/// `name` at most `max_chars` characters long: longer names are cut on a character
/// boundary and end with [`CUT_MARK`] (which counts in the length).
pub fn bounded(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }
    let mut cut: String = name.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push(CUT_MARK);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGACY: &str = "_ZN5tokio7runtime4task3raw7RawTask4poll17h0123456789abcdefE";
    const LEGACY_OTHER_BUILD: &str = "_ZN5tokio7runtime4task3raw7RawTask4poll17hfedcba9876543210E";

    #[test]
    fn rust_symbols_lose_their_hash_so_two_builds_match() {
        assert_eq!(demangle(LEGACY), "tokio::runtime::task::raw::RawTask::poll");
        assert_eq!(demangle(LEGACY), demangle(LEGACY_OTHER_BUILD));
        // v0 mangling.
        assert_eq!(demangle("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
        // Already demangled by valgrind, with the hash left on.
        assert_eq!(
            demangle("tokio::runtime::task::raw::RawTask::poll::h0123456789abcdef"),
            "tokio::runtime::task::raw::RawTask::poll"
        );
    }

    #[test]
    fn other_names_are_kept_as_they_are() {
        for name in [
            "memcpy",
            "(below main)",
            "0x000000000001a2b0",
            "__GI___clone3",
            "f::hxyz",
        ] {
            assert_eq!(demangle(name), name);
        }
    }

    #[test]
    fn contexts_split_into_function_recursion_level_and_callers() {
        let raw = format!("{LEGACY}'2'main'(below main)");
        let context = context(&raw);
        assert_eq!(
            context.function(),
            "tokio::runtime::task::raw::RawTask::poll"
        );
        assert_eq!(context.frames[1..], ["main", "(below main)"]);
        assert_eq!(context.recursion, 2);
        assert!(context.is_recursive());
        let plain = super::context("f'g'h");
        assert_eq!((plain.frames.len(), plain.recursion), (3, 1));
        assert!(!plain.is_recursive());
        assert!(super::context("f'g'f'h").is_recursive());
        assert_eq!(super::context("memcpy").frames, ["memcpy"]);
    }

    #[test]
    fn quotes_inside_brackets_are_lifetimes_not_separators() {
        let raw = "<&'a T as core::fmt::Debug>::fmt'core::fmt::write'f<fn() -> &'static str>";
        assert_eq!(
            context(raw).frames,
            [
                "<&'a T as core::fmt::Debug>::fmt",
                "core::fmt::write",
                "f<fn() -> &'static str>"
            ]
        );
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary_with_a_mark() {
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(bounded("exactly10!", 10), "exactly10!");
        let cut = bounded("ééééééééééé", 5);
        assert_eq!(cut, "éééé…");
        assert_eq!(cut.chars().count(), 5);
        let emoji = "🦀".repeat(300);
        let cut = bounded(&emoji, 100);
        assert_eq!(cut.chars().count(), 100);
        assert!(cut.ends_with(CUT_MARK) && cut.starts_with('🦀'));
    }
}
