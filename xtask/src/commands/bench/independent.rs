//! The independent mode of `bench`: fresh processes of one build, compared with a stored
//! baseline (`--baseline NAME`, or `reference` when it exists).

use anyhow::Context as _;

use crate::commands::bench::config::Config;
use crate::commands::bench::finish::Run;
use crate::comparison::independent::{self, IndependentSettings};
use crate::engine::independent_session::{IndependentRun, run_all};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::results::{
    ConfigurationResult, RESULTS_KIND, RESULTS_SCHEMA, ResultFile, confirm_pinned, pin_mismatch,
};
use crate::model::store::{BaselineName, DEFAULT_BASELINE};

/// Loads the baseline, runs every selected configuration `runs` times, summarises and
/// compares.
pub fn run(config: &Config) -> anyhow::Result<Run> {
    let target = &config.target;
    let baseline = load_baseline(config)?;
    // Before anything runs: `--counters` without valgrind is bad usage.
    let callgrind = target.counters.resolve()?;
    let program = target.program()?;
    let ids = target.selected_ids(&program)?;
    let command = target.command(program);
    let IndependentRun {
        samples,
        mut failures,
        ..
    } = run_all(&command, &ids, config.runs)?;
    let (counter_samples, profiles) = match &callgrind {
        Some(callgrind) => {
            eprintln!(
                "counting instructions: {} runs per configuration under callgrind ({})",
                target.counters.runs, callgrind.version
            );
            let counting = callgrind.command(&command, target.counters.count);
            let counted = run_all(&counting, &ids, target.counters.runs)?;
            failures.extend(counted.failures);
            (counted.samples, counted.profiles)
        }
        None => (vec![Vec::new(); ids.len()], vec![None; ids.len()]),
    };

    let pin = confirm_pinned(target.flags.pin, samples.iter().flatten());
    let configurations = ids
        .iter()
        .zip(samples.into_iter().zip(counter_samples).zip(profiles))
        .filter(|(_, ((s, _), _))| !s.is_empty())
        .map(|(id, ((s, counted), profile))| {
            ConfigurationResult::with_counters(id.clone(), s, counted)
                .map(|result| result.with_profile(profile))
        })
        .collect::<Result<Vec<_>, _>>()
        .context("summarising samples")?;
    let results = ResultFile {
        schema: RESULTS_SCHEMA,
        kind: RESULTS_KIND.to_owned(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: HostFingerprint::detect(&target.root),
        git: GitRevision::detect(&target.root),
        settings: crate::model::results::Settings {
            counters: callgrind
                .as_ref()
                .map(|callgrind| callgrind.settings(target.counters.runs, target.counters.count)),
            ..config.settings(config.runs, pin)
        },
        configurations,
        failures,
        paired: None,
    };
    if let Some((label, file)) = &baseline
        && let Some(warning) = pin_mismatch(label, file.settings.pin, results.settings.pin)
    {
        eprintln!("{warning}");
    }
    let comparison = baseline.map(|(label, file)| {
        independent::compare(
            &file,
            &results,
            label,
            config.policy.clone(),
            IndependentSettings::default(),
        )
    });
    if comparison
        .as_ref()
        .is_some_and(|c| c.fingerprint.different_host())
    {
        eprintln!("WARNING: the baseline comes from a different host; see the report.");
    }
    Ok(Run {
        results,
        comparison,
        planned_runs: ids.len() * config.runs as usize,
    })
}

/// The named baseline, or `reference` when it exists and none was named; with its label.
fn load_baseline(config: &Config) -> anyhow::Result<Option<(String, ResultFile)>> {
    let name = match &config.baseline {
        Some(name) => name.clone(),
        None if config.use_default_baseline => {
            let default: BaselineName = DEFAULT_BASELINE.parse()?;
            if !config.store.exists(&default) {
                return Ok(None);
            }
            default
        }
        None => return Ok(None),
    };
    let file = config
        .store
        .load(&name)
        .with_context(|| format!("cannot use baseline {}", name.as_str()))?;
    Ok(Some((format!("baseline {}", name.as_str()), file)))
}
