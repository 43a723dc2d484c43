//! The `--work` grammar: what one call does on the worker thread. The binary performs it;
//! the gate passes it on and records it; both parse it with this one type, and both `--help`
//! texts list [`KINDS`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One kind of work: its syntax (`spin:NS`) and what it does, for help texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The spec as typed, with its amount named (`spin:NS`).
    pub syntax: &'static str,
    /// An example of the spec (`spin:1000`).
    pub example: &'static str,
    /// What the call does.
    pub meaning: &'static str,
}

/// Every kind of work, in the order help texts list them.
pub const KINDS: [Kind; 7] = [
    Kind {
        syntax: "zero",
        example: "zero",
        meaning: "answers at once",
    },
    Kind {
        syntax: "yield",
        example: "yield",
        meaning: "sched_yield() once",
    },
    Kind {
        syntax: "spin:NS",
        example: "spin:1000",
        meaning: "busy work for NS nanoseconds",
    },
    Kind {
        syntax: "sleep:US",
        example: "sleep:50",
        meaning: "sleeps for US microseconds",
    },
    Kind {
        syntax: "loops:N",
        example: "loops:100",
        meaning: "N iterations of black-boxed arithmetic (a known instruction count)",
    },
    Kind {
        syntax: "sql-read",
        example: "sql-read",
        meaning: "one SQLite row by primary key through a cached statement",
    },
    Kind {
        syntax: "sql-write",
        example: "sql-write",
        meaning: "one SQLite row's counter incremented in its own transaction",
    },
];

/// `zero, yield, spin:NS, sleep:US, loops:N, sql-read or sql-write`: the kinds for a sentence.
pub fn kinds_sentence() -> String {
    let syntaxes: Vec<&str> = KINDS.iter().map(|k| k.syntax).collect();
    let (last, rest) = syntaxes.split_last().expect("there are kinds");
    format!("{} or {last}", rest.join(", "))
}

/// One SQL call on the run's SQLite database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// `sql-read`: one row by primary key through a cached prepared statement.
    PointRead,
    /// `sql-write`: one row's counter incremented in its own `BEGIN IMMEDIATE` transaction,
    /// every statement cached.
    Write,
}

impl Query {
    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            Query::PointRead => "sql-read",
            Query::Write => "sql-write",
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The synchronous work a call performs before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// Nothing: the call only answers (python-async-bench's default, `return 0`).
    Zero,
    /// `sched_yield()` once (python-async-bench's `time.sleep(0)`).
    Yield,
    /// Busy work for this long.
    Spin(Duration),
    /// Sleep for this long.
    Sleep(Duration),
    /// This many iterations of black-boxed arithmetic: work whose instruction count is known
    /// and does not depend on time (the counterpart of `spin:NS` for instruction counts).
    Loops(u64),
    /// A query on the run's SQLite database.
    Sql(Query),
}

impl Work {
    /// Whether the work queries the run's database.
    pub fn is_sql(self) -> bool {
        matches!(self, Work::Sql(_))
    }
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
    #[error("unknown work `{spec}`: expected {expected}")]
    UnknownKind { spec: String, expected: String },
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
        let unknown = || WorkSpecError::UnknownKind {
            spec: spec.to_owned(),
            expected: kinds_sentence(),
        };
        match spec.split_once(':') {
            None => match spec {
                "zero" => Ok(Work::Zero),
                "yield" => Ok(Work::Yield),
                "sql-read" => Ok(Work::Sql(Query::PointRead)),
                "sql-write" => Ok(Work::Sql(Query::Write)),
                _ => Err(unknown()),
            },
            Some(("spin", ns)) => Ok(Work::Spin(Duration::from_nanos(amount(ns, "nanoseconds")?))),
            Some(("sleep", us)) => Ok(Work::Sleep(Duration::from_micros(amount(
                us,
                "microseconds",
            )?))),
            Some(("loops", n)) => Ok(Work::Loops(amount(n, "iterations")?)),
            Some(_) => Err(unknown()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_kind_parses_and_prints_back() {
        for kind in KINDS {
            let work: Work = kind
                .example
                .parse()
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(work.to_string(), kind.example);
            // The syntax names the example's kind.
            let stem = |s: &'static str| s.split(':').next().unwrap();
            assert_eq!(stem(kind.syntax), stem(kind.example));
        }
        assert_eq!(
            kinds_sentence(),
            "zero, yield, spin:NS, sleep:US, loops:N, sql-read or sql-write"
        );
    }

    #[test]
    fn refusals_say_what_was_expected() {
        let err = "nap".parse::<Work>().unwrap_err().to_string();
        assert!(
            err.contains("unknown work `nap`") && err.contains("sql-write"),
            "{err}"
        );
        let err = "spin:fast".parse::<Work>().unwrap_err().to_string();
        assert_eq!(
            err,
            "`spin:fast`: `fast` is not a whole number of nanoseconds"
        );
        assert!("sql-read:1".parse::<Work>().is_err());
        assert_eq!(
            "spin:1500".parse(),
            Ok(Work::Spin(Duration::from_nanos(1500)))
        );
    }
}
