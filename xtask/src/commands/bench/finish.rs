//! The end of `bench`, whatever the mode: reports (terminal, files, GitHub), the baseline
//! save, and the outcome.

use anyhow::Context as _;

use crate::commands::bench::config::Config;
use crate::commands::exit::Outcome;
use crate::comparison::Comparison;
use crate::model::results::ResultFile;
use crate::report;

/// What a mode of `bench` produced.
#[derive(Debug)]
pub struct Run {
    pub results: ResultFile,
    pub comparison: Option<Comparison>,
    /// Processes the run started (for the failure summary).
    pub planned_runs: usize,
}

/// Reports `run`, saves the baseline when asked and allowed, and says how it went.
pub fn finish(config: &Config, run: &Run) -> anyhow::Result<Outcome> {
    let results = &run.results;
    let comparison = run.comparison.as_ref();
    print!("{}", report::terminal::render(results, comparison));
    config.outputs.write(results, comparison)?;
    let (_, annotations) =
        crate::github::publish::publish(&report::markdown::render(results, comparison), comparison)
            .context("cannot append to the GitHub step summary")?;
    for line in annotations {
        println!("{line}");
    }

    let failed = !results.failures.is_empty();
    if failed {
        let mut failed_ids: Vec<&str> = results.failures.iter().map(|f| f.id.as_str()).collect();
        failed_ids.sort_unstable();
        failed_ids.dedup();
        eprintln!(
            "error: {} of {} runs failed ({}); see the FAILED lines above",
            results.failures.len(),
            run.planned_runs,
            failed_ids.join(", ")
        );
    }
    if let Some(name) = &config.save_baseline {
        if failed {
            eprintln!(
                "error: not saving baseline {}: {} run(s) failed; an incomplete run must not replace a baseline",
                name.as_str(),
                results.failures.len()
            );
        } else {
            let path = config.store.save(name, results)?;
            eprintln!("saved baseline {}", path.display());
        }
    }
    // A failed child makes the run incomplete: that outranks a regression verdict.
    Ok(if failed {
        Outcome::Failed
    } else if config.fail_on_regression && comparison.is_some_and(|c| c.has_regression()) {
        Outcome::Regressed
    } else {
        Outcome::Clean
    })
}
