//! Commands about sessions: list, search their messages, create, open (the last screen from the
//! journal at once, the journal's history while the CLI resumes, then what follows it plus a live event
//! channel), send, stop, rename, delete, and the models a new session can use.

use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use super::CommandResult;
use crate::AppState;
use crate::engine::{AuthStatus, ChatEvent, Handover, ModelInfo, NewSession, SessionMatch, SessionSummary};

/// Stored sessions, newest first.
#[tauri::command]
#[specta::specta]
pub async fn list_sessions(state: State<'_, AppState>) -> CommandResult<Vec<SessionSummary>> {
    Ok(state.engine.sessions.list().await?)
}

/// Stored sessions whose messages (the user's and the assistant's) contain `query`, each with a
/// snippet around its first hit. Fails with `search_unavailable` when attached to a remote CLI
/// server, and with `search_superseded` when a newer search started before this one finished.
#[tauri::command]
#[specta::specta]
pub async fn search_sessions(state: State<'_, AppState>, query: String) -> CommandResult<Vec<SessionMatch>> {
    Ok(state.engine.search.search(&query).await?)
}

/// Start a session in `request.workingDirectory` with `request.model`.
#[tauri::command]
#[specta::specta]
pub async fn create_session(state: State<'_, AppState>, request: NewSession) -> CommandResult<SessionSummary> {
    Ok(state.engine.sessions.create(request).await?)
}

/// The last screen of a stored session, read from the CLI's journal on disk while `open_session`
/// resumes it: provisional, to show until the history arrives (which replaces it, keyed by event
/// id). `None` when there is no journal to read here (a remote CLI server, an unknown session).
#[tauri::command]
#[specta::specta]
pub async fn session_tail(state: State<'_, AppState>, session_id: String) -> CommandResult<Option<Vec<ChatEvent>>> {
    Ok(state.engine.journal.tail(&session_id).await)
}

/// A session's stored history as `open_session` hands it over.
#[derive(Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OpenedHistory {
    /// Whether `events` follow the journal's transcript, which went down `on_journal` (and stands), or are
    /// all of the history.
    pub after_journal: bool,
    pub events: Vec<ChatEvent>,
}

/// Open a session: its stored history comes back, and every later event goes down `on_events` in
/// coalesced batches until `close_session` (or the webview goes away). Events that arrive while the
/// history loads can appear in both; the UI keeps the first of each id.
///
/// A session resumed now whose journal is read here sends the journal's transcript down `on_journal` while
/// the CLI resumes it; when the CLI confirms it, the answer is only what follows it (`after_journal`), so the
/// bulk of a long history crosses to the webview before the resume ends instead of after.
#[tauri::command]
#[specta::specta]
pub async fn open_session(
    state: State<'_, AppState>,
    session_id: String,
    on_events: Channel<Vec<ChatEvent>>,
    on_journal: Channel<Vec<ChatEvent>>,
) -> CommandResult<OpenedHistory> {
    let engine = &state.engine;
    let early = Box::new(move |journal| {
        let _ = on_journal.send(journal); // fails only when the webview is gone
    });
    let (mut stream, handover) = engine.sessions.watch_handing_over(&session_id, early).await?;
    let history = match handover {
        Handover::Full(events) => OpenedHistory { after_journal: false, events },
        Handover::AfterJournal(events) => OpenedHistory { after_journal: true, events },
    };
    // The journal's events and their transcript are freed by now: what reading a long history took, given back.
    tauri::async_runtime::spawn_blocking(crate::memory::give_back_freed);
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(batch) = stream.next_batch().await {
            if on_events.send(batch).is_err() {
                break; // the webview reloaded or closed
            }
        }
    });
    if let Some(previous) = state.watchers.lock().unwrap().insert(session_id, forward) {
        previous.abort();
    }
    Ok(history)
}

/// Stop sending a session's events (the user switched away from it).
#[tauri::command]
#[specta::specta]
pub fn close_session(state: State<'_, AppState>, session_id: String) -> CommandResult<()> {
    if let Some(forward) = state.watchers.lock().unwrap().remove(&session_id) {
        forward.abort();
    }
    Ok(())
}

/// Send a user message; the reply streams through the session's channel.
#[tauri::command]
#[specta::specta]
pub async fn send_message(state: State<'_, AppState>, session_id: String, text: String) -> CommandResult<()> {
    state.engine.sessions.send(&session_id, &text).await?;
    Ok(())
}

/// Stop the running turn.
#[tauri::command]
#[specta::specta]
pub async fn abort_turn(state: State<'_, AppState>, session_id: String) -> CommandResult<()> {
    Ok(state.engine.sessions.abort(&session_id).await?)
}

/// Name a session.
#[tauri::command]
#[specta::specta]
pub async fn rename_session(state: State<'_, AppState>, session_id: String, title: String) -> CommandResult<()> {
    Ok(state.engine.sessions.rename(&session_id, &title).await?)
}

/// Delete a session and its stored history.
#[tauri::command]
#[specta::specta]
pub async fn delete_session(state: State<'_, AppState>, session_id: String) -> CommandResult<()> {
    if let Some(forward) = state.watchers.lock().unwrap().remove(&session_id) {
        forward.abort();
    }
    Ok(state.engine.sessions.delete(&session_id).await?)
}

/// The model a session runs on.
#[tauri::command]
#[specta::specta]
pub async fn session_model(state: State<'_, AppState>, session_id: String) -> CommandResult<Option<String>> {
    Ok(state.engine.sessions.model_of(&session_id).await?)
}

/// Switch a session to another model from its next turn on.
#[tauri::command]
#[specta::specta]
pub async fn set_session_model(state: State<'_, AppState>, session_id: String, model: String) -> CommandResult<()> {
    Ok(state.engine.sessions.switch_model(&session_id, &model).await?)
}

/// Models the connected CLI offers.
#[tauri::command]
#[specta::specta]
pub async fn list_models(state: State<'_, AppState>) -> CommandResult<Vec<ModelInfo>> {
    Ok(state.engine.sessions.models().await?)
}

/// Who the CLI is signed in as.
#[tauri::command]
#[specta::specta]
pub async fn auth_status(state: State<'_, AppState>) -> CommandResult<AuthStatus> {
    Ok(state.engine.sessions.auth_status().await?)
}
