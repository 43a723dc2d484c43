//! `cargo xtask`: the project's automation (benchmark gate, baselines, GitHub reporting).
//!
//! `main` only parses and dispatches; each subcommand is one module of `commands/` with
//! `impl Args { fn run(self) -> anyhow::Result<...> }`. Only `main` prints errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::commands::{
    baseline, bench, calibrate, comment, compare, docs, exit, explain, history, merge, report, test,
};

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
    Bench(Box<bench::Args>),
    /// List or show saved baselines.
    Baseline(baseline::Args),
    /// Compare two saved result files.
    Compare(compare::Args),
    /// Measure the paired gate on this host: false alarms in A/A trials, detection of
    /// injected slowdowns, minimum detectable effect.
    Calibrate(Box<calibrate::Args>),
    /// Post or update the benchmark comment on a pull request.
    Comment(comment::CommentArgs),
    /// Merge the shards of a sharded paired run (`bench --shard K/N`) per runner, compare
    /// once over all their pairs, and report (the gate of a sharded check).
    Merge(merge::Args),
    /// Append to the history of main, or report its change points.
    History(history::Args),
    /// Write the HTML report of a result file.
    Report(report::Args),
    /// Count one configuration on a base and on the working tree and show where its
    /// instructions went, per thread role and function.
    Explain(Box<explain::Args>),
    /// Run the project's tests, checking their tools first and saying what is left out.
    Test(test::Args),
    /// Regenerate the README's and the user guide's generated blocks from their committed
    /// data files (`--check`: only compare).
    Docs(docs::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => args.run().map(exit::Outcome::exit_code),
        Command::Baseline(args) => args.run().map(exit::Outcome::exit_code),
        Command::Compare(args) => args.run().map(exit::Outcome::exit_code),
        Command::Calibrate(args) => args.run().map(exit::Outcome::exit_code),
        Command::Comment(args) => args.run(),
        Command::Merge(args) => args.run().map(exit::Outcome::exit_code),
        Command::History(args) => args.run().map(|()| ExitCode::SUCCESS),
        Command::Report(args) => args.run().map(|()| ExitCode::SUCCESS),
        Command::Explain(args) => args.run().map(|()| ExitCode::SUCCESS),
        Command::Test(args) => args.run().map(|()| ExitCode::SUCCESS),
        Command::Docs(args) => args.run().map(exit::Outcome::exit_code),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        exit::code_for(&err)
    })
}
