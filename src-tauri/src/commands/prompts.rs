//! Commands about the agent's requests to the user: permission prompts and questions.

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use super::CommandResult;
use crate::AppState;
use crate::engine::{PermissionAnswer, PromptDetails, PromptEvent, UserAnswer};

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
        let permissions =
            broker.pending_permissions().into_iter().map(|prompt| PromptEvent::PermissionRequested { prompt });
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
    let Some(body) = notification_text(event) else { return };
    notify_in_background(app, body);
}

/// Raise a desktop notification saying `body`, unless the main window has the focus.
pub(crate) fn notify_in_background(app: &AppHandle, body: &str) {
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    if let Err(e) = app.notification().builder().title("Copilot Desktop").body(body).show() {
        tracing::debug!(error = %e, "could not show a notification");
    }
}

/// What a notification says about `event`: the kind of request only. Notifications can show on a locked
/// screen, so no command, path or URL goes into one; the dialog shows those.
fn notification_text(event: &PromptEvent) -> Option<&'static str> {
    let PromptEvent::PermissionRequested { prompt } = event else {
        return matches!(event, PromptEvent::QuestionAsked { .. }).then_some("Copilot has a question for you.");
    };
    Some(match prompt.details {
        PromptDetails::Shell { .. } => "Copilot asks to run a shell command.",
        PromptDetails::Write { .. } => "Copilot asks to change a file.",
        PromptDetails::Read { .. } => "Copilot asks to read a file.",
        PromptDetails::Url { .. } => "Copilot asks to fetch a web page.",
        PromptDetails::Mcp { .. } => "Copilot asks to use an MCP tool.",
        PromptDetails::Memory { .. } => "Copilot asks to remember something.",
        PromptDetails::CustomTool { .. } => "Copilot asks to use a tool.",
        PromptDetails::Other { .. } => "Copilot is waiting for your permission.",
    })
}

/// Answer a permission prompt.
#[tauri::command]
#[specta::specta]
pub async fn decide_permission(
    state: State<'_, AppState>,
    request_id: String,
    answer: PermissionAnswer,
) -> CommandResult<()> {
    Ok(state.engine.broker.decide(&request_id, answer).await?)
}

/// Answer a question from the agent.
#[tauri::command]
#[specta::specta]
pub fn answer_question(state: State<'_, AppState>, request_id: String, answer: UserAnswer) -> CommandResult<()> {
    Ok(state.engine.broker.answer(&request_id, answer)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{PermissionPrompt, UserQuestion};

    fn asks(details: PromptDetails) -> PromptEvent {
        PromptEvent::PermissionRequested {
            prompt: PermissionPrompt {
                request_id: "r1".into(),
                session_id: "s1".into(),
                intention: Some("Delete the build folder".into()),
                details,
                can_approve_for_session: true,
                can_approve_permanently: false,
                can_approve_for_location: false,
                warning: None,
            },
        }
    }

    #[test]
    fn a_notification_names_the_kind_of_request_and_nothing_it_would_touch() {
        let shell = asks(PromptDetails::Shell {
            full_command_text: "rm -rf /secret/build".into(),
            commands: vec!["rm".into()],
        });
        assert_eq!(notification_text(&shell), Some("Copilot asks to run a shell command."));
        let url = asks(PromptDetails::Url {
            url: "https://internal.example/token=abc".into(),
            domain: "internal.example".into(),
        });
        assert_eq!(notification_text(&url), Some("Copilot asks to fetch a web page."));
        let write = asks(PromptDetails::Write { file_name: "/home/me/.ssh/config".into(), diff: String::new() });
        assert_eq!(notification_text(&write), Some("Copilot asks to change a file."));
        let question = PromptEvent::QuestionAsked {
            question: UserQuestion {
                request_id: "q1".into(),
                session_id: "s1".into(),
                question: "Which database password?".into(),
                choices: vec![],
                allow_freeform: true,
            },
        };
        assert_eq!(notification_text(&question), Some("Copilot has a question for you."));
        assert_eq!(notification_text(&PromptEvent::Resolved { request_id: "r1".into() }), None);
    }
}
