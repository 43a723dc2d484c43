//! The baseline-update workflow's `propose` job, run as far as GitHub's behaviour can be
//! reproduced here: its script, read from `.github/workflows/baseline-update.yml`, in a
//! checkout of a local bare repository, opening the pull request at the fake GitHub. With an
//! App's token the pull request is opened with that token (a pull request GITHUB_TOKEN
//! opens starts no `pull_request` workflow, which the fake cannot show: GitHub's rule, in
//! the workflow's header and the guide); with the workflow's token it says that no check
//! ran; when GitHub refuses it, the branch pushed for it is deleted again.

mod comment_support;
mod workflow_support;

use std::path::{Path, PathBuf};

use comment_support::fake_github::{FakeGitHub, OWNER, REPO, TokenKind};
use workflow_support::{Ran, Repo, TOKEN};

const FILE: &str = "baseline-update.yml";
const STEP: &str = "Commit it on a branch and open a pull request";
const RUN_ID: &str = "4242";
const BRANCH: &str = "baseline-update/4242";

#[test]
fn the_pull_request_is_opened_with_the_apps_token_when_one_is_configured() {
    let app = workflow_support::step(
        FILE,
        "propose",
        "Make a GitHub App token (so that the pull request's checks run)",
    );
    assert_eq!(
        app["if"].as_str(),
        Some("${{ vars.BASELINE_APP_CLIENT_ID != '' }}")
    );
    assert!(
        app["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/create-github-app-token@")
    );
    let with = &app["with"];
    assert_eq!(
        with["private-key"].as_str(),
        Some("${{ secrets.BASELINE_APP_PRIVATE_KEY }}")
    );
    assert_eq!(with["permission-contents"].as_str(), Some("write"));
    assert_eq!(with["permission-pull-requests"].as_str(), Some("write"));
    // The script pushes and opens with the App's token when there is one.
    let env = &workflow_support::step(FILE, "propose", STEP)["env"];
    assert_eq!(
        env["GH_TOKEN"].as_str(),
        Some("${{ steps.app.outputs.token || github.token }}")
    );
    assert_eq!(
        env["TOKEN_FROM"].as_str(),
        Some("${{ steps.app.outputs.token && 'app' || 'workflow' }}")
    );
}

/// A local repository whose main has a baseline, and a `propose` checkout of it with the
/// `record` job's artifact (a changed baseline and its report) downloaded.
fn setup(baseline: &str) -> (Repo, PathBuf) {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.seed.join("baselines")).unwrap();
    std::fs::write(repo.seed.join("baselines/reference.json"), "{\"old\": 1}\n").unwrap();
    repo.push_main("main");
    let work = repo.checkout("propose");
    let artifact = work.join("new-baseline");
    std::fs::create_dir_all(artifact.join("baselines")).unwrap();
    std::fs::write(artifact.join("baselines/reference.json"), baseline).unwrap();
    std::fs::write(
        artifact.join("reference.md"),
        "## Reference baseline\n\n| floor/park | 1,234 instructions |\n",
    )
    .unwrap();
    (repo, work)
}

/// The step's script as the runner runs it, with the fake as the API.
fn propose(repo: &Repo, work: &Path, fake: &FakeGitHub, token_from: &str) -> Ran {
    let names = workflow_support::env_names(FILE, "propose", STEP);
    let value = |name: &str| match name {
        "GH_TOKEN" => TOKEN.to_owned(),
        "TOKEN_FROM" => token_from.to_owned(),
        "REPOSITORY" => format!("{OWNER}/{REPO}"),
        "RUN_ID" => RUN_ID.to_owned(),
        "DEFAULT_BRANCH" => "main".to_owned(),
        other => panic!("the propose step sets {other}: give it a test value"),
    };
    let mut env: Vec<(String, String)> = names.iter().map(|n| (n.clone(), value(n))).collect();
    let temp = work.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    env.push(("GITHUB_API_URL".into(), fake.server.uri()));
    env.push(("RUNNER_TEMP".into(), temp.to_str().unwrap().to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    repo.run(work, &workflow_support::script(FILE, "propose", STEP), &env)
}

fn branches(repo: &Repo) -> String {
    repo.git(
        &repo.origin,
        &["branch", "--list", "--format=%(refname:short)"],
    )
}

async fn fake_for(repo: &Repo, actions_may_open_pulls: bool) -> FakeGitHub {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    {
        let mut state = fake.state.lock().unwrap();
        state.git_dir = Some(repo.origin.clone());
        state.actions_token = Some(TOKEN.to_owned());
        state.actions_may_open_pulls = actions_may_open_pulls;
    }
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_token_opens_the_pull_request_on_the_pushed_branch() {
    let (repo, work) = setup("{\"new\": 2}\n");
    // The repository forbids Actions to open pull requests: an App's token is not
    // GITHUB_TOKEN, so the setting does not apply to it.
    let fake = fake_for(&repo, false).await;
    fake.state.lock().unwrap().actions_token = Some("the-workflow-token".into());
    let said = propose(&repo, &work, &fake, "app").ok();
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1, "{said}");
    let pull = &pulls[0];
    assert_eq!((pull.head.as_str(), pull.base.as_str()), (BRANCH, "main"));
    assert_eq!(pull.token, TOKEN, "opened with the App's token");
    assert_eq!(pull.title, "Re-record baselines/reference.json");
    assert!(
        pull.body.starts_with("## Reference baseline"),
        "{}",
        pull.body
    );
    assert!(
        said.contains(&format!("opened {}", fake.server.uri())),
        "{said}"
    );
    assert_eq!(
        repo.git(
            &repo.origin,
            &["show", &format!("{BRANCH}:baselines/reference.json")]
        ),
        "{\"new\": 2}"
    );
    assert_eq!(branches(&repo), format!("{BRANCH}\nmain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflows_token_opens_it_and_says_no_check_ran() {
    let (repo, work) = setup("{\"new\": 2}\n");
    let fake = fake_for(&repo, true).await;
    propose(&repo, &work, &fake, "workflow").ok();
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(
        pulls[0]
            .body
            .contains("no pull_request check has run on it"),
        "{}",
        pulls[0].body
    );
    assert!(pulls[0].body.contains("## Reference baseline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_pull_request_leaves_no_branch_behind() {
    let (repo, work) = setup("{\"new\": 2}\n");
    // "Allow GitHub Actions to create and approve pull requests" is off.
    let fake = fake_for(&repo, false).await;
    let ran = propose(&repo, &work, &fake, "workflow");
    assert!(!ran.output.status.success(), "the job must fail");
    let said = String::from_utf8_lossy(&ran.output.stdout).into_owned();
    assert!(
        said.contains("GitHub Actions is not permitted to create or approve pull requests"),
        "{said}"
    );
    assert!(
        said.contains(&format!("deleting the branch {BRANCH}")),
        "{said}"
    );
    assert!(fake.pulls().is_empty());
    assert_eq!(branches(&repo), "main", "the pushed branch was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_baseline_opens_nothing() {
    let (repo, work) = setup("{\"old\": 1}\n");
    let fake = fake_for(&repo, true).await;
    let said = propose(&repo, &work, &fake, "app").ok();
    assert!(said.contains("is unchanged: no pull request"), "{said}");
    assert!(fake.pulls().is_empty());
    assert_eq!(branches(&repo), "main");
}
