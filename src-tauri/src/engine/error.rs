//! The engine's error type. Every variant carries a stable `code()` that crosses the bridge,
//! so the UI branches on codes and shows messages that say what the user can do.

use github_copilot_sdk::ErrorKind;

use super::server::ServerProblem;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "The Copilot CLI was not found at {path}. Reinstall the app, or run `node vendor/fetch-cli.mjs` in a development checkout"
    )]
    CliMissing { path: String },
    #[error(
        "The Copilot CLI at {path} could not be started: {reason}. Reinstall the app, or run `node vendor/fetch-cli.mjs` in a development checkout"
    )]
    CliUnusable { path: String, reason: String },
    /// A CLI server could not be used; the problem says why and what to do.
    #[error("{}", problem.message(address))]
    Server { address: String, problem: ServerProblem },
    #[error("The Copilot CLI is not connected{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    NotConnected { reason: Option<String> },
    #[error(
        "The Copilot CLI keeps crashing ({crashes} times in {window_secs} s); last error: {last}. Use Retry to start it again."
    )]
    CrashLoop { crashes: u32, window_secs: u64, last: String },
    #[error("Session {0} was not found. It may have been deleted.")]
    SessionNotFound(String),
    #[error("Permission request {0} is no longer pending.")]
    PromptNotPending(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error(
        "Message search is not available on this server: the Copilot CLI at {address} cannot read its stored sessions for the app (it has no sessions.readPersistedEvents). Titles and folders are still searched."
    )]
    SearchUnavailable { address: String },
    #[error("A newer search replaced this one.")]
    SearchSuperseded,
    #[error("Could not search the stored sessions: {0}")]
    SearchFailed(String),
    #[error("The Copilot CLI answered with an error: {0}")]
    Cli(String),
}

impl EngineError {
    /// A stable, machine-readable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CliMissing { .. } => "cli_missing",
            Self::CliUnusable { .. } => "cli_unusable",
            Self::Server { problem, .. } => problem.code(),
            Self::NotConnected { .. } => "not_connected",
            Self::CrashLoop { .. } => "crash_loop",
            Self::SessionNotFound(_) => "session_not_found",
            Self::PromptNotPending(_) => "prompt_not_pending",
            Self::InvalidRequest(_) => "invalid_request",
            Self::SearchUnavailable { .. } => "search_unavailable",
            Self::SearchSuperseded => "search_superseded",
            Self::SearchFailed(_) => "search_failed",
            Self::Cli(_) => "cli_error",
        }
    }
}

/// True when the CLI says it does not know the session (dropped for idleness, or never loaded).
pub(crate) fn is_session_not_found(error: &github_copilot_sdk::Error) -> bool {
    error.to_string().to_ascii_lowercase().contains("session not found")
}

/// True when the error means the connection to the CLI is gone (crash, EOF, closed pipe).
pub(crate) fn is_connection_lost(error: &github_copilot_sdk::Error) -> bool {
    matches!(error.kind(), ErrorKind::Io | ErrorKind::Protocol(_))
}

impl From<github_copilot_sdk::Error> for EngineError {
    fn from(error: github_copilot_sdk::Error) -> Self {
        if is_connection_lost(&error) {
            Self::NotConnected { reason: Some(error.to_string()) }
        } else {
            Self::Cli(error.to_string())
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;
