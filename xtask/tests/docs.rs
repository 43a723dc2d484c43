//! The README and the user guide (`docs/book/`) as committed: every generated block is what
//! its committed data renders, every relative link reaches a file and every `#anchor` a
//! heading (mdbook builds a book with broken links without a word), and every page of the
//! guide is in its `SUMMARY.md`. `.ci/run` runs this after building the book.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    xtask::workspace_root()
}

fn book_src() -> PathBuf {
    root().join("docs/book/src")
}

#[test]
fn generated_blocks_are_what_their_committed_data_renders() {
    let root = root();
    let mut stale = Vec::new();
    for document in xtask::commands::docs::documents(&root).unwrap() {
        if xtask::commands::docs::regenerate(&root, &document)
            .unwrap_or_else(|e| panic!("{}: {e:#}", document.display()))
            .is_some()
        {
            stale.push(document.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated blocks differ from their data in {stale:?}: run `cargo xtask docs` and commit"
    );
}

/// What a markdown document links to, and the anchors its headings make.
struct Parsed {
    links: Vec<String>,
    anchors: BTreeSet<String>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// A heading's anchor as mdbook (and GitHub) make it: the heading's text in lower case,
/// letters, digits, `-` and `_` kept, each whitespace character a `-`, everything else
/// dropped; a repeated anchor gets `-1`, `-2`, ...
fn anchor(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().collect::<String>())
            } else if c.is_whitespace() {
                Some("-".to_owned())
            } else {
                None
            }
        })
        .collect()
}

fn parse(text: &str) -> Parsed {
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<(String, Option<String>)> = None;
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((String::new(), id.map(|i| i.to_string())));
            }
            Event::End(TagEnd::Heading(_)) => {
                let (text, id) = heading.take().expect("a heading ends after it starts");
                let base = id.unwrap_or_else(|| anchor(&text));
                let count = seen.entry(base.clone()).or_insert(0);
                anchors.insert(if *count == 0 {
                    base.clone()
                } else {
                    format!("{base}-{count}")
                });
                *count += 1;
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((text, _)) = heading.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string());
            }
            _ => {}
        }
    }
    Parsed { links, anchors }
}

/// `path` with `.` and `..` resolved lexically (the file need not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every broken relative link of `documents`: a missing file, a missing heading, or (from a
/// page of the guide) a link out of the book, which its HTML would not have.
/// `src` is the book's source folder, `base` what paths are shown relative to.
fn broken_links(src: &Path, base: &Path, documents: &[PathBuf]) -> Vec<String> {
    let mut parsed: BTreeMap<PathBuf, Parsed> = BTreeMap::new();
    let mut load = |path: &Path| -> Option<BTreeSet<String>> {
        if !parsed.contains_key(path) {
            let text = std::fs::read_to_string(path).ok()?;
            parsed.insert(path.to_owned(), parse(&text));
        }
        Some(parsed[path].anchors.clone())
    };
    let mut broken = Vec::new();
    for document in documents {
        let text = std::fs::read_to_string(document).unwrap();
        let shown = document.strip_prefix(base).unwrap().display().to_string();
        for link in parse(&text).links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = match link.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                document.clone()
            } else {
                normalize(&document.parent().unwrap().join(file))
            };
            if document.starts_with(src) && !target.starts_with(src) {
                broken.push(format!(
                    "{shown}: `{link}` leaves the book (cite the path as code)"
                ));
                continue;
            }
            if !target.exists() {
                broken.push(format!("{shown}: `{link}`: no such file"));
                continue;
            }
            let Some(fragment) = fragment else { continue };
            let is_markdown = target.extension().is_some_and(|e| e == "md");
            match load(&target) {
                Some(anchors) if is_markdown && anchors.contains(fragment) => {}
                _ => broken.push(format!("{shown}: `{link}`: no heading #{fragment} there")),
            }
        }
    }
    broken
}

fn guide_pages() -> Vec<PathBuf> {
    xtask::commands::docs::documents(&root()).unwrap()[1..].to_vec()
}

#[test]
fn every_relative_link_of_the_readme_and_the_guide_resolves() {
    let mut documents = vec![root().join("README.md")];
    documents.extend(guide_pages());
    let broken = broken_links(&book_src(), &root(), &documents);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_the_guide_is_in_its_summary() {
    let src = book_src();
    let summary = parse(&std::fs::read_to_string(src.join("SUMMARY.md")).unwrap());
    let listed: BTreeSet<PathBuf> = summary
        .links
        .iter()
        .map(|l| normalize(&src.join(l)))
        .collect();
    let orphans: Vec<String> = guide_pages()
        .into_iter()
        .filter(|page| !listed.contains(page) && !page.ends_with("SUMMARY.md"))
        .map(|page| page.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "pages missing from SUMMARY.md: {orphans:?}"
    );
}

#[test]
fn the_checks_catch_a_broken_link_and_a_missing_heading() {
    // A book of its own, so the other tests never see the page.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs/book/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(dir.path().join("README.md"), "# Outside\n").unwrap();
    let page = src.join("page.md");
    std::fs::write(
        &page,
        "# A page\n\n## Two `words`, here\n\n[fine](#two-words-here) [self](page.md#a-page)\n\
         [gone](missing.md) [no heading](page.md#nowhere) [out](../../../README.md)\n",
    )
    .unwrap();
    let broken = broken_links(&src, dir.path(), &[page]);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(
        broken[0].ends_with("`missing.md`: no such file"),
        "{}",
        broken[0]
    );
    assert!(
        broken[1].ends_with("no heading #nowhere there"),
        "{}",
        broken[1]
    );
    assert!(broken[2].contains("leaves the book"), "{}", broken[2]);
}

#[test]
fn anchors_follow_mdbook() {
    let parsed = parse(
        "# Stored baselines: when the host matches\n# `--against` and `calibrate`\n# A\n# A\n",
    );
    let anchors: Vec<&str> = parsed.anchors.iter().map(String::as_str).collect();
    assert_eq!(
        anchors,
        [
            "--against-and-calibrate",
            "a",
            "a-1",
            "stored-baselines-when-the-host-matches"
        ]
    );
}

/// A workspace of its own: a README with one results block over a copy of the committed
/// data, and a guide of one page.
fn sandbox(readme_block: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs/book/src")).unwrap();
    std::fs::create_dir_all(dir.path().join("docs/data")).unwrap();
    std::fs::copy(
        root().join("docs/data/readme.json"),
        dir.path().join("docs/data/readme.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("README.md"),
        format!("# Sandbox\n\n{readme_block}\nafter\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("docs/book/src/page.md"), "# Page\n").unwrap();
    dir
}

fn docs_command(workspace: &Path, check: bool) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("docs").arg("--workspace").arg(workspace);
    if check {
        command.arg("--check");
    }
    command.output().unwrap()
}

#[test]
fn docs_check_fails_on_a_stale_block_and_docs_rewrites_it() {
    let dir = sandbox(
        "<!-- generated by: cargo xtask docs results docs/data/readme.json -->\nstale\n<!-- end generated -->\n",
    );
    let stale = docs_command(dir.path(), true);
    assert_eq!(stale.status.code(), Some(1), "{stale:?}");
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert!(
        stderr.contains("README.md: generated blocks differ"),
        "{stderr}"
    );
    let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert!(readme.contains("\nstale\n"), "--check wrote nothing");

    let written = docs_command(dir.path(), false);
    assert_eq!(written.status.code(), Some(0), "{written:?}");
    let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert!(readme.contains("| `floor/park` | 1.00 |"), "{readme}");
    assert!(
        readme.ends_with("<!-- end generated -->\n\nafter\n"),
        "{readme}"
    );
    assert_eq!(docs_command(dir.path(), true).status.code(), Some(0));
}

#[test]
fn a_malformed_block_or_missing_data_is_bad_input_named() {
    let unterminated =
        sandbox("<!-- generated by: cargo xtask docs results docs/data/readme.json -->\n");
    let out = docs_command(unterminated.path(), true);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("never ended"),
        "{out:?}"
    );

    let missing = sandbox(
        "<!-- generated by: cargo xtask docs results docs/data/none.json -->\n<!-- end generated -->\n",
    );
    let out = docs_command(missing.path(), false);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("README.md line 3") && stderr.contains("none.json"),
        "{stderr}"
    );
}
