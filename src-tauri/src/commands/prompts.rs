//! Commands about the agent's requests to the user: permission prompts and questions.

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use super::CommandResult;
use crate::AppState;
use crate::engine::{PermissionAnswer, PromptEvent, UserAnswer};

/// Push every pending prompt, then every change, through `on_prompt`. While this channel is open
/// the window counts as someone who can answer; without one the broker denies (nobody to ask).
/// A prompt that arrives while the window is in the background also raises a notification.
#[tauri::command]
#[specta::specta]
pub fn watch_prompts(app: AppHandle, state: State<'_, AppState>, on_prompt: Channel<PromptEvent>) -> CommandResult<()> {
    let broker = state.engine.broker.clone();
    let mut events = broker.subscribe();
    let asker = broker.attach_asker();
    let current = move || {
        let permissions = broker.pending_permissions().into_iter().map(|prompt| PromptEvent::PermissionRequested { prompt });
        let questions = broker.pending_questions().into_iter().map(|question| PromptEvent::QuestionAsked { question });
        permissions.chain(questions).collect::<Vec<_>>()
    };
    for event in current() {
        if on_prompt.send(event).is_err() {
            return Ok(());
        }
    }
    tauri::async_runtime::spawn(async move {
        let _asker = asker;
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                // Missed some: send what is pending now; the UI replaces by request id.
                Err(RecvError::Lagged(_)) => {
                    let snapshot = current();
                    if snapshot.into_iter().any(|event| on_prompt.send(event).is_err()) {
                        break;
                    }
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            notify_if_in_background(&app, &event);
            if on_prompt.send(event).is_err() {
                break; // the webview reloaded or closed: the next watch_prompts takes over
            }
        }
    });
    Ok(())
}

fn notify_if_in_background(app: &AppHandle, event: &PromptEvent) {
    let body = match event {
        PromptEvent::PermissionRequested { .. } => "The agent is waiting for your permission.",
        PromptEvent::QuestionAsked { .. } => "The agent has a question for you.",
        PromptEvent::Resolved { .. } => return,
    };
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    if let Err(e) = app.notification().builder().title("Copilot Desktop").body(body).show() {
        tracing::debug!(error = %e, "could not show a notification");
    }
}

/// Answer a permission prompt.
#[tauri::command]
#[specta::specta]
pub async fn decide_permission(state: State<'_, AppState>, request_id: String, answer: PermissionAnswer) -> CommandResult<()> {
    Ok(state.engine.broker.decide(&request_id, answer).await?)
}

/// Answer a question from the agent.
#[tauri::command]
#[specta::specta]
pub fn answer_question(state: State<'_, AppState>, request_id: String, answer: UserAnswer) -> CommandResult<()> {
    Ok(state.engine.broker.answer(&request_id, answer)?)
}
