//! Commands about MCP servers: the "Tools & MCP" settings page (what the CLI knows for a folder, the
//! user's servers, add/edit/remove/enable/disable) and a session's servers (state, tools, start/stop/restart).

use tauri::State;

use super::{AppError, CommandResult};
use crate::auth::mcp_secrets::{McpOverview, McpSettings, McpSettingsError};
use crate::engine::mcp::{McpAction, McpServerDraft, McpTool, SessionMcp};

impl From<McpSettingsError> for AppError {
    fn from(error: McpSettingsError) -> Self {
        Self { code: error.code().to_owned(), message: error.to_string() }
    }
}

/// The user's servers and every server the CLI knows for `working_directory` (empty: the CLI's default).
#[tauri::command]
#[specta::specta]
pub async fn mcp_overview(mcp: State<'_, McpSettings>, working_directory: String) -> CommandResult<McpOverview> {
    Ok(mcp.overview(&working_directory).await?)
}

/// Add a server or change one; values marked secret go to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn save_mcp_server(mcp: State<'_, McpSettings>, draft: McpServerDraft) -> CommandResult<()> {
    Ok(mcp.save(draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_mcp_server(mcp: State<'_, McpSettings>, name: String) -> CommandResult<()> {
    Ok(mcp.remove(&name).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_mcp_server_enabled(mcp: State<'_, McpSettings>, name: String, enabled: bool) -> CommandResult<()> {
    Ok(mcp.set_enabled(&name, enabled).await?)
}

/// The servers of a session and their state, and whether the account's policy allows third-party servers.
#[tauri::command]
#[specta::specta]
pub async fn session_mcp_servers(mcp: State<'_, McpSettings>, session_id: String) -> CommandResult<SessionMcp> {
    Ok(mcp.service().session_servers(&session_id).await?)
}

/// The tools of one running server of a session.
#[tauri::command]
#[specta::specta]
pub async fn session_mcp_tools(
    mcp: State<'_, McpSettings>,
    session_id: String,
    server: String,
) -> CommandResult<Vec<McpTool>> {
    Ok(mcp.service().session_tools(&session_id, &server).await?)
}

/// Start, stop or restart one server of a session.
#[tauri::command]
#[specta::specta]
pub async fn control_mcp_server(
    mcp: State<'_, McpSettings>,
    session_id: String,
    server: String,
    action: McpAction,
) -> CommandResult<()> {
    Ok(mcp.service().control(&session_id, &server, action).await?)
}
