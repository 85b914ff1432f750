//! Rewind and fork: taking a session back to just before one of the user's messages (the
//! conversation, and with file-change tracking the files its turns changed) and starting a new
//! session from the history before such a message. Only asks the CLI (`session.history.*`,
//! `sessions.fork`); what the transcript shows afterwards comes from the session's history.

use github_copilot_sdk::SessionId;
use github_copilot_sdk::rpc::{
    HistoryPreviewRewindRequest, HistoryRewindMode, HistoryRewindRequest, SessionsForkRequest,
};
use serde::{Deserialize, Serialize};

use super::error::{EngineError, EngineResult};
use super::sessions::{SessionService, SessionSummary};

/// What a rewind to one message would do, for the user to confirm.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RewindPreview {
    /// The session records file changes (created with tracking); older sessions do not.
    pub tracking: bool,
    /// Files can be restored now; when not, `reason` says why in words.
    pub files_available: bool,
    pub reason: Option<String>,
    /// The files the rewind would restore, by path.
    pub files: Vec<RewindFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RewindFile {
    pub path: String,
    /// "created", "modified", "deleted", ... as the CLI names the change being undone.
    pub change: String,
    pub lines_added: u32,
    pub lines_removed: u32,
}

/// Whether a rewind restores files too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum RewindMode {
    Conversation,
    ConversationAndFiles,
}

/// What a rewind did.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RewindOutcome {
    /// Files put back as they were.
    pub restored: Vec<String>,
    /// Files left as they are, each with why.
    pub skipped: Vec<SkippedFile>,
    /// Something went partly wrong (the CLI's detail); the rest still happened.
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

fn word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Why files cannot be restored, in words, from the CLI's reason code.
fn unavailable(reason: &str) -> String {
    match reason {
        "file-change-tracking-disabled" => {
            "This session does not track file changes (it was started before the app tracked them), so only the conversation can go back.".into()
        }
        "session-busy" => "The agent is still working. Stop or wait for the turn to end, then try again.".into(),
        "unsupported-remote-session" => "This session runs on a remote CLI, which cannot restore files.".into(),
        other => format!("Files cannot be restored ({other})."),
    }
}

impl SessionService {
    /// What rewinding to just before the user message `event_id` would restore.
    pub async fn preview_rewind(&self, session_id: &str, event_id: &str) -> EngineResult<RewindPreview> {
        let session = self.handle(session_id).await?;
        let points = session.rpc().history().list_rewind_points().await?;
        if let Some(reason) = &points.unavailable_reason {
            return Err(EngineError::InvalidRequest(unavailable(&word(reason))));
        }
        if !points.points.iter().any(|p| p.event_id == event_id) {
            return Err(EngineError::InvalidRequest("That message is no longer in the session's history.".into()));
        }
        if !points.file_change_tracking_enabled {
            return Ok(RewindPreview {
                tracking: false,
                files_available: false,
                reason: Some(unavailable("file-change-tracking-disabled")),
                files: Vec::new(),
            });
        }
        let preview = session
            .rpc()
            .history()
            .preview_rewind(HistoryPreviewRewindRequest { event_id: event_id.to_owned() })
            .await?;
        Ok(RewindPreview {
            tracking: true,
            files_available: preview.available,
            reason: preview.reason.as_ref().map(|r| unavailable(&word(r))),
            files: preview
                .files
                .iter()
                .map(|f| RewindFile {
                    path: f.path.clone(),
                    change: word(&f.change_type),
                    lines_added: f.lines_added.max(0) as u32,
                    lines_removed: f.lines_removed.max(0) as u32,
                })
                .collect(),
        })
    }

    /// Take the session back to just before the user message `event_id`: that message and all
    /// after it leave the conversation, and with `ConversationAndFiles` the files their turns
    /// changed go back to how they were.
    pub async fn rewind(&self, session_id: &str, event_id: &str, mode: RewindMode) -> EngineResult<RewindOutcome> {
        let session = self.handle(session_id).await?;
        let mode = match mode {
            RewindMode::Conversation => HistoryRewindMode::Conversation,
            RewindMode::ConversationAndFiles => HistoryRewindMode::ConversationAndFiles,
        };
        let result =
            session.rpc().history().rewind(HistoryRewindRequest { event_id: event_id.to_owned(), mode }).await?;
        let outcome = word(&result.outcome);
        let detail = result.error.clone().unwrap_or_default();
        match outcome.as_str() {
            "success" => {}
            "session-busy" | "file-change-tracking-disabled" | "unsupported-remote-session" => {
                return Err(EngineError::InvalidRequest(unavailable(&outcome)));
            }
            "checkpoint-cleanup-failed" | "snapshot-prune-failed" => {}
            _ => {
                return Err(EngineError::Cli(format!(
                    "the rewind did not happen ({outcome}){}",
                    if detail.is_empty() { String::new() } else { format!(": {detail}") }
                )));
            }
        }
        tracing::info!(session = session_id, restored = result.restored_files.len(), "session rewound");
        Ok(RewindOutcome {
            restored: result.restored_files,
            skipped: result
                .skipped_files
                .iter()
                .map(|s| SkippedFile { path: s.path.clone(), reason: word(&s.reason) })
                .collect(),
            warning: (!detail.is_empty()).then_some(detail),
        })
    }

    /// A new session with the history of `session_id` before the user message `event_id`.
    pub async fn fork(&self, session_id: &str, event_id: &str) -> EngineResult<SessionSummary> {
        let request = SessionsForkRequest {
            session_id: SessionId::new(session_id),
            to_event_id: Some(event_id.to_owned()),
            name: None,
        };
        let forked = self.client()?.rpc().sessions().fork(request).await?;
        let id = forked.session_id.to_string();
        tracing::info!(session = session_id, fork = %id, "session forked");
        let sessions = self.list().await?;
        Ok(sessions.into_iter().find(|s| s.id == id).unwrap_or_else(|| SessionSummary {
            id,
            title: forked.name,
            summary: None,
            working_directory: None,
            created_at: String::new(),
            modified_at: String::new(),
        }))
    }
}
