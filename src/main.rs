//! The `handoff-bench` binary: parse flags, run the selected configurations, print results.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use handoff_bench::cli::{Cli, Config, Format};
use handoff_bench::line::Measurement;
use handoff_bench::table;

/// The system allocator, or mimalloc under valgrind ([`handoff_bench::allocator`]).
#[global_allocator]
static ALLOCATOR: handoff_bench::allocator::Allocator = handoff_bench::allocator::Allocator;

/// Bad usage: a bad flag (clap uses the same code), an `--only` that matches nothing, or a
/// serve-mode command that is not one.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.capabilities {
        let capabilities = handoff_protocol::Capabilities::of_this_version();
        let line = serde_json::to_string(&capabilities).expect("capabilities serialize");
        println!("{line}");
        return ExitCode::SUCCESS;
    }
    let config = match Config::try_from(cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Under valgrind, instructions are counted per thread role ([`handoff_bench::counters`]).
    if let Err(error) = handoff_bench::counters::init() {
        eprintln!("error: setting up instruction counting under valgrind: {error}");
        return ExitCode::FAILURE;
    }
    if config.serve {
        let input = std::io::BufReader::new(std::io::stdin());
        let served = handoff_bench::serve::serve(
            config.configurations[0],
            config.work,
            config.shape,
            input,
            std::io::stdout(),
        );
        return match served {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(EXIT_USAGE)
            }
        };
    }
    let mut stdout = std::io::stdout().lock();
    if config.list {
        for configuration in &config.configurations {
            let _ = writeln!(stdout, "{configuration}");
        }
        return ExitCode::SUCCESS;
    }
    let progress = std::io::stderr().is_terminal();
    let total = config.configurations.len();
    let mut rows: Vec<Measurement> = Vec::with_capacity(total);
    for (index, configuration) in config.configurations.iter().enumerate() {
        if progress {
            eprint!("\r[{}/{total}] {configuration} ...\x1b[K", index + 1);
        }
        let row = configuration.run(config.work, config.shape);
        if config.format == Format::Json {
            // One line per configuration as soon as it is measured.
            let line = serde_json::to_string(&row).expect("a measurement serializes");
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        }
        rows.push(row);
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    if config.format == Format::Table {
        let _ = write!(stdout, "{}", table::render(&rows));
    }
    ExitCode::SUCCESS
}
