//! Commands about app updates: follow the state, check, download, install. The logic is in
//! `crate::updates`; the webview never holds an updater permission.

use std::sync::Arc;

use tauri::State;
use tauri::ipc::Channel;

use super::{AppError, CommandResult};
use crate::updates::{UpdateView, Updates};

/// Push the update state now and on every change (a found update, download progress, failures).
#[tauri::command]
#[specta::specta]
pub fn watch_updates(updates: State<'_, Arc<Updates>>, on_view: Channel<UpdateView>) -> CommandResult<()> {
    updates.watch(on_view);
    Ok(())
}

/// Check now (the user asked: "up to date" and failures are shown).
#[tauri::command]
#[specta::specta]
pub async fn check_for_updates(updates: State<'_, Arc<Updates>>) -> CommandResult<UpdateView> {
    Ok(updates.check(true).await)
}

/// Download the update the last check found and verify its signature.
#[tauri::command]
#[specta::specta]
pub async fn download_update(updates: State<'_, Arc<Updates>>) -> CommandResult<UpdateView> {
    Ok(updates.download().await)
}

/// Install the downloaded update and restart into it; returns only if that failed.
#[tauri::command]
#[specta::specta]
pub async fn install_update(updates: State<'_, Arc<Updates>>) -> CommandResult<UpdateView> {
    Ok(updates.install_and_restart().await)
}

/// Turn the daily automatic check on or off.
#[tauri::command]
#[specta::specta]
pub fn set_check_automatically(updates: State<'_, Arc<Updates>>, on: bool) -> CommandResult<UpdateView> {
    updates.set_check_automatically(on).map_err(|message| AppError { code: "settings_not_saved".into(), message })
}
