//! `cargo xtask`: the project's automation (benchmark gate, baselines, GitHub reporting).
//!
//! `main` only parses and dispatches; each subcommand is one module with
//! `impl Args { fn run(self) -> anyhow::Result<Outcome> }`. Only `main` prints errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{baseline, bench, compare, exit};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "handoff-bench automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the benchmark, run every configuration in fresh processes, summarise, compare
    /// with a baseline and report.
    Bench(bench::Args),
    /// List or show saved baselines.
    Baseline(baseline::Args),
    /// Compare two saved result files.
    Compare(compare::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => args.run(),
        Command::Baseline(args) => args.run(),
        Command::Compare(args) => args.run(),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            exit::code_for(&err)
        }
    }
}
