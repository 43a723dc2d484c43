//! Host fingerprint: what machine and toolchain produced a result file, and how two differ.
//!
//! The crate versions come from the workspace's Cargo.lock, read with the `cargo-lock`
//! crate (the lock file's own parser, which resolves v3/v4's abbreviated `"name"` entries)
//! rather than `cargo metadata`: the fingerprint is taken of the head and of every base
//! worktree, where spawning cargo would cost a resolve (and may want the network or rewrite
//! the lock file), while the lock file already holds exactly the resolved versions we record.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// Written for values that could not be read.
pub const UNKNOWN: &str = "unknown";

/// The dependencies of the root package whose versions are recorded (everything the
/// benchmark links that could change its numbers).
const ROOT_PACKAGE: &str = "handoff-bench";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFingerprint {
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs (`processor` entries in /proc/cpuinfo).
    pub cores: u32,
    /// Kernel release (/proc/sys/kernel/osrelease).
    pub kernel: String,
    /// `rustc -V` output.
    pub rustc: String,
    /// Version of each direct dependency of the benchmark, from Cargo.lock.
    pub crates: BTreeMap<String, String>,
}

/// One field that differs between two fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDifference {
    pub field: String,
    pub baseline: String,
    pub current: String,
}

/// How the current fingerprint differs from the baseline's: the machine itself (which makes
/// a comparison suspect) and the toolchain (which is often the change being measured).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintDiff {
    pub host: Vec<FieldDifference>,
    pub toolchain: Vec<FieldDifference>,
}

impl FingerprintDiff {
    pub fn different_host(&self) -> bool {
        !self.host.is_empty()
    }
}

impl HostFingerprint {
    /// Reads the fingerprint of this machine; never fails (missing parts read "unknown").
    pub fn detect(workspace_root: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| UNKNOWN.to_owned());
        let processors = cpuinfo
            .lines()
            .filter(|l| l.split(':').next().map(str::trim) == Some("processor"))
            .count();
        let cores = if processors > 0 {
            processors as u32
        } else {
            std::thread::available_parallelism().map_or(0, |n| n.get() as u32)
        };
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .ok()
            .or_else(|| command_output(Command::new("uname").arg("-r")))
            .unwrap_or_else(|| UNKNOWN.to_owned());
        let rustc_path = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let rustc = command_output(
            Command::new(rustc_path)
                .arg("-V")
                .current_dir(workspace_root),
        )
        .unwrap_or_else(|| UNKNOWN.to_owned());
        let crates = std::fs::read_to_string(workspace_root.join("Cargo.lock"))
            .map(|lock| dependency_versions(&lock, ROOT_PACKAGE))
            .unwrap_or_default();
        HostFingerprint {
            cpu_model,
            cores,
            kernel,
            rustc,
            crates,
        }
    }

    /// Field-by-field differences, `self` being the baseline.
    pub fn diff(&self, current: &HostFingerprint) -> FingerprintDiff {
        let mut out = FingerprintDiff::default();
        let push = |list: &mut Vec<FieldDifference>, field: &str, b: &str, c: &str| {
            if b != c {
                list.push(FieldDifference {
                    field: field.to_owned(),
                    baseline: b.to_owned(),
                    current: c.to_owned(),
                });
            }
        };
        push(
            &mut out.host,
            "cpu_model",
            &self.cpu_model,
            &current.cpu_model,
        );
        push(
            &mut out.host,
            "cores",
            &self.cores.to_string(),
            &current.cores.to_string(),
        );
        push(&mut out.host, "kernel", &self.kernel, &current.kernel);
        push(&mut out.toolchain, "rustc", &self.rustc, &current.rustc);
        let names: std::collections::BTreeSet<&String> =
            self.crates.keys().chain(current.crates.keys()).collect();
        for name in names {
            let b = self.crates.get(name).map_or("absent", String::as_str);
            let c = current.crates.get(name).map_or("absent", String::as_str);
            push(&mut out.toolchain, name, b, c);
        }
        out
    }
}

fn command_output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Versions of the direct dependencies of `root` (normal, dev and build) in the text of a
/// Cargo.lock; empty when the text does not parse or has no such package.
pub fn dependency_versions(lock: &str, root: &str) -> BTreeMap<String, String> {
    let Ok(lockfile) = lock.parse::<cargo_lock::Lockfile>() else {
        return BTreeMap::new();
    };
    lockfile
        .packages
        .iter()
        .find(|p| p.name.as_str() == root)
        .map(|p| {
            p.dependencies
                .iter()
                .map(|d| (d.name.as_str().to_owned(), d.version.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "handoff-bench"
version = "0.1.0"
dependencies = [
 "smol",
 "tokio",
 "rand 0.9.5",
]

[[package]]
name = "rand"
version = "0.8.5"

[[package]]
name = "rand"
version = "0.9.5"

[[package]]
name = "smol"
version = "2.0.2"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "tokio"
version = "1.54.0"
dependencies = [
 "pin-project-lite",
]

[[package]]
name = "pin-project-lite"
version = "0.2.16"
"#;

    #[test]
    fn reads_direct_dependency_versions_from_cargo_lock() {
        let v = dependency_versions(LOCK, "handoff-bench");
        assert_eq!(v["smol"], "2.0.2");
        assert_eq!(v["tokio"], "1.54.0");
        assert_eq!(v["rand"], "0.9.5");
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn reads_this_workspace_s_lock_file() {
        let lock = std::fs::read_to_string(crate::workspace_root().join("Cargo.lock")).unwrap();
        let v = dependency_versions(&lock, ROOT_PACKAGE);
        let tokio = lock
            .split("[[package]]")
            .find(|entry| entry.contains("name = \"tokio\"\n"))
            .and_then(|entry| entry.lines().find_map(|l| l.strip_prefix("version = ")))
            .unwrap()
            .trim_matches('"');
        assert_eq!(v["tokio"], tokio);
        assert!(v.contains_key("smol") && v.contains_key("libc"), "{v:?}");
        assert!(!v.contains_key(ROOT_PACKAGE));
        assert!(dependency_versions("not a lock file [", ROOT_PACKAGE).is_empty());
        assert!(dependency_versions(&lock, "no-such-package").is_empty());
    }

    #[test]
    fn diff_separates_machine_from_toolchain() {
        let a = HostFingerprint {
            cpu_model: "A".into(),
            cores: 2,
            kernel: "6.1".into(),
            rustc: "rustc 1.90".into(),
            crates: [("tokio".to_owned(), "1.0".to_owned())].into(),
        };
        assert_eq!(a.diff(&a), FingerprintDiff::default());
        let mut b = a.clone();
        b.crates.insert("tokio".into(), "1.1".into());
        let d = a.diff(&b);
        assert!(!d.different_host());
        assert_eq!(d.toolchain[0].field, "tokio");
        b.cores = 4;
        assert!(a.diff(&b).different_host());
    }
}
