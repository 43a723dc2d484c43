//! Reads this machine's fingerprint ([`HostFingerprint::detect`]): /proc, the workspace's
//! Cargo.lock and the versions of rustc, glibc and valgrind, with the ids hashed (see the
//! `host` module docs for what each field is for).
//!
//! The crate versions come from the workspace's Cargo.lock, read with the `cargo-lock`
//! crate (the lock file's own parser, which resolves v3/v4's abbreviated `"name"` entries)
//! rather than `cargo metadata`: the fingerprint is taken of the head and of every base
//! worktree, where spawning cargo would cost a resolve (and may want the network or rewrite
//! the lock file), while the lock file already holds exactly the resolved versions we record.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::model::host::{ABSENT, HostFingerprint};

/// Written for values that could not be read.
pub const UNKNOWN: &str = "unknown";

/// The CPU features (names as in /proc/cpuinfo's `flags`) whose presence picks code at run
/// time, recorded by name so that a report can say which one differs (the hash of the whole
/// line, `cpu_flags`, decides). glibc's x86-64 string and memory functions choose between
/// SSE4.2, AVX2 (which its variants use with BMI2) and EVEX/AVX-512 (AVX512F, AVX512BW,
/// AVX512VL) implementations and their `rep movsb`/`stosb` thresholds by ERMS and FSRM;
/// Rust code that dispatches with `is_x86_feature_detected!` asks mostly for SSE4.2 and AVX2.
pub const RUNTIME_FEATURES: [&str; 8] = [
    "sse4_2", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl", "erms", "fsrm",
];

/// The message of the application-specific id hashes (`host` module docs, 3).
const APP_ID: &[u8] = b"handoff-bench host fingerprint v1";

/// Hex digits kept of each hash: 64 bits, plenty to tell boots and CPUs apart.
const HASH_HEX_DIGITS: usize = 16;

/// The dependencies of the root package whose versions are recorded (everything the
/// benchmark links that could change its numbers).
const ROOT_PACKAGE: &str = "handoff-bench";

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
        let flags = cpu_flags_line(&cpuinfo);
        HostFingerprint {
            cpu_model,
            cores,
            kernel,
            rustc,
            crates,
            machine: ["/etc/machine-id", "/var/lib/dbus/machine-id"]
                .into_iter()
                .find_map(read_id)
                .map(|id| app_specific(&id)),
            boot: read_id("/proc/sys/kernel/random/boot_id").map(|id| app_specific(&id)),
            glibc: command_output(Command::new("getconf").arg("GNU_LIBC_VERSION")),
            cpu_flags: flags.as_deref().map(short_hash),
            cpu_features: flags.as_deref().map(runtime_features),
            valgrind: valgrind_version(),
        }
    }
}

/// The trimmed content of an id file, if it has any.
fn read_id(path: &str) -> Option<String> {
    let id = std::fs::read_to_string(path).ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// The application-specific hash of an id (`host` module docs, 3).
fn app_specific(id: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(id.as_bytes()).expect("HMAC takes any key");
    mac.update(APP_ID);
    hex_prefix(&mac.finalize().into_bytes())
}

/// The first [`HASH_HEX_DIGITS`] hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    hex_prefix(&Sha256::digest(text.as_bytes()))
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(HASH_HEX_DIGITS / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The words of the first `flags` (x86) or `Features` (arm) line of /proc/cpuinfo, one
/// space apart.
fn cpu_flags_line(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        matches!(key.trim(), "flags" | "Features")
            .then(|| value.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// The [`RUNTIME_FEATURES`] among the words of a flags line, in that order.
fn runtime_features(flags: &str) -> Vec<String> {
    let present: std::collections::BTreeSet<&str> = flags.split_whitespace().collect();
    RUNTIME_FEATURES
        .into_iter()
        .filter(|f| present.contains(f))
        .map(str::to_owned)
        .collect()
}

/// `valgrind --version`, [`ABSENT`] when there is no valgrind to run, `None` when it fails.
fn valgrind_version() -> Option<String> {
    match Command::new("valgrind").arg("--version").output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(ABSENT.to_owned()),
        Err(_) => None,
        Ok(output) => output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .filter(|s| !s.is_empty()),
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
    fn cpu_flags_are_read_hashed_and_filtered() {
        let cpuinfo = "processor\t: 0\nmodel name\t: X\nflags\t\t: fpu  sse2 avx2\n\
                       processor\t: 1\nflags\t\t: other\n";
        let line = cpu_flags_line(cpuinfo).unwrap();
        assert_eq!(line, "fpu sse2 avx2");
        // Pinned values: the hash must not change between versions of this xtask.
        assert_eq!(short_hash(&line), "b00453739d144cb9");
        assert_eq!(
            runtime_features("fsrm sse2 avx2 erms"),
            ["avx2", "erms", "fsrm"]
        );
        assert_eq!(
            cpu_flags_line("Features\t: fp asimd\n").unwrap(),
            "fp asimd"
        );
        assert_eq!(cpu_flags_line("model name : X\n"), None);
    }

    #[test]
    fn ids_are_recorded_as_application_specific_hashes() {
        // Pinned value (HMAC-SHA256 keyed by the id over APP_ID, computed independently).
        assert_eq!(
            app_specific("0123456789abcdef0123456789abcdef"),
            "bcd532d3aab2a4c0"
        );
        let raw = read_id("/proc/sys/kernel/random/boot_id").expect("Linux has a boot id");
        let here = HostFingerprint::detect(&crate::workspace_root());
        let boot = here.boot.clone().unwrap();
        assert_eq!(boot.len(), HASH_HEX_DIGITS);
        assert!(boot.bytes().all(|b| b.is_ascii_hexdigit()), "{boot}");
        assert!(
            !raw.contains(&boot) && boot != raw.replace('-', "")[..16],
            "{boot}"
        );
        // Detected twice in one boot: the same, and timings compare.
        let again = HostFingerprint::detect(&crate::workspace_root());
        assert_eq!(again, here);
        assert_eq!(here.timings_comparable(&again), Ok(()));
        assert!(
            here.valgrind.is_some() && here.cpu_flags.is_some(),
            "{here:?}"
        );
        if let Some(glibc) = &here.glibc {
            assert!(glibc.starts_with("glibc 2."), "{glibc}");
        }
    }
}
