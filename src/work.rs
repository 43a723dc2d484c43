//! What one call does on the worker thread (the seed's WORK knob).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The synchronous work a call performs before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Nothing: the call only answers (the seed's default, `return 0`).
    Zero,
    /// `sched_yield()` once (the seed's `time.sleep(0)`).
    Yield,
    /// Busy work for this long.
    Spin(Duration),
    /// Sleep for this long.
    Sleep(Duration),
}

impl Work {
    /// Performs the work, then answers `input + 2` (the seed's warm-up checks
    /// `7 == send(lambda x: x + 2, 5)`; every call here is checked the same way).
    #[inline]
    pub fn run(self, input: u64) -> u64 {
        match self {
            Work::Zero => {}
            Work::Yield => std::thread::yield_now(),
            Work::Spin(duration) => spin_for(duration),
            Work::Sleep(duration) => std::thread::sleep(duration),
        }
        answer(input)
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

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Work::Zero => f.write_str("zero"),
            Work::Yield => f.write_str("yield"),
            Work::Spin(d) => write!(f, "spin:{}", d.as_nanos()),
            Work::Sleep(d) => write!(f, "sleep:{}", d.as_micros()),
        }
    }
}

/// Why a `--work` spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkSpecError {
    /// Not one of the known kinds.
    #[error("unknown work `{0}`: expected zero, yield, spin:NS or sleep:US")]
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
            Some(("spin", ns)) => Ok(Work::Spin(Duration::from_nanos(amount(ns, "nanoseconds")?))),
            Some(("sleep", us)) => Ok(Work::Sleep(Duration::from_micros(amount(
                us,
                "microseconds",
            )?))),
            _ => Err(WorkSpecError::UnknownKind(spec.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_display() {
        for spec in ["zero", "yield", "spin:500", "sleep:20"] {
            assert_eq!(spec.parse::<Work>().unwrap().to_string(), spec);
        }
    }

    #[test]
    fn bad_specs_name_the_problem() {
        assert_eq!(
            "nap".parse::<Work>().unwrap_err().to_string(),
            "unknown work `nap`: expected zero, yield, spin:NS or sleep:US"
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
        ] {
            assert_eq!(work.run(5), 7);
        }
    }
}
