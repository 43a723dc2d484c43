//! The subcommands, the top layer: one module each, flags -> validated config -> run
//! (`impl Args { fn run(self) }`), called by `main.rs`. [`flags`] declares the flag groups
//! several commands share (the run flags once, for `bench` and `calibrate`), [`exit`] maps
//! outcomes and errors to exit statuses.

pub mod baseline;
pub mod bench;
pub mod calibrate;
pub mod comment;
pub mod compare;
pub mod docs;
pub mod exit;
pub mod explain;
pub mod flags;
pub mod history;
pub mod merge;
pub mod report;
pub mod test;

#[cfg(test)]
mod tests {
    use clap::{Args as _, Command};

    use super::flags::RunArgs;
    use super::{bench, calibrate};

    /// Everything `--help` and parsing see of one flag.
    fn describe(command: &Command, id: &str) -> String {
        let arg = command
            .get_arguments()
            .find(|a| a.get_id() == id)
            .unwrap_or_else(|| panic!("{} has no flag {id}", command.get_name()));
        format!(
            "--{:?} {:?} default {:?} env {:?} hidden {} heading {:?} help {:?} parser {:?}",
            arg.get_long(),
            arg.get_value_names(),
            arg.get_default_values(),
            arg.get_env(),
            arg.is_hide_set(),
            arg.get_help_heading(),
            arg.get_help().map(ToString::to_string),
            arg.get_value_parser().type_id(),
        )
    }

    /// The "Run options" section of a command's `--help`.
    fn run_section(mut command: Command) -> String {
        let help = command.render_help().to_string();
        let start = help.find("Run options:").expect("a Run options section");
        let section = &help[start..];
        let end = section.find("\n\n").unwrap_or(section.len());
        section[..end].trim_end().to_owned()
    }

    #[test]
    fn bench_and_calibrate_have_the_same_run_flags_and_defaults() {
        let run = RunArgs::augment_args(Command::new("run"));
        let bench = bench::Args::augment_args(Command::new("bench"));
        let calibrate = calibrate::Args::augment_args(Command::new("calibrate"));
        let ids: Vec<&str> = run.get_arguments().map(|a| a.get_id().as_str()).collect();
        for flag in [
            "count",
            "work",
            "in_flight",
            "only",
            "no_pin",
            "timeout",
            "bench_bin",
            "workspace",
        ] {
            assert!(ids.contains(&flag), "RunArgs lacks {flag}");
        }
        for id in &ids {
            assert_eq!(describe(&bench, id), describe(&calibrate, id), "--{id}");
            assert_eq!(describe(&bench, id), describe(&run, id), "--{id}");
        }
        let section = run_section(bench.clone());
        assert!(section.contains("--count <N>") && section.contains("[default: 10000]"));
        assert_eq!(section, run_section(calibrate.clone()));
    }

    #[test]
    fn run_flag_ranges_are_checked_by_clap() {
        let bench = || Command::new("bench").no_binary_name(true);
        for (flag, bad) in [("--count", "0"), ("--in-flight", "0"), ("--timeout", "0")] {
            for command in [
                bench::Args::augment_args(bench()),
                calibrate::Args::augment_args(bench()),
            ] {
                let err = command.try_get_matches_from([flag, bad]).unwrap_err();
                assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
                assert!(err.to_string().contains(flag), "{err}");
            }
        }
    }
}
