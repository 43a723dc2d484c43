//! `cargo xtask comment`: post the benchmark report as one sticky pull-request comment.
//!
//! Pipeline: flags -> [`CommentConfig`] (validated; the results file read, limited and
//! checked by `github::artifact`) -> report rendered here from the results
//! (`github::comment_report`) -> body (marker, header, report cut to 65,536 characters) ->
//! no token: print it; token: find the author, update or create the comment (with
//! `--only-on-change`, create it only when a gated verdict is not "unchanged"; an existing
//! comment is updated in any case, so it never keeps a stale verdict).
//!
//! With `--results-dir`, each runner's files (a sharded run's shards together) become one
//! section (`github::sections`); a file that cannot be used is refused on its own: named,
//! with its reason, below the report and on stderr, and the other runners are still posted.
//!
//! Exit 0 posted, with or without refused files (or nothing to post, or no token without
//! `--require-post`); 2 bad usage, or no file could be used; 1 API failure or no token with
//! `--require-post`.
//!
//! The command takes no markdown: in the comment job the results file comes from a pull
//! request's artifact, and a report written by the pull request's code could say anything.
//! `--markdown` is refused (exit 2) without the file being opened.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};

use crate::comparison::{Comparison, Verdict};
use crate::github::body::{BodyParts, COMMENT_LIMIT, compose, full_report_at};
use crate::github::client::{ApiBase, Client};
use crate::github::comment_report;
use crate::github::header::{HeaderInfo, header_line, is_plain_url};
use crate::github::identity::{AuthorSource, is_valid_login, resolve_author};
use crate::github::repo::{PullRequest, RepoSlug};
use crate::github::retry::{RetryPolicy, TokioSleeper};
use crate::github::runners::Refusal;
use crate::github::sections::{self, Sections};
use crate::github::sticky::{Create, Posted, upsert};
use crate::github::token::{TOKEN_ENV, Token};
use crate::report::untrusted::one_line;

/// Post or update the benchmark comment on a pull request.
///
/// The token is read from GITHUB_TOKEN (never from a flag), the API base from
/// GITHUB_API_URL (default https://api.github.com).
#[derive(Debug, clap::Args)]
pub struct CommentArgs {
    /// Repository, as OWNER/NAME.
    #[arg(long, value_name = "OWNER/NAME")]
    repo: String,

    /// Pull request number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pr: u64,

    /// The results file (bench.json) to report: a handoff-bench results file of schema 1,
    /// treated as untrusted (size, nesting and count limits, id grammar); the comment is
    /// rendered from it by this xtask.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "results_dir",
        conflicts_with = "results_dir"
    )]
    results: Option<PathBuf>,

    /// Several runners (`bench.yml`'s matrix): every `bench.json` directly in DIR or one
    /// level below it (one directory per downloaded artifact); the comment gets a section
    /// per runner, the shards of one (`NAME-shard-K-of-N`) merged into one. Each file is
    /// checked as `--results` is; one that fails is left out and named, not fatal.
    #[arg(long, value_name = "DIR")]
    results_dir: Option<PathBuf>,

    /// No longer accepted: the comment is rendered from --results, never from a markdown
    /// file (refused without reading it).
    #[arg(long, value_name = "FILE", hide = true)]
    markdown: Option<PathBuf>,

    /// Fail (exit 1) when GITHUB_TOKEN is not set instead of printing the report.
    #[arg(long)]
    require_post: bool,

    /// Create the comment only when a gated verdict is not "unchanged" (a regression, an
    /// improvement, or a pair the run could not decide); an existing comment is updated in
    /// any case. A results file without a paired comparison always counts as changed.
    #[arg(long)]
    only_on_change: bool,

    /// Login whose marked comment is updated; default: the token's account, or
    /// github-actions[bot] for an Actions (installation) token.
    #[arg(long, value_name = "LOGIN")]
    author: Option<String>,

    /// Head branch of the pull request, shown in the comment's header as an inert code span.
    #[arg(long, value_name = "NAME")]
    head_ref: Option<String>,

    /// Head commit of the pull request, shown in the header.
    #[arg(long, value_name = "SHA")]
    head_sha: Option<String>,

    /// URL of the workflow run holding the full report (job summary and artifact).
    #[arg(long, value_name = "URL")]
    details_url: Option<String>,

    /// Retries of a failed API request (5xx, rate limit, no answer).
    #[arg(long, value_name = "N", default_value_t = 4)]
    max_retries: u32,

    /// Longest wait accepted between retries, in seconds; GitHub asking for longer ends the
    /// command with an error rather than a too-early retry.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    max_retry_wait: u64,
}

/// The validated command: everything read and checked, nothing from clap.
#[derive(Debug)]
struct CommentConfig {
    pr: PullRequest,
    body: String,
    /// Files left out of the comment (named in it too).
    refused: Vec<Refusal>,
    author: Option<String>,
    require_post: bool,
    create: Create,
    api: ApiBase,
    policy: RetryPolicy,
}

/// What `read` found: the checked flags and the results.
struct Inputs {
    repo: RepoSlug,
    api: ApiBase,
    read: Sections,
}

/// Failure kinds, for the exit status.
enum Failure {
    /// Bad flags or input files: exit 2.
    Usage(anyhow::Error),
    /// Not one results file could be used, each for its reason: exit 2.
    Refused(Vec<Refusal>),
    /// The API call failed: exit 1.
    Api(anyhow::Error),
}

impl CommentArgs {
    /// Runs the subcommand. Usage errors are reported here (exit 2); API failures are
    /// returned for `main` to print (exit 1). Neither ever contains the token.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let token = Token::from_env();
        let scrub = |text: String| match &token {
            Some(t) => t.scrub(&text),
            None => text,
        };
        let line = |text: String| one_line(&scrub(text));
        match self.validate().and_then(|cfg| {
            for refusal in &cfg.refused {
                eprintln!(
                    "warning: refused {}: {}",
                    line(refusal.name.clone()),
                    line(refusal.reason.clone())
                );
            }
            post(cfg, token.as_ref())
        }) {
            Ok(code) => Ok(code),
            Err(Failure::Usage(e)) => {
                eprintln!("error: {}", line(format!("{e:#}")));
                Ok(ExitCode::from(2))
            }
            Err(Failure::Refused(refused)) => {
                for refusal in &refused {
                    eprintln!(
                        "error: {}: {}",
                        line(refusal.name.clone()),
                        line(refusal.reason.clone())
                    );
                }
                if refused.len() > 1 {
                    eprintln!(
                        "error: none of the {} result files could be used; nothing was posted",
                        refused.len()
                    );
                }
                Ok(ExitCode::from(2))
            }
            Err(Failure::Api(e)) => Err(anyhow!(one_line(&scrub(format!("{e:#}"))))),
        }
    }

    fn validate(self) -> Result<CommentConfig, Failure> {
        let inputs = self.read().map_err(Failure::Usage)?;
        if inputs.read.sections.is_empty() {
            return Err(Failure::Refused(inputs.read.refused));
        }
        Ok(self.compose(inputs))
    }

    /// Checks the flags and reads the results: bad usage is an error, a file that cannot be
    /// used is a refusal.
    fn read(&self) -> anyhow::Result<Inputs> {
        if let Some(path) = &self.markdown {
            anyhow::bail!(
                "--markdown {} is not accepted: the comment is rendered by this xtask from \
                 --results only, never from a markdown file",
                path.display()
            );
        }
        let repo: RepoSlug = self.repo.parse()?;
        if let Some(login) = self.author.as_deref().filter(|l| !is_valid_login(l)) {
            anyhow::bail!("--author {login:?} is not a GitHub login");
        }
        if let Some(url) = self.details_url.as_deref().filter(|u| !is_plain_url(u)) {
            anyhow::bail!("--details-url {url:?} is not a plain http(s) URL");
        }
        let api = ApiBase::from_env()?;
        let read = match (&self.results, &self.results_dir) {
            (Some(file), _) => sections::from_file(file),
            (None, Some(dir)) => sections::from_dir(dir)?,
            (None, None) => anyhow::bail!("give --results FILE or --results-dir DIR"),
        };
        Ok(Inputs { repo, api, read })
    }

    /// The comment of what was read, with what is needed to post it.
    fn compose(self, Inputs { repo, api, read }: Inputs) -> CommentConfig {
        let report = comment_report::render_sections(&read.sections);
        let footer = comment_report::refusals(&read.refused);
        let any_changed = read
            .sections
            .iter()
            .any(|section| changed(section.comparison.as_ref()));
        let create = if self.only_on_change && !any_changed {
            Create::No
        } else {
            Create::Yes
        };
        let header = header_line(&HeaderInfo {
            head_ref: self.head_ref.as_deref(),
            head_sha: self.head_sha.as_deref(),
            details_url: self.details_url.as_deref(),
        });
        let full_report_at = full_report_at(self.details_url.as_deref());
        let body = compose(
            &BodyParts {
                header: header.as_deref(),
                report: &report,
                full_report_at: &full_report_at,
                footer: &footer,
            },
            COMMENT_LIMIT,
        );
        CommentConfig {
            pr: PullRequest {
                repo,
                number: self.pr,
            },
            body,
            refused: read.refused,
            author: self.author,
            require_post: self.require_post,
            create,
            api,
            policy: RetryPolicy {
                max_retries: self.max_retries,
                max_wait: Duration::from_secs(self.max_retry_wait),
                ..RetryPolicy::default()
            },
        }
    }
}

/// Whether `comparison` has a gated verdict other than "unchanged"; no comparison counts as
/// changed (there is nothing to call unchanged).
fn changed(comparison: Option<&Comparison>) -> bool {
    comparison.is_none_or(|cmp| cmp.gated().any(|pair| pair.verdict != Verdict::Unchanged))
}

fn post(cfg: CommentConfig, token: Option<&Token>) -> Result<ExitCode, Failure> {
    let Some(token) = token else {
        println!("{}", cfg.body);
        if cfg.require_post {
            eprintln!(
                "error: {TOKEN_ENV} is not set: nothing was posted to {} (--require-post)",
                cfg.pr
            );
            return Ok(ExitCode::FAILURE);
        }
        eprintln!(
            "warning: {TOKEN_ENV} is not set: nothing was posted to {}; the report is printed above",
            cfg.pr
        );
        if cfg.create == Create::No {
            eprintln!(
                "note: every gated verdict is unchanged: with a token, only an existing comment \
                 would be updated (--only-on-change)"
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .map_err(Failure::Api)?;
    runtime
        .block_on(post_with_token(&cfg, token))
        .with_context(|| format!("posting the benchmark comment to {} failed", cfg.pr))
        .map_err(Failure::Api)
}

async fn post_with_token(cfg: &CommentConfig, token: &Token) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !token.occurs_in(&cfg.body),
        "the report contains the value of {TOKEN_ENV}; refusing to post it"
    );
    let client = Client::new(cfg.api.clone(), token, cfg.policy, Arc::new(TokioSleeper))
        .context("setting up the GitHub client")?;
    let author = resolve_author(&client, cfg.author.as_deref()).await?;
    let how = match author.source {
        AuthorSource::Flag => "from --author",
        AuthorSource::TokenOwner => "the token's account",
        AuthorSource::Installation => "an installation token (GET /user answered 403)",
    };
    eprintln!("note: our comment is the one by {} ({how})", author.login);
    let posted = upsert(&client, &cfg.pr, &author, &cfg.body, cfg.create).await?;
    let (verb, id, url) = match &posted {
        Posted::Created { id, url } => ("created", id, url),
        Posted::Updated { id, url } => ("updated", id, url),
        Posted::NothingToUpdate => {
            println!(
                "no comment posted: every gated verdict is unchanged and {} has no benchmark \
                 comment to update (--only-on-change)",
                cfg.pr
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!(
        "{verb} comment {id} on {}{}",
        cfg.pr,
        url.as_deref().map(|u| format!(": {u}")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
