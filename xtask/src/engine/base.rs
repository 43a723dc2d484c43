//! The base of a paired run: `--against GIT_REF` resolved, checked out in its worktree and
//! built there with its own target directory; or, for tests, a given executable. Checkout
//! and build happen under the bases lock, and the worktree stays marked in use as long as
//! the [`Base`] lives (`engine::worktree`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::engine::binary::{BENCH_BIN, build_release_captured};
use crate::engine::worktree;
use crate::model::host::HostFingerprint;
use crate::model::paired_record::BaseRevision;

/// The base build, ready to run.
#[derive(Debug)]
pub struct Base {
    pub revision: BaseRevision,
    pub program: PathBuf,
    /// The base worktree's fingerprint (its crate versions); for a given executable, only
    /// when its `Cargo.lock` lies beside it.
    pub fingerprint: Option<HostFingerprint>,
    /// The worktree `program` lives in, kept from other runs' pruning while the base is
    /// used; `None` for a given executable.
    pub checkout: Option<worktree::BaseCheckout>,
    /// The base's `Cargo.lock`: its worktree's; for a given executable, the file named by
    /// [`BASE_LOCKFILE_VARIABLE`] when set (tests), else the one lying beside it.
    pub lockfile: Option<PathBuf>,
}

/// For tests that give the base as an executable: the `Cargo.lock` it was built from.
pub const BASE_LOCKFILE_VARIABLE: &str = "HANDOFF_BENCH_BASE_LOCKFILE";

/// What to build as the base.
#[derive(Debug, Clone, Copy)]
pub struct BaseSpec<'a> {
    /// The head's workspace, whose repository holds the ref.
    pub root: &'a Path,
    /// The ref as given on the command line.
    pub against: &'a str,
    /// Build the ref itself, not its merge-base with HEAD.
    pub exact_ref: bool,
    /// Use this executable instead of building (tests, and the shards of a sharded run).
    pub bench_bin: Option<&'a Path>,
}

/// Resolves, checks out and builds the base; a base that does not build is an error
/// carrying cargo's stderr tail.
pub fn prepare(spec: BaseSpec<'_>) -> anyhow::Result<Base> {
    if let Some(program) = spec.bench_bin {
        return Ok(prebuilt(spec, program));
    }
    let revision = worktree::resolve(spec.root, spec.against, spec.exact_ref)
        .context("cannot resolve the --against ref")?;
    let bases = worktree::BasesLock::acquire(spec.root).context("cannot check out the base")?;
    let checkout = worktree::checkout(&bases, spec.root, &revision.commit)
        .context("cannot check out the base")?;
    let dir = checkout.dir();
    let short: String = revision.commit.chars().take(7).collect();
    eprintln!(
        "building base {short} ({}{}) in {} (release)",
        spec.against,
        if revision.merge_base {
            ", merge-base with HEAD"
        } else {
            ""
        },
        dir.display()
    );
    let built = build_release_captured(
        dir,
        &worktree::base_target_dir(spec.root),
        &format!("the base {short} ({})", spec.against),
    )?;
    let program = copy_executable(&built, &checkout.program_path(BENCH_BIN))?;
    drop(bases);
    Ok(Base {
        fingerprint: Some(HostFingerprint::detect(dir)),
        lockfile: Some(dir.join("Cargo.lock")),
        revision,
        program,
        checkout: Some(checkout),
    })
}

/// A base built elsewhere (a sharded run's build job, or a test's stand-in): named by the
/// commit the ref resolves to, when it does, and fingerprinted by the `Cargo.lock` its
/// build put beside it, when there is one (`bench.yml` does).
fn prebuilt(spec: BaseSpec<'_>, program: &Path) -> Base {
    // A build job's hand-off puts the base's Cargo.lock beside its executable: then the
    // executable was built from the ref, and the ref's commit names it. Any other
    // executable is named as what it is.
    let handed_off = program
        .parent()
        .map(|dir| dir.join("Cargo.lock"))
        .filter(|lock| lock.is_file());
    let executable = || BaseRevision {
        requested: spec.against.to_owned(),
        commit: format!("(executable {})", program.display()),
        merge_base: false,
    };
    let revision = match &handed_off {
        Some(_) => worktree::resolve(spec.root, spec.against, spec.exact_ref)
            .unwrap_or_else(|_| executable()),
        None => executable(),
    };
    let fingerprint = handed_off
        .as_ref()
        .and_then(|lock| lock.parent())
        .map(HostFingerprint::detect);
    let lockfile = std::env::var_os(BASE_LOCKFILE_VARIABLE)
        .map(PathBuf::from)
        .or(handed_off);
    Base {
        revision,
        program: program.to_owned(),
        fingerprint,
        checkout: None,
        lockfile,
    }
}

/// Copies the built executable to `to` (through a temporary name, so a reader never sees
/// half a file), mode included.
fn copy_executable(from: &Path, to: &Path) -> anyhow::Result<PathBuf> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = to.with_extension("partial");
    std::fs::copy(from, &partial)
        .and_then(|_| std::fs::rename(&partial, to))
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(to.to_owned())
}
