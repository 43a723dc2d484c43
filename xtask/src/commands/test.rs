//! `cargo xtask test`: the project's tests on this machine, saying what they leave out.
//!
//! Some tests need tools a fresh machine may lack: the instruction-count tests run the
//! binary under valgrind (shipped on these machines), and those that compare counts across
//! runs need real-time priority for it (`chrt -f 1`: root or CAP_SYS_NICE; without it a
//! count moves by up to 1% between runs); the HTML report's tests open the page in Debian's
//! headless Chromium (not shipped: `apt-get install -y chromium`). cargo hides
//! a passing test's output, so a test that returned early for want of a tool would pass
//! unseen. Instead this command:
//!
//! 1. probes each tool by running it (a binary that exists but cannot run counts as absent);
//! 2. under `CI=true` refuses to leave anything out: a missing tool is an error, before any
//!    test runs (`.ci/run` installs them first);
//! 3. runs `cargo test --workspace` (the browser tests and the counts' run-to-run tests are
//!    `#[ignore]`d there, with their reason in cargo's output), with valgrind's tests told
//!    to skip when valgrind is absent;
//! 4. runs each ignored suite whose tools work ([`IgnoredSuite`]);
//! 5. prints what it left out and why, before and after the tests, so the last lines of its
//!    output say it.
//!
//! Exit status: 0 every test it ran passed; 1 a test failed or a tool CI needs is missing.

use std::ffi::OsString;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The environment variable that makes the valgrind tests skip (`tests/counters.rs`).
const SKIP_VALGRIND: &str = "HANDOFF_BENCH_SKIP_VALGRIND_TESTS";
/// The environment variable naming the browser the browser tests start (default
/// `chromium`; GitHub's runner image ships `google-chrome` instead).
pub const CHROMIUM_VARIABLE: &str = "HANDOFF_BENCH_CHROMIUM";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments handed on to both `cargo test` runs (e.g. `--locked`).
    #[arg(last = true, value_name = "CARGO_TEST_ARGS")]
    pub cargo_args: Vec<String>,
}

/// A tool some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Valgrind,
    /// Real-time FIFO priority for the counting runs (`chrt -f 1`).
    Realtime,
    Chromium,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Valgrind, Tool::Realtime, Tool::Chromium];

    /// The default command.
    fn command(self) -> &'static str {
        match self {
            Tool::Valgrind => "valgrind",
            Tool::Realtime => "chrt",
            Tool::Chromium => "chromium",
        }
    }

    /// How the summary names what did not run.
    fn shown(self) -> &'static str {
        match self {
            Tool::Realtime => "chrt -f 1",
            other => other.command(),
        }
    }

    /// What makes it work.
    fn remedy(self) -> String {
        match self {
            Tool::Realtime => "run as root, or give chrt CAP_SYS_NICE: `setcap cap_sys_nice+ep \
                 \"$(command -v chrt)\"`"
                .to_owned(),
            other => format!("`apt-get install -y {}`", other.command()),
        }
    }

    /// The command to run: Chromium's may be named by [`CHROMIUM_VARIABLE`].
    fn executable(self) -> OsString {
        match self {
            Tool::Chromium => std::env::var_os(CHROMIUM_VARIABLE),
            Tool::Valgrind | Tool::Realtime => None,
        }
        .unwrap_or_else(|| self.command().into())
    }

    /// The tests that need it, in the words of the summary.
    fn tests(self) -> &'static str {
        match self {
            Tool::Valgrind => {
                "the instruction-count tests (tests/counters.rs, the gate's counting runs)"
            }
            Tool::Realtime => {
                "the counts' run-to-run tests (tests/counters.rs: reproducibility, the heap's \
                 history, function contexts)"
            }
            Tool::Chromium => "the HTML report's browser tests (xtask/tests/browser.rs)",
        }
    }

    /// Whether it runs here: `TOOL --version` exits 0; for real-time priority, `chrt -f 1
    /// true` does.
    fn works(self) -> bool {
        let probe: &[&str] = match self {
            Tool::Realtime => &["-f", "1", "true"],
            _ => &["--version"],
        };
        Command::new(self.executable())
            .args(probe)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// What one `cargo xtask test` will run and leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The tools that did not run, and so the tests left out.
    pub left_out: Vec<Tool>,
}

impl Plan {
    /// The plan for the tools that work; under CI nothing may be left out.
    pub fn new(working: &[Tool], ci: bool) -> anyhow::Result<Plan> {
        let left_out: Vec<Tool> = Tool::ALL
            .into_iter()
            .filter(|tool| !working.contains(tool))
            .collect();
        if ci && !left_out.is_empty() {
            let missing: Vec<String> = left_out
                .iter()
                .map(|t| format!("`{}` ({})", t.shown(), t.remedy()))
                .collect();
            bail!(
                "CI=true, so no test may be left out, but these do not run here: {} \
                 (.ci/run installs the packages and runs as root)",
                missing.join(", ")
            );
        }
        Ok(Plan { left_out })
    }

    /// Whether the browser tests run.
    pub fn runs_browser_tests(&self) -> bool {
        IgnoredSuite::Browser.runs(self)
    }

    /// What the run leaves out, one line a tool (or that it leaves out nothing).
    pub fn summary(&self) -> String {
        if self.left_out.is_empty() {
            return "cargo xtask test: every test runs (valgrind, chrt -f 1 and Chromium work \
                    here)"
                .to_owned();
        }
        let mut out = String::from("cargo xtask test: left out on this machine:");
        for tool in &self.left_out {
            out.push_str(&format!(
                "\n  - {}: `{}` does not run here ({})",
                tool.tests(),
                tool.shown(),
                tool.remedy()
            ));
        }
        out
    }
}

/// A test suite `cargo test --workspace` ignores, run on its own where its tools work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredSuite {
    /// `xtask/tests/browser.rs`.
    Browser,
    /// The ignored tests of `tests/counters.rs`.
    Counts,
}

impl IgnoredSuite {
    pub const ALL: [IgnoredSuite; 2] = [IgnoredSuite::Browser, IgnoredSuite::Counts];

    /// The tools it needs.
    fn needs(self) -> &'static [Tool] {
        match self {
            IgnoredSuite::Browser => &[Tool::Chromium],
            IgnoredSuite::Counts => &[Tool::Valgrind, Tool::Realtime],
        }
    }

    /// Whether `plan` runs it.
    pub fn runs(self, plan: &Plan) -> bool {
        self.needs()
            .iter()
            .all(|tool| !plan.left_out.contains(tool))
    }

    /// `cargo test`'s arguments that select it.
    fn selection(self) -> [&'static str; 4] {
        match self {
            IgnoredSuite::Browser => ["-p", "xtask", "--test", "browser"],
            IgnoredSuite::Counts => ["-p", "handoff-bench", "--test", "counters"],
        }
    }
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let working: Vec<Tool> = Tool::ALL.into_iter().filter(|t| t.works()).collect();
        let plan = Plan::new(&working, ci)?;
        println!("{}", plan.summary());
        let workspace = crate::workspace_root();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let cargo_test = |args: &[&str], trailing: &[&str]| {
            let mut command = Command::new(&cargo);
            command
                .arg("test")
                .args(args)
                .args(&self.cargo_args)
                .args(trailing)
                .current_dir(&workspace);
            if plan.left_out.contains(&Tool::Valgrind) {
                command.env(SKIP_VALGRIND, "1");
            }
            command
        };
        let status = cargo_test(&["--workspace"], &[])
            .status()
            .context("cannot run cargo test")?;
        let mut failed = Vec::new();
        if status.success() {
            for suite in IgnoredSuite::ALL.into_iter().filter(|s| s.runs(&plan)) {
                let ran = cargo_test(&suite.selection(), &["--", "--ignored"])
                    .status()
                    .context("cannot run cargo test")?;
                if !ran.success() {
                    failed.push(format!("{} ({ran})", suite.selection().join(" ")));
                }
            }
        }
        println!("{}", plan.summary());
        if !status.success() {
            bail!("cargo test --workspace failed ({status})");
        }
        if !failed.is_empty() {
            bail!("ignored tests failed: cargo test {}", failed.join(", "));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_machine_leaves_out_the_browser_tests_and_says_so() {
        let plan = Plan::new(&[Tool::Valgrind, Tool::Realtime], false).unwrap();
        assert!(!plan.runs_browser_tests());
        assert!(IgnoredSuite::Counts.runs(&plan));
        let summary = plan.summary();
        assert!(summary.contains("left out on this machine"), "{summary}");
        assert!(
            summary.contains("the HTML report's browser tests (xtask/tests/browser.rs): `chromium` does not run here (`apt-get install -y chromium`)"),
            "{summary}"
        );
        assert!(!summary.contains("valgrind"), "{summary}");
    }

    #[test]
    fn a_user_without_real_time_priority_leaves_out_the_run_to_run_count_tests() {
        let plan = Plan::new(&[Tool::Valgrind, Tool::Chromium], false).unwrap();
        assert!(plan.runs_browser_tests());
        assert!(!IgnoredSuite::Counts.runs(&plan));
        let summary = plan.summary();
        assert!(
            summary.contains("the counts' run-to-run tests")
                && summary.contains(
                    "`chrt -f 1` does not run here (run as root, or give chrt CAP_SYS_NICE"
                ),
            "{summary}"
        );
    }

    #[test]
    fn ci_leaves_nothing_out() {
        let err = Plan::new(&[Tool::Valgrind, Tool::Realtime], true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CI=true") && err.contains("`chromium`"),
            "{err}"
        );
        let err = Plan::new(&[], true).unwrap_err().to_string();
        assert!(
            err.contains("`valgrind`") && err.contains("`chrt -f 1`") && err.contains("`chromium`"),
            "{err}"
        );
        let all = Plan::new(&Tool::ALL, true).unwrap();
        assert!(all.left_out.is_empty() && all.runs_browser_tests());
        assert!(all.summary().contains("every test runs"));
    }
}
