//! End-to-end tests of lock-step sampling (`--sampling lockstep`): the real xtask binary
//! keeps two serving fakes side by side per block and alternates their slices; the result
//! file holds every slice with its block, side, position and slice index; a base from
//! before `--serve` falls back to whole processes.

use std::collections::BTreeMap;

use predicates::prelude::*;
use serde_json::Value;

mod sandbox;
use sandbox::{Sandbox, read_json};

const SLICES: usize = 4;

fn lockstep_args(out: &str) -> Vec<&str> {
    vec![
        "bench",
        "--against",
        "main",
        "--sampling",
        "lockstep",
        "--slices",
        "4",
        "--slice-calls",
        "500",
        "--warm-up",
        "5",
        // Hodges-Lehmann (the default) needs more than 6 blocks to get past Holm.
        "--min-blocks",
        "16",
        "--json",
        out,
    ]
}

#[test]
fn slices_alternate_abba_per_block_and_a_slower_head_regresses() {
    let sb = Sandbox::new();
    let base = sb.base_wrapper(&[("FAKE_BENCH_SLOWDOWN", "")]);
    let out = sb.path("out.json");
    sb.noisy_xtask(&lockstep_args(out.to_str().unwrap()))
        .env("HANDOFF_BENCH_BASE_BIN", &base)
        .env("FAKE_BENCH_IDS", "floor/park,floor/spin")
        .env("FAKE_BENCH_SLOWDOWN", "floor/park=1.3")
        .assert()
        .success()
        .stdout(predicate::str::contains("1 regressed"));
    let report = read_json(&out);
    let samples = report["paired"]["samples"].as_array().unwrap();
    // 16 blocks x 2 configurations x 2 sides x 4 slices.
    assert_eq!(samples.len(), 16 * 2 * 2 * SLICES);
    let mut by_pair: BTreeMap<(u64, String), Vec<&Value>> = BTreeMap::new();
    for s in samples {
        let key = (
            s["block"].as_u64().unwrap(),
            s["measurement"]["id"].as_str().unwrap().to_owned(),
        );
        by_pair.entry(key).or_default().push(s);
    }
    for ((block, id), runs) in &by_pair {
        let sides: String = runs
            .iter()
            .map(|s| if s["side"] == "base" { 'A' } else { 'B' })
            .collect();
        // The first side alternates between blocks and configurations (ABBA / BAAB), and
        // inside a block the slice pairs alternate too.
        assert!(
            sides == "ABBAABBA" || sides == "BAABBAAB",
            "block {block} {id}: {sides}"
        );
        for (k, s) in runs.iter().enumerate() {
            assert_eq!(s["slice"], k / 2, "block {block} {id}");
            assert_eq!(
                s["measurement"]["slice"],
                k / 2,
                "the process's own slice index"
            );
            assert_eq!(s["measurement"]["count"], 500);
        }
    }
    let positions: Vec<u64> = samples
        .iter()
        .filter(|s| s["block"] == 0)
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, (0..16).collect::<Vec<u64>>());
}

#[test]
fn a_base_without_serve_falls_back_to_whole_processes() {
    let sb = Sandbox::new();
    let base = sb.base_wrapper(&[("FAKE_BENCH_NO_SERVE", "1")]);
    let out = sb.path("out.json");
    sb.noisy_xtask(&lockstep_args(out.to_str().unwrap()))
        .env("HANDOFF_BENCH_BASE_BIN", &base)
        .env("FAKE_BENCH_IDS", "floor/park")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "has no --serve flag; sampling whole processes instead of lock-step",
        ));
    let report = read_json(&out);
    let samples = report["paired"]["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 16 * 2);
    assert!(samples.iter().all(|s| s.get("slice").is_none()));
}
