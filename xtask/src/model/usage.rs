//! [`UsageError`]: bad usage found after parsing, e.g. `--only` matching nothing or a flag
//! the benchmark binary rejects. It lives at the bottom so the engine can raise it too;
//! `commands::exit` maps it (with the model's input errors) to exit status 2.

use thiserror::Error;

/// Bad usage discovered after parsing (e.g. `--only` matching nothing).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct UsageError(pub String);
