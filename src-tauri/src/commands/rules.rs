//! Commands of the Permissions page: the standing rules (project approvals, URLs, trusted
//! folders, deny rules), read and changed through `engine::rules`.

use tauri::State;

use super::CommandResult;
use crate::engine::{NewProjectApproval, ProjectApproval, RulesOverview, StandingRules, ToolRule};

/// Every standing rule, read from where it is stored now.
#[tauri::command]
#[specta::specta]
pub fn rules_overview(rules: State<'_, StandingRules>) -> CommandResult<RulesOverview> {
    Ok(rules.overview()?)
}

/// Allow a command (or reads, writes, memory) in a project folder from now on.
#[tauri::command]
#[specta::specta]
pub fn add_project_rule(rules: State<'_, StandingRules>, rule: NewProjectApproval) -> CommandResult<RulesOverview> {
    rules.add_project_approval(rule)?;
    Ok(rules.overview()?)
}

/// Forget a stored project approval.
#[tauri::command]
#[specta::specta]
pub fn remove_project_rule(rules: State<'_, StandingRules>, rule: ProjectApproval) -> CommandResult<RulesOverview> {
    rules.remove_project_approval(&rule.location, &rule.approval)?;
    Ok(rules.overview()?)
}

/// Allow (or deny, with `allowed` false) a URL or domain without asking.
#[tauri::command]
#[specta::specta]
pub fn add_url_rule(rules: State<'_, StandingRules>, pattern: String, allowed: bool) -> CommandResult<RulesOverview> {
    rules.add_url(&pattern, allowed)?;
    Ok(rules.overview()?)
}

#[tauri::command]
#[specta::specta]
pub fn remove_url_rule(
    rules: State<'_, StandingRules>,
    pattern: String,
    allowed: bool,
) -> CommandResult<RulesOverview> {
    rules.remove_url(&pattern, allowed)?;
    Ok(rules.overview()?)
}

#[tauri::command]
#[specta::specta]
pub fn remove_trusted_folder(rules: State<'_, StandingRules>, folder: String) -> CommandResult<RulesOverview> {
    rules.remove_trusted_folder(&folder)?;
    Ok(rules.overview()?)
}

/// Deny a tool (and argument) in every session, open ones included.
#[tauri::command]
#[specta::specta]
pub async fn add_deny_rule(rules: State<'_, StandingRules>, rule: ToolRule) -> CommandResult<RulesOverview> {
    rules.add_deny_rule(rule).await?;
    Ok(rules.overview()?)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_deny_rule(rules: State<'_, StandingRules>, rule: ToolRule) -> CommandResult<RulesOverview> {
    rules.remove_deny_rule(rule).await?;
    Ok(rules.overview()?)
}
