//! The git revision a result was produced from.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitRevision {
    /// `git rev-parse HEAD`; `None` outside a repository or without git.
    pub revision: Option<String>,
    /// Whether tracked files had uncommitted changes; `None` when unknown.
    pub dirty: Option<bool>,
}

impl GitRevision {
    pub fn detect(workspace_root: &Path) -> Self {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(workspace_root)
                .args(args)
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        GitRevision {
            revision: git(&["rev-parse", "HEAD"]).filter(|s| !s.is_empty()),
            dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        }
    }

    /// Short form for reports: `abc1234`, `abc1234-dirty` or `unknown`.
    pub fn short(&self) -> String {
        match &self.revision {
            None => "unknown".to_owned(),
            Some(rev) => {
                let short: String = rev.chars().take(7).collect();
                if self.dirty == Some(true) {
                    format!("{short}-dirty")
                } else {
                    short
                }
            }
        }
    }
}
