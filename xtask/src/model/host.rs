//! Host fingerprint: what machine, boot and toolchain produced a result file, how two differ,
//! and which of their measurements can be compared (`host_probe` reads it from this machine).
//!
//! # Which measurements two fingerprints let us compare
//!
//! 1. Times (wall and CPU per call) depend on the machine's speed, which on these VMs moves
//!    up to 3x from one boot to the next of the same machine class. They are comparable only
//!    within one boot: [`HostFingerprint::timings_comparable`] asks for the same boot id, a
//!    random 128-bit id the kernel draws at every boot, so that equal ids mean one kernel
//!    instance: the same machine in the same boot. The machine id is recorded but not
//!    required: on VMs made from one image it is the image's (here /etc/machine-id dates
//!    from the image build), the same on all of them, and minimal containers have none. A
//!    file that records no boot id never matches.
//! 2. Instruction counts do not depend on speed but on the code that runs: the compiler,
//!    the C library (whose string and memory functions are picked at run time by CPU
//!    features), valgrind (which runs and counts them) and the CPU's instruction set.
//!    [`FingerprintDiff::counts_comparable`] says whether those are recorded on both sides
//!    and equal. Crate versions are listed but not among them: Cargo.lock is part of the
//!    checkout, so another version is a change of the code under test, to be judged.
//! 3. Machine and boot ids are stored as application-specific hashes (HMAC-SHA256 keyed by
//!    the id, over a fixed application id, as systemd's `sd_id128_get_machine_app_specific`
//!    does): machine-id(5) asks that the id itself not be published, and result files are
//!    committed and posted.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Shown for an optional field one side lacks (a file from before the field existed, or a
/// value that could not be read).
pub const NOT_RECORDED: &str = "not recorded";

/// The `valgrind` value when valgrind is not installed.
pub const ABSENT: &str = "absent";

/// The fields instruction counts depend on (module docs, 2).
const COUNT_FIELDS: [&str; 5] = ["rustc", "glibc", "valgrind", "cpu_flags", "cpu_features"];

/// Toolchain fields that are not crates; a crate of one of these names is listed as
/// `crate NAME`, so that it cannot pass for the field.
const TOOLCHAIN_FIELDS: [&str; 3] = ["rustc", "glibc", "valgrind"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    // The optional fields below are absent in files from before them (and when unreadable).
    /// Application-specific hash of the machine id (/etc/machine-id, else
    /// /var/lib/dbus/machine-id), not the id itself (module docs, 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// Application-specific hash of the boot id (/proc/sys/kernel/random/boot_id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// The C library: `getconf GNU_LIBC_VERSION` (`glibc 2.36`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glibc: Option<String>,
    /// The CPU's instruction set: the first 16 hex digits of the SHA-256 of the `flags`
    /// (x86) or `Features` (arm) line of /proc/cpuinfo, its words one space apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_flags: Option<String>,
    /// Which of `host_probe::RUNTIME_FEATURES` the CPU has, in that order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_features: Option<Vec<String>>,
    /// `valgrind --version` (`valgrind-3.19.0`), or [`ABSENT`] when it is not installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valgrind: Option<String>,
}

/// One field that differs between two fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDifference {
    pub field: String,
    pub baseline: String,
    pub current: String,
}

impl fmt::Display for FieldDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} -> {}", self.field, self.baseline, self.current)
    }
}

/// How the current fingerprint differs from the baseline's: the machine itself (which makes
/// a comparison suspect) and the toolchain (which is often the change being measured). The
/// machine and boot ids are not listed: they differ between any two boots, which says
/// nothing about the machine's kind ([`HostFingerprint::timings_comparable`] uses them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintDiff {
    /// Machine fields: CPU model, cores, kernel, CPU flags and features.
    pub host: Vec<FieldDifference>,
    /// rustc, crate versions, glibc, valgrind.
    pub toolchain: Vec<FieldDifference>,
    /// Optional fields that one side, or neither, records (a file from before them, or a
    /// value that could not be read): nothing can be said to match there, but neither is it
    /// a different host. Shown as [`NOT_RECORDED`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecorded: Vec<FieldDifference>,
}

/// Why measurements of two runs cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomparable {
    /// In the xtask's own words (never text from a file).
    pub reason: String,
    /// The fields behind it, each side's value as recorded (text from the files).
    pub differences: Vec<FieldDifference>,
}

impl fmt::Display for Incomparable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)?;
        if !self.differences.is_empty() {
            let fields: Vec<String> = self.differences.iter().map(ToString::to_string).collect();
            write!(f, " ({})", fields.join(", "))?;
        }
        Ok(())
    }
}

/// Which list of a [`FingerprintDiff`] a field belongs to.
#[derive(Debug, Clone, Copy)]
enum Part {
    Host,
    Toolchain,
}

impl FingerprintDiff {
    pub fn different_host(&self) -> bool {
        !self.host.is_empty()
    }

    /// Whether instruction counts of the two runs can be compared (module docs, 2): rustc,
    /// glibc, valgrind, the CPU flags and the run-time features recorded on both sides and
    /// equal. Otherwise why not, with the fields that differ or are not recorded.
    pub fn counts_comparable(&self) -> Result<(), Incomparable> {
        let differences: Vec<FieldDifference> = self
            .toolchain
            .iter()
            .chain(&self.host)
            .chain(&self.unrecorded)
            .filter(|d| COUNT_FIELDS.contains(&d.field.as_str()))
            .cloned()
            .collect();
        if differences.is_empty() {
            return Ok(());
        }
        Err(Incomparable {
            reason: "instruction counts depend on the compiler, the C library, valgrind and \
                     the CPU's instruction set, and these differ or are not recorded"
                .to_owned(),
            differences,
        })
    }

    /// Lists an optional field: a difference when both sides record it, else unrecorded.
    fn optional(&mut self, part: Part, field: &str, baseline: Option<&str>, current: Option<&str>) {
        let difference = |b: &str, c: &str| FieldDifference {
            field: field.to_owned(),
            baseline: b.to_owned(),
            current: c.to_owned(),
        };
        match (baseline, current) {
            (Some(b), Some(c)) if b == c => {}
            (Some(b), Some(c)) => match part {
                Part::Host => self.host.push(difference(b, c)),
                Part::Toolchain => self.toolchain.push(difference(b, c)),
            },
            (b, c) => self.unrecorded.push(difference(
                b.unwrap_or(NOT_RECORDED),
                c.unwrap_or(NOT_RECORDED),
            )),
        }
    }
}

impl HostFingerprint {
    /// Whether times of the run of `self` (the baseline) and of `current` can be compared
    /// (module docs, 1): Ok when both record the same boot id; otherwise why not.
    pub fn timings_comparable(&self, current: &HostFingerprint) -> Result<(), Incomparable> {
        let field = |name: &str, b: &Option<String>, c: &Option<String>| FieldDifference {
            field: name.to_owned(),
            baseline: b.as_deref().unwrap_or(NOT_RECORDED).to_owned(),
            current: c.as_deref().unwrap_or(NOT_RECORDED).to_owned(),
        };
        let boot = field("boot", &self.boot, &current.boot);
        let reason = match (&self.boot, &current.boot) {
            (Some(b), Some(c)) if b == c => return Ok(()),
            (Some(_), Some(_)) => {
                "the two runs come from different boots, on another day or another machine"
            }
            (None, Some(_)) => {
                "the baseline records no boot id: it was written before boot ids were recorded"
            }
            (Some(_), None) => {
                "the current run records no boot id: it was written before boot ids were recorded"
            }
            (None, None) => {
                "neither run records a boot id: both were written before boot ids were recorded"
            }
        };
        let mut differences = vec![boot];
        if self.machine != current.machine {
            differences.push(field("machine", &self.machine, &current.machine));
        }
        Err(Incomparable {
            reason: reason.to_owned(),
            differences,
        })
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
            let field = if TOOLCHAIN_FIELDS.contains(&name.as_str()) {
                format!("crate {name}")
            } else {
                name.clone()
            };
            push(&mut out.toolchain, &field, b, c);
        }
        out.optional(
            Part::Host,
            "cpu_flags",
            self.cpu_flags.as_deref(),
            current.cpu_flags.as_deref(),
        );
        let features = |f: &HostFingerprint| {
            f.cpu_features.as_ref().map(|list| {
                if list.is_empty() {
                    "none".to_owned()
                } else {
                    list.join(" ")
                }
            })
        };
        out.optional(
            Part::Host,
            "cpu_features",
            features(self).as_deref(),
            features(current).as_deref(),
        );
        out.optional(
            Part::Toolchain,
            "glibc",
            self.glibc.as_deref(),
            current.glibc.as_deref(),
        );
        out.optional(
            Part::Toolchain,
            "valgrind",
            self.valgrind.as_deref(),
            current.valgrind.as_deref(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_separates_machine_from_toolchain() {
        let a = HostFingerprint {
            cpu_model: "A".into(),
            cores: 2,
            kernel: "6.1".into(),
            rustc: "rustc 1.90".into(),
            crates: [("tokio".to_owned(), "1.0".to_owned())].into(),
            ..recorded()
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

    /// A fingerprint that records every optional field.
    fn recorded() -> HostFingerprint {
        HostFingerprint {
            cpu_model: "A".into(),
            cores: 2,
            kernel: "6.1".into(),
            rustc: "rustc 1.90".into(),
            crates: [("libc".to_owned(), "0.2.1".to_owned())].into(),
            machine: Some("m1".into()),
            boot: Some("b1".into()),
            glibc: Some("glibc 2.36".into()),
            cpu_flags: Some("0123456789abcdef".into()),
            cpu_features: Some(vec!["avx2".into(), "erms".into()]),
            valgrind: Some("valgrind-3.19.0".into()),
        }
    }

    #[test]
    fn the_optional_fields_go_to_host_toolchain_or_unrecorded() {
        let a = recorded();
        assert_eq!(a.diff(&a), FingerprintDiff::default());
        let mut b = a.clone();
        b.cpu_features = Some(vec!["erms".into()]);
        b.glibc = Some("glibc 2.39".into());
        b.valgrind = None;
        let d = a.diff(&b);
        assert_eq!(d.host.len(), 1);
        assert_eq!(d.host[0].to_string(), "cpu_features: avx2 erms -> erms");
        assert_eq!(d.toolchain.len(), 1);
        assert_eq!(
            d.toolchain[0].to_string(),
            "glibc: glibc 2.36 -> glibc 2.39"
        );
        assert_eq!(d.unrecorded.len(), 1);
        assert_eq!(
            d.unrecorded[0].to_string(),
            "valgrind: valgrind-3.19.0 -> not recorded"
        );
        // Neither side recording a field is not a match either.
        let old = HostFingerprint {
            crates: a.crates.clone(),
            ..HostFingerprint::default()
        };
        let both_old = old.diff(&old);
        let fields: Vec<&str> = both_old
            .unrecorded
            .iter()
            .map(|d| d.field.as_str())
            .collect();
        assert_eq!(fields, ["cpu_flags", "cpu_features", "glibc", "valgrind"]);
        // Machine and boot are never listed: they differ on every other day.
        b = a.clone();
        b.machine = Some("m2".into());
        b.boot = Some("b2".into());
        assert_eq!(a.diff(&b), FingerprintDiff::default());
    }

    #[test]
    fn a_crate_cannot_pass_for_a_toolchain_field() {
        let mut a = recorded();
        a.crates.insert("valgrind".into(), "1.0".into());
        let mut b = a.clone();
        b.crates.insert("valgrind".into(), "2.0".into());
        let d = a.diff(&b);
        assert_eq!(d.toolchain[0].field, "crate valgrind");
        assert_eq!(d.counts_comparable(), Ok(()));
    }

    #[test]
    fn counts_are_comparable_only_with_the_same_compiler_libc_valgrind_and_cpu() {
        let a = recorded();
        assert_eq!(a.diff(&a).counts_comparable(), Ok(()));
        // What does not change the code that runs: another CPU model name, cores, kernel,
        // machine, boot; and crate versions, which are part of the code under test.
        let mut b = a.clone();
        b.cpu_model = "B".into();
        b.cores = 4;
        b.kernel = "6.9".into();
        b.machine = Some("m2".into());
        b.boot = Some("b2".into());
        b.crates.insert("libc".into(), "0.2.2".into());
        assert_eq!(a.diff(&b).counts_comparable(), Ok(()));

        /// One change of a fingerprint and the field it must be reported under.
        struct Change {
            field: &'static str,
            apply: fn(&mut HostFingerprint),
        }
        let changes = [
            Change {
                field: "rustc",
                apply: |f| f.rustc = "rustc 1.91".into(),
            },
            Change {
                field: "glibc",
                apply: |f| f.glibc = Some("glibc 2.39".into()),
            },
            Change {
                field: "valgrind",
                apply: |f| f.valgrind = Some(ABSENT.into()),
            },
            Change {
                field: "cpu_flags",
                apply: |f| f.cpu_flags = Some("fedcba9876543210".into()),
            },
            Change {
                field: "cpu_features",
                apply: |f| f.cpu_features = Some(vec![]),
            },
            Change {
                field: "glibc",
                apply: |f| f.glibc = None,
            },
        ];
        for Change { field, apply } in changes {
            let mut b = a.clone();
            apply(&mut b);
            let why = a.diff(&b).counts_comparable().unwrap_err();
            assert_eq!(why.differences.len(), 1, "{why}");
            assert_eq!(why.differences[0].field, field, "{why}");
            assert!(why.to_string().contains("instruction counts"), "{why}");
        }
    }

    #[test]
    fn timings_are_comparable_only_within_one_boot() {
        let a = recorded();
        assert_eq!(a.timings_comparable(&a), Ok(()));
        // The same boot id is one kernel instance, whatever else differs.
        let mut b = a.clone();
        b.machine = None;
        b.kernel = "6.9".into();
        assert_eq!(a.timings_comparable(&b), Ok(()));

        b = a.clone();
        b.boot = Some("b2".into());
        let why = a.timings_comparable(&b).unwrap_err();
        assert!(why.reason.contains("different boots"), "{why}");
        assert_eq!(why.to_string().matches("->").count(), 1, "{why}");
        assert!(why.to_string().ends_with("(boot: b1 -> b2)"), "{why}");
        b.machine = Some("m2".into());
        let why = a.timings_comparable(&b).unwrap_err();
        assert!(why.to_string().contains("machine: m1 -> m2"), "{why}");

        let old = HostFingerprint::default();
        let why = old.timings_comparable(&a).unwrap_err();
        assert!(
            why.reason.contains("the baseline records no boot id"),
            "{why}"
        );
        assert!(
            why.to_string().contains("boot: not recorded -> b1"),
            "{why}"
        );
        let why = a.timings_comparable(&old).unwrap_err();
        assert!(
            why.reason.contains("the current run records no boot id"),
            "{why}"
        );
        assert!(old.timings_comparable(&old).is_err());
    }

    #[test]
    fn a_file_from_before_the_optional_fields_loads_and_never_matches() {
        let old: HostFingerprint = serde_json::from_str(
            r#"{"cpu_model": "A", "cores": 2, "kernel": "6.1", "rustc": "rustc 1.90",
                "crates": {"tokio": "1.54.0"}}"#,
        )
        .unwrap();
        assert_eq!(old.boot, None);
        assert_eq!(old.cpu_features, None);
        assert!(old.timings_comparable(&old).is_err());
        assert!(old.diff(&recorded()).counts_comparable().is_err());
        // And it is written back without them.
        let text = serde_json::to_string(&old).unwrap();
        assert!(!text.contains("boot") && !text.contains("glibc"), "{text}");
    }
}
