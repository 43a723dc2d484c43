//! What changed between two `Cargo.lock` files: every crate updated (version, or revision
//! for a crate from git), added or removed, the direct dependencies of the workspace's
//! members first, then the crates they pull in.
//!
//! # How it works
//!
//! 1. Both texts are parsed with the `cargo-lock` crate. The workspace's own packages
//!    (members and path dependencies) are those without a source; they are not listed, and
//!    a crate is direct when one of them depends on it, on either side.
//! 2. Per crate name, the versions on each side are compared (a name may be locked at
//!    several versions at once, `rand 0.8` beside `rand 0.9`): versions only the base has
//!    are paired in ascending order with versions only the head has, as updates; the rest
//!    are additions or removals.

use std::collections::{BTreeMap, BTreeSet};

use cargo_lock::{Lockfile, Package};
use serde::{Deserialize, Serialize};

/// The changed crates, direct dependencies first, each group by name and version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockDiff {
    /// Every change.
    pub changes: Vec<CrateChange>,
}

/// One crate that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrateChange {
    /// The crate's name.
    pub name: String,
    /// Its version on the base (`None`: added), with the git revision for a crate from git.
    pub base: Option<String>,
    /// Its version on the head (`None`: removed).
    pub head: Option<String>,
    /// Whether a workspace member depends on it directly (on either side).
    pub direct: bool,
}

/// A lock file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("the {side} Cargo.lock does not parse: {message}")]
pub struct LockfileError {
    /// `base` or `head`.
    pub side: &'static str,
    /// What `cargo-lock` said.
    pub message: String,
}

/// One locked version of a crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Locked {
    version: cargo_lock::Version,
    /// How it is shown: the version, and the revision for a crate from git.
    label: String,
}

/// One side's crates and the versions of them its workspace depends on directly.
#[derive(Debug, Default)]
struct Side {
    versions: BTreeMap<String, BTreeSet<Locked>>,
    direct: BTreeSet<(String, cargo_lock::Version)>,
}

/// Step 1 and 2 on the two texts.
pub fn diff_lockfiles(base: &str, head: &str) -> Result<LockDiff, LockfileError> {
    let base = side(base, "base")?;
    let head = side(head, "head")?;
    let names: BTreeSet<&String> = base.versions.keys().chain(head.versions.keys()).collect();
    let empty = BTreeSet::new();
    let mut changes = Vec::new();
    for name in names {
        let on_base = base.versions.get(name).unwrap_or(&empty);
        let on_head = head.versions.get(name).unwrap_or(&empty);
        let removed: Vec<&Locked> = on_base.difference(on_head).collect();
        let added: Vec<&Locked> = on_head.difference(on_base).collect();
        let pairs = removed.len().max(added.len());
        for i in 0..pairs {
            let (old, new) = (removed.get(i), added.get(i));
            let direct = old
                .is_some_and(|l| base.direct.contains(&(name.clone(), l.version.clone())))
                || new.is_some_and(|l| head.direct.contains(&(name.clone(), l.version.clone())));
            changes.push(CrateChange {
                name: name.clone(),
                base: old.map(|l| l.label.clone()),
                head: new.map(|l| l.label.clone()),
                direct,
            });
        }
    }
    // Stable: within each group, the order of the names and versions above.
    changes.sort_by_key(|change| !change.direct);
    Ok(LockDiff { changes })
}

fn side(text: &str, which: &'static str) -> Result<Side, LockfileError> {
    let lockfile: Lockfile = text
        .parse()
        .map_err(|error: cargo_lock::Error| LockfileError {
            side: which,
            message: error.to_string(),
        })?;
    let mut side = Side::default();
    for package in &lockfile.packages {
        if package.source.is_none() {
            for dependency in &package.dependencies {
                side.direct.insert((
                    dependency.name.as_str().to_owned(),
                    dependency.version.clone(),
                ));
            }
            continue;
        }
        side.versions
            .entry(package.name.as_str().to_owned())
            .or_default()
            .insert(locked(package));
    }
    Ok(side)
}

fn locked(package: &Package) -> Locked {
    Locked {
        version: package.version.clone(),
        label: label_of(&package.version, package.source.as_ref()),
    }
}

/// `1.2.3`, or `1.2.3 (git abcdef1)` for a crate from git, whose revision can change
/// under the same version.
fn label_of(version: &cargo_lock::Version, source: Option<&cargo_lock::SourceId>) -> String {
    match source
        .filter(|source| source.is_git())
        .and_then(|source| source.precise())
    {
        Some(revision) => format!("{version} (git {})", &revision[..revision.len().min(7)]),
        None => version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "registry+https://github.com/rust-lang/crates.io-index";

    /// A lock file of two workspace members and the given `(name, version, dependencies)`
    /// from the registry; `app` depends on `app_deps`, `tool` on `tool_deps`.
    fn lock(app_deps: &[&str], tool_deps: &[&str], crates: &[(&str, &str, &[&str])]) -> String {
        let list = |deps: &[&str]| {
            deps.iter()
                .map(|d| format!(" \"{d}\",\n"))
                .collect::<String>()
        };
        let mut text = format!(
            "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n{}]\n\n\
             [[package]]\nname = \"tool\"\nversion = \"0.1.0\"\ndependencies = [\n{}]\n",
            list(app_deps),
            list(tool_deps)
        );
        for (name, version, deps) in crates {
            text.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"{REGISTRY}\"\n"
            ));
            if !deps.is_empty() {
                text.push_str(&format!("dependencies = [\n{}]\n", list(deps)));
            }
        }
        text
    }

    fn change(name: &str, base: Option<&str>, head: Option<&str>, direct: bool) -> CrateChange {
        CrateChange {
            name: name.to_owned(),
            base: base.map(str::to_owned),
            head: head.map(str::to_owned),
            direct,
        }
    }

    #[test]
    fn updates_additions_and_removals_direct_ones_first() {
        let base = lock(
            &["tokio", "rand 0.9.0"],
            &["serde"],
            &[
                ("tokio", "1.40.0", &["mio", "pin-project-lite"]),
                ("mio", "1.0.1", &[]),
                ("pin-project-lite", "0.2.14", &[]),
                ("rand", "0.8.5", &[]),
                ("rand", "0.9.0", &["rand 0.8.5"]),
                ("serde", "1.0.200", &[]),
                ("old-helper", "0.3.0", &[]),
            ],
        );
        let head = lock(
            &["tokio", "rand 0.9.1"],
            &["serde", "anyhow"],
            &[
                ("tokio", "1.41.0", &["mio", "pin-project-lite", "bytes"]),
                ("mio", "1.0.2", &[]),
                ("pin-project-lite", "0.2.14", &[]),
                ("bytes", "1.7.0", &[]),
                ("rand", "0.8.5", &[]),
                ("rand", "0.9.1", &["rand 0.8.5"]),
                ("serde", "1.0.200", &[]),
                ("anyhow", "1.0.89", &[]),
            ],
        );
        let diff = diff_lockfiles(&base, &head).unwrap();
        assert_eq!(
            diff.changes,
            [
                change("anyhow", None, Some("1.0.89"), true),
                change("rand", Some("0.9.0"), Some("0.9.1"), true),
                change("tokio", Some("1.40.0"), Some("1.41.0"), true),
                change("bytes", None, Some("1.7.0"), false),
                change("mio", Some("1.0.1"), Some("1.0.2"), false),
                change("old-helper", Some("0.3.0"), None, false),
            ]
        );
    }

    #[test]
    fn equal_files_have_no_changes_and_the_workspace_s_own_packages_are_not_listed() {
        let text = lock(&["serde"], &[], &[("serde", "1.0.200", &[])]);
        assert!(diff_lockfiles(&text, &text).unwrap().changes.is_empty());
        let bumped = text.replace(
            "name = \"app\"\nversion = \"0.1.0\"",
            "name = \"app\"\nversion = \"0.2.0\"",
        );
        assert!(diff_lockfiles(&text, &bumped).unwrap().changes.is_empty());
    }

    #[test]
    fn a_crate_from_git_changes_with_its_revision() {
        let git = |rev: &str| {
            format!(
                "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"patched\",\n]\n\n\
                 [[package]]\nname = \"patched\"\nversion = \"0.5.0\"\nsource = \"git+https://example.com/patched?branch=main#{rev}\"\n"
            )
        };
        let diff = diff_lockfiles(
            &git("1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            &git("2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        )
        .unwrap();
        assert_eq!(
            diff.changes,
            [change(
                "patched",
                Some("0.5.0 (git 1111111)"),
                Some("0.5.0 (git 2222222)"),
                true
            )]
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_named() {
        let good = lock(&[], &[], &[]);
        let error = diff_lockfiles(&good, "version = [").unwrap_err();
        assert_eq!(error.side, "head");
        assert!(
            error
                .to_string()
                .starts_with("the head Cargo.lock does not parse: "),
            "{error}"
        );
    }

    #[test]
    fn this_workspace_s_lock_file_against_itself_with_tokio_downgraded() {
        let lock = std::fs::read_to_string(crate::workspace_root().join("Cargo.lock")).unwrap();
        let entry = lock
            .split("[[package]]")
            .find(|entry| entry.contains("name = \"tokio\"\n"))
            .unwrap();
        let version = entry
            .lines()
            .find_map(|line| line.strip_prefix("version = "))
            .unwrap()
            .trim_matches('"');
        let older = lock.replace(
            entry,
            &entry.replace(&format!("\"{version}\""), "\"1.0.0\""),
        );
        let diff = diff_lockfiles(&older, &lock).unwrap();
        assert_eq!(
            diff.changes,
            [change("tokio", Some("1.0.0"), Some(version), true)]
        );
    }
}
