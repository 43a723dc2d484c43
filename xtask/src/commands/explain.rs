//! `cargo xtask explain CONFIG [--against REF]`: where one configuration's instructions went
//! between a base and the working tree, per thread role and function, in the terminal, as
//! the pull-request comment would show it (`engine::explain_run`).

use crate::commands::flags::{PolicyArgs, RunArgs};
use crate::engine::explain_run::{self, ExplainPlan};
use crate::report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration, `RUNTIME/HANDOFF` (`handoff-bench --list` lists them).
    pub config: String,
    /// The base: its merge-base with HEAD unless --exact-ref (default: HEAD itself, so the
    /// working tree's uncommitted changes are what is explained).
    #[arg(long, value_name = "GIT_REF", default_value = "HEAD")]
    pub against: String,
    /// Build GIT_REF itself, not its merge-base with HEAD.
    #[arg(long)]
    pub exact_ref: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Use this executable as the base instead of building GIT_REF (for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BASE_BIN")]
    pub base_bench_bin: Option<std::path::PathBuf>,
    /// Last: clap keeps the "Run options" heading for every flag after it.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        // HEAD's merge-base with HEAD is HEAD itself.
        let exact_ref = self.exact_ref || self.against == "HEAD";
        let mut target = self.run.into_target();
        // Counting is what explain does: valgrind missing is bad usage, not a note.
        target.counters.request = crate::engine::target::CountersRequest::Required;
        let plan = ExplainPlan {
            policy: self.policy.policy()?,
            target,
            against: self.against,
            exact_ref,
            base_bench_bin: self.base_bench_bin,
            id: self.config,
        };
        let explained = explain_run::run(&plan)?;
        print!(
            "{}",
            report::explain::terminal(
                &plan.id,
                explained.explanation.as_ref(),
                explained.dependencies.as_ref(),
                &explained.comparison,
            )
        );
        print!(
            "{}",
            report::terminal::render_comparison(&explained.comparison)
        );
        Ok(())
    }
}
