//! A deterministic stand-in for the `handoff-bench` binary (Contract 1), for the xtask's
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

use std::collections::HashMap;
use std::process::ExitCode;

const DEFAULT_IDS: &str = "floor/park,floor/spin,tokio-current/dedicated";

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
    let mut only: Vec<String> = Vec::new();
    let mut list = false;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed: Result<(), String> = match arg.as_str() {
            "--list" => {
                list = true;
                Ok(())
            }
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
            "--gap" | "--inject-ns" => value(&arg).map(drop),
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
    let failures = env_map("FAKE_BENCH_FAIL");
    for id in selected {
        match failures.get(id).map(String::as_str) {
            Some("crash") => {
                eprintln!("thread 'main' panicked at src/main.rs:1:1:\nfake crash of {id}");
                return ExitCode::from(101);
            }
            Some("badjson") => {
                println!("{{\"schema\":1,\"id\":\"{id}\",\"wall_ns\":");
                return ExitCode::SUCCESS;
            }
            Some("hang") => std::thread::sleep(std::time::Duration::from_secs(60)),
            Some("usage") => return usage("invalid --work"),
            _ => {}
        }
        let invocation = next_invocation(id);
        let jitter = 1.0 + (invocation % 10) as f64 * 0.002 - 0.009;
        let factor: f64 = slowdown.get(id).and_then(|f| f.parse().ok()).unwrap_or(1.0);
        let per_call_ns = match id {
            "floor/spin" => 200.0,
            "floor/park" => 14_000.0,
            _ => 16_000.0,
        } * factor
            * jitter;
        let wall = (per_call_ns * count as f64) as u64;
        let (runtime, handoff) = id.split_once('/').unwrap_or((id, ""));
        let (cpu_loop, cpu_worker, cpu_other) = (wall * 95 / 100, wall * 90 / 100, wall / 20);
        println!(
            "{{\"schema\":1,\"id\":\"{id}\",\"runtime\":\"{runtime}\",\"handoff\":\"{handoff}\",\"count\":{count},\"in_flight\":{in_flight},\"work\":\"{work}\",\"gap_us\":0,\"inject_ns\":0,\"wall_ns\":{wall},\"cpu_total_ns\":{total},\"cpu_loop_ns\":{cpu_loop},\"cpu_worker_ns\":{cpu_worker},\"cpu_other_ns\":{cpu_other},\"vcsw_loop\":{count},\"vcsw_worker\":{count},\"vcsw_other\":0,\"ivcsw_loop\":1,\"ivcsw_worker\":1,\"ivcsw_other\":0,\"threads\":3}}",
            total = cpu_loop + cpu_worker + cpu_other,
        );
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
