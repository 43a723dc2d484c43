//! Serve mode (`--serve`): one configuration set up and warmed up once, then timed windows
//! ("slices") of as many calls as each request asks for, so the xtask can run a base and a
//! head process side by side and alternate their slices in lock-step. The requests and
//! replies are the protocol's ([`handoff_protocol::serve`]); a line that is not a request
//! is named on stderr and the process exits 2, as for a bad flag.
//!
//! Commands are read between windows, never inside one: the wait for the next command
//! is not timed, and the threads park as they would between an application's bursts.

use std::io::{BufRead, Write};

use crate::driver::{Shape, Windows};
use crate::measure::Usage;
use handoff_protocol::serve::{Ready, Request, RequestError};

use crate::line;
use crate::suite::Configuration;
use crate::work::Work;

/// A line that is not a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("serve mode: input line {line} is {source}")]
pub struct ProtocolError {
    /// 1-based input line.
    pub line: u64,
    /// What was wrong with it.
    pub source: RequestError,
}

/// The windows of a serving process: read from `input`, reported on `output`.
struct Serve<R, W> {
    configuration: Configuration,
    work: Work,
    shape: Shape,
    input: R,
    output: W,
    lines_read: u64,
    slices: u64,
    ready_sent: bool,
    error: Option<ProtocolError>,
}

impl<R: BufRead, W: Write> Serve<R, W> {
    fn print(&mut self, line: &str) {
        // A closed stdout ends the run at the next command (read as end of input).
        let _ = writeln!(self.output, "{line}");
        let _ = self.output.flush();
    }

    /// The next command: `Some(count)`, or `None` at `quit`, an empty line, the end of
    /// input or a protocol error (kept for [`serve`]).
    fn command(&mut self) -> Option<u64> {
        let mut text = String::new();
        match self.input.read_line(&mut text) {
            Ok(0) | Err(_) => return None,
            Ok(_) => self.lines_read += 1,
        }
        match text.parse::<Request>() {
            Ok(Request::Calls(count)) => Some(count),
            Ok(Request::Quit) => None,
            Err(source) => {
                self.error = Some(ProtocolError {
                    line: self.lines_read,
                    source,
                });
                None
            }
        }
    }
}

impl<R, W> Windows for Serve<R, W>
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    fn next_window(&mut self) -> Option<u64> {
        if !self.ready_sent {
            self.ready_sent = true;
            let ready = Ready {
                ready: self.configuration.id().to_string(),
            };
            let ready = serde_json::to_string(&ready).expect("a ready line serializes");
            self.print(&ready);
        }
        self.command()
    }

    fn finished(&mut self, count: u64, usage: Usage) {
        let shape = Shape {
            count,
            ..self.shape
        };
        let mut row = line::of_run(&self.configuration.id(), self.work, shape, &usage);
        row.slice = Some(self.slices);
        self.slices += 1;
        let line = serde_json::to_string(&row).expect("a measurement serializes");
        self.print(&line);
    }
}

/// Serves `configuration` (see the module docs) until `quit` or the end of `input`;
/// returns how many windows it ran, or the protocol error that ended it.
pub fn serve<R, W>(
    configuration: Configuration,
    work: Work,
    shape: Shape,
    input: R,
    output: W,
) -> Result<u64, ProtocolError>
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let windows = Serve {
        configuration,
        work,
        shape,
        input,
        output,
        lines_read: 0,
        slices: 0,
        ready_sent: false,
        error: None,
    };
    let done = configuration.run_windows(work, shape, windows);
    match done.error {
        Some(error) => Err(error),
        None => Ok(done.slices),
    }
}
