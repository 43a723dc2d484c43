//! One serving benchmark process (`handoff-bench --serve`, the binary's `src/serve.rs`):
//! started and warmed up once, then asked for timed slices of N calls, each answered by
//! one JSON line, until it is told to quit. The lock-step sampler ([`super::lockstep`])
//! keeps two of them, base and head, side by side.
//!
//! # How it works
//!
//! 1. [`Server::start`] spawns `BIN --serve --format json --only ID FLAGS...` with piped
//!    stdin and stdout, and a thread that forwards stdout's lines over a channel (so every
//!    wait has a timeout) and one that drains stderr (kept for the failure report).
//! 2. It waits for `{"ready":"ID"}`: the warm-up is over.
//! 3. [`Server::slice`] writes `N`, waits for one line, and checks it: a valid
//!    measurement of `ID` with `count` N and the next slice index.
//! 4. [`Server::finish`] writes `quit` and waits for exit status 0. Dropping a server that
//!    was not finished kills its process.
//!
//! Every wait is bounded by the command's timeout; a process that exits, prints something
//! else or misses a deadline becomes a [`ChildFailure`] naming what happened.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::engine::runner::{BenchCommand, ChildFailure, tail};
use crate::model::measurement::Measurement;

/// The binary's flag for serve mode.
pub const SERVE_FLAG: &str = "--serve";
/// The binary's warm-up flag, which came with serve mode.
pub const WARM_UP_FLAG: &str = "--warm-up-ms";

/// A running `--serve` process for one configuration.
#[derive(Debug)]
pub struct Server {
    id: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    timeout: Duration,
    slices: u64,
}

impl Server {
    /// Starts `command` serving `id` and waits until it has warmed up.
    pub fn start(command: &BenchCommand, id: &str) -> Result<Self, ChildFailure> {
        let mut child = Command::new(&command.program)
            .args([SERVE_FLAG, "--format", "json", "--only", id])
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ChildFailure::Spawn {
                program: command.program.clone(),
                source,
            })?;
        let stdin = child.stdin.take();
        let (sender, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                buf
            })
        });
        let mut server = Server {
            id: id.to_owned(),
            child,
            stdin,
            lines,
            stderr,
            timeout: command.timeout,
            slices: 0,
        };
        let ready = server.next_line("the warm-up")?;
        let expected = serde_json::json!({ "ready": id }).to_string();
        if ready.trim() != expected {
            return Err(server.bad_output(format!(
                "expected {expected} after the warm-up, got {:?}",
                truncated(&ready)
            )));
        }
        Ok(server)
    }

    /// Runs one timed slice of `calls` calls and returns its measurement.
    pub fn slice(&mut self, calls: u64) -> Result<Measurement, ChildFailure> {
        self.send(&calls.to_string())?;
        let line = self.next_line("a slice")?;
        let measurement = match Measurement::parse_line(&line) {
            Ok(m) => m,
            Err(e) => return Err(self.bad_output(e.to_string())),
        };
        let problem = if measurement.id != self.id {
            Some(format!("asked for {}, got {}", self.id, measurement.id))
        } else if measurement.count != calls {
            Some(format!(
                "asked for {calls} calls, got {}",
                measurement.count
            ))
        } else if measurement.slice != Some(self.slices) {
            Some(format!(
                "expected slice {}, got {:?}",
                self.slices, measurement.slice
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(self.bad_output(problem));
        }
        self.slices += 1;
        Ok(measurement)
    }

    /// Tells the process to quit and waits for a clean exit.
    pub fn finish(mut self) -> Result<(), ChildFailure> {
        self.send("quit")?;
        // Closing stdin as well: a process that missed `quit` ends at end of input.
        drop(self.stdin.take());
        match self.child.wait_timeout(self.timeout) {
            Ok(Some(status)) if status.success() => Ok(()),
            Ok(Some(status)) => Err(ChildFailure::Exit {
                status: status.to_string(),
                stderr_tail: self.stderr_tail(),
            }),
            Ok(None) | Err(_) => Err(self.timed_out()),
        }
    }

    fn send(&mut self, command: &str) -> Result<(), ChildFailure> {
        let written = self
            .stdin
            .as_mut()
            .map(|stdin| writeln!(stdin, "{command}").and_then(|()| stdin.flush()));
        match written {
            Some(Ok(())) => Ok(()),
            // The process is gone: its exit status says why.
            _ => Err(self.exited("while being sent a command")),
        }
    }

    fn next_line(&mut self, waiting_for: &str) -> Result<String, ChildFailure> {
        match self.lines.recv_timeout(self.timeout) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(self.timed_out()),
            Err(RecvTimeoutError::Disconnected) => {
                Err(self.exited(&format!("waiting for {waiting_for}")))
            }
        }
    }

    /// The failure of a process whose output ended: its exit status (exit 2: bad usage).
    fn exited(&mut self, when: &str) -> ChildFailure {
        let status = self.child.wait_timeout(self.timeout).ok().flatten();
        let stderr_tail = self.stderr_tail();
        match status {
            Some(status) if status.code() == Some(2) => ChildFailure::BadUsage { stderr_tail },
            Some(status) => ChildFailure::Exit {
                status: format!("{status} {when}"),
                stderr_tail,
            },
            None => self.timed_out(),
        }
    }

    fn timed_out(&mut self) -> ChildFailure {
        let _ = self.child.kill();
        let _ = self.child.wait();
        ChildFailure::Timeout {
            timeout_s: self.timeout.as_secs_f64(),
            stderr_tail: self.stderr_tail(),
        }
    }

    fn bad_output(&mut self, problem: String) -> ChildFailure {
        let _ = self.child.kill();
        let _ = self.child.wait();
        ChildFailure::BadOutput {
            problem,
            stderr_tail: self.stderr_tail(),
        }
    }

    /// The last lines of stderr; only once the process has ended (the drain thread
    /// finishes at end of file).
    fn stderr_tail(&mut self) -> String {
        self.stderr
            .take()
            .and_then(|drain| drain.join().ok())
            .map(|bytes| tail(&bytes))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn truncated(line: &str) -> String {
    line.chars().take(200).collect()
}
