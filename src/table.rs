//! The human-readable table: python-async-bench's columns plus per-call figures and the ratio to the
//! park floor measured in the same run.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};

use crate::line::Measurement;

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
    let per_call = |events: u64, count: u64| format!("{:.2}", events as f64 / count as f64);
    let mut table = aligned(&header);
    for row in rows {
        let wall = row.wall_us_per_call();
        table.add_row([
            row.id.clone(),
            seconds(row.wall_ns),
            seconds(row.cpu_total_ns),
            seconds(row.cpu_loop_ns),
            seconds(row.cpu_worker_ns),
            seconds(row.cpu_other_ns),
            format!("{wall:.2}"),
            park_us.map_or_else(|| "-".to_owned(), |park| format!("{:.2}", wall / park)),
            per_call(row.vcsw_total(), row.count),
            per_call(row.ivcsw_total(), row.count),
        ]);
    }
    format!(
        "{}\nWall and Cpu* columns: seconds for the whole run. x park: wall per call / floor/park's.\n",
        table.trim_fmt()
    )
}

/// A borderless table of `header`'s columns, two spaces apart: the id left-aligned, the
/// numbers right-aligned.
fn aligned(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(Cell::new));
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((if index == 0 { 0 } else { 2 }, 0));
        if index > 0 {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
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
            gap_us: Some(0),
            inject_ns: Some(0),
            pinned: Some(false),
            wall_ns,
            cpu_total_ns: 3_000_000_000,
            cpu_loop_ns: 1_000_000_000,
            cpu_worker_ns: 1_500_000_000,
            cpu_other_ns: 500_000_000,
            cpu_process_ns: Some(3_000_000_000),
            vcsw_loop: count,
            vcsw_worker: count,
            vcsw_other: Some(0),
            ivcsw_loop: 0,
            ivcsw_worker: count / 10,
            ivcsw_other: Some(0),
            threads: Some(2),
            inject_loops: None,
            instructions_loop: None,
            instructions_worker: None,
            instructions_other: None,
            slice: None,
            unknown: Default::default(),
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
