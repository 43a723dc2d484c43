//! Reading one window's profiles from the folder of a counting process's callgrind dumps,
//! and summing its threads per role.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::stacks::{Costs, ThreadStacks};
use super::thread::{Tag, ThreadProfile};
use super::{
    Caps, FunctionCost, InclusiveSource, Profile, Role, RoleProfiles, Stacks, callgrind,
    sort_functions,
};

/// Why a window has no profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The folder or a dump could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A dump is not in callgrind's format.
    #[error("{} is not a callgrind dump this reader understands: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Where and what.
        source: callgrind::FormatError,
    },
    /// A dump's self costs do not add up to its own `totals:` line.
    #[error(
        "{}: its costs add up to {self_sum} instructions but its `totals:` line says {totals}",
        path.display()
    )]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// The self costs summed.
        self_sum: u64,
        /// The `totals:` line.
        totals: u64,
    },
    /// No dump of the benchmark for this process and window.
    #[error("{} holds no dump of window {window} of process {pid}", dir.display())]
    NoDumps {
        /// The folder.
        dir: PathBuf,
        /// The process.
        pid: u32,
        /// The window.
        window: u64,
    },
    /// The dumps carry no role: the binary predates role tags. Not a failure of the run:
    /// such a side simply has no profile.
    #[error("{} was written by a benchmark binary that does not tag thread roles", path.display())]
    Untagged {
        /// The first such dump.
        path: PathBuf,
    },
    /// A window of no calls has no per-call figures.
    #[error("window {window} of process {pid} made no calls")]
    ZeroCount {
        /// The process.
        pid: u32,
        /// The window.
        window: u64,
    },
}

/// Every role's profile of window `window` (1 in a normal run) of process `pid`, from the
/// dumps in `dir` (`callgrind.out.<pid>.<part>-<thread>`), per call of `count` calls, within
/// `caps`.
pub fn read_window_profiles(
    dir: &Path,
    pid: u32,
    window: u64,
    count: u64,
    caps: &Caps,
) -> Result<RoleProfiles, ProfileError> {
    if count == 0 {
        return Err(ProfileError::ZeroCount { pid, window });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ProfileError::Io { path, source }
    };
    let prefix = format!("callgrind.out.{pid}.");
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            paths.push(entry.path());
        }
    }
    // The same order whatever the folder's: sums are exact, but errors name the first.
    paths.sort();
    let mut roles: BTreeMap<Role, RoleSum> = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let dump = callgrind::parse(&text).map_err(|source| ProfileError::Format {
            path: path.clone(),
            source,
        })?;
        let Some(tag) = dump.trigger.as_deref().and_then(Tag::parse) else {
            continue;
        };
        if tag.window != window {
            continue;
        }
        let Some(role) = tag.role else {
            return Err(ProfileError::Untagged { path });
        };
        let thread = ThreadProfile::from_dump(&dump).map_err(|bad| ProfileError::Inconsistent {
            path: path.clone(),
            self_sum: bad.self_sum,
            totals: bad.totals,
        })?;
        roles.entry(role).or_default().add(thread);
    }
    if roles.is_empty() {
        return Err(ProfileError::NoDumps {
            dir: dir.to_owned(),
            pid,
            window,
        });
    }
    Ok(RoleProfiles {
        window,
        roles: roles
            .into_iter()
            .map(|(role, sum)| (role, sum.profile(count).bounded(caps)))
            .collect(),
    })
}

/// The threads of one role, summed.
#[derive(Debug, Default)]
struct RoleSum {
    threads: u32,
    instructions: u64,
    functions: HashMap<String, Costs>,
    stacks: ThreadStacks,
    /// `Calls` as soon as one thread's inclusive costs came from calls.
    from_calls: bool,
}

impl RoleSum {
    fn add(&mut self, thread: ThreadProfile) {
        self.threads += 1;
        self.instructions += thread.instructions;
        for (name, costs) in thread.functions {
            let sum = self.functions.entry(name).or_default();
            sum.self_instructions += costs.self_instructions;
            sum.inclusive_instructions += costs.inclusive_instructions;
        }
        self.stacks.add(&thread.stacks);
        self.from_calls |= thread.inclusive == InclusiveSource::Calls;
    }

    fn profile(self, count: u64) -> Profile {
        let mut functions: Vec<FunctionCost> = self
            .functions
            .into_iter()
            .map(|(name, costs)| FunctionCost {
                name,
                self_instructions: costs.self_instructions,
                inclusive_instructions: costs.inclusive_instructions,
            })
            .collect();
        sort_functions(&mut functions);
        Profile {
            count,
            threads: self.threads,
            instructions: self.instructions,
            inclusive: if self.from_calls {
                InclusiveSource::Calls
            } else {
                InclusiveSource::Stacks
            },
            cut_instructions: self.stacks.cut_instructions,
            functions,
            other_functions: None,
            stacks: if self.from_calls {
                None
            } else {
                Stacks::from_thread_stacks(&self.stacks)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOP_DUMP: &str = "desc: Trigger: Client Request: handoff-bench window=1 tid=10 role=loop\n\
        events: Ir\nfn=(1) main\n0 5\nfn=(2) poll'main\n0 20\ntotals: 25\n";

    fn folder(files: &[(&str, String)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn threads_of_one_role_are_summed_and_other_windows_and_processes_ignored() {
        let worker = |tid: u32, cost: u64| {
            format!(
                "desc: Trigger: Client Request: handoff-bench window=1 tid={tid} role=worker\n\
                 events: Ir\nfn=(1) start\n0 1\nfn=(2) run'start\n0 {cost}\ntotals: {}\n",
                cost + 1
            )
        };
        let dir = folder(&[
            ("callgrind.out.7.1-01", LOOP_DUMP.to_owned()),
            ("callgrind.out.7.2-02", worker(11, 100)),
            ("callgrind.out.7.3-03", worker(12, 300)),
            (
                "callgrind.out.7.4-02",
                worker(11, 5000).replace("window=1", "window=2"),
            ),
            ("callgrind.out.8.1-01", worker(13, 7000)),
            ("callgrind.out.7-01", "events: Ir\nfn=x\n0 9\n".to_owned()),
        ]);
        let profiles = read_window_profiles(dir.path(), 7, 1, 10, &Caps::default()).unwrap();
        assert_eq!(
            profiles.roles.keys().copied().collect::<Vec<_>>(),
            [Role::Loop, Role::Worker]
        );
        let worker = &profiles.roles[&Role::Worker];
        assert_eq!((worker.threads, worker.instructions), (2, 402));
        let run = worker.functions.iter().find(|f| f.name == "run").unwrap();
        assert_eq!(
            (run.self_instructions, run.inclusive_instructions),
            (400, 400)
        );
        assert_eq!(worker.functions[0].name, "start");
        assert_eq!(worker.functions[0].inclusive_instructions, 402);
        assert_eq!(worker.per_call(run.self_instructions), 40.0);
        assert_eq!(
            worker.stacks.as_ref().unwrap().folded(),
            "start;run 400\nstart 2\n"
        );
        assert_eq!(profiles.roles[&Role::Loop].instructions, 25);
    }

    #[test]
    fn what_goes_wrong_is_named_with_the_file() {
        let untagged = LOOP_DUMP.replace(" role=loop", "");
        let dir = folder(&[("callgrind.out.7.1-01", untagged)]);
        let error = read_window_profiles(dir.path(), 7, 1, 10, &Caps::default()).unwrap_err();
        assert!(matches!(error, ProfileError::Untagged { .. }), "{error}");
        assert!(
            error.to_string().contains("callgrind.out.7.1-01"),
            "{error}"
        );

        let dir = folder(&[(
            "callgrind.out.7.1-01",
            LOOP_DUMP.replace("totals: 25", "totals: 26"),
        )]);
        let error = read_window_profiles(dir.path(), 7, 1, 10, &Caps::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("add up to 25 instructions but its `totals:` line says 26"),
            "{error}"
        );

        let dir = folder(&[(
            "callgrind.out.7.1-01",
            LOOP_DUMP.replace("0 20", "0 twenty"),
        )]);
        let error = read_window_profiles(dir.path(), 7, 1, 10, &Caps::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("line 6: `twenty` is not a number"),
            "{error}"
        );

        let error = read_window_profiles(dir.path(), 8, 1, 10, &Caps::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("holds no dump of window 1 of process 8"),
            "{error}"
        );
        let error = read_window_profiles(dir.path(), 7, 1, 0, &Caps::default()).unwrap_err();
        assert!(matches!(error, ProfileError::ZeroCount { .. }));
        let missing = dir.path().join("missing");
        let error = read_window_profiles(&missing, 7, 1, 10, &Caps::default()).unwrap_err();
        assert!(error.to_string().starts_with("cannot read "), "{error}");
    }
}
