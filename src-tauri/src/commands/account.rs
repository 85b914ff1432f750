//! Commands about the account: who is signed in, signing in with GitHub's device flow (progress
//! through a channel), the no-keychain choice, signing out, and the bring-your-own-key provider.
//! Each one calls `AccountService`; no token or key is ever part of an answer.

use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use super::{AppError, CommandResult};
use crate::auth::account::{AccountService, AccountView, SettingsView, SignInStart, SignInState};
use crate::auth::settings::ProviderConfig;
use crate::secret::Sensitive;

/// Who is signed in, and how.
#[tauri::command]
#[specta::specta]
pub async fn get_account(account: State<'_, AccountService>) -> CommandResult<AccountView> {
    Ok(account.view().await)
}

/// Push the account now and after every change through `on_account`.
#[tauri::command]
#[specta::specta]
pub async fn watch_account(account: State<'_, AccountService>, on_account: Channel<AccountView>) -> CommandResult<()> {
    account.watch(move |view| on_account.send(view).is_ok());
    Ok(())
}

/// Start signing in to `host`; the code comes back, progress goes down `on_progress`.
#[tauri::command]
#[specta::specta]
pub async fn start_sign_in(
    account: State<'_, AccountService>,
    host: String,
    on_progress: Channel<SignInState>,
) -> CommandResult<SignInStart> {
    Ok(account
        .start_sign_in(&host, move |state| {
            let _ = on_progress.send(state);
        })
        .await?)
}

/// Stop the running sign-in.
#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(account: State<'_, AccountService>) -> CommandResult<()> {
    account.cancel_sign_in();
    Ok(())
}

/// Open the running sign-in's verification page in the system browser (no other address).
#[tauri::command]
#[specta::specta]
pub fn open_verification_uri(app: AppHandle, account: State<'_, AccountService>) -> CommandResult<()> {
    let uri = account.verification_uri()?;
    app.opener()
        .open_url(uri, None::<&str>)
        .map_err(|e| AppError { code: "open_failed".into(), message: format!("Could not open the browser: {e}") })
}

/// Keep secrets in memory for this run (no keychain); finishes a sign-in waiting on it.
#[tauri::command]
#[specta::specta]
pub async fn keep_token_in_memory(account: State<'_, AccountService>) -> CommandResult<()> {
    Ok(account.keep_token_in_memory().await?)
}

/// Sign out: the keychain entry goes, the CLI restarts signed out.
#[tauri::command]
#[specta::specta]
pub async fn sign_out(account: State<'_, AccountService>) -> CommandResult<()> {
    Ok(account.sign_out().await?)
}

/// The settings the settings view shows.
#[tauri::command]
#[specta::specta]
pub fn get_settings(account: State<'_, AccountService>) -> CommandResult<SettingsView> {
    Ok(account.settings_view())
}

/// Use this provider for new sessions; `api_key` (when given) goes straight to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn save_provider_settings(
    account: State<'_, AccountService>,
    settings: ProviderConfig,
    api_key: Option<String>,
) -> CommandResult<SettingsView> {
    Ok(account.save_provider(settings, api_key.map(Sensitive::new)).await?)
}

/// Back to GitHub's models; the provider's key leaves the keychain.
#[tauri::command]
#[specta::specta]
pub async fn clear_provider(account: State<'_, AccountService>) -> CommandResult<SettingsView> {
    Ok(account.clear_provider().await?)
}
