//! `cargo xtask`: the project's automation (benchmark gate, baselines, GitHub reporting).
//!
//! `main` only parses and dispatches; each subcommand is one module with
//! `impl Args { fn run(self) -> anyhow::Result<ExitCode> }`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "handoff-bench automation")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {}

fn main() -> ExitCode {
    match Cli::parse().command {
        Some(command) => match command {},
        None => {
            let _ = Cli::command().print_help();
            ExitCode::from(2)
        }
    }
}
