//! `cargo xtask compare OLD.json NEW.json`: compares two saved result files offline.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::{GateArgs, OutputArgs};
use crate::comparison::independent::{self, IndependentSettings};
use crate::model::results::{ResultFile, pin_mismatch};
use crate::report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline result file.
    pub old: PathBuf,
    /// The result file to judge.
    pub new: PathBuf,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let policy = self.gate.policy()?;
        let old = ResultFile::load(&self.old).context("cannot use the old result file")?;
        let new = ResultFile::load(&self.new).context("cannot use the new result file")?;
        let old_label = self.old.display().to_string();
        if let Some(warning) = pin_mismatch(&old_label, old.settings.pin, new.settings.pin) {
            eprintln!("{warning}");
        }
        let comparison = independent::compare(
            &old,
            &new,
            old_label,
            policy,
            IndependentSettings::default(),
        );
        print!("{}", report::terminal::render(&new, Some(&comparison)));
        self.outputs.write(&new, Some(&comparison))?;
        Ok(
            if comparison.has_regression() && self.gate.fail_on_regression {
                Outcome::Regressed
            } else {
                Outcome::Clean
            },
        )
    }
}
