//! Test support for the workflows' own scripts: the `run:` script of a step read from
//! `.github/workflows/`, and a local "GitHub" to run it against: a bare repository that
//! git's `url.<base>.insteadOf` puts in place of `https://x-access-token:TOKEN@github.com/
//! acme/widgets.git`, a clone that pushes to its main, and runners' checkouts of it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use yaml_rust2::{Yaml, YamlLoader};

/// The token the scripts are given; the URL they build with it leads to the bare repository.
pub const TOKEN: &str = "test-token";

/// `.github/workflows/NAME` parsed.
pub fn workflow(name: &str) -> Yaml {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../.github/workflows")
        .join(name);
    YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .remove(0)
}

/// The step named `name` of `job` in the workflow file `file`.
pub fn step(file: &str, job: &str, name: &str) -> Yaml {
    workflow(file)["jobs"][job]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|step| step["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{file}: the {job} job's step {name:?}"))
        .clone()
}

/// The `run:` script of that step.
pub fn script(file: &str, job: &str, name: &str) -> String {
    step(file, job, name)["run"]
        .as_str()
        .unwrap_or_else(|| panic!("{file}: the {job} job's step {name:?} runs no script"))
        .to_owned()
}

/// The names of the variables the step sets in `env:`.
pub fn env_names(file: &str, job: &str, name: &str) -> Vec<String> {
    match &step(file, job, name)["env"] {
        Yaml::Hash(map) => map.keys().map(|k| k.as_str().unwrap().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// A local "GitHub": a bare repository, a HOME whose git config redirects the workflow's
/// URL to it, and a clone that pushes commits to main.
pub struct Repo {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub origin: PathBuf,
    /// A clone that commits and pushes to main.
    pub seed: PathBuf,
}

impl Repo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let origin = root.join("origin.git");
        let config = format!(
            "[user]\n\tname = t\n\temail = t@example.com\n[init]\n\tdefaultBranch = main\n\
             [url \"{}\"]\n\tinsteadOf = https://x-access-token:{TOKEN}@github.com/acme/widgets.git\n",
            origin.display()
        );
        std::fs::write(home.join(".gitconfig"), config).unwrap();
        let repo = Self {
            _dir: dir,
            seed: root.join("seed"),
            root,
            home,
            origin,
        };
        repo.git(&repo.root, &["init", "--quiet", "--bare", "origin.git"]);
        repo.git(&repo.root, &["clone", "--quiet", "origin.git", "seed"]);
        repo
    }

    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Commits `name` on main and pushes it (one push); its revision.
    pub fn push_main(&self, name: &str) -> String {
        std::fs::write(self.seed.join(format!("{name}.txt")), name).unwrap();
        self.git(&self.seed, &["add", "."]);
        self.git(&self.seed, &["commit", "--quiet", "-m", name]);
        self.git(&self.seed, &["push", "--quiet", "origin", "main"]);
        self.git(&self.seed, &["rev-parse", "HEAD"])
    }

    /// A runner's checkout (actions/checkout with fetch-depth 0: every branch).
    pub fn checkout(&self, name: &str) -> PathBuf {
        let work = self.root.join(name);
        let (origin, target) = (self.origin.to_str().unwrap(), work.to_str().unwrap());
        self.git(&self.root, &["clone", "--quiet", origin, target]);
        work
    }

    /// Runs a workflow script in `work` with `env` and this repository's git config.
    pub fn run(&self, work: &Path, script: &str, env: &[(&str, &str)]) -> Ran {
        let home = self.home.to_str().unwrap();
        let mut all = vec![("HOME", home), ("GIT_CONFIG_NOSYSTEM", "1")];
        all.extend_from_slice(env);
        run_script(work, script, &all)
    }
}

/// Runs a workflow script in `work` with `env`, as the runner does (bash, -e, pipefail; -u
/// too, so an unset variable is a failure here); its output and `$GITHUB_OUTPUT`.
pub fn run_script(work: &Path, script: &str, env: &[(&str, &str)]) -> Ran {
    let outputs = work.join(".github-output");
    std::fs::write(&outputs, "").unwrap();
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-euo", "pipefail", "-c", script])
        .current_dir(work)
        .env("GITHUB_OUTPUT", &outputs);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let outputs = std::fs::read_to_string(&outputs)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ran { output, outputs }
}

/// What a script did: its output, and what it wrote to `$GITHUB_OUTPUT`.
pub struct Ran {
    pub output: Output,
    pub outputs: BTreeMap<String, String>,
}

impl Ran {
    /// Stdout of a script that must have succeeded.
    pub fn ok(&self) -> String {
        assert!(
            self.output.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        );
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
}
