//! `cargo xtask report RESULTS.json [--out report.html]`: the HTML report of a result file
//! (`report::html`). A paired run's comparison is recomputed from its samples, as the
//! pull-request comment does; a run against a stored baseline is charted without one. The
//! file is read with the comment job's limits and checks, since it may come from a pull
//! request's artifact (the comment job draws the page it links with this command), and a
//! refusal is reported on one line, so that text quoted from the file cannot start a line of
//! its own in a workflow's log (where `::command::` at a line's start is obeyed). Exit 0
//! written, 2 bad input (named), 1 I/O failure.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::github::{artifact, comment_report};
use crate::model::files::write_atomically;
use crate::report;
use crate::report::untrusted::one_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The result file (`bench --json`).
    pub results: PathBuf,
    /// Where to write the page.
    #[arg(long, value_name = "PATH", default_value = "report.html")]
    pub out: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let checked = artifact::load_results(&self.results)
            .map_err(|e| crate::model::usage::UsageError(one_line(&format!("{e:#}"))))
            .context("cannot report the result file")?;
        let comparison = comment_report::comparison(&checked);
        let page = report::html::render(&checked.results, comparison.as_ref());
        write_atomically(&self.out, &page)
            .with_context(|| format!("cannot write {}", self.out.display()))?;
        println!("wrote {}", self.out.display());
        Ok(())
    }
}
