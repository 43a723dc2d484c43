//! A deterministic stand-in for the `handoff-bench` binary, for the xtask's integration tests
//! only: it measures nothing and prints made-up, reproducible numbers.
//!
//! Behaviour is steered by environment variables:
//! - `FAKE_BENCH_IDS`: comma-separated configuration ids (default: three ids).
//! - `FAKE_BENCH_SLOWDOWN`: `ID=FACTOR,...` multiplies every time of those ids.
//! - `FAKE_BENCH_FAIL`: `ID=MODE,...` with MODE `crash` (exit 101), `badjson` (a truncated
//!   line), `hang` (sleeps 60 s) or `usage` (exit 2, as for a bad flag).
//! - `FAKE_BENCH_STATE`: a directory for per-id invocation counters; with it, invocation `k`
//!   of an id is off by `(k mod 10) * 0.2% - 0.9%`, so ten runs give ten distinct values and
//!   every ten runs give the same set; without it every run is identical.
//! - `FAKE_BENCH_NOISE`: a relative standard deviation (e.g. `0.03`): with
//!   `FAKE_BENCH_STATE`, invocation `k` of an id is also multiplied by `exp(noise * z)`, `z` a
//!   standard normal drawn from a hash of (`FAKE_BENCH_SEED`, id, `k`): seeded, reproducible
//!   run-to-run noise.
//! - `FAKE_BENCH_NO_PIN`: set, the fake plays a binary from before `--pin`: `--help` does
//!   not list it, passing it is a usage error, and its JSON has no `pinned` field. Like
//!   every binary from before `--capabilities`, it then answers that flag with a usage error,
//!   so the xtask falls back to reading its `--help`.
//!
//! - `FAKE_BENCH_INSTRUCTIONS`: `ID=FACTOR,...` multiplies the instruction counts of those
//!   ids (a change of the code path; `FAKE_BENCH_SLOWDOWN` changes only times).
//! - `FAKE_BENCH_INSTRUCTION_NOISE`: `ID=REL_SD,...`: with `FAKE_BENCH_STATE`, invocation `k`
//!   of those ids has its instruction counts multiplied by `exp(REL_SD * z)`, `z` a standard
//!   normal from a hash of (`FAKE_BENCH_SEED`, id, `k`) drawn apart from the timing noise's:
//!   counts that do not reproduce, as with waits counted inside pool threads.
//!
//! - `FAKE_BENCH_DUMPS`: a folder of real callgrind dumps of one window (e.g.
//!   `xtask/tests/fixtures/callgrind/dedicated`): a counting run copies them into its dumps'
//!   folder under its own process id, as the real binary's dumps are named, so the xtask
//!   reads per-function profiles from them.
//! - `FAKE_BENCH_NO_SERVE`: set, the fake plays a binary from before `--serve` (and
//!   `--capabilities`).
//!
//! `--serve` works as the real binary's (`src/serve.rs`): `{"ready":ID}`, then one line per
//! call count read from stdin, each a window as above (every window is one invocation for
//! the jitter and the noise) with `"slice"`; `quit` or end of input ends it.
//!
//! `--inject-ns N` is honoured as the real binary does: N ns more wall time per call, spent
//! on the loop (async) side. Run with `HANDOFF_BENCH_CALLGRIND_DIR` set (as the xtask's
//! counting runs are), the fake prints instruction counts like the real binary under
//! callgrind: 2000 per call on the loop and 300 on the worker, plus `--inject-loops N` x 4
//! on the loop; they do not vary from run to run. With `FAKE_BENCH_NO_PIN` it plays a binary
//! from before counting too (no `--inject-loops`, no counts).
//!
//! Its flags are parsed by clap, its lines are the protocol's `Measurement` and its serve
//! mode the protocol's requests, as the real binary's; `xtask/tests/json_line.rs` checks its
//! lines against the golden fixture captured from the real binary
//! (`tests/fixtures/json-line/`).

use std::collections::HashMap;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser};
use handoff_protocol::serve::{Ready, Request};
use handoff_protocol::{Capabilities, Flag, Measurement, SCHEMA, Work};

const DEFAULT_IDS: &str = "floor/park,floor/spin,tokio-current/dedicated";

/// The flags, as the real binary's (`src/cli.rs`) accepts them.
#[derive(Debug, Parser)]
#[command(name = "handoff-bench")]
struct Cli {
    #[arg(long, default_value_t = 250_000)]
    count: u64,
    #[arg(long, default_value = "zero")]
    work: Work,
    #[arg(long, default_value_t = 1)]
    in_flight: u64,
    #[arg(long, default_value_t = 0)]
    gap: u64,
    #[arg(long, default_value_t = 0)]
    inject_ns: u64,
    #[arg(long, default_value_t = 0)]
    inject_loops: u64,
    #[arg(long)]
    pin: bool,
    #[arg(long)]
    only: Vec<String>,
    #[arg(long, default_value = "table")]
    format: String,
    #[arg(long)]
    list: bool,
    #[arg(long)]
    warm_up_ms: Option<u64>,
    #[arg(long)]
    serve: bool,
    #[arg(long)]
    capabilities: bool,
}

/// The flags a binary of the version the fake plays lacks: hidden from `--help`, refused
/// when given (exit 2).
fn unknown_flags(knows_pin: bool, knows_serve: bool) -> Vec<Flag> {
    let mut flags = Vec::new();
    if !knows_pin {
        flags.extend([Flag::Pin, Flag::InjectLoops]);
    }
    if !knows_serve {
        flags.extend([Flag::Serve, Flag::WarmUpMs, Flag::Capabilities]);
    }
    flags
}

/// The clap id of `flag` (`--warm-up-ms` is `warm_up_ms`).
fn arg_id(flag: Flag) -> String {
    flag.to_string().trim_start_matches("--").replace('-', "_")
}

fn env_map(name: &str) -> HashMap<String, String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// What every window of a run shares.
struct Run {
    cli: Cli,
    knows_pin: bool,
    counting: bool,
    slowdown: HashMap<String, String>,
    noise: f64,
    seed: u64,
    instruction_factors: HashMap<String, String>,
    instruction_noise: HashMap<String, String>,
}

impl Run {
    /// One window of `count` calls of `id`, as its JSON line.
    fn window(&self, id: &str, count: u64, slice: Option<u64>) -> String {
        let cli = &self.cli;
        let invocation = next_invocation(id);
        let jitter = 1.0 + (invocation % 10) as f64 * 0.002 - 0.009;
        let factor: f64 = self
            .slowdown
            .get(id)
            .and_then(|f| f.parse().ok())
            .unwrap_or(1.0);
        let z = if self.noise > 0.0 {
            standard_normal(self.seed, id, invocation)
        } else {
            0.0
        };
        let per_call_ns = match id {
            "floor/spin" => 200.0,
            "floor/park" => 14_000.0,
            _ => 16_000.0,
        } * factor
            * jitter
            * (self.noise * z).exp();
        let base_wall = (per_call_ns * count as f64) as u64;
        let injected = cli.inject_ns * count;
        let wall = base_wall + injected;
        let (runtime, handoff) = id.split_once('/').unwrap_or((id, ""));
        let cpu_loop = base_wall * 95 / 100 + injected;
        let cpu_worker = base_wall * 90 / 100;
        let cpu_other = base_wall / 20;
        let cpu_total = cpu_loop + cpu_worker + cpu_other;
        let counts_sd: f64 = self
            .instruction_noise
            .get(id)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0);
        // Its own stream (the timing noise's seed, complemented), so adding it leaves the
        // timing noise as is.
        let counts_noise = if counts_sd > 0.0 {
            (counts_sd * standard_normal(!self.seed, id, invocation)).exp()
        } else {
            1.0
        };
        let instruction_factor: f64 = self
            .instruction_factors
            .get(id)
            .and_then(|f| f.parse().ok())
            .unwrap_or(1.0)
            * counts_noise;
        let counted = |per_call: f64| self.counting.then_some((per_call * count as f64) as u64);
        let line = Measurement {
            schema: SCHEMA,
            id: id.to_owned(),
            runtime: runtime.to_owned(),
            handoff: handoff.to_owned(),
            count,
            in_flight: cli.in_flight,
            work: cli.work.to_string(),
            gap_us: Some(0),
            inject_ns: Some(cli.inject_ns),
            pinned: self.knows_pin.then_some(cli.pin),
            wall_ns: wall,
            cpu_total_ns: cpu_total,
            cpu_loop_ns: cpu_loop,
            cpu_worker_ns: cpu_worker,
            cpu_other_ns: cpu_other,
            cpu_process_ns: Some(cpu_total),
            vcsw_loop: count,
            vcsw_worker: count,
            vcsw_other: Some(0),
            ivcsw_loop: 1,
            ivcsw_worker: 1,
            ivcsw_other: Some(0),
            threads: Some(3),
            inject_loops: None,
            instructions_loop: counted(2000.0 * instruction_factor + 4.0 * cli.inject_loops as f64),
            instructions_worker: counted(300.0 * instruction_factor),
            instructions_other: counted(0.0),
            slice,
            unknown: Default::default(),
        };
        serde_json::to_string(&line).expect("a line serializes")
    }
}

fn main() -> ExitCode {
    let knows_pin = std::env::var_os("FAKE_BENCH_NO_PIN").is_none();
    let knows_serve = knows_pin && std::env::var_os("FAKE_BENCH_NO_SERVE").is_none();
    let unknown = unknown_flags(knows_pin, knows_serve);
    let mut command = Cli::command();
    for flag in &unknown {
        command = command.mut_arg(arg_id(*flag), |arg| arg.hide(true));
    }
    let matches = command.get_matches();
    for flag in &unknown {
        if matches.value_source(&arg_id(*flag)) == Some(clap::parser::ValueSource::CommandLine) {
            return usage(&format!("unexpected argument '{flag}' found"));
        }
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => return usage(&error.to_string()),
    };
    if cli.capabilities {
        let mut capabilities = Capabilities::of_this_version();
        capabilities
            .flags
            .retain(|f| !unknown.iter().any(|u| u.to_string() == *f));
        println!(
            "{}",
            serde_json::to_string(&capabilities).expect("serializes")
        );
        return ExitCode::SUCCESS;
    }
    let ids_env = std::env::var("FAKE_BENCH_IDS").unwrap_or_else(|_| DEFAULT_IDS.to_owned());
    let ids: Vec<&str> = ids_env.split(',').filter(|s| !s.is_empty()).collect();
    let selected: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| {
            cli.only.is_empty()
                || cli
                    .only
                    .iter()
                    .any(|g| wildmatch::WildMatch::new(g).matches(id))
        })
        .collect();
    if cli.list {
        for id in &selected {
            println!("{id}");
        }
        return ExitCode::SUCCESS;
    }
    match cli.format.as_str() {
        "json" => {}
        "table" => return usage("the fake only prints --format json"),
        other => return usage(&format!("unknown format {other}")),
    }
    let failures = env_map("FAKE_BENCH_FAIL");
    let serve = cli.serve;
    let count = cli.count;
    let run = Run {
        counting: knows_pin && std::env::var_os("HANDOFF_BENCH_CALLGRIND_DIR").is_some(),
        knows_pin,
        slowdown: env_map("FAKE_BENCH_SLOWDOWN"),
        noise: std::env::var("FAKE_BENCH_NOISE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        seed: std::env::var("FAKE_BENCH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        instruction_factors: env_map("FAKE_BENCH_INSTRUCTIONS"),
        instruction_noise: env_map("FAKE_BENCH_INSTRUCTION_NOISE"),
        cli,
    };
    if serve {
        let [id] = selected.as_slice() else {
            return usage("--serve runs one configuration");
        };
        let ready = Ready {
            ready: (*id).to_owned(),
        };
        println!("{}", serde_json::to_string(&ready).expect("serializes"));
        for (slice, line) in (0u64..).zip(std::io::stdin().lines()) {
            let Ok(line) = line else { break };
            match line.parse::<Request>() {
                Ok(Request::Calls(calls)) => println!("{}", run.window(id, calls, Some(slice))),
                Ok(Request::Quit) => break,
                Err(error) => return usage(&format!("serve mode: {error}")),
            }
        }
        return ExitCode::SUCCESS;
    }
    if run.counting
        && let Some(source) = std::env::var_os("FAKE_BENCH_DUMPS")
        && let Err(error) = plant_dumps(std::path::Path::new(&source))
    {
        eprintln!(
            "fake: cannot copy the dumps of {}: {error}",
            source.to_string_lossy()
        );
        return ExitCode::from(101);
    }
    for id in selected {
        match failures.get(id).map(String::as_str) {
            Some("crash") => {
                eprintln!("thread 'main' panicked at src/main.rs:1:1:\nfake crash of {id}");
                return ExitCode::from(101);
            }
            Some("badjson") => {
                // The start of a line, cut short: what a child killed mid-write leaves.
                let start = serde_json::json!({ "schema": 1, "id": id }).to_string();
                println!("{}", start.trim_end_matches('}'));
                return ExitCode::SUCCESS;
            }
            Some("hang") => std::thread::sleep(std::time::Duration::from_secs(60)),
            Some("usage") => return usage("invalid --work"),
            _ => {}
        }
        println!("{}", run.window(id, count, None));
    }
    ExitCode::SUCCESS
}

/// Copies the dumps in `source` (`callgrind.out.PID.PART-THREAD`) into the counting run's
/// folder (`HANDOFF_BENCH_CALLGRIND_DIR`) under this process's id.
fn plant_dumps(source: &std::path::Path) -> std::io::Result<()> {
    let Some(target) = std::env::var_os("HANDOFF_BENCH_CALLGRIND_DIR") else {
        return Ok(());
    };
    for entry in std::fs::read_dir(source)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(rest) = name.strip_prefix("callgrind.out.") else {
            continue;
        };
        let part = rest.split_once('.').map_or(rest, |(_, part)| part);
        let renamed = format!("callgrind.out.{}.{part}", std::process::id());
        std::fs::copy(&path, std::path::Path::new(&target).join(renamed))?;
    }
    Ok(())
}

/// Returns how many times this id ran before (0 without `FAKE_BENCH_STATE`) and counts this run.
fn next_invocation(id: &str) -> u64 {
    let Some(dir) = std::env::var_os("FAKE_BENCH_STATE") else {
        return 0;
    };
    let path = std::path::Path::new(&dir).join(id.replace('/', "__"));
    let previous = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    std::fs::write(&path, (previous + 1).to_string()).expect("fake state dir is writable");
    previous
}

/// SplitMix64: a well-mixed 64-bit hash step.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A standard normal deviate from (seed, id, invocation) by Box-Muller.
fn standard_normal(seed: u64, id: &str, invocation: u64) -> f64 {
    let mut h = splitmix64(seed);
    for b in id.bytes() {
        h = splitmix64(h ^ u64::from(b));
    }
    h = splitmix64(h ^ invocation);
    let u1 = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = ((splitmix64(h) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
