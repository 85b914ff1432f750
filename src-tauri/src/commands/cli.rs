//! Commands about which Copilot CLI the app talks to (the bundled one or a server, with the
//! server's connection token, which goes straight to the keychain), testing a server, and
//! deleting old sessions. No token is ever part of an answer.

use tauri::State;

use super::CommandResult;
use crate::AppState;
use crate::auth::account::{AccountService, ServerCheck, SettingsView, TokenChange};
use crate::auth::settings::{CliSettings, ServerAddress};
use crate::engine::{CleanupOutcome, CleanupPreview};
use crate::secret::Sensitive;

/// Use `settings` from now on and switch the running app to that CLI. `token`, when given,
/// replaces the server's stored connection token; `forget_token` removes it.
#[tauri::command]
#[specta::specta]
pub async fn save_cli_settings(
    account: State<'_, AccountService>,
    settings: CliSettings,
    token: Option<String>,
    forget_token: bool,
) -> CommandResult<SettingsView> {
    let change = match (token.filter(|t| !t.trim().is_empty()), forget_token) {
        (Some(token), _) => TokenChange::Replace(Sensitive::new(token)),
        (None, true) => TokenChange::Remove,
        (None, false) => TokenChange::Keep,
    };
    Ok(account.save_cli(settings, change).await?)
}

/// Connect to `server` (with `token`, or the one stored for it) and say what it is, or why not.
#[tauri::command]
#[specta::specta]
pub async fn test_cli_server(
    account: State<'_, AccountService>,
    server: ServerAddress,
    token: Option<String>,
) -> CommandResult<ServerCheck> {
    Ok(account.test_server(server, token.map(Sensitive::new)).await?)
}

/// The sessions not used for `days` days (never one open in the app).
#[tauri::command]
#[specta::specta]
pub async fn preview_session_cleanup(state: State<'_, AppState>, days: u32) -> CommandResult<CleanupPreview> {
    Ok(state.engine.sessions.cleanup_preview(days).await?)
}

/// Delete the confirmed sessions that are still not used for `days` days.
#[tauri::command]
#[specta::specta]
pub async fn clean_up_sessions(
    state: State<'_, AppState>,
    days: u32,
    session_ids: Vec<String>,
) -> CommandResult<CleanupOutcome> {
    Ok(state.engine.sessions.clean_up(days, &session_ids).await?)
}
