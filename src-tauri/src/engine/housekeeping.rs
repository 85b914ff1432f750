//! Session housekeeping: deleting the sessions nobody used for a while, through the CLI's own
//! methods, so it works the same for the bundled CLI and a server (whose disk is not ours).
//!
//! Age is the CLI's idea of it: `sessions.pruneOld` in a dry run lists the sessions whose
//! `modifiedTime` (the time its `events.jsonl` was last written, seen with CLI 1.0.102) is at
//! least N days old. The user sees that list; on confirmation the list is asked for again and
//! exactly the confirmed sessions that are still on it are deleted, one by one with
//! `session.delete`. A session open in the app (resumed or created in this run) is never deleted.

use std::collections::HashSet;

use github_copilot_sdk::SessionId;
use serde::Serialize;
use serde_json::{Value, json};

use super::error::{EngineError, EngineResult};
use super::sessions::{SessionService, SessionSummary};

/// The longest "not used for" the app offers, in days (ten years).
pub const MAX_DAYS: u32 = 3650;

/// What "Delete sessions not used for N days" would delete.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CleanupPreview {
    pub days: u32,
    /// The sessions that would go, most recently used first.
    pub sessions: Vec<SessionSummary>,
    /// Sessions as old as that which stay because they are open in the app.
    pub kept_open: u32,
}

/// What a clean-up did.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CleanupOutcome {
    pub deleted: Vec<String>,
    /// Confirmed sessions left alone: opened meanwhile, used again, or already gone.
    pub kept: Vec<String>,
    /// Sessions the CLI would not delete, with its reason.
    pub failed: Vec<CleanupFailure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CleanupFailure {
    pub session_id: String,
    pub message: String,
}

impl SessionService {
    /// The sessions not used for `days` days, as the CLI sees them, minus those open in the app.
    pub async fn cleanup_preview(&self, days: u32) -> EngineResult<CleanupPreview> {
        let (old, open) = self.old_sessions(days).await?;
        let listed = self.list().await?;
        let mut sessions: Vec<SessionSummary> = old
            .iter()
            .filter(|id| !open.contains(*id))
            .map(|id| {
                listed.iter().find(|s| &s.id == id).cloned().unwrap_or_else(|| SessionSummary {
                    id: id.clone(),
                    title: None,
                    summary: None,
                    working_directory: None,
                    created_at: String::new(),
                    modified_at: String::new(),
                })
            })
            .collect();
        sessions.sort_by(|a, b| b.modified_at.cmp(&a.modified_at));
        let kept_open = old.iter().filter(|id| open.contains(*id)).count() as u32;
        Ok(CleanupPreview { days, sessions, kept_open })
    }

    /// Delete the sessions of `confirmed` that are still not used for `days` days and not open in
    /// the app. Nothing else is deleted, whatever became old since the preview.
    pub async fn clean_up(&self, days: u32, confirmed: &[String]) -> EngineResult<CleanupOutcome> {
        let (old, open) = self.old_sessions(days).await?;
        let client = self.client()?;
        let mut outcome = CleanupOutcome { deleted: Vec::new(), kept: Vec::new(), failed: Vec::new() };
        for id in confirmed {
            // Checked again for each one: a session opened while others were deleted stays.
            let open_now = open.contains(id) || self.live_ids().contains(id);
            if !old.contains(id) || open_now {
                outcome.kept.push(id.clone());
                continue;
            }
            match client.delete_session(&SessionId::new(id)).await {
                Ok(()) => outcome.deleted.push(id.clone()),
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "housekeeping could not delete a session");
                    outcome.failed.push(CleanupFailure { session_id: id.clone(), message: e.to_string() });
                }
            }
        }
        tracing::info!(
            days,
            deleted = outcome.deleted.len(),
            kept = outcome.kept.len(),
            failed = outcome.failed.len(),
            "old sessions cleaned up"
        );
        Ok(outcome)
    }

    /// The ids the CLI counts as not used for `days` days, and the ids open in the app.
    async fn old_sessions(&self, days: u32) -> EngineResult<(HashSet<String>, HashSet<String>)> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(EngineError::InvalidRequest(format!("Choose a number of days from 1 to {MAX_DAYS}.")));
        }
        let open: HashSet<String> = self.live_ids().into_iter().collect();
        let answer = self
            .client()?
            .call(
                "sessions.pruneOld",
                // Named sessions too: the user asked by age alone, and sees every one first.
                Some(json!({ "olderThanDays": days, "dryRun": true, "includeNamed": true })),
            )
            .await?;
        Ok((candidates(&answer)?, open))
    }
}

/// The `candidates` of a dry-run `sessions.pruneOld` answer.
fn candidates(answer: &Value) -> EngineResult<HashSet<String>> {
    let ids = answer
        .get("candidates")
        .and_then(Value::as_array)
        .ok_or_else(|| EngineError::Cli(format!("sessions.pruneOld answered without candidates: {answer}")))?;
    Ok(ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_answer_is_read() {
        // As the pinned CLI answers (1.0.102).
        let answer =
            json!({"deleted": [], "candidates": ["a", "b"], "skipped": [], "freedBytes": 29902, "dryRun": true});
        assert_eq!(candidates(&answer).unwrap(), HashSet::from(["a".to_owned(), "b".to_owned()]));
        assert!(candidates(&json!({"deleted": []})).is_err());
    }
}
