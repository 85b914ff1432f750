//! Commands that reach outside the app on the user's behalf: a link in the system browser, a
//! native folder picker. The webview holds no plugin permissions; these commands are its only way.

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use super::{AppError, CommandResult};

/// Open a web link (http, https or mailto) in the user's browser. The UI asks the user first.
#[tauri::command]
#[specta::specta]
pub fn open_link(app: AppHandle, url: String) -> CommandResult<()> {
    let parsed = url::Url::parse(&url).map_err(|_| invalid(format!("\"{url}\" is not a valid link.")))?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
        return Err(invalid(format!("Links with the \"{}:\" scheme are not opened.", parsed.scheme())));
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|e| AppError { code: "open_failed".into(), message: format!("Could not open the link: {e}") })
}

/// Ask for a folder with the system's dialog; `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_folder(app: AppHandle) -> CommandResult<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Working directory for the new session").pick_folder(move |folder| {
        let _ = tx.send(folder.and_then(|f| f.into_path().ok()).map(|p| p.display().to_string()));
    });
    Ok(rx.await.unwrap_or(None))
}

/// Where a new session starts unless the user picks another folder.
#[tauri::command]
#[specta::specta]
pub fn default_working_directory() -> CommandResult<String> {
    Ok(dirs::home_dir().unwrap_or_else(std::env::temp_dir).display().to_string())
}

fn invalid(message: String) -> AppError {
    AppError { code: "invalid_request".into(), message }
}
