//! Callgrind's dump files of the counted windows: the tag each dump carries (built without
//! allocating, in a signal handler) and reading a window's dumps back.
//!
//! The tag is `handoff-bench window=W tid=T role=R`, in callgrind's header line
//! `desc: Trigger: Client Request: TAG`, with `R` one of `loop`, `worker`, `other`: the role
//! the dumping thread had when it dumped, so that whoever reads the files (this binary, or
//! the xtask reading the per-function profiles) attributes each dump without asking the
//! process. Binaries before the role was added wrote `handoff-bench window=W tid=T`; such
//! tags still parse, with no role.

use std::collections::HashMap;
use std::path::Path;

use crate::platform::Tid;
use crate::roles::Role;

/// What every tag of ours starts with.
const TAG_START: &str = "handoff-bench window=";
/// The header line callgrind writes the tag into.
const TRIGGER_LINE: &str = "desc: Trigger: Client Request: ";

/// A NUL-terminated text built on the stack.
pub(super) struct Tag {
    bytes: [u8; 96],
    len: usize,
}

impl Tag {
    /// The tag of a dump of thread `tid` with role `role` in window `window`.
    pub(super) fn new(window: u64, tid: Tid, role: Role) -> Self {
        let mut tag = Self {
            bytes: [0; 96],
            len: 0,
        };
        tag.push_str(TAG_START);
        tag.push_number(window);
        tag.push_str(" tid=");
        tag.push_number(u64::try_from(tid).unwrap_or_default());
        tag.push_str(" role=");
        tag.push_str(role_name(role));
        tag
    }

    fn push_str(&mut self, text: &str) {
        text.bytes().for_each(|byte| self.push_byte(byte));
    }

    fn push_byte(&mut self, byte: u8) {
        // Keep the last byte for the terminating NUL.
        if self.len + 1 < self.bytes.len() {
            self.bytes[self.len] = byte;
            self.len += 1;
        }
    }

    fn push_number(&mut self, mut number: u64) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (number % 10) as u8;
            count += 1;
            number /= 10;
            if number == 0 {
                break;
            }
        }
        digits[..count]
            .iter()
            .rev()
            .for_each(|&digit| self.push_byte(digit));
    }

    /// The address of the NUL-terminated text, for the client request.
    pub(super) fn as_c_ptr(&self) -> usize {
        self.bytes.as_ptr() as usize
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        assert_eq!(self.bytes[self.len], 0, "NUL-terminated");
        std::str::from_utf8(&self.bytes[..self.len]).unwrap()
    }
}

/// The role's word in a tag (the JSON line's field suffixes use the same words): a
/// `match` to a static string, safe in a signal handler.
fn role_name(role: Role) -> &'static str {
    role.into()
}

fn role_from_name(name: &str) -> Option<Role> {
    name.parse().ok()
}

/// What one of our dumps says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dump {
    /// The window it belongs to.
    pub window: u64,
    /// The kernel thread id that dumped.
    pub tid: Tid,
    /// The role the thread had as it dumped; `None` in a dump of a binary that did not tag
    /// roles yet.
    pub role: Option<Role>,
    /// Instructions executed (callgrind's `Ir`).
    pub instructions: u64,
}

/// Parses a callgrind output file: our tag in `desc: Trigger:` and the `totals:` line (the
/// sum of the costs it attributes to functions), or the `summary:` line in a file without
/// one. Not `summary:` first: callgrind's summary also counts the instructions executed
/// while collection was switched off (measured: 5.4 M against 0.25 M attributed, for a
/// spinning thread), which is exactly what `counters::waiting` leaves out. `None` for a
/// dump that is not ours.
pub fn parse_dump(text: &str) -> Option<Dump> {
    let mut tag = None;
    let mut summary = None;
    let mut totals = None;
    for line in text.lines() {
        if let Some(trigger) = line.strip_prefix(TRIGGER_LINE) {
            tag = parse_tag(trigger.trim());
        } else if let Some(value) = line.strip_prefix("summary:") {
            summary = first_number(value);
        } else if let Some(value) = line.strip_prefix("totals:") {
            totals = first_number(value);
        }
    }
    let (window, tid, role) = tag?;
    Some(Dump {
        window,
        tid,
        role,
        instructions: totals.or(summary)?,
    })
}

/// `handoff-bench window=W tid=T [role=R]`: the role is optional (older binaries), anything
/// else after it makes the tag not ours.
fn parse_tag(tag: &str) -> Option<(u64, Tid, Option<Role>)> {
    let rest = tag.strip_prefix(TAG_START)?;
    let (window, rest) = rest.split_once(" tid=")?;
    let (tid, role) = match rest.split_once(" role=") {
        Some((tid, role)) => (tid, Some(role_from_name(role)?)),
        None => (rest, None),
    };
    Some((window.parse().ok()?, tid.parse().ok()?, role))
}

fn first_number(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// Every dump of process `pid`'s window `window` among callgrind's output files in `dir`
/// (`callgrind.out.<pid>.<part>-<thread>`), in no particular order.
pub fn read_window(dir: &Path, pid: u32, window: u64) -> std::io::Result<Vec<Dump>> {
    let prefix = format!("callgrind.out.{pid}.");
    let mut dumps = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())?;
        if let Some(dump) = parse_dump(&text)
            && dump.window == window
        {
            dumps.push(dump);
        }
    }
    Ok(dumps)
}

/// Each thread's instructions in process `pid`'s window `window`, summed over its dumps.
pub fn read_dumps(dir: &Path, pid: u32, window: u64) -> std::io::Result<HashMap<Tid, u64>> {
    let mut instructions = HashMap::new();
    for dump in read_window(dir, pid, window)? {
        *instructions.entry(dump.tid).or_insert(0) += dump.instructions;
    }
    Ok(instructions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP_FILE: &str = "version: 1\ncreator: callgrind-3.19.0\npid: 10920\ncmd:  ./t\npart: 1\nthread: 2\n\n\
desc: I1 cache: \ndesc: D1 cache: \ndesc: LL cache: \n\
desc: Timerange: Basic block 0 - 323933\n\
desc: Trigger: Client Request: handoff-bench window=3 tid=4242 role=worker\n\n\
positions: line\nevents: Ir\nsummary: 5431635\n\n\nfl= (1)\nfn= (1) work\n0 600000\n\ntotals: 600018\n";

    /// The same dump as an older binary wrote it, without the role.
    fn untagged() -> String {
        DUMP_FILE.replace(" role=worker", "")
    }

    #[test]
    fn reads_window_tid_role_and_instructions_from_a_dump_header() {
        let dump = Dump {
            window: 3,
            tid: 4242,
            role: Some(Role::Worker),
            instructions: 600_018,
        };
        assert_eq!(parse_dump(DUMP_FILE), Some(dump));
        assert_eq!(
            parse_dump(&untagged()),
            Some(Dump { role: None, ..dump }),
            "an older binary's tag has no role"
        );
        let no_totals = DUMP_FILE.replace("totals: 600018\n", "");
        assert_eq!(parse_dump(&no_totals).unwrap().instructions, 5_431_635);
    }

    #[test]
    fn dumps_that_are_not_ours_are_ignored() {
        let termination = DUMP_FILE.replace(
            "desc: Trigger: Client Request: handoff-bench window=3 tid=4242 role=worker",
            "desc: Trigger: Program termination",
        );
        assert_eq!(parse_dump(&termination), None);
        let other_tag = DUMP_FILE.replace("handoff-bench window=3", "someone-else window=3");
        assert_eq!(parse_dump(&other_tag), None);
        let unknown_role = DUMP_FILE.replace("role=worker", "role=boss");
        assert_eq!(parse_dump(&unknown_role), None);
    }

    #[test]
    fn reads_only_this_process_and_window_and_sums_per_thread() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("callgrind.out.77.1-02", DUMP_FILE);
        // The same thread dumping twice in one window (an exit dump after a signal dump is
        // impossible, but the sum is the right reading if it ever happened), once with an
        // older binary's tag.
        write(
            "callgrind.out.77.2-02",
            &untagged().replace("totals: 600018", "totals: 18"),
        );
        write(
            "callgrind.out.77.3-03",
            &DUMP_FILE.replace("window=3", "window=1"),
        );
        write("callgrind.out.78.1-02", DUMP_FILE);
        write("callgrind.out.77", "not a dump of ours");
        let counts = read_dumps(dir.path(), 77, 3).unwrap();
        assert_eq!(counts, HashMap::from([(4242, 600_036)]));
        let mut dumps = read_window(dir.path(), 77, 3).unwrap();
        dumps.sort_by_key(|dump| dump.instructions);
        let roles: Vec<_> = dumps.iter().map(|dump| dump.role).collect();
        assert_eq!(roles, [None, Some(Role::Worker)]);
    }

    #[test]
    fn tags_are_built_without_allocating_and_parse_back() {
        for role in [Role::Loop, Role::Worker, Role::Other] {
            let tag = Tag::new(u64::MAX, Tid::MAX, role);
            let expected = format!(
                "handoff-bench window={} tid={} role={}",
                u64::MAX,
                Tid::MAX,
                role_name(role)
            );
            assert_eq!(tag.text(), expected, "the longest tag fits");
            assert_eq!(
                parse_tag(tag.text()),
                Some((u64::MAX, Tid::MAX, Some(role)))
            );
        }
        let tag = Tag::new(12_345_678_901, 0, Role::Loop);
        assert_eq!(
            tag.text(),
            "handoff-bench window=12345678901 tid=0 role=loop"
        );
    }

    /// The tag as the xtask reads it: its fixtures are dumps this binary wrote under
    /// callgrind (`xtask/tests/fixtures/callgrind/*/`), and each must parse here too,
    /// with its role, and add up per role to the JSON line the binary printed then.
    #[test]
    fn the_xtask_s_captured_dumps_parse_with_their_roles() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("xtask/tests/fixtures/callgrind");
        let mut sets = 0;
        for set in std::fs::read_dir(&fixtures).unwrap() {
            let set = set.unwrap().path();
            let Ok(line) = std::fs::read_to_string(set.join("measurement.json")) else {
                continue;
            };
            sets += 1;
            let line: serde_json::Value = serde_json::from_str(&line).unwrap();
            let mut per_role = HashMap::new();
            for entry in std::fs::read_dir(&set).unwrap() {
                let path = entry.unwrap().path();
                if !path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("callgrind.out.")
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let dump =
                    parse_dump(&text).unwrap_or_else(|| panic!("{} is not ours", path.display()));
                let role = dump.role.expect("a role in every captured tag");
                *per_role.entry(role_name(role)).or_insert(0) += dump.instructions;
            }
            for role in ["loop", "worker"] {
                assert_eq!(
                    line[format!("instructions_{role}")].as_u64(),
                    per_role.get(role).copied(),
                    "{}: {role}",
                    set.display()
                );
            }
        }
        assert!(sets >= 2, "the fixtures are there");
    }
}
