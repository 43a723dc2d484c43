//! A deterministic stand-in for the `handoff-bench` binary (its JSON line: `docs/book/src/formats/json-line.md`), for the xtask's
//! integration tests only: it measures nothing and prints made-up, reproducible numbers.
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
//!   not list it, passing it is a usage error, and its JSON has no `pinned` field.
//!
//! - `FAKE_BENCH_INSTRUCTIONS`: `ID=FACTOR,...` multiplies the instruction counts of those
//!   ids (a change of the code path; `FAKE_BENCH_SLOWDOWN` changes only times).
//! - `FAKE_BENCH_INSTRUCTION_NOISE`: `ID=REL_SD,...`: with `FAKE_BENCH_STATE`, invocation `k`
//!   of those ids has its instruction counts multiplied by `exp(REL_SD * z)`, `z` a standard
//!   normal from a hash of (`FAKE_BENCH_SEED`, id, `k`) drawn apart from the timing noise's:
//!   counts that do not reproduce, as with waits counted inside pool threads.
//!
//! - `FAKE_BENCH_NO_SERVE`: set, the fake plays a binary from before `--serve`.
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
//! Its lines are serialized from [`Line`], whose fields are tested against the golden
//! fixture captured from the real binary (`tests/fixtures/json-line/`, by
//! `xtask/tests/json_line.rs`).

use std::collections::HashMap;
use std::process::ExitCode;

use serde::Serialize;

const DEFAULT_IDS: &str = "floor/park,floor/spin,tokio-current/dedicated";

/// One JSON line, field for field in the real binary's order (the JSON line).
#[derive(Debug, Serialize)]
struct Line<'a> {
    schema: u32,
    id: &'a str,
    runtime: &'a str,
    handoff: &'a str,
    count: u64,
    in_flight: u64,
    work: &'a str,
    gap_us: u64,
    inject_ns: u64,
    /// Absent when the fake plays a binary from before `--pin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pinned: Option<bool>,
    wall_ns: u64,
    cpu_total_ns: u64,
    cpu_loop_ns: u64,
    cpu_worker_ns: u64,
    cpu_other_ns: u64,
    cpu_process_ns: u64,
    vcsw_loop: u64,
    vcsw_worker: u64,
    vcsw_other: u64,
    ivcsw_loop: u64,
    ivcsw_worker: u64,
    ivcsw_other: u64,
    threads: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions_loop: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions_worker: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions_other: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slice: Option<u64>,
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

fn main() -> ExitCode {
    let ids_env = std::env::var("FAKE_BENCH_IDS").unwrap_or_else(|_| DEFAULT_IDS.to_owned());
    let ids: Vec<&str> = ids_env.split(',').filter(|s| !s.is_empty()).collect();
    let mut count: u64 = 250_000;
    let mut work = "zero".to_owned();
    let mut in_flight: u64 = 1;
    let mut inject_ns: u64 = 0;
    let mut inject_loops: u64 = 0;
    let mut only: Vec<String> = Vec::new();
    let mut list = false;
    let mut json = false;
    let mut pinned = false;
    let knows_pin = std::env::var_os("FAKE_BENCH_NO_PIN").is_none();
    let knows_serve = knows_pin && std::env::var_os("FAKE_BENCH_NO_SERVE").is_none();
    let mut serve = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed: Result<(), String> = match arg.as_str() {
            "--list" => {
                list = true;
                Ok(())
            }
            "--help" => {
                println!(
                    "Usage: handoff-bench [--count N] [--work SPEC] [--in-flight N] [--gap US] \
                     [--inject-ns N]{}{} [--only GLOB] [--format FORMAT] [--list]",
                    if knows_pin {
                        " [--inject-loops N] [--pin]"
                    } else {
                        ""
                    },
                    if knows_serve {
                        " [--serve] [--warm-up-ms MS]"
                    } else {
                        ""
                    }
                );
                return ExitCode::SUCCESS;
            }
            "--pin" if knows_pin => {
                pinned = true;
                Ok(())
            }
            "--serve" if knows_serve => {
                serve = true;
                Ok(())
            }
            "--warm-up-ms" if knows_serve => value(&arg).map(drop),
            "--count" => value("--count").and_then(|v| {
                v.parse()
                    .map(|n| count = n)
                    .map_err(|e| format!("--count: {e}"))
            }),
            "--in-flight" => value("--in-flight").and_then(|v| {
                v.parse()
                    .map(|n| in_flight = n)
                    .map_err(|e| format!("--in-flight: {e}"))
            }),
            "--work" => value("--work").map(|v| work = v),
            "--only" => value("--only").map(|v| only.push(v)),
            "--gap" => value(&arg).map(drop),
            "--inject-ns" => value("--inject-ns").and_then(|v| {
                v.parse()
                    .map(|n| inject_ns = n)
                    .map_err(|e| format!("--inject-ns: {e}"))
            }),
            "--inject-loops" if knows_pin => value("--inject-loops").and_then(|v| {
                v.parse()
                    .map(|n| inject_loops = n)
                    .map_err(|e| format!("--inject-loops: {e}"))
            }),
            "--format" => value("--format").and_then(|v| match v.as_str() {
                "json" => {
                    json = true;
                    Ok(())
                }
                "table" => Ok(()),
                other => Err(format!("unknown format {other}")),
            }),
            other => Err(format!("unknown flag {other}")),
        };
        if let Err(message) = parsed {
            return usage(&message);
        }
    }
    let selected: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| {
            only.is_empty()
                || only
                    .iter()
                    .any(|g| wildmatch::WildMatch::new(g).matches(id))
        })
        .collect();
    if list {
        for id in &selected {
            println!("{id}");
        }
        return ExitCode::SUCCESS;
    }
    if !json {
        return usage("the fake only prints --format json");
    }
    let slowdown = env_map("FAKE_BENCH_SLOWDOWN");
    let noise: f64 = std::env::var("FAKE_BENCH_NOISE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let seed: u64 = std::env::var("FAKE_BENCH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let failures = env_map("FAKE_BENCH_FAIL");
    let instruction_factors = env_map("FAKE_BENCH_INSTRUCTIONS");
    let instruction_noise = env_map("FAKE_BENCH_INSTRUCTION_NOISE");
    let counting = knows_pin && std::env::var_os("HANDOFF_BENCH_CALLGRIND_DIR").is_some();
    let window = |id: &str, count: u64, slice: Option<u64>| -> String {
        let invocation = next_invocation(id);
        let jitter = 1.0 + (invocation % 10) as f64 * 0.002 - 0.009;
        let factor: f64 = slowdown.get(id).and_then(|f| f.parse().ok()).unwrap_or(1.0);
        let z = if noise > 0.0 {
            standard_normal(seed, id, invocation)
        } else {
            0.0
        };
        let per_call_ns = match id {
            "floor/spin" => 200.0,
            "floor/park" => 14_000.0,
            _ => 16_000.0,
        } * factor
            * jitter
            * (noise * z).exp();
        let base_wall = (per_call_ns * count as f64) as u64;
        let injected = inject_ns * count;
        let wall = base_wall + injected;
        let (runtime, handoff) = id.split_once('/').unwrap_or((id, ""));
        let cpu_loop = base_wall * 95 / 100 + injected;
        let cpu_worker = base_wall * 90 / 100;
        let cpu_other = base_wall / 20;
        let cpu_total = cpu_loop + cpu_worker + cpu_other;
        let counts_sd: f64 = instruction_noise
            .get(id)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0);
        // Its own stream (the seed's complement), so adding it leaves the timing noise as is.
        let counts_noise = if counts_sd > 0.0 {
            (counts_sd * standard_normal(!seed, id, invocation)).exp()
        } else {
            1.0
        };
        let instruction_factor: f64 = instruction_factors
            .get(id)
            .and_then(|f| f.parse().ok())
            .unwrap_or(1.0)
            * counts_noise;
        let counted = |per_call: f64| counting.then_some((per_call * count as f64) as u64);
        let line = Line {
            schema: 1,
            id,
            runtime,
            handoff,
            count,
            in_flight,
            work: &work,
            gap_us: 0,
            inject_ns,
            pinned: knows_pin.then_some(pinned),
            wall_ns: wall,
            cpu_total_ns: cpu_total,
            cpu_loop_ns: cpu_loop,
            cpu_worker_ns: cpu_worker,
            cpu_other_ns: cpu_other,
            cpu_process_ns: cpu_total,
            vcsw_loop: count,
            vcsw_worker: count,
            vcsw_other: 0,
            ivcsw_loop: 1,
            ivcsw_worker: 1,
            ivcsw_other: 0,
            threads: 3,
            instructions_loop: counted(2000.0 * instruction_factor + 4.0 * inject_loops as f64),
            instructions_worker: counted(300.0 * instruction_factor),
            instructions_other: counted(0.0),
            slice,
        };
        serde_json::to_string(&line).expect("a line serializes")
    };
    if serve {
        let [id] = selected.as_slice() else {
            return usage("--serve runs one configuration");
        };
        println!("{}", serde_json::json!({ "ready": id }));
        for (slice, line) in (0u64..).zip(std::io::stdin().lines()) {
            let Ok(line) = line else { break };
            let line = line.trim();
            if line.is_empty() || line == "quit" {
                break;
            }
            let Ok(calls) = line.parse::<u64>() else {
                return usage(&format!("serve mode: bad command {line:?}"));
            };
            println!("{}", window(id, calls, Some(slice)));
        }
        return ExitCode::SUCCESS;
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
        println!("{}", window(id, count, None));
    }
    ExitCode::SUCCESS
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
