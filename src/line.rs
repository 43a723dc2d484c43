//! One configuration's result as the protocol's JSON line ([`Measurement`], defined once in
//! `handoff-protocol` for the binary and its gate; the guide's
//! `docs/book/src/formats/json-line.md` documents it).

use crate::driver::Shape;
use crate::measure::Usage;
use crate::work::Work;

pub use handoff_protocol::{ConfigId, Measurement, SCHEMA};

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The JSON line of configuration `id` run with `shape` and `work`.
pub fn of_run(id: &ConfigId, work: Work, shape: Shape, usage: &Usage) -> Measurement {
    Measurement {
        schema: SCHEMA,
        id: id.to_string(),
        runtime: id.runtime().to_owned(),
        handoff: id.handoff().to_owned(),
        count: shape.count,
        in_flight: shape.in_flight,
        work: work.to_string(),
        gap_us: Some(u64::try_from(shape.gap.as_micros()).unwrap_or(u64::MAX)),
        inject_ns: Some(nanos(shape.inject)),
        pinned: Some(shape.pin && crate::pinning::pinned()),
        wall_ns: nanos(usage.wall),
        cpu_total_ns: nanos(usage.cpu_total()),
        cpu_loop_ns: nanos(usage.loop_threads.cpu),
        cpu_worker_ns: nanos(usage.worker_threads.cpu),
        cpu_other_ns: nanos(usage.other_threads.cpu),
        cpu_process_ns: Some(nanos(usage.cpu_process)),
        vcsw_loop: usage.loop_threads.voluntary_switches,
        vcsw_worker: usage.worker_threads.voluntary_switches,
        vcsw_other: Some(usage.other_threads.voluntary_switches),
        ivcsw_loop: usage.loop_threads.involuntary_switches,
        ivcsw_worker: usage.worker_threads.involuntary_switches,
        ivcsw_other: Some(usage.other_threads.involuntary_switches),
        threads: Some(usage.threads as u64),
        inject_loops: (shape.inject_loops > 0).then_some(shape.inject_loops),
        instructions_loop: usage.instructions.map(|i| i.loop_threads),
        instructions_worker: usage.instructions.map(|i| i.worker_threads),
        instructions_other: usage.instructions.map(|i| i.other_threads),
        slice: None,
        unknown: Default::default(),
    }
}
