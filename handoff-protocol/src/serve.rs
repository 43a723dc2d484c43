//! Serve mode (`--serve`), lines on stdin and stdout: one configuration set up and warmed up
//! once, then timed windows ("slices") of as many calls as each request asks for, so the gate
//! can run a base and a head process side by side and alternate their slices.
//!
//! 1. After the warm-up the process prints [`Ready`]: `{"ready":"ID"}`.
//! 2. Each [`Request::Calls`] line `N` (a positive call count) runs one window of N calls and
//!    prints its JSON line ([`crate::Measurement`], with `slice`: the window's 0-based index).
//! 3. [`Request::Quit`] (`quit`, an empty line) or the end of input ends the process (exit 0).
//!    Any other line is a protocol error: the process names it on stderr and exits 2.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The line a serving process prints when its configuration is warmed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// The configuration id it serves.
    pub ready: String,
}

/// One input line of a serving process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Run one timed window of this many calls.
    Calls(u64),
    /// Shut the configuration down and exit.
    Quit,
}

/// A line that is not a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: expected a call count (a positive integer) or `quit`")]
pub struct RequestError {
    /// What the line said.
    pub text: String,
}

impl FromStr for Request {
    type Err = RequestError;

    fn from_str(line: &str) -> Result<Self, RequestError> {
        let text = line.trim();
        if text.is_empty() || text == "quit" {
            return Ok(Request::Quit);
        }
        match text.parse::<u64>() {
            Ok(count) if count > 0 => Ok(Request::Calls(count)),
            _ => Err(RequestError {
                text: text.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Calls(count) => write!(f, "{count}"),
            Request::Quit => f.write_str("quit"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_anything_else_is_refused() {
        for request in [Request::Calls(1000), Request::Quit] {
            assert_eq!(request.to_string().parse(), Ok(request));
        }
        assert_eq!("\n".parse(), Ok(Request::Quit));
        assert_eq!(" 7 \n".parse(), Ok(Request::Calls(7)));
        for bad in ["0", "-3", "ten", "1 2"] {
            assert!(bad.parse::<Request>().is_err(), "{bad}");
        }
        let ready = serde_json::to_string(&Ready {
            ready: "floor/park".into(),
        })
        .unwrap();
        assert_eq!(ready, r#"{"ready":"floor/park"}"#);
    }
}
