//! The client, retry and sticky logic against a fake GitHub on 127.0.0.1, with the waits
//! recorded instead of slept (the end-to-end runs of the binary are in `tests/comment_cli.rs`).

#[path = "../../tests/comment_support/fake_github.rs"]
mod fake_github;

use std::sync::Arc;
use std::time::Duration;

use fake_github::{Comment, FakeGitHub, OWNER, PR, REPO, TokenKind, chatter, comments_path};
use serde_json::json;
use wiremock::{Request, Respond, ResponseTemplate};

use super::client::{ApiBase, Client};
use super::error::ApiError;
use super::identity::{ACTIONS_BOT, AuthorSource, resolve_author};
use super::repo::PullRequest;
use super::retry::{RecordingSleeper, RetryPolicy};
use super::sticky::{Create, MARKER, Posted, list_comments, upsert};
use super::token::Token;

fn new_client(fake: &FakeGitHub, policy: RetryPolicy) -> (Client, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = Client::new(
        ApiBase::parse(&fake.server.uri()).unwrap(),
        &Token::new("ghs_testtoken").unwrap(),
        policy,
        sleeper.clone(),
    )
    .unwrap();
    (client, sleeper)
}

fn pr() -> PullRequest {
    PullRequest {
        repo: format!("{OWNER}/{REPO}").parse().unwrap(),
        number: PR,
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_secs(1),
        max_wait: Duration::from_secs(60),
    }
}

fn marked(body: &str) -> String {
    format!("{MARKER}\n{body}")
}

#[tokio::test]
async fn a_500_is_retried_after_the_backoff_then_succeeds() {
    let fake = FakeGitHub::start(TokenKind::Installation, chatter(3)).await;
    fake.fail_next("GET", &comments_path(), 1, ResponseTemplate::new(500))
        .await;
    let (client, sleeper) = new_client(&fake, policy());
    let comments = list_comments(&client, &pr()).await.unwrap();
    assert_eq!(comments.len(), 3);
    assert_eq!(sleeper.waits(), [Duration::from_secs(1)]);
    assert_eq!(fake.request_lines().await.len(), 2);
}

#[tokio::test]
async fn secondary_rate_limit_waits_exactly_retry_after() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let limited = ResponseTemplate::new(403)
        .insert_header("retry-after", "1")
        .set_body_json(json!({"message": "You have exceeded a secondary rate limit."}));
    fake.fail_next("POST", &comments_path(), 1, limited).await;
    let (client, sleeper) = new_client(&fake, policy());
    let author = resolve_author(&client, None).await.unwrap();
    let posted = upsert(&client, &pr(), &author, &marked("r"), Create::Yes)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Created { .. }));
    assert_eq!(sleeper.waits(), [Duration::from_secs(1)]);
    assert_eq!(fake.comments().len(), 1);
}

/// Creates the comment, then answers 502 as if the answer had been lost.
struct CreateThenFail(Arc<std::sync::Mutex<fake_github::State>>);
impl Respond for CreateThenFail {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: serde_json::Value = req.body_json().unwrap();
        let mut state = self.0.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        state.comments.push(Comment {
            id,
            login: ACTIONS_BOT.into(),
            kind: "Bot".into(),
            body: body["body"].as_str().unwrap().to_owned(),
        });
        ResponseTemplate::new(502)
    }
}

#[tokio::test]
async fn a_post_whose_answer_is_lost_is_not_repeated_blindly() {
    let fake = FakeGitHub::start(TokenKind::Installation, chatter(2)).await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(comments_path().as_str()))
        .respond_with(CreateThenFail(fake.state.clone()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fake.server)
        .await;
    let (client, sleeper) = new_client(&fake, policy());
    let author = resolve_author(&client, None).await.unwrap();
    let posted = upsert(&client, &pr(), &author, &marked("second"), Create::Yes)
        .await
        .unwrap();
    assert!(matches!(posted, Posted::Updated { .. }), "{posted:?}");
    let ours: Vec<_> = fake
        .comments()
        .into_iter()
        .filter(|c| c.body.starts_with(MARKER))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].body, marked("second"));
    assert_eq!(sleeper.waits(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    fake.fail_next("GET", &comments_path(), 100, ResponseTemplate::new(503))
        .await;
    let (client, sleeper) = new_client(&fake, policy());
    let err = list_comments(&client, &pr()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Server {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(sleeper.waits().len(), 3);
    assert_eq!(fake.request_lines().await.len(), 4);
}

#[tokio::test]
async fn a_wait_longer_than_the_cap_ends_without_sleeping() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "3600");
    fake.fail_next("GET", &comments_path(), 1, limited).await;
    let (client, sleeper) = new_client(&fake, policy());
    let err = list_comments(&client, &pr()).await.unwrap_err();
    assert!(matches!(err, ApiError::WaitTooLong { .. }), "{err:?}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert!(sleeper.waits().is_empty());
}

#[tokio::test]
async fn a_pagination_link_to_another_host_is_not_followed() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let foreign = ResponseTemplate::new(200)
        .set_body_json(json!([]))
        .insert_header("link", r#"<https://evil.invalid/steal?page=2>; rel="next""#);
    fake.fail_next("GET", &comments_path(), 1, foreign).await;
    let (client, _) = new_client(&fake, policy());
    let err = list_comments(&client, &pr()).await.unwrap_err();
    assert!(matches!(err, ApiError::ForeignLink { .. }), "{err:?}");
}

#[tokio::test]
async fn personal_and_installation_tokens_name_different_authors() {
    let personal = FakeGitHub::start(TokenKind::Personal("octocat".into()), vec![]).await;
    let (client, _) = new_client(&personal, policy());
    let author = resolve_author(&client, None).await.unwrap();
    assert_eq!(
        (author.login.as_str(), author.source),
        ("octocat", AuthorSource::TokenOwner)
    );

    let installation = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let (client, _) = new_client(&installation, policy());
    let author = resolve_author(&client, None).await.unwrap();
    assert_eq!(
        (author.login.as_str(), author.source),
        (ACTIONS_BOT, AuthorSource::Installation)
    );

    let author = resolve_author(&client, Some("my-app[bot]")).await.unwrap();
    assert_eq!(
        (author.login.as_str(), author.source),
        ("my-app[bot]", AuthorSource::Flag)
    );
}

#[tokio::test]
async fn not_found_explains_repo_or_access() {
    let fake = FakeGitHub::start(TokenKind::Installation, vec![]).await;
    let not_found = ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
    fake.fail_next("GET", &comments_path(), 1, not_found).await;
    let (client, sleeper) = new_client(&fake, policy());
    let err = list_comments(&client, &pr()).await.unwrap_err();
    assert!(
        err.to_string().contains("acme/widgets or pull request #42"),
        "{err}"
    );
    assert!(sleeper.waits().is_empty());
}

#[tokio::test]
async fn an_enterprise_api_base_with_a_path_prefixes_every_request() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/api/v3/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"login": "ghe-user"})))
        .mount(&server)
        .await;
    let client = Client::new(
        ApiBase::parse(&format!("{}/api/v3", server.uri())).unwrap(),
        &Token::new("t").unwrap(),
        policy(),
        Arc::new(RecordingSleeper::default()),
    )
    .unwrap();
    let author = resolve_author(&client, None).await.unwrap();
    assert_eq!(author.login, "ghe-user");
}
