//! How the xtask writes its files: JSON in one form ([`pretty_json`]), atomically, so a
//! failure never leaves a truncated or half-written file behind, with the mode an ordinary
//! file would get, and under a lock where two runs may rewrite the same file ([`Lock`]).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// `value` as pretty JSON with a trailing newline: the form of every JSON file the xtask
/// writes (result files, baselines, reports, the calibration).
pub fn pretty_json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("reports serialise to JSON");
    text.push('\n');
    text
}

/// Writes `contents` to a temporary file in the target's directory, syncs it, then renames
/// it over `path`. If anything fails, whatever was at `path` is left as it was.
///
/// The file ends up with the mode a plain `File::create` would give it: an existing file's
/// own mode is kept, a new one gets 0666 less the user's umask. (A temporary file is
/// created 0600, which the rename would otherwise carry over to reports and baselines.)
pub fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = temporary_in(dir, path)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// A temporary file in `dir` whose mode is what `path` has, or would get if created.
/// An exclusive advisory lock (flock) on a lock file, released when dropped (or when the
/// process dies, so a crashed run never leaves a stale lock behind).
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// Waits for the exclusive lock on `path`, creating the (empty) lock file when missing.
    /// The lock file is separate from the data it guards because an atomic rewrite replaces
    /// the data file's inode, and a lock on the old inode would guard nothing.
    ///
    /// # Errors
    /// The lock file cannot be created or locked.
    pub fn exclusive(path: &Path) -> anyhow::Result<Self> {
        let file = open_lock_file(path)?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(Self { _file: file })
    }
}

/// Opens (creating when missing) a lock file.
///
/// # Errors
/// The file cannot be created or opened.
pub fn open_lock_file(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))
}

#[cfg(unix)]
fn temporary_in(dir: &Path, path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(existing) if existing.is_file() => {
            let tmp = tempfile::NamedTempFile::new_in(dir)?;
            // An explicit chmod is not masked by the umask: the file keeps exactly its mode.
            tmp.as_file().set_permissions(existing.permissions())?;
            Ok(tmp)
        }
        // open(2)'s mode is masked by the umask, as for any newly created file.
        _ => tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir),
    }
}

#[cfg(not(unix))]
fn temporary_in(dir: &Path, _path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::NamedTempFile::new_in(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_files_and_leaves_directories_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        write_atomically(&file, "one").unwrap();
        write_atomically(&file, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "two");
        let sub = dir.path().join("sub.json");
        std::fs::create_dir(&sub).unwrap();
        let err = write_atomically(&sub, "x").unwrap_err();
        assert!(format!("{err:#}").contains("sub.json"), "{err:#}");
        assert!(sub.is_dir());
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_umask_mode_and_an_existing_one_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        // What this process's umask gives a file created the ordinary way.
        let plain = dir.path().join("plain.json");
        std::fs::File::create(&plain).unwrap();
        let new = dir.path().join("new.json");
        write_atomically(&new, "x").unwrap();
        // (Under the usual umask 022 that is 0644, where the temporary file's was 0600.)
        assert_eq!(mode(&new), mode(&plain), "as File::create would make it");
        std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&new, "y").unwrap();
        assert_eq!(mode(&new), 0o640, "a replaced file keeps its mode");
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "y");
    }
}
