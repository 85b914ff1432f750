//! Commands over a session's history: rewind it to before one of the user's messages (a preview
//! first), fork a new session from there, and export it as Markdown or HTML through the native
//! save dialog (engine/rewind.rs, engine/export.rs). The webview never writes files itself.

use std::path::PathBuf;

use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use super::{AppError, CommandResult};
use crate::AppState;
use crate::engine::SessionSummary;
use crate::engine::export::ExportFormat;
use crate::engine::rewind::{RewindMode, RewindOutcome, RewindPreview};

/// What rewinding to just before the user message `event_id` would restore.
#[tauri::command]
#[specta::specta]
pub async fn preview_rewind(
    state: State<'_, AppState>,
    session_id: String,
    event_id: String,
) -> CommandResult<RewindPreview> {
    Ok(state.engine.sessions.preview_rewind(&session_id, &event_id).await?)
}

/// Take the session back to just before the user message `event_id` (and its files, with that mode).
#[tauri::command]
#[specta::specta]
pub async fn rewind_session(
    state: State<'_, AppState>,
    session_id: String,
    event_id: String,
    mode: RewindMode,
) -> CommandResult<RewindOutcome> {
    Ok(state.engine.sessions.rewind(&session_id, &event_id, mode).await?)
}

/// A new session with the history before the user message `event_id`.
#[tauri::command]
#[specta::specta]
pub async fn fork_session(
    state: State<'_, AppState>,
    session_id: String,
    event_id: String,
) -> CommandResult<SessionSummary> {
    Ok(state.engine.sessions.fork(&session_id, &event_id).await?)
}

/// Export the session as `format` to where the user says in the save dialog; the path written,
/// or `None` when the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_session(
    app: AppHandle,
    state: State<'_, AppState>,
    session_id: String,
    format: ExportFormat,
) -> CommandResult<Option<String>> {
    let (content, name) = state.engine.sessions.export(&session_id, format).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<Option<PathBuf>>();
    let (label, extension) = match format {
        ExportFormat::Markdown => ("Markdown", "md"),
        ExportFormat::Html => ("Web page", "html"),
    };
    app.dialog().file().set_title("Export session").set_file_name(&name).add_filter(label, &[extension]).save_file(
        move |path| {
            let _ = tx.send(path.and_then(|p| p.into_path().ok()));
        },
    );
    let Some(path) = rx.await.ok().flatten() else { return Ok(None) };
    tokio::fs::write(&path, content).await.map_err(|e| AppError {
        code: "export_failed".into(),
        message: format!("Could not write {}: {e}", path.display()),
    })?;
    tracing::info!(session = %session_id, "session exported");
    Ok(Some(path.display().to_string()))
}
