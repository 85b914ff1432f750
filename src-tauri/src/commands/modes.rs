//! Commands about how the agent works: its mode (interactive, plan, autopilot), its plan and
//! its requests to leave plan mode, the reasoning effort, and the context window (breakdown,
//! compaction).

use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tokio::sync::broadcast::error::RecvError;

use super::CommandResult;
use super::prompts::notify_in_background;
use crate::AppState;
use crate::engine::{
    AgentMode, CompactOutcome, ContextBreakdown, ModelEfforts, PlanDecision, PlanReviewEvent, SessionPlan,
};

#[tauri::command]
#[specta::specta]
pub async fn session_mode(state: State<'_, AppState>, session_id: String) -> CommandResult<AgentMode> {
    Ok(state.engine.sessions.mode(&session_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_session_mode(state: State<'_, AppState>, session_id: String, mode: AgentMode) -> CommandResult<()> {
    Ok(state.engine.sessions.set_mode(&session_id, mode).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn session_plan(state: State<'_, AppState>, session_id: String) -> CommandResult<SessionPlan> {
    Ok(state.engine.sessions.plan(&session_id).await?)
}

/// Push every pending plan review, then every change, through `on_review`. While this channel is
/// open the window counts as a reviewer; a review that arrives while the window is in the
/// background also raises a notification (it says only that a plan is ready).
#[tauri::command]
#[specta::specta]
pub fn watch_plan_reviews(
    app: AppHandle,
    state: State<'_, AppState>,
    on_review: Channel<PlanReviewEvent>,
) -> CommandResult<()> {
    let reviews = state.engine.sessions.plan_reviews().clone();
    let mut events = reviews.subscribe();
    let reviewer = reviews.attach_reviewer();
    let current = move || reviews.pending().into_iter().map(|review| PlanReviewEvent::Requested { review });
    for event in current() {
        if on_review.send(event).is_err() {
            return Ok(());
        }
    }
    tauri::async_runtime::spawn(async move {
        let _reviewer = reviewer;
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => {
                    if current().any(|event| on_review.send(event).is_err()) {
                        break;
                    }
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            if matches!(event, PlanReviewEvent::Requested { .. }) {
                notify_in_background(&app, "Copilot has a plan for you to review.");
            }
            if on_review.send(event).is_err() {
                break;
            }
        }
    });
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub fn decide_plan(state: State<'_, AppState>, request_id: String, decision: PlanDecision) -> CommandResult<()> {
    Ok(state.engine.sessions.plan_reviews().decide(&request_id, decision)?)
}

#[tauri::command]
#[specta::specta]
pub async fn model_efforts(state: State<'_, AppState>) -> CommandResult<Vec<ModelEfforts>> {
    Ok(state.engine.sessions.model_efforts().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn session_effort(state: State<'_, AppState>, session_id: String) -> CommandResult<Option<String>> {
    Ok(state.engine.sessions.reasoning_effort(&session_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_session_effort(state: State<'_, AppState>, session_id: String, effort: String) -> CommandResult<()> {
    Ok(state.engine.sessions.set_reasoning_effort(&session_id, &effort).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn context_breakdown(
    state: State<'_, AppState>,
    session_id: String,
) -> CommandResult<Option<ContextBreakdown>> {
    Ok(state.engine.sessions.context_breakdown(&session_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn compact_session(
    state: State<'_, AppState>,
    session_id: String,
    instructions: Option<String>,
) -> CommandResult<CompactOutcome> {
    Ok(state.engine.sessions.compact(&session_id, instructions).await?)
}
