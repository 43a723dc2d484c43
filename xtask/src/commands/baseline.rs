//! `cargo xtask baseline list|show NAME`: what is in `baselines/`.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::model::store::{BaselineName, BaselineStore};
use crate::report;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// Directory of the baselines (default: `baselines/` of the workspace).
    #[arg(long, hide = true, global = true, env = "HANDOFF_BENCH_BASELINES_DIR")]
    pub baselines_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// One line per saved baseline: name, date, revision, configurations, runs.
    List,
    /// The summary table of one baseline, with its provenance.
    Show { name: String },
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let store = BaselineStore::new(
            self.baselines_dir
                .unwrap_or_else(|| crate::workspace_root().join("baselines")),
        );
        match self.action {
            Action::List => {
                let listed = store
                    .list()
                    .with_context(|| format!("cannot list {}", store.dir().display()))?;
                if listed.is_empty() {
                    println!("no baselines in {}", store.dir().display());
                }
                for entry in listed {
                    match entry.file {
                        Ok(f) => println!(
                            "{}  {}  rev {}  {} configurations x {} runs  {}",
                            entry.name,
                            f.created,
                            f.git.short(),
                            f.configurations.len(),
                            f.settings.runs,
                            f.host.cpu_model
                        ),
                        Err(e) => println!("{}  UNREADABLE: {e}", entry.name),
                    }
                }
            }
            Action::Show { name } => {
                let name: BaselineName = name.parse()?;
                let file = store
                    .load(&name)
                    .with_context(|| format!("cannot show baseline {}", name.as_str()))?;
                println!(
                    "baseline {} ({}), created {}, {}",
                    name.as_str(),
                    store.path(&name).display(),
                    file.created,
                    file.host.rustc
                );
                print!("{}", report::terminal::render(&file, None));
            }
        }
        Ok(Outcome::Clean)
    }
}
