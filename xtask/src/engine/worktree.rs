//! The base checkout of `bench --against`: resolving the ref (merge-base with HEAD unless
//! exact) and a detached git worktree under `target/xtask-against/<sha>`, reused when
//! present and clean, and kept from other runs' pruning while in use.
//!
//! # How it works
//!
//! 1. `resolve`: `git rev-parse --verify REF^{commit}`, then `git merge-base SHA HEAD`
//!    unless `--exact-ref` (a pull request is judged against where it branched off, not
//!    against later commits of the base branch).
//! 2. Two runs of the xtask in one repository may check out, build and prune bases at
//!    the same time, so every change under `target/xtask-against` happens while holding
//!    [`BasesLock`], an exclusive flock on `target/xtask-against/.lock`; `checkout` takes
//!    it as a parameter, so it cannot be called without it.
//! 3. `checkout`: `git worktree prune` (forget worktrees whose directories were deleted);
//!    reuse `target/xtask-against/<sha>` when it is a worktree at that commit with no
//!    changes to tracked files; otherwise remove it and `git worktree add --detach` it.
//!    The returned [`BaseCheckout`] holds a shared flock on `<sha>.lock` for as long as
//!    the run uses the base (released by the kernel if the run dies).
//! 4. Older base worktrees beyond the [`KEEP`] most recently used are removed
//!    (`git worktree remove --force`: they hold build leftovers git would otherwise refuse
//!    to delete), so the directory does not grow without bound; but only a worktree whose
//!    `<sha>.lock` can be taken exclusively at once, that is, one no run is using. A base
//!    another run uses and finds modified is an error, not something to repair under it.
//! 5. Every base is built with one shared target directory, `target/xtask-against/target`,
//!    so a new base sha recompiles only the workspace's own crates, not every dependency,
//!    and never disturbs the head's `target/`. The executable is copied out of it into the
//!    worktree ([`BaseCheckout::program_path`]) while the lock is still held, because the
//!    next base built there overwrites the shared `release/handoff-bench`.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use thiserror::Error;

use crate::model::files::{Lock, open_lock_file};
use crate::model::paired_record::BaseRevision;

/// Base worktrees kept (the one in use included).
pub const KEEP: usize = 3;

/// Where base worktrees live, relative to the workspace root.
pub const AGAINST_DIR: &str = "target/xtask-against";

#[derive(Debug, Error)]
pub enum WorktreeError {
    #[error("{git_ref:?} does not name a commit in {}: {stderr}", repo.display())]
    UnknownRef {
        git_ref: String,
        repo: PathBuf,
        stderr: String,
    },
    #[error(
        "{git_ref} ({commit}) and HEAD have no merge-base; pass --exact-ref to compare with {git_ref} itself"
    )]
    NoMergeBase { git_ref: String, commit: String },
    #[error(
        "the base worktree {} is in use by another run and has changed files; let that run \
         finish, then run again",
        dir.display()
    )]
    InUseAndModified { dir: PathBuf },
    #[error("cannot lock {}: {error}", path.display())]
    Lock { path: PathBuf, error: String },
    #[error("git {args} failed in {}: {stderr}", dir.display())]
    Git {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
}

/// Runs git in `dir`; stdout trimmed.
fn git(dir: &Path, args: &[&str]) -> Result<String, WorktreeError> {
    let fail = |stderr: String| WorktreeError::Git {
        args: args.join(" "),
        dir: dir.to_owned(),
        stderr,
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit to build as the base (see the module docs).
pub fn resolve(repo: &Path, git_ref: &str, exact: bool) -> Result<BaseRevision, WorktreeError> {
    let commit = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{git_ref}^{{commit}}"),
        ],
    )
    .map_err(|e| WorktreeError::UnknownRef {
        git_ref: git_ref.to_owned(),
        repo: repo.to_owned(),
        stderr: match e {
            WorktreeError::Git { stderr, .. } if !stderr.is_empty() => stderr,
            _ => "unknown revision".to_owned(),
        },
    })?;
    if exact {
        return Ok(BaseRevision {
            requested: git_ref.to_owned(),
            commit,
            merge_base: false,
        });
    }
    let base =
        git(repo, &["merge-base", &commit, "HEAD"]).map_err(|_| WorktreeError::NoMergeBase {
            git_ref: git_ref.to_owned(),
            commit: commit.clone(),
        })?;
    Ok(BaseRevision {
        requested: git_ref.to_owned(),
        commit: base,
        merge_base: true,
    })
}

/// The shared target directory of every base build.
pub fn base_target_dir(repo: &Path) -> PathBuf {
    repo.join(AGAINST_DIR).join("target")
}

/// The exclusive lock on everything under [`AGAINST_DIR`] (see the module docs, 2).
#[derive(Debug)]
pub struct BasesLock {
    _held: Lock,
}

impl BasesLock {
    /// Waits until no other run is checking out, building or pruning a base.
    pub fn acquire(repo: &Path) -> Result<Self, WorktreeError> {
        let root = repo.join(AGAINST_DIR);
        let path = root.join(".lock");
        std::fs::create_dir_all(&root)
            .map_err(anyhow::Error::from)
            .and_then(|()| Lock::exclusive(&path))
            .map(|held| Self { _held: held })
            .map_err(|e| WorktreeError::Lock {
                path,
                error: format!("{e:#}"),
            })
    }
}

/// A base worktree in use: it stays on disk, whatever other runs prune, while this value
/// lives (see the module docs, 3 and 4).
#[derive(Debug)]
pub struct BaseCheckout {
    dir: PathBuf,
    _in_use: File,
}

impl BaseCheckout {
    /// The worktree's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where this base's own copy of its executable goes (see the module docs, 5).
    pub fn program_path(&self, name: &str) -> PathBuf {
        self.dir.join(".xtask-base").join(name)
    }
}

/// The lock file that marks the worktree `dir` in use.
fn in_use_path(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn lock_error(path: &Path, error: impl std::fmt::Display) -> WorktreeError {
    WorktreeError::Lock {
        path: path.to_owned(),
        error: error.to_string(),
    }
}

/// A clean worktree of `commit` under [`AGAINST_DIR`], marked in use (see the module docs).
pub fn checkout(
    _bases: &BasesLock,
    repo: &Path,
    commit: &str,
) -> Result<BaseCheckout, WorktreeError> {
    let root = repo.join(AGAINST_DIR);
    let dir = root.join(commit);
    git(repo, &["worktree", "prune"])?;
    let lock_path = in_use_path(&dir);
    let in_use =
        open_lock_file(&lock_path).map_err(|e| lock_error(&lock_path, format!("{e:#}")))?;
    // Exclusive when no other run uses this base: then it may be repaired; shared otherwise.
    let alone = match in_use.try_lock() {
        Ok(()) => true,
        Err(TryLockError::WouldBlock) => false,
        Err(TryLockError::Error(e)) => return Err(lock_error(&lock_path, e)),
    };
    let clean = dir.exists() && is_clean_checkout(&dir, commit);
    if !clean {
        if !alone {
            return Err(WorktreeError::InUseAndModified { dir });
        }
        if dir.exists() {
            remove(repo, &dir);
        }
        let dir_arg = dir.to_string_lossy().into_owned();
        git(repo, &["worktree", "add", "--detach", &dir_arg, commit])?;
    }
    in_use
        .lock_shared()
        .map_err(|e| lock_error(&lock_path, e))?;
    touch(&dir);
    prune_old(repo, &root, &dir);
    Ok(BaseCheckout {
        dir,
        _in_use: in_use,
    })
}

fn is_clean_checkout(dir: &Path, commit: &str) -> bool {
    // `git -C dir` inside a directory that is not a worktree would find the enclosing
    // repository, so check that the directory is its own top level first.
    let top = git(dir, &["rev-parse", "--show-toplevel"]).ok();
    let own = top.is_some_and(|t| Path::new(&t).canonicalize().ok() == dir.canonicalize().ok());
    own && git(dir, &["rev-parse", "HEAD"]).is_ok_and(|h| h == commit)
        && git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_ok_and(|s| s.is_empty())
}

fn touch(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn remove(repo: &Path, dir: &Path) {
    let dir_arg = dir.to_string_lossy().into_owned();
    let _ = git(repo, &["worktree", "remove", "--force", &dir_arg]);
    if dir.exists() {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = git(repo, &["worktree", "prune"]);
}

/// Removes base worktrees beyond the [`KEEP`] most recently used, never `keep` itself and
/// never one another run holds (its `<sha>.lock` cannot be taken exclusively).
fn prune_old(repo: &Path, root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut others: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|e| e.path())
        .filter(|p| p != keep && p.is_dir())
        .map(|p| {
            let mtime = p
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            (mtime, p)
        })
        .collect();
    others.sort_by_key(|o| std::cmp::Reverse(o.0));
    for (_, old) in others.into_iter().skip(KEEP.saturating_sub(1)) {
        let lock_path = in_use_path(&old);
        let Ok(in_use) = open_lock_file(&lock_path) else {
            continue;
        };
        if in_use.try_lock().is_ok() {
            remove(repo, &old);
            // Safe under the bases lock: a run opens a `<sha>.lock` only while holding it.
            let _ = std::fs::remove_file(&lock_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        git(dir, args).unwrap();
    }

    /// A repository with commits `one` and (on a branch) `two`.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        run(p, &["init", "-q", "-b", "main"]);
        run(p, &["config", "user.email", "t@example.com"]);
        run(p, &["config", "user.name", "t"]);
        std::fs::write(p.join("a.txt"), "one").unwrap();
        run(p, &["add", "a.txt"]);
        run(p, &["commit", "-qm", "one"]);
        run(p, &["checkout", "-qb", "feature"]);
        std::fs::write(p.join("a.txt"), "two").unwrap();
        run(p, &["commit", "-qam", "two"]);
        dir
    }

    #[test]
    fn merge_base_exact_and_unknown_refs() {
        let dir = repo();
        let p = dir.path();
        let one = git(p, &["rev-parse", "main"]).unwrap();
        let two = git(p, &["rev-parse", "HEAD"]).unwrap();
        // main moves on after the branch: the merge-base stays `one`.
        run(p, &["checkout", "-q", "main"]);
        std::fs::write(p.join("b.txt"), "later").unwrap();
        run(p, &["add", "b.txt"]);
        run(p, &["commit", "-qm", "later"]);
        let later = git(p, &["rev-parse", "HEAD"]).unwrap();
        run(p, &["checkout", "-q", "feature"]);
        let base = resolve(p, "main", false).unwrap();
        assert_eq!(
            (base.commit.as_str(), base.merge_base),
            (one.as_str(), true)
        );
        let exact = resolve(p, "main", true).unwrap();
        assert_eq!(
            (exact.commit.as_str(), exact.merge_base),
            (later.as_str(), false)
        );
        assert_eq!(resolve(p, "HEAD", false).unwrap().commit, two);
        let err = resolve(p, "no-such-branch", false).unwrap_err();
        assert!(matches!(err, WorktreeError::UnknownRef { .. }), "{err}");
        assert!(err.to_string().contains("no-such-branch"));
    }

    /// One run's checkout: the bases lock taken and released around it, as `base` does.
    fn check_out(repo: &Path, commit: &str) -> Result<BaseCheckout, WorktreeError> {
        checkout(&BasesLock::acquire(repo)?, repo, commit)
    }

    /// A new commit on the current branch; its sha.
    fn commit(p: &Path, text: &str) -> String {
        std::fs::write(p.join("a.txt"), text).unwrap();
        run(p, &["commit", "-qam", text]);
        // Distinct modification times of the worktrees even on coarse file systems.
        std::thread::sleep(std::time::Duration::from_millis(20));
        git(p, &["rev-parse", "HEAD"]).unwrap()
    }

    #[test]
    fn checkout_reuses_repairs_and_prunes() {
        let dir = repo();
        let p = dir.path();
        let one = git(p, &["rev-parse", "main"]).unwrap();
        let wt = check_out(p, &one).unwrap().dir().to_owned();
        assert_eq!(std::fs::read_to_string(wt.join("a.txt")).unwrap(), "one");
        // Reused as is.
        assert_eq!(check_out(p, &one).unwrap().dir(), wt);
        // A modified checkout nobody uses is recreated clean.
        std::fs::write(wt.join("a.txt"), "tampered").unwrap();
        let again = check_out(p, &one).unwrap();
        assert_eq!(
            std::fs::read_to_string(again.dir().join("a.txt")).unwrap(),
            "one"
        );
        drop(again);
        // A directory deleted behind git's back is recreated (prune forgets the old one).
        std::fs::remove_dir_all(&wt).unwrap();
        assert!(check_out(p, &one).unwrap().dir().join("a.txt").exists());
        // Only KEEP base worktrees stay.
        let mut shas = vec![one];
        for i in 0..KEEP + 1 {
            let sha = commit(p, &format!("c{i}"));
            check_out(p, &sha).unwrap();
            shas.push(sha);
        }
        let kept: Vec<bool> = shas
            .iter()
            .map(|s| p.join(AGAINST_DIR).join(s).exists())
            .collect();
        assert_eq!(kept.iter().filter(|k| **k).count(), KEEP, "{kept:?}");
        assert!(kept[shas.len() - 1]);
        assert!(!kept[0]);
        assert!(!in_use_path(&p.join(AGAINST_DIR).join(&shas[0])).exists());
        let list = git(p, &["worktree", "list"]).unwrap();
        assert_eq!(list.lines().count(), KEEP + 1, "{list}");
    }

    #[test]
    fn a_base_another_run_uses_is_neither_pruned_nor_repaired_under_it() {
        let dir = repo();
        let p = dir.path();
        let one = git(p, &["rev-parse", "main"]).unwrap();
        // Another run checked `one` out and is still building or running it.
        let other = check_out(p, &one).unwrap();
        let wt = other.dir().to_owned();
        // Meanwhile this run checks out more bases than KEEP, one after the other.
        for i in 0..KEEP + 1 {
            let sha = commit(p, &format!("c{i}"));
            check_out(p, &sha).unwrap();
        }
        assert!(wt.join("a.txt").exists(), "the other run's base was pruned");
        // Its files changed: this run does not recreate it under the other run's feet.
        std::fs::write(wt.join("a.txt"), "tampered").unwrap();
        let err = check_out(p, &one).unwrap_err();
        assert!(
            matches!(err, WorktreeError::InUseAndModified { .. }),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(wt.join("a.txt")).unwrap(),
            "tampered"
        );
        // Once the other run is done, the next checkout that exceeds KEEP prunes it.
        drop(other);
        let sha = commit(p, "after");
        check_out(p, &sha).unwrap();
        assert!(!wt.exists());
    }
}
