//! How the xtask writes its files: JSON in one form ([`pretty_json`]), and atomically, so a
//! failure never leaves a truncated or half-written file behind.

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
pub fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
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
}
