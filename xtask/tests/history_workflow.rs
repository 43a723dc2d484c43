//! The history workflow's write job, run for real: its `run:` script, read from
//! `.github/workflows/history.yml`, in a clone of a local bare repository (git's
//! `url.<base>.insteadOf` sends its push to that repository instead of GitHub). It must
//! create the `bench-history` branch, append each commit's line once, and touch nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::YamlLoader;

/// The script of the `record` job's step that appends and pushes.
fn record_script() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/history.yml");
    let docs = YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let job = &docs[0]["jobs"]["record"];
    assert_eq!(
        job["permissions"]["contents"].as_str(),
        Some("write"),
        "only the record job writes"
    );
    assert!(
        docs[0]["jobs"]["measure"]["permissions"].is_badvalue(),
        "the measuring job keeps the workflow's read-only permissions"
    );
    job["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|step| step["name"].as_str() == Some("Append it once and push"))
        .and_then(|step| step["run"].as_str())
        .expect("the record job's append step")
        .to_owned()
}

fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
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

/// A runner's checkout of `origin` (fetch-depth 0) with the artifact's line downloaded.
fn checkout(root: &Path, home: &Path, origin: &Path, name: &str, line: &str) -> PathBuf {
    let work = root.join(name);
    git(
        root,
        home,
        &[
            "clone",
            "--quiet",
            origin.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    std::fs::create_dir_all(work.join("new-line")).unwrap();
    std::fs::write(work.join("new-line/line.jsonl"), format!("{line}\n")).unwrap();
    work
}

fn run_record(work: &Path, home: &Path, commit: &str) -> String {
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &record_script()])
        .current_dir(work)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GH_TOKEN", "test-token")
        .env("REPOSITORY", "acme/widgets")
        .env("COMMIT", commit)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_record_job_creates_the_branch_and_appends_each_commit_once() {
    let root = tempfile::tempdir().unwrap();
    let (root, home) = (root.path(), root.path().join("home"));
    std::fs::create_dir_all(&home).unwrap();
    let origin = root.join("origin.git");
    git(
        root,
        &home,
        &[
            "init",
            "--quiet",
            "--bare",
            "-b",
            "main",
            origin.to_str().unwrap(),
        ],
    );
    // The push URL the script builds goes to the local repository instead.
    let config = format!(
        "[user]\n\tname = t\n\temail = t@example.com\n[url \"{}\"]\n\tinsteadOf = \
         https://x-access-token:test-token@github.com/acme/widgets.git\n",
        origin.display()
    );
    std::fs::write(home.join(".gitconfig"), config).unwrap();
    let seed = root.join("seed");
    git(
        root,
        &home,
        &[
            "clone",
            "--quiet",
            origin.to_str().unwrap(),
            seed.to_str().unwrap(),
        ],
    );
    std::fs::write(seed.join("README.md"), "main\n").unwrap();
    git(&seed, &home, &["add", "README.md"]);
    git(&seed, &home, &["commit", "--quiet", "-m", "main"]);
    git(&seed, &home, &["push", "--quiet", "origin", "main"]);
    let main_before = git(&seed, &home, &["rev-parse", "origin/main"]);

    let first = format!(
        "{{\"commit\":\"{}\",\"created\":\"x\",\"medians\":{{}}}}",
        "a".repeat(40)
    );
    let work = checkout(root, &home, &origin, "run-1", &first);
    run_record(&work, &home, &"a".repeat(40));
    let show = |rev: &str| git(&seed, &home, &["show", rev]);
    git(&seed, &home, &["fetch", "--quiet", "origin"]);
    assert_eq!(show("origin/bench-history:history.jsonl"), first);
    assert_eq!(
        git(
            &seed,
            &home,
            &["ls-tree", "--name-only", "origin/bench-history"]
        ),
        "history.jsonl",
        "the branch holds the history only"
    );

    // The same commit again (a re-run): nothing appended, nothing pushed.
    let again = checkout(root, &home, &origin, "run-1-again", &first);
    let said = run_record(&again, &home, &"a".repeat(40));
    assert!(said.contains("already has"), "{said}");
    git(&seed, &home, &["fetch", "--quiet", "origin"]);
    assert_eq!(
        git(
            &seed,
            &home,
            &["rev-list", "--count", "origin/bench-history"]
        ),
        "1"
    );

    // The next commit: appended after the first, on the existing branch.
    let second = format!(
        "{{\"commit\":\"{}\",\"created\":\"y\",\"medians\":{{}}}}",
        "b".repeat(40)
    );
    let next = checkout(root, &home, &origin, "run-2", &second);
    run_record(&next, &home, &"b".repeat(40));
    git(&seed, &home, &["fetch", "--quiet", "origin"]);
    assert_eq!(
        show("origin/bench-history:history.jsonl"),
        format!("{first}\n{second}")
    );
    assert_eq!(
        git(&seed, &home, &["rev-parse", "origin/main"]),
        main_before,
        "main untouched"
    );
}
