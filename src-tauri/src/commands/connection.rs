//! Commands about the CLI connection: its state, a stream of changes, and retry.

use tauri::State;
use tauri::ipc::Channel;

use super::CommandResult;
use crate::AppState;
use crate::engine::ConnectionState;

/// The current connection state.
#[tauri::command]
#[specta::specta]
pub fn get_connection(state: State<'_, AppState>) -> CommandResult<ConnectionState> {
    Ok(state.engine.supervisor.state())
}

/// Push every connection state change (starting with the current one) through `on_state`.
#[tauri::command]
#[specta::specta]
pub fn watch_connection(state: State<'_, AppState>, on_state: Channel<ConnectionState>) -> CommandResult<()> {
    let mut rx = state.engine.supervisor.watch_state();
    tauri::async_runtime::spawn(async move {
        loop {
            let current = rx.borrow_and_update().clone();
            if on_state.send(current).is_err() {
                break; // the webview went away or reloaded
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Try to start the CLI again after the supervisor gave up.
#[tauri::command]
#[specta::specta]
pub fn retry_connection(state: State<'_, AppState>) -> CommandResult<()> {
    state.engine.supervisor.retry();
    Ok(())
}
