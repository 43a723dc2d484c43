//! Progress on stderr: an indicatif bar on an interactive terminal, plain one-line-per-step
//! log lines elsewhere (CI, pipes, files), so logs stay readable.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub enum Progress {
    Bar(ProgressBar),
    Lines { total: u64, done: u64 },
}

impl Progress {
    /// A bar when stderr is a terminal and `CI` is unset, log lines otherwise.
    pub fn new(total: u64) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        if interactive {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} {msg} (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines { total, done: 0 }
        }
    }

    /// A free-form message (e.g. a failure), printed without disturbing the bar.
    pub fn message(&self, text: &str) {
        match self {
            Progress::Bar(bar) => bar.println(text),
            Progress::Lines { .. } => eprintln!("{text}"),
        }
    }

    /// Adds `more` steps to the total (a paired run adding blocks).
    pub fn extend(&mut self, more: u64) {
        match self {
            Progress::Bar(bar) => bar.inc_length(more),
            Progress::Lines { total, .. } => *total += more,
        }
    }

    /// Marks one step as about to start.
    pub fn start(&self, what: &str) {
        if let Progress::Bar(bar) = self {
            bar.set_message(what.to_owned());
        }
    }

    /// Marks one step as done with a short outcome.
    pub fn done(&mut self, what: &str, outcome: &str) {
        match self {
            Progress::Bar(bar) => bar.inc(1),
            Progress::Lines { total, done } => {
                *done += 1;
                eprintln!("[{done}/{total}] {what}: {outcome}");
            }
        }
    }

    pub fn finish(self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
