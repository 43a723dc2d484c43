//! One JSON line of the `handoff-bench` binary: the protocol's [`Measurement`], defined once
//! in `handoff-protocol` for the binary, this gate and its stand-in. Every field is typed;
//! fields of a newer binary pass through unread. The golden line both sides test against:
//! `tests/fixtures/json-line/` (here by `xtask/tests/json_line.rs`).

pub use handoff_protocol::line::{Instructions, LineError, Measurement, SCHEMA};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{"schema":1,"id":"tokio-current/dedicated","runtime":"tokio-current","handoff":"dedicated","count":250000,"in_flight":1,"work":"zero","gap_us":0,"inject_ns":0,"wall_ns":4100000000,"cpu_total_ns":5200000000,"cpu_loop_ns":2600000000,"cpu_worker_ns":2500000000,"cpu_other_ns":100000000,"cpu_process_ns":5199000000,"vcsw_loop":250000,"vcsw_worker":250000,"vcsw_other":3,"ivcsw_loop":10,"ivcsw_worker":12,"ivcsw_other":0,"threads":3}"#;

    #[test]
    fn the_example_is_a_line_of_this_schema() {
        let m = Measurement::parse_line(EXAMPLE).unwrap();
        assert_eq!((m.schema, m.threads), (SCHEMA, Some(3)));
    }
}
