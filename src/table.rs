//! The human-readable table: python-async-bench's columns plus per-call figures and the ratio to the
//! park floor measured in the same run.

use std::fmt::Write;

use crate::measurement::Measurement;

/// The id whose wall time per call the `x park` column divides by.
pub const PARK_FLOOR_ID: &str = "floor/park";

/// Renders `rows` as an aligned text table, one row per measurement, in the given order.
pub fn render(rows: &[Measurement]) -> String {
    let park_us = rows
        .iter()
        .find(|row| row.id == PARK_FLOOR_ID)
        .map(Measurement::wall_us_per_call);
    let header = [
        "Framework",
        "Wall",
        "CpuTotal",
        "CpuEvtLoop",
        "CpuWorker",
        "CpuOther",
        "us/call",
        "x park",
        "vcsw/call",
        "ivcsw/call",
    ];
    let seconds = |ns: u64| format!("{:.3}", ns as f64 / 1e9);
    let body: Vec<[String; 10]> = rows
        .iter()
        .map(|row| {
            let per_call = row.wall_us_per_call();
            [
                row.id.clone(),
                seconds(row.wall_ns),
                seconds(row.cpu_total_ns),
                seconds(row.cpu_loop_ns),
                seconds(row.cpu_worker_ns),
                seconds(row.cpu_other_ns),
                format!("{per_call:.2}"),
                park_us.map_or_else(|| "-".to_owned(), |park| format!("{:.2}", per_call / park)),
                format!("{:.2}", row.voluntary_switches_per_call()),
                format!("{:.2}", row.involuntary_switches_per_call()),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            body.iter()
                .map(|cells| cells[column].len())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (column, cell) in cells.iter().enumerate() {
            // The id is left-aligned, numbers right-aligned.
            if column == 0 {
                let _ = write!(text, "{cell:<width$}", width = widths[column]);
            } else {
                let _ = write!(text, "  {cell:>width$}", width = widths[column]);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for cells in &body {
        line(&cells.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out.push_str(
        "Wall and Cpu* columns: seconds for the whole run. x park: wall per call / floor/park's.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, wall_ns: u64, count: u64) -> Measurement {
        Measurement {
            schema: 1,
            id: id.to_owned(),
            runtime: id.split('/').next().unwrap().to_owned(),
            handoff: id.split('/').nth(1).unwrap().to_owned(),
            count,
            in_flight: 1,
            work: "zero".to_owned(),
            gap_us: 0,
            inject_ns: 0,
            pinned: false,
            wall_ns,
            cpu_total_ns: 3_000_000_000,
            cpu_loop_ns: 1_000_000_000,
            cpu_worker_ns: 1_500_000_000,
            cpu_other_ns: 500_000_000,
            cpu_process_ns: 3_000_000_000,
            vcsw_loop: count,
            vcsw_worker: count,
            vcsw_other: 0,
            ivcsw_loop: 0,
            ivcsw_worker: count / 10,
            ivcsw_other: 0,
            threads: 2,
            inject_loops: 0,
            instructions_loop: None,
            instructions_worker: None,
            instructions_other: None,
            slice: None,
        }
    }

    #[test]
    fn ratio_column_divides_by_the_park_floor_of_the_same_run() {
        let table = render(&[
            row("smol/dedicated", 5_000_000_000, 250_000),
            row(PARK_FLOOR_ID, 4_000_000_000, 250_000),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "Framework        Wall  CpuTotal  CpuEvtLoop  CpuWorker  CpuOther  us/call  x park  vcsw/call  ivcsw/call"
        );
        // 20 us per call against the floor's 16 us: 1.25x.
        assert_eq!(
            lines[1],
            "smol/dedicated  5.000     3.000       1.000      1.500     0.500    20.00    1.25       2.00        0.10"
        );
        assert!(lines[2].starts_with("floor/park") && lines[2].contains(" 1.00 "));
    }

    #[test]
    fn without_a_park_floor_the_ratio_is_a_dash() {
        let table = render(&[row("smol/dedicated", 5_000_000_000, 250_000)]);
        assert!(table.lines().nth(1).unwrap().contains("20.00       -"));
    }
}
