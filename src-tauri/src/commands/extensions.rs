//! Commands of the "Agents & skills" dialog: a session's custom agents and skills through
//! `engine::extensions`, writing an agent file, and opening a skill's folder with the system's
//! file manager (from Rust: the webview holds no opener permission).

use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use super::{AppError, CommandResult};
use crate::engine::{AgentDraft, Extensions, SessionAgents, SkillSummary};

/// The agents a session can use and the one it uses now.
#[tauri::command]
#[specta::specta]
pub async fn session_agents(extensions: State<'_, Extensions>, session_id: String) -> CommandResult<SessionAgents> {
    Ok(extensions.session_agents(&session_id).await?)
}

/// Use the agent `name` for the session; `None` goes back to the default agent.
#[tauri::command]
#[specta::specta]
pub async fn select_agent(
    extensions: State<'_, Extensions>,
    session_id: String,
    name: Option<String>,
) -> CommandResult<SessionAgents> {
    Ok(extensions.select_agent(&session_id, name.as_deref()).await?)
}

/// The file `draft` would become, and where it would go: the form's preview.
#[tauri::command]
#[specta::specta]
pub fn preview_agent(extensions: State<'_, Extensions>, draft: AgentDraft) -> CommandResult<AgentPreview> {
    let text = crate::engine::extensions::render_agent(&draft)?;
    let path = extensions.agent_path(&draft)?.display().to_string();
    Ok(AgentPreview { path, text })
}

#[derive(serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AgentPreview {
    pub path: String,
    pub text: String,
}

/// Write the agent file (`replace` when editing an existing one); its path.
#[tauri::command]
#[specta::specta]
pub fn save_agent(extensions: State<'_, Extensions>, draft: AgentDraft, replace: bool) -> CommandResult<String> {
    Ok(extensions.write_agent(&draft, replace)?.display().to_string())
}

/// An agent file the CLI listed, read into the form.
#[tauri::command]
#[specta::specta]
pub fn read_agent(extensions: State<'_, Extensions>, path: String) -> CommandResult<AgentDraft> {
    Ok(extensions.read_agent(&path)?)
}

/// The skills of a session, with their source and whether each is on.
#[tauri::command]
#[specta::specta]
pub async fn session_skills(extensions: State<'_, Extensions>, session_id: String) -> CommandResult<Vec<SkillSummary>> {
    Ok(extensions.session_skills(&session_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_skill_enabled(
    extensions: State<'_, Extensions>,
    session_id: String,
    name: String,
    enabled: bool,
) -> CommandResult<Vec<SkillSummary>> {
    Ok(extensions.set_skill_enabled(&session_id, &name, enabled).await?)
}

/// Open the folder of a skill the session lists, in the system's file manager.
#[tauri::command]
#[specta::specta]
pub async fn open_skill_folder(
    app: AppHandle,
    extensions: State<'_, Extensions>,
    session_id: String,
    name: String,
) -> CommandResult<()> {
    let folder = extensions.skill_folder(&session_id, &name).await?;
    app.opener()
        .open_path(folder.display().to_string(), None::<&str>)
        .map_err(|e| AppError { code: "open_failed".into(), message: format!("Could not open the folder: {e}") })
}
