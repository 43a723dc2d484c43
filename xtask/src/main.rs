//! `cargo xtask`: the project's automation (benchmark gate, baselines, GitHub reporting).
//!
//! `main` only parses and dispatches; each subcommand is one module with
//! `impl Args { fn run(self) -> anyhow::Result<ExitCode> }`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod comment;
mod github;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "handoff-bench automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Post or update the benchmark comment on a pull request.
    Comment(comment::CommentArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Comment(args) => args.run(),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}
