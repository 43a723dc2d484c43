//! What one call does on the worker thread (python-async-bench's WORK knob): plain kinds here, SQL
//! kinds on a real SQLite database in [`sql`], and what a worker thread holds to run them in
//! [`session`].

pub mod session;
pub mod sql;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub use session::{Session, Workload};
pub use sql::Query;

/// The synchronous work a call performs before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Nothing: the call only answers (python-async-bench's default, `return 0`).
    Zero,
    /// `sched_yield()` once (python-async-bench's `time.sleep(0)`).
    Yield,
    /// Busy work for this long.
    Spin(Duration),
    /// Sleep for this long.
    Sleep(Duration),
    /// This many iterations of [`busy_loops`]: work whose instruction count is known and
    /// does not depend on time (the counterpart of `spin:NS` for instruction counts).
    Loops(u64),
    /// A query on the run's SQLite database ([`sql`]): needs a connection, so it runs
    /// through a [`Session`].
    Sql(Query),
}

impl Work {
    /// Performs the work, then answers `input + 2` (python-async-bench's warm-up checks
    /// `7 == send(lambda x: x + 2, 5)`; every call here is checked the same way).
    ///
    /// # Panics
    /// For [`Work::Sql`], which needs a connection ([`Work::run_on`]).
    #[inline]
    pub fn run(self, input: u64) -> u64 {
        match self {
            Work::Sql(query) => panic!("`{query}` needs a database connection"),
            Work::Zero => {}
            Work::Yield => std::thread::yield_now(),
            Work::Spin(duration) => spin_for(duration),
            Work::Sleep(duration) => std::thread::sleep(duration),
            Work::Loops(iterations) => busy_loops(iterations),
        }
        answer(input)
    }

    /// Performs the work with `connection` at hand: SQL kinds query it, the others ignore it.
    #[inline]
    pub fn run_on(self, connection: &rusqlite::Connection, input: u64) -> u64 {
        match self {
            Work::Sql(query) => query.run(connection, input),
            plain => plain.run(input),
        }
    }

    /// Whether the work queries the run's database.
    pub fn is_sql(self) -> bool {
        matches!(self, Work::Sql(_))
    }
}

/// The answer every call must give for `input`.
#[inline]
pub const fn answer(input: u64) -> u64 {
    input.wrapping_add(2)
}

/// Burns CPU on the calling thread for `duration` (without sleeping).
pub fn spin_for(duration: Duration) {
    if duration.is_zero() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// Runs `iterations` rounds of arithmetic the optimiser cannot remove or fold: the same
/// instructions every run, whatever the machine's speed (`--work loops:N`,
/// `--inject-loops N`).
#[inline(never)]
pub fn busy_loops(iterations: u64) {
    let mut state = 0u64;
    for round in 0..iterations {
        state = std::hint::black_box(
            state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(round),
        );
    }
    std::hint::black_box(state);
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Work::Zero => f.write_str("zero"),
            Work::Yield => f.write_str("yield"),
            Work::Spin(d) => write!(f, "spin:{}", d.as_nanos()),
            Work::Sleep(d) => write!(f, "sleep:{}", d.as_micros()),
            Work::Loops(n) => write!(f, "loops:{n}"),
            Work::Sql(query) => query.fmt(f),
        }
    }
}

/// Why a `--work` spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkSpecError {
    /// Not one of the known kinds.
    #[error(
        "unknown work `{0}`: expected zero, yield, spin:NS, sleep:US, loops:N, sql-read or sql-write"
    )]
    UnknownKind(String),
    /// The number after the colon is missing or not a whole number.
    #[error("`{spec}`: `{amount}` is not a whole number of {unit}")]
    BadAmount {
        spec: String,
        amount: String,
        unit: &'static str,
    },
}

impl FromStr for Work {
    type Err = WorkSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let amount = |text: &str, unit: &'static str| {
            text.parse::<u64>().map_err(|_| WorkSpecError::BadAmount {
                spec: spec.to_owned(),
                amount: text.to_owned(),
                unit,
            })
        };
        match spec.split_once(':') {
            None if spec == "zero" => Ok(Work::Zero),
            None if spec == "yield" => Ok(Work::Yield),
            None => spec
                .parse::<Query>()
                .map(Work::Sql)
                .map_err(|_| WorkSpecError::UnknownKind(spec.to_owned())),
            Some(("spin", ns)) => Ok(Work::Spin(Duration::from_nanos(amount(ns, "nanoseconds")?))),
            Some(("sleep", us)) => Ok(Work::Sleep(Duration::from_micros(amount(
                us,
                "microseconds",
            )?))),
            Some(("loops", n)) => Ok(Work::Loops(amount(n, "iterations")?)),
            _ => Err(WorkSpecError::UnknownKind(spec.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_display() {
        for spec in [
            "zero",
            "yield",
            "spin:500",
            "sleep:20",
            "loops:1000",
            "sql-read",
            "sql-write",
        ] {
            assert_eq!(spec.parse::<Work>().unwrap().to_string(), spec);
        }
    }

    #[test]
    fn bad_specs_name_the_problem() {
        assert_eq!(
            "nap".parse::<Work>().unwrap_err().to_string(),
            "unknown work `nap`: expected zero, yield, spin:NS, sleep:US, loops:N, sql-read or sql-write"
        );
        assert_eq!(
            "spin:fast".parse::<Work>().unwrap_err().to_string(),
            "`spin:fast`: `fast` is not a whole number of nanoseconds"
        );
        assert!("spin".parse::<Work>().is_err());
        assert!("zero:1".parse::<Work>().is_err());
    }

    #[test]
    fn every_kind_answers_input_plus_two() {
        for work in [
            Work::Zero,
            Work::Yield,
            Work::Spin(Duration::from_nanos(100)),
            Work::Loops(100),
        ] {
            assert_eq!(work.run(5), 7);
        }
    }
}
