//! A small stateful fake of GitHub's issue-comment REST API on 127.0.0.1 (wiremock with
//! custom responders sharing one state), used by the comment tests; it also opens pull
//! requests (`POST /repos/{owner}/{repo}/pulls`) for the baseline-update workflow's test.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fake"
)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The repository and pull request the fake serves.
pub const OWNER: &str = "acme";
pub const REPO: &str = "widgets";
pub const PR: u64 = 42;
/// GitHub's pagination links use the repository id, not its name.
pub const REPO_ID: u64 = 777;

/// One stored comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub login: String,
    pub kind: String,
    pub body: String,
}

/// Who the token belongs to.
#[derive(Debug, Clone)]
pub enum TokenKind {
    /// A personal token of this login: `GET /user` answers 200.
    Personal(String),
    /// An Actions installation token: `GET /user` answers 403, comments by the bot.
    Installation,
}

impl TokenKind {
    fn login(&self) -> (&str, &str) {
        match self {
            TokenKind::Personal(login) => (login.as_str(), "User"),
            TokenKind::Installation => ("github-actions[bot]", "Bot"),
        }
    }
}

/// A pull request opened through the fake: what was asked for, and with which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub token: String,
}

#[derive(Debug)]
pub struct State {
    pub comments: Vec<Comment>,
    pub next_id: u64,
    pub token: TokenKind,
    pub base: String,
    pub pulls: Vec<PullRequest>,
    /// The workflow's own GITHUB_TOKEN, when a test tells the fake which one it is.
    pub actions_token: Option<String>,
    /// The repository setting "Allow GitHub Actions to create and approve pull requests":
    /// when off, GitHub refuses a pull request opened with the workflow's token (403).
    pub actions_may_open_pulls: bool,
    /// The bare repository the pull requests' branches are pushed to: a head branch it
    /// does not have is refused (422), as GitHub does.
    pub git_dir: Option<std::path::PathBuf>,
}

/// The fake: the server plus its shared state.
pub struct FakeGitHub {
    pub server: MockServer,
    pub state: Arc<Mutex<State>>,
}

fn comment_json(base: &str, c: &Comment) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": { "login": c.login, "type": c.kind, "id": 1 },
        "html_url": format!("{base}/{OWNER}/{REPO}/pull/{PR}#issuecomment-{}", c.id),
        "created_at": "2026-01-01T00:00:00Z",
    })
}

struct UserResponder(Arc<Mutex<State>>);
impl Respond for UserResponder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match &self.0.lock().unwrap().token {
            TokenKind::Personal(login) => {
                ResponseTemplate::new(200).set_body_json(json!({ "login": login, "type": "User" }))
            }
            TokenKind::Installation => ResponseTemplate::new(403).set_body_json(json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
            })),
        }
    }
}

struct ListResponder(Arc<Mutex<State>>);
impl Respond for ListResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let state = self.0.lock().unwrap();
        let query = |name: &str| {
            req.url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let per_page = query("per_page").unwrap_or(30).min(100);
        let page = query("page").unwrap_or(1).max(1);
        let start = (page - 1) * per_page;
        let items: Vec<Value> = state
            .comments
            .iter()
            .skip(start)
            .take(per_page)
            .map(|c| comment_json(&state.base, c))
            .collect();
        let pages = state.comments.len().div_ceil(per_page).max(1);
        let link = |p: usize| {
            format!(
                "{}/repositories/{REPO_ID}/issues/{PR}/comments?per_page={per_page}&page={p}",
                state.base
            )
        };
        let mut links = Vec::new();
        if page < pages {
            links.push(format!("<{}>; rel=\"next\"", link(page + 1)));
            links.push(format!("<{}>; rel=\"last\"", link(pages)));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", link(page - 1)));
            links.push(format!("<{}>; rel=\"first\"", link(1)));
        }
        let mut resp = ResponseTemplate::new(200).set_body_json(Value::Array(items));
        if !links.is_empty() {
            resp = resp.insert_header("link", links.join(", ").as_str());
        }
        resp
    }
}

struct CreateResponder(Arc<Mutex<State>>);
impl Respond for CreateResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(payload) = req.body_json::<Value>() else {
            return ResponseTemplate::new(400);
        };
        let Some(body) = payload.get("body").and_then(Value::as_str) else {
            return ResponseTemplate::new(422).set_body_json(json!({"message": "body missing"}));
        };
        let mut state = self.0.lock().unwrap();
        let (login, kind) = state.token.login();
        let comment = Comment {
            id: state.next_id,
            login: login.to_owned(),
            kind: kind.to_owned(),
            body: body.to_owned(),
        };
        state.next_id += 1;
        state.comments.push(comment.clone());
        ResponseTemplate::new(201).set_body_json(comment_json(&state.base, &comment))
    }
}

struct UpdateResponder(Arc<Mutex<State>>);
impl Respond for UpdateResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id: Option<u64> = req
            .url
            .path()
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok());
        let body = req
            .body_json::<Value>()
            .ok()
            .and_then(|v| v.get("body").and_then(Value::as_str).map(str::to_owned));
        let mut state = self.0.lock().unwrap();
        let (login, _) = state.token.login();
        let login = login.to_owned();
        let base = state.base.clone();
        match (id, body) {
            (Some(id), Some(body)) => match state.comments.iter_mut().find(|c| c.id == id) {
                // GitHub lets only the author (or a maintainer) edit; the fake: only the author.
                Some(c) if c.login == login => {
                    c.body = body;
                    ResponseTemplate::new(200).set_body_json(comment_json(&base, c))
                }
                Some(_) => ResponseTemplate::new(403)
                    .set_body_json(json!({"message": "Must have admin rights to Repository."})),
                None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
            },
            _ => ResponseTemplate::new(422).set_body_json(json!({"message": "Invalid request"})),
        }
    }
}

struct PullsResponder(Arc<Mutex<State>>);
impl Respond for PullsResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Ok(payload) = req.body_json::<Value>() else {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"message": "Problems parsing JSON"}));
        };
        let field = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("token "))
            })
            .unwrap_or_default()
            .to_owned();
        let mut state = self.0.lock().unwrap();
        if !state.actions_may_open_pulls && state.actions_token.as_deref() == Some(token.as_str()) {
            return ResponseTemplate::new(403).set_body_json(json!({
                "message": "GitHub Actions is not permitted to create or approve pull requests.",
                "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            }));
        }
        let (Some(head), Some(base), Some(title)) = (field("head"), field("base"), field("title"))
        else {
            return ResponseTemplate::new(422)
                .set_body_json(json!({"message": "Validation Failed"}));
        };
        let head_exists = state.git_dir.as_ref().is_none_or(|dir| {
            std::process::Command::new("git")
                .arg("--git-dir")
                .arg(dir)
                .args([
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("refs/heads/{head}"),
                ])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        if !head_exists {
            return ResponseTemplate::new(422).set_body_json(json!({
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}],
            }));
        }
        let number = state.next_id;
        state.next_id += 1;
        state.pulls.push(PullRequest {
            number,
            head,
            base,
            title,
            body: field("body").unwrap_or_default(),
            token,
        });
        ResponseTemplate::new(201).set_body_json(json!({
            "number": number,
            "html_url": format!("{}/{OWNER}/{REPO}/pull/{number}", state.base),
        }))
    }
}

impl FakeGitHub {
    /// Starts the fake with `comments` already on the pull request.
    pub async fn start(token: TokenKind, comments: Vec<Comment>) -> Self {
        let server = MockServer::start().await;
        let next_id = comments.iter().map(|c| c.id).max().unwrap_or(1000) + 1;
        let state = Arc::new(Mutex::new(State {
            comments,
            next_id,
            token,
            base: server.uri(),
            pulls: Vec::new(),
            actions_token: None,
            actions_may_open_pulls: true,
            git_dir: None,
        }));
        let list_path = format!("/repos/{OWNER}/{REPO}/issues/{PR}/comments");
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(UserResponder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(list_path.as_str()))
            .respond_with(ListResponder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(
                format!("/repositories/{REPO_ID}/issues/{PR}/comments").as_str(),
            ))
            .respond_with(ListResponder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(list_path.as_str()))
            .respond_with(CreateResponder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(format!(
                r"^/repos/{OWNER}/{REPO}/issues/comments/\d+$"
            )))
            .respond_with(UpdateResponder(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/repos/{OWNER}/{REPO}/pulls").as_str()))
            .respond_with(PullsResponder(state.clone()))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// A snapshot of the pull requests opened.
    pub fn pulls(&self) -> Vec<PullRequest> {
        self.state.lock().unwrap().pulls.clone()
    }

    /// A snapshot of the stored comments.
    pub fn comments(&self) -> Vec<Comment> {
        self.state.lock().unwrap().comments.clone()
    }

    /// Answers the next `times` requests matching `method_name path_str` with `template`,
    /// before the stateful responders see them.
    pub async fn fail_next(
        &self,
        method_name: &str,
        path_str: &str,
        times: u64,
        template: ResponseTemplate,
    ) {
        Mock::given(method(method_name))
            .and(path(path_str))
            .respond_with(template)
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// Every request received so far, as `METHOD path?query`.
    pub async fn request_lines(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{} {}{q}", r.method, r.url.path())
            })
            .collect()
    }
}

/// `n` comments by ordinary users, ids 1..=n.
pub fn chatter(n: u64) -> Vec<Comment> {
    (1..=n)
        .map(|id| Comment {
            id,
            login: format!("user{}", id % 7),
            kind: "User".into(),
            body: format!("comment {id}"),
        })
        .collect()
}

/// The list endpoint's path for the fake pull request.
pub fn comments_path() -> String {
    format!("/repos/{OWNER}/{REPO}/issues/{PR}/comments")
}
