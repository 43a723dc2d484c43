//! The profile reader and the profile diff on real callgrind dumps of the benchmark
//! (`tests/fixtures/callgrind/`, with the command that regenerates them in its README):
//! totals that add up to what the binary reported, stacks that are the stacks callgrind
//! saw, a known function added on the worker found first, hostile names kept as data, and
//! the hand-written call graph folded into its known stacks and drawn as a flame graph.

use std::path::{Path, PathBuf};

use serde_json::Value;
use xtask::comparison::profile_diff::{Presence, ProfileDiff, differential_folded};
use xtask::model::profile::{
    Caps, InclusiveSource, Profile, Role, RoleProfiles, callgrind, names, read_window_profiles,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callgrind")
}

/// Nothing left out, nothing cut: the profile as the dumps have it.
const UNBOUNDED: Caps = Caps {
    functions: usize::MAX,
    stacks: usize::MAX,
    name_chars: usize::MAX,
};

/// A captured set: its JSON line, the pid in its dump names, and its profiles.
struct Set {
    dir: PathBuf,
    line: Value,
    profiles: RoleProfiles,
}

fn set(name: &str) -> Set {
    let dir = fixtures().join(name);
    let line: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("measurement.json")).unwrap())
            .unwrap();
    let pid = std::fs::read_dir(&dir)
        .unwrap()
        .find_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("callgrind.out.")?
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .expect("a dump in the set");
    let count = line["count"].as_u64().unwrap();
    let profiles = read_window_profiles(&dir, pid, 1, count, &UNBOUNDED).unwrap();
    Set {
        dir,
        line,
        profiles,
    }
}

/// Every dump file of a set, parsed.
fn dumps(dir: &Path) -> Vec<(PathBuf, callgrind::CallgrindDump)> {
    let mut dumps = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("callgrind.out.") {
            let dump = callgrind::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            dumps.push((path, dump));
        }
    }
    assert!(!dumps.is_empty(), "dumps in {}", dir.display());
    dumps
}

fn function<'a>(profile: &'a Profile, name: &str) -> &'a xtask::model::profile::FunctionCost {
    profile
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

const PACKET_RUN: &str = "<handoff_worker::job::Packet<F,R> as handoff_worker::job::Job<T>>::run";
const ANSWER: &str = "handoff_bench::work::session::Session::answer";

#[test]
fn real_dumps_add_up_to_the_binary_s_counts_per_role() {
    for name in ["dedicated", "dedicated-plain", "dedicated-loops"] {
        let set = set(name);
        assert!(set.profiles.roles.contains_key(&Role::Worker), "{name}");
        for role in [Role::Loop, Role::Worker, Role::Other] {
            let reported = set.line[format!("instructions_{role}")].as_u64();
            let profile = set.profiles.roles.get(&role);
            assert_eq!(
                profile.map(|p| p.instructions),
                reported.filter(|&n| n > 0),
                "{name} {role:?}"
            );
            let Some(profile) = profile else { continue };
            // Self costs add up to the total (each dump's own `totals:` line is checked by
            // the reader, which refuses a dump whose costs do not add up to it).
            let self_sum: u64 = profile.functions.iter().map(|f| f.self_instructions).sum();
            assert_eq!(self_sum, profile.instructions, "{name} {role:?}");
            assert!(
                profile
                    .functions
                    .iter()
                    .all(|f| f.inclusive_instructions >= f.self_instructions)
            );
            if name == "dedicated-plain" {
                assert_eq!(profile.inclusive, InclusiveSource::Calls);
                assert!(profile.stacks.is_none());
            } else {
                assert_eq!(profile.inclusive, InclusiveSource::Stacks, "{name}");
                assert_eq!(profile.cut_instructions, 0, "depth 32 holds every stack");
                assert_eq!(
                    profile.stacks.as_ref().unwrap().total(),
                    profile.instructions
                );
                let outermost = profile.functions[0].inclusive_instructions;
                assert!(outermost <= profile.instructions);
            }
        }
    }
}

/// Each real dump's self costs add up to its `totals:` line, the count the binary reads.
/// Not to its `summary:`, which also counts what ran while collection was off (the waits
/// the benchmark leaves out: 432,932 against 67,045 on the worker here) and reads 30
/// fewer than the totals on the thread that closes the window.
#[test]
fn each_real_dump_adds_up_to_its_totals_line() {
    for name in ["dedicated", "dedicated-plain", "dedicated-loops"] {
        for (path, dump) in dumps(&fixtures().join(name)) {
            let self_sum: u64 = dump.functions.iter().map(|f| f.self_instructions).sum();
            let totals = dump.totals.expect("a totals line");
            assert_eq!(self_sum, totals, "{}", path.display());
            assert!(dump.summary.is_some(), "{}", path.display());
            assert!(!dump.calls.is_empty(), "{}: calls read", path.display());
        }
    }
}

/// Every stack is made of call pairs callgrind recorded in the same dump, starts at a
/// thread's first frame or a signal handler, and the worker's calls run where the code
/// says they run.
#[test]
fn stacks_of_a_real_dump_are_the_stacks_callgrind_saw() {
    let set = set("dedicated");
    let mut pairs = std::collections::HashSet::new();
    let mut roots = std::collections::HashSet::new();
    for (_, dump) in dumps(&set.dir) {
        let contexts: Vec<names::Context> = dump
            .functions
            .iter()
            .map(|f| names::context(&f.name))
            .collect();
        for call in &dump.calls {
            pairs.insert((
                contexts[call.caller].function().to_owned(),
                contexts[call.callee].function().to_owned(),
            ));
        }
        roots.extend(
            contexts
                .iter()
                .filter(|c| c.frames.len() == 1)
                .map(|c| c.function().to_owned()),
        );
    }
    for (role, profile) in &set.profiles.roles {
        let stacks = profile.stacks.as_ref().unwrap();
        for stack in &stacks.stacks {
            let frames: Vec<&str> = stack
                .frames
                .iter()
                .map(|&i| stacks.names[i as usize].as_str())
                .collect();
            assert!(
                roots.contains(frames[0]),
                "{role:?}: {frames:?} starts at no root"
            );
            for pair in frames.windows(2) {
                assert!(
                    pairs.contains(&(pair[0].to_owned(), pair[1].to_owned())),
                    "{role:?}: {} -> {} was never called",
                    pair[0],
                    pair[1]
                );
            }
        }
    }
    let worker = &set.profiles.roles[&Role::Worker];
    let folded = worker.stacks.as_ref().unwrap().folded();
    let answers: Vec<&str> = folded
        .lines()
        .filter(|line| line.rsplit_once(' ').unwrap().0.ends_with(ANSWER))
        .collect();
    assert_eq!(answers.len(), 1, "one stack runs the call: {answers:?}");
    assert!(
        answers[0].starts_with("clone;start_thread;"),
        "{}",
        answers[0]
    );
    assert!(
        answers[0].contains(&format!(";{PACKET_RUN};{ANSWER} ")),
        "{}",
        answers[0]
    );
    let (_, count) = answers[0].rsplit_once(' ').unwrap();
    assert_eq!(
        count.parse::<u64>().unwrap(),
        function(worker, ANSWER).self_instructions
    );
}

/// Without contexts, inclusive costs come from callgrind's call costs: right for the
/// functions whose calls all ran inside the window, the same as the stacks give.
#[test]
fn inclusive_costs_from_calls_agree_with_stacks_for_calls_inside_the_window() {
    let stacks = set("dedicated");
    let calls = set("dedicated-plain");
    let (from_stacks, from_calls) = (
        &stacks.profiles.roles[&Role::Worker],
        &calls.profiles.roles[&Role::Worker],
    );
    assert_eq!(
        from_stacks.instructions, from_calls.instructions,
        "the same work"
    );
    for name in [PACKET_RUN, ANSWER] {
        assert_eq!(
            function(from_stacks, name).inclusive_instructions,
            function(from_calls, name).inclusive_instructions,
            "{name}"
        );
    }
    assert!(
        function(from_stacks, PACKET_RUN).inclusive_instructions
            > function(from_stacks, PACKET_RUN).self_instructions
    );
}

/// `--work loops:1000` adds a known function on the worker: the diff names it first, on
/// the worker, on the head only, with the worker's whole growth per call (within 1%);
/// the loop role's functions hardly move.
#[test]
fn a_known_function_added_on_the_worker_is_the_first_change() {
    let base = set("dedicated");
    let head = set("dedicated-loops");
    let diff = ProfileDiff::between(&base.profiles, &head.profiles);
    let worker = &diff.roles[&Role::Worker];
    let growth = worker.instructions.change();
    assert!(growth > 1000.0, "the worker grew by {growth} a call");
    let first = &worker.functions[0];
    assert_eq!(first.name, "handoff_bench::work::busy_loops");
    assert_eq!(first.presence, Presence::HeadOnly);
    let added = first.self_instructions.change();
    assert!(
        (added - growth).abs() < 0.01 * growth,
        "{added} of {growth}"
    );
    assert_eq!(first.inclusive_instructions.change(), added);
    // The frames everything on the worker runs under grew by the whole growth.
    let clone = worker.functions.iter().find(|c| c.name == "clone").unwrap();
    assert!((clone.inclusive_instructions.change() - growth).abs() < 1e-9);
    let loop_role = &diff.roles[&Role::Loop];
    for change in &loop_role.functions {
        assert!(
            change.self_instructions.change().abs() < 0.01 * growth,
            "loop: {} moved by {}",
            change.name,
            change.self_instructions.change()
        );
    }
}

/// Names come from the code under test: markdown, HTML, mentions and very long names are
/// kept as data (the renderer escapes them); only the length is bounded.
#[test]
fn hostile_names_are_kept_as_data_and_bounded_in_length() {
    let hostile = [
        "<script>alert('x')</script>",
        "**bold** _it_ [link](https://evil.example) ![img](x.png)",
        "@everyone @org/team #123",
        "| a | b |\n",
        "<!-- hidden -->",
    ];
    let long = format!("crate::{}::f", "very_long_segment".repeat(200));
    let mut text = String::from(
        "desc: Trigger: Client Request: handoff-bench window=1 tid=5 role=worker\nevents: Ir\n",
    );
    for (i, name) in hostile
        .iter()
        .map(|n| n.trim_end())
        .chain([long.as_str()])
        .enumerate()
    {
        text.push_str(&format!("fn=({}) {name}\n0 {}\n", i + 1, 10 * (i + 1)));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("callgrind.out.9.1-01"), &text).unwrap();
    let caps = Caps {
        name_chars: 100,
        ..Caps::default()
    };
    let profiles = read_window_profiles(dir.path(), 9, 1, 10, &caps).unwrap();
    let worker = &profiles.roles[&Role::Worker];
    let listed: Vec<&str> = worker.functions.iter().map(|f| f.name.as_str()).collect();
    for name in hostile {
        assert!(listed.contains(&name.trim_end()), "{name:?} in {listed:?}");
    }
    let cut = listed.iter().find(|n| n.starts_with("crate::")).unwrap();
    assert_eq!(cut.chars().count(), 100);
    assert!(cut.ends_with(names::CUT_MARK));
    let json = serde_json::to_string(&profiles).unwrap();
    let back: RoleProfiles = serde_json::from_str(&json).unwrap();
    assert_eq!(back, profiles);
}

/// Bounded to the defaults, a real profile keeps its totals and stays small.
#[test]
fn a_bounded_real_profile_keeps_its_totals_and_its_size() {
    let set = set("dedicated");
    let caps = Caps::default();
    let mut bytes = 0;
    for profile in set.profiles.roles.values() {
        let bounded = profile.clone().bounded(&caps);
        assert!(bounded.functions.len() <= caps.functions);
        let kept: u64 = bounded.functions.iter().map(|f| f.self_instructions).sum();
        let left = bounded.other_functions.map_or(0, |o| o.self_instructions);
        assert_eq!(kept + left, profile.instructions);
        let stacks = bounded.stacks.as_ref().unwrap();
        assert!(stacks.stacks.len() <= caps.stacks);
        assert_eq!(stacks.total(), profile.instructions);
        bytes += serde_json::to_string(&bounded).unwrap().len();
    }
    assert!(bytes < 100_000, "{bytes} bytes of JSON");
}

/// The folded stacks are what flame graph tools read: inferno draws them with every
/// instruction of the role, and the differential file of base and head with the added
/// function in it.
#[test]
fn folded_stacks_render_as_flame_graphs() {
    let base = set("dedicated");
    let head = set("dedicated-loops");
    let render = |folded: &str| {
        let mut options = inferno::flamegraph::Options::default();
        options.count_name = "instructions".to_owned();
        let mut svg = Vec::new();
        inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg).unwrap();
        String::from_utf8(svg).unwrap()
    };
    for (role, profile) in &base.profiles.roles {
        let svg = render(&profile.stacks.as_ref().unwrap().folded());
        assert!(
            svg.contains(&format!("total_samples=\"{}\"", profile.instructions)),
            "{role:?}: the flame graph holds every instruction"
        );
    }
    let (base_worker, head_worker) = (
        &base.profiles.roles[&Role::Worker],
        &head.profiles.roles[&Role::Worker],
    );
    let differential = differential_folded(
        (base_worker.stacks.as_ref().unwrap(), base_worker.count),
        (head_worker.stacks.as_ref().unwrap(), head_worker.count),
        1,
    );
    let busy = differential
        .lines()
        .find(|line| line.contains("busy_loops"))
        .unwrap();
    let counts: Vec<&str> = busy.rsplitn(3, ' ').take(2).collect();
    assert_eq!(counts[1], "0", "not on the base: {busy}");
    let svg = render(&differential);
    assert!(
        svg.contains("handoff_bench::work::busy_loops"),
        "the added function is drawn"
    );
}

/// The hand-written call graph (`known-shape.out`, its comments say which stacks it holds)
/// folds into exactly its stacks, and a head that adds a function under `run` draws it red
/// in the differential flame graph, every other frame neither red nor blue.
#[test]
fn the_known_shape_folds_into_its_stacks_and_an_added_function_is_drawn_red() {
    use xtask::model::profile::Stacks;
    use xtask::model::profile::stacks::ThreadStacks;
    use xtask::report::html::flame::{FlameGraph, SCALE};
    let known = std::fs::read_to_string(fixtures().join("known-shape.out")).unwrap();
    let stacks = |text: &str| {
        let dump = callgrind::parse(text).unwrap();
        Stacks::from_thread_stacks(&ThreadStacks::from_dump(&dump)).unwrap()
    };
    let base = stacks(&known);
    let mut folded: Vec<&str> = Vec::new();
    let text = base.folded();
    folded.extend(text.lines());
    folded.sort_unstable();
    assert_eq!(
        folded,
        [
            "[deeper callers not recorded];b;rec;rec;a;leaf 400",
            "[deeper callers not recorded];run;b;rec;rec;a 40",
            "[deeper callers not recorded];start;run;b;rec;rec 7",
            "clone 1",
            "clone;start 2",
            "clone;start;run 10",
            "clone;start;run;a 20",
            "clone;start;run;a;leaf 100",
            "clone;start;run;b 30",
            "clone;start;run;b;leaf 200",
            "clone;start;run;b;rec 5",
        ]
    );
    let head = stacks(&known.replace(
        "totals: 815",
        "fn=(12) added'run'start'clone\n0 50\n\ntotals: 865",
    ));
    let diff = differential_folded((&base, 1), (&head, 1), SCALE);
    assert!(
        diff.lines().any(|l| l == "clone;start;run;added 0 50000"),
        "{diff}"
    );
    let graph = FlameGraph::differential(&diff).unwrap();
    let added: Vec<_> = graph.frames_of("added").collect();
    assert_eq!(added.len(), 1);
    assert!(added[0].fill.is_red(), "{:?}", added[0]);
    assert!(
        added[0].title.contains("50 instr/call"),
        "{}",
        added[0].title
    );
    // `leaf` under `a`, under `b` and under the cut chain: three frames, none changed.
    assert_eq!(graph.frames_of("leaf").count(), 3);
    let others: Vec<_> = graph
        .frames
        .iter()
        .filter(|f| !f.title.starts_with("added ("))
        .collect();
    assert!(others.iter().all(|f| !f.fill.is_red() && !f.fill.is_blue()));
    let svg = graph.markup().into_string();
    assert!(svg.contains("<title>added (50 instr/call"), "{svg}");
}
