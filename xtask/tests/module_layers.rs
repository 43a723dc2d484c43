//! The shape of `xtask/src`: every folder is one layer that imports only the layers below
//! it, no two modules import each other (directly or round a loop), `main.rs` only reaches
//! the commands, and no module's non-test code outgrows 400 lines.
//!
//! The layers, top to bottom (an arrow: may import):
//!
//! ```text
//! commands   -> engine, github, report, comparison, model, stats
//! engine     -> comparison, model, stats
//! github     -> report, comparison, model, stats
//! report     -> comparison, model, stats
//! comparison -> model, stats
//! model      -> stats
//! stats      -> (nothing)
//! ```
//!
//! # How it works
//!
//! 1. Every `.rs` file under `src/` (but `bin/`) is a module: `a/b.rs` and `a/b/mod.rs` are
//!    `a::b`, `lib.rs` is the crate root.
//! 2. Its references are the `crate::...`, `super::...` and `self::...` paths in its text,
//!    comments removed, with one level of `{...}` groups expanded, and in a `mod.rs` the
//!    paths through its children (`paired::run`); `super` in a file's trailing
//!    `#[cfg(test)] mod tests` counts from the test module. A path names the longest module
//!    it starts with. The `mod` and `pub use` lines of a `mod.rs` declare and re-export its
//!    children and are not references.
//! 3. The layer rule is checked per reference; cycles by a depth-first search over the
//!    module graph (tests included: a test that reaches upwards would be a cycle too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each layer may import besides itself.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "commands",
        &["engine", "github", "report", "comparison", "model", "stats"],
    ),
    ("engine", &["comparison", "model", "stats"]),
    ("github", &["report", "comparison", "model", "stats"]),
    ("report", &["comparison", "model", "stats"]),
    ("comparison", &["model", "stats"]),
    ("model", &["stats"]),
    ("stats", &[]),
];

const MAX_NON_TEST_LINES: usize = 400;

/// One source file as a module.
struct Module {
    path: PathBuf,
    /// `["engine", "runner"]`; empty for the crate root.
    name: Vec<String>,
    text: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn modules() -> Vec<Module> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = src();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !p.starts_with(root.join("bin")) && *p != root.join("main.rs"))
        .map(|path| {
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut name: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(name.last().map(String::as_str), Some("mod" | "lib")) {
                name.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            Module { path, name, text }
        })
        .collect()
}

/// The text without `//` comments (doc comments mention paths that are not imports).
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect()
}

/// The line where a file's trailing test module starts (`#[cfg(test)]` at column 0).
fn test_start(lines: &[&str]) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len())
}

/// `a::b::{c, d::e}` -> `a::b::c`, `a::b::d::e` (one level of braces).
fn expand(path: &str) -> Vec<String> {
    match path.split_once('{') {
        None => vec![path.to_owned()],
        Some((prefix, rest)) => {
            let inner = rest.split('}').next().unwrap_or_default();
            inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| format!("{prefix}{s}"))
                .collect()
        }
    }
}

/// Every path in `line` that begins with one of `starts` (`crate::`, `super::`, a child
/// module's `name::`), as written, with `{...}` kept.
fn paths_in(line: &str, starts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for start in starts {
        let mut from = 0;
        while let Some(i) = line[from..].find(start) {
            let at = from + i;
            let boundary = at == 0 || {
                let c = line.as_bytes()[at - 1] as char;
                !(c.is_alphanumeric() || c == '_' || c == ':')
            };
            let mut end = at;
            let mut depth = 0;
            for (j, c) in line[at..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    c if depth > 0 || c.is_alphanumeric() || c == '_' || c == ':' => {}
                    _ => break,
                }
                end = at + j + c.len_utf8();
            }
            if boundary {
                out.push(line[at..end].to_owned());
            }
            from = end.max(at + start.len());
        }
    }
    out
}

/// The modules `module` refers to, by name.
fn references(module: &Module, known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let lines = code_lines(&module.text);
    let tests_from = test_start(&lines);
    // A folder's `mod.rs` (or `lib.rs`) names its children without a prefix.
    let children: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let starts: Vec<String> = ["crate", "super", "self"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(children.iter().cloned())
        .map(|s| format!("{s}::"))
        .collect();
    let mut out = BTreeSet::new();
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !children.is_empty()
            && (trimmed.starts_with("pub use ")
                || trimmed.starts_with("pub mod ")
                || trimmed.starts_with("mod "))
        {
            continue;
        }
        for written in paths_in(line, &starts) {
            for path in expand(&written) {
                let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                let mut base: Vec<String> = if segments.first() == Some(&"crate") {
                    segments.remove(0);
                    Vec::new()
                } else if segments.first() != Some(&"super") {
                    // `self::x` or a child's `x::...`: below this module.
                    if segments.first() == Some(&"self") {
                        segments.remove(0);
                    }
                    module.name.clone()
                } else {
                    let supers = segments.iter().take_while(|s| **s == "super").count();
                    segments.drain(..supers);
                    // In a file's test module, the first `super` is the file itself.
                    let pops = if n < tests_from { supers } else { supers - 1 };
                    let mut base = module.name.clone();
                    for _ in 0..pops {
                        base.pop();
                    }
                    base
                };
                // The longest known module the path starts with.
                let mut best = base.clone();
                for segment in segments {
                    base.push(segment.to_owned());
                    if known.contains(&base) {
                        best = base.clone();
                    }
                }
                if best != module.name {
                    out.insert(best);
                }
            }
        }
    }
    out
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.name.clone()).collect();
    modules
        .iter()
        .map(|m| (m.name.clone(), references(m, &known)))
        .collect()
}

fn show(name: &[String]) -> String {
    if name.is_empty() {
        "crate".to_owned()
    } else {
        name.join("::")
    }
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let mut violations = Vec::new();
    for (module, refs) in graph() {
        let Some(layer) = module.first() else {
            assert!(refs.is_empty(), "lib.rs imports {refs:?}");
            continue;
        };
        let allowed = LAYERS
            .iter()
            .find(|(name, _)| name == layer)
            .unwrap_or_else(|| panic!("{} is in no layer; add it to LAYERS", show(&module)))
            .1;
        for target in refs {
            // The crate root only holds `workspace_root`.
            let ok = target
                .first()
                .is_none_or(|t| t == layer || allowed.contains(&t.as_str()));
            if !ok {
                violations.push(format!("{} -> {}", show(&module), show(&target)));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layers:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    // Depth-first search; a module reached again while still on the stack closes a cycle.
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle: Vec<String> = stack[i..].iter().map(|n| show(n)).collect();
            cycle.push(show(node));
            cycles.push(cycle.join(" -> "));
            return;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, cycles);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
    // The graph is real: the pipeline's edges are in it.
    let has = |from: &str, to: &str| {
        let name = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
        graph[&name(from)].contains(&name(to))
    };
    assert!(has(
        "commands::bench::independent",
        "engine::independent_session"
    ));
    assert!(has("engine::paired_session", "comparison::paired"));
    assert!(has("report::calibration", "comparison::calibration"));
    assert!(has("model::results", "model::files"));
}

#[test]
fn main_only_dispatches_to_the_commands() {
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    let outside: Vec<&str> = code_lines(&main)
        .into_iter()
        .filter(|l| l.contains("xtask::") && !l.contains("xtask::commands::"))
        .collect();
    assert!(
        outside.is_empty(),
        "main.rs reaches past the commands: {outside:?}"
    );
}

#[test]
fn no_module_has_more_than_400_lines_of_non_test_code() {
    let long: Vec<String> = modules()
        .iter()
        .filter(|m| m.name.last().is_none_or(|n| n != "tests"))
        .filter_map(|m| {
            let lines = m.text.lines().collect::<Vec<_>>();
            let n = test_start(&lines);
            (n > MAX_NON_TEST_LINES).then(|| format!("{}: {n}", m.path.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by job:\n{}", long.join("\n"));
}

#[test]
fn the_reference_reader_resolves_groups_and_super() {
    let known: BTreeSet<Vec<String>> = [
        vec!["a".to_owned()],
        vec!["a".to_owned(), "b".to_owned()],
        vec!["c".to_owned()],
        vec!["c".to_owned(), "d".to_owned()],
    ]
    .into();
    let module = Module {
        path: PathBuf::from("src/a/b.rs"),
        name: vec!["a".to_owned(), "b".to_owned()],
        text: "use crate::c::{d::X, Y};\n// crate::nope\nfn f() { super::g(); }\n\
               #[cfg(test)]\nmod tests {\n    use super::*;\n}\n"
            .to_owned(),
    };
    let refs: Vec<String> = references(&module, &known)
        .iter()
        .map(|n| show(n))
        .collect();
    assert_eq!(refs, ["a", "c", "c::d"]);
    let parent = Module {
        path: PathBuf::from("src/a/mod.rs"),
        name: vec!["a".to_owned()],
        text: "mod b;\npub use b::Z;\nfn f() { b::g(); }\n".to_owned(),
    };
    let refs: Vec<String> = references(&parent, &known)
        .iter()
        .map(|n| show(n))
        .collect();
    assert_eq!(refs, ["a::b"]);
}
