//! The chat event stream: the CLI's `session.event`s filtered down to what a chat view shows,
//! typed, in order, with message deltas coalesced so a consumer that reads once per frame gets
//! one delta per message instead of hundreds. Owns the mapping and the per-session buffers;
//! does not talk to the CLI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use github_copilot_sdk::SessionEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

/// One event as the UI sees it. `id` is the CLI's event id (for a coalesced delta, the first).
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatEvent {
    pub id: String,
    pub timestamp: String,
    pub kind: ChatEventKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ChatEventKind {
    UserMessage {
        content: String,
        /// Files, folders and images sent with it (engine/attachments.rs); empty for most messages.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[specta(optional)]
        attachments: Vec<super::attachments::SentAttachment>,
    },
    TurnStarted,
    /// Streamed text of an assistant message; the matching `AssistantMessage` carries it whole.
    MessageDelta {
        message_id: String,
        delta: String,
    },
    AssistantMessage {
        message_id: String,
        content: String,
    },
    ReasoningDelta {
        reasoning_id: String,
        delta: String,
    },
    Reasoning {
        reasoning_id: String,
        content: String,
    },
    ToolStarted {
        tool_call_id: String,
        tool_name: String,
        #[specta(type = Option<specta_typescript::Unknown>)]
        arguments: Option<Value>,
    },
    ToolOutput {
        tool_call_id: String,
        output: String,
    },
    ToolCompleted {
        tool_call_id: String,
        success: bool,
        output: Option<String>,
        error: Option<String>,
    },
    Usage {
        model: String,
        input_tokens: Option<u32>,
        output_tokens: Option<u32>,
    },
    TitleChanged {
        title: String,
    },
    SessionError {
        error_type: String,
        message: String,
    },
    /// The turn is over; the agent waits for the user.
    Idle,
    /// The user stopped the turn.
    Aborted,
    /// The session's queue of waiting messages changed (`session.queue.pendingItems` has the new state).
    QueueChanged,
    /// The session switched modes ("interactive", "plan", "autopilot").
    ModeChanged {
        mode: String,
    },
    /// The agent wrote or changed the session's plan.
    PlanChanged,
    /// How full the context window is now.
    ContextUsage {
        current_tokens: u32,
        token_limit: u32,
    },
    /// Autopilot stopped going on by itself before the task was done: `reason` is the CLI's
    /// (`cap_reached`, `background_timeout`; finishing, aborting and errors show otherwise).
    AutopilotStopped {
        reason: String,
    },
    /// The CLI compacted the conversation (in the background or on request).
    Compacted {
        messages_removed: Option<u32>,
        tokens_before: Option<u32>,
        tokens_after: Option<u32>,
        error: Option<String>,
    },
}

impl ChatEvent {
    /// Map a CLI event; `None` for events a chat view has no use for.
    pub fn from_cli(event: &SessionEvent) -> Option<Self> {
        let kind = map_kind(&event.event_type, &event.data)?;
        Some(Self { id: event.id.clone(), timestamp: event.timestamp.clone(), kind })
    }

    /// Whether the CLI stores this event (ephemeral events, like deltas, are never in history).
    pub fn is_streaming_only(&self) -> bool {
        matches!(
            self.kind,
            ChatEventKind::MessageDelta { .. }
                | ChatEventKind::ReasoningDelta { .. }
                | ChatEventKind::ToolOutput { .. }
        )
    }
}

/// The event types the CLI stores (journals, and hands back as history) that a chat view shows:
/// what [`ChatEvent::from_cli`] maps, less the ephemeral ones (deltas, usage, title, idle), which
/// only ever arrive live. Reading history, every other stored type can be left behind.
pub const STORED_CHAT_EVENT_TYPES: &[&str] = &[
    "user.message",
    "assistant.turn_start",
    "assistant.message",
    "assistant.reasoning",
    "tool.execution_start",
    "tool.execution_complete",
    "session.error",
    "abort",
    "session.compaction_complete",
];

/// Token counts arrive as JSON numbers; the UI needs them as plain (saturating) integers.
fn tokens(n: f64) -> u32 {
    n as u32
}

/// Read a payload without copying it: this runs once per streamed delta.
fn field<'a, T: Deserialize<'a>>(data: &'a Value) -> Option<T> {
    T::deserialize(data).ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delta {
    message_id: Option<String>,
    reasoning_id: Option<String>,
    delta_content: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    message_id: Option<String>,
    reasoning_id: Option<String>,
    #[serde(default)]
    content: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolStart {
    tool_call_id: String,
    tool_name: String,
    arguments: Option<Value>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolPartial {
    tool_call_id: String,
    partial_output: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolComplete {
    tool_call_id: String,
    success: bool,
    result: Option<ToolResult>,
    error: Option<ToolError>,
}
#[derive(Deserialize)]
struct ToolResult {
    content: String,
}
#[derive(Deserialize)]
struct ToolError {
    message: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    #[serde(default)]
    model: String,
    input_tokens: Option<f64>,
    output_tokens: Option<f64>,
}
#[derive(Deserialize)]
struct Title {
    title: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorData {
    #[serde(default)]
    error_type: String,
    message: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModeChanged {
    new_mode: String,
}
#[derive(Deserialize)]
struct AutopilotStopped {
    reason: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageInfo {
    current_tokens: f64,
    token_limit: f64,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompactionComplete {
    #[serde(default)]
    success: Option<bool>,
    outcome: Option<String>,
    error: Option<String>,
    messages_removed: Option<f64>,
    pre_compaction_tokens: Option<f64>,
    post_compaction_tokens: Option<f64>,
}
#[derive(Deserialize)]
struct UserMessage {
    content: String,
    #[serde(default)]
    attachments: Vec<Value>,
}

fn map_kind(event_type: &str, data: &Value) -> Option<ChatEventKind> {
    use ChatEventKind as K;
    Some(match event_type {
        "user.message" => {
            let m: UserMessage = field(data)?;
            K::UserMessage {
                content: m.content,
                attachments: m.attachments.iter().map(super::attachments::sent).collect(),
            }
        }
        "assistant.turn_start" => K::TurnStarted,
        "assistant.message_delta" => {
            let d: Delta = field(data)?;
            K::MessageDelta { message_id: d.message_id?, delta: d.delta_content }
        }
        "assistant.message" => {
            let m: Message = field(data)?;
            K::AssistantMessage { message_id: m.message_id?, content: m.content }
        }
        "assistant.reasoning_delta" => {
            let d: Delta = field(data)?;
            K::ReasoningDelta { reasoning_id: d.reasoning_id?, delta: d.delta_content }
        }
        "assistant.reasoning" => {
            let m: Message = field(data)?;
            K::Reasoning { reasoning_id: m.reasoning_id?, content: m.content }
        }
        "tool.execution_start" => {
            let t: ToolStart = field(data)?;
            K::ToolStarted { tool_call_id: t.tool_call_id, tool_name: t.tool_name, arguments: t.arguments }
        }
        "tool.execution_partial_result" => {
            let t: ToolPartial = field(data)?;
            K::ToolOutput { tool_call_id: t.tool_call_id, output: t.partial_output }
        }
        "tool.execution_complete" => {
            let t: ToolComplete = field(data)?;
            K::ToolCompleted {
                tool_call_id: t.tool_call_id,
                success: t.success,
                output: t.result.map(|r| r.content),
                error: t.error.map(|e| e.message),
            }
        }
        "assistant.usage" => {
            let u: Usage = field(data)?;
            K::Usage {
                model: u.model,
                input_tokens: u.input_tokens.map(tokens),
                output_tokens: u.output_tokens.map(tokens),
            }
        }
        "session.title_changed" => K::TitleChanged { title: field::<Title>(data)?.title },
        "session.error" => {
            let e: ErrorData = field(data)?;
            K::SessionError { error_type: e.error_type, message: e.message }
        }
        "session.idle" => K::Idle,
        "abort" => K::Aborted,
        "pending_messages.modified" => K::QueueChanged,
        "session.mode_changed" => K::ModeChanged { mode: field::<ModeChanged>(data)?.new_mode },
        "session.plan_changed" => K::PlanChanged,
        "session.autopilot_stopped" => {
            let reason = field::<AutopilotStopped>(data)?.reason;
            if matches!(reason.as_str(), "task_complete" | "aborted" | "error") {
                return None;
            }
            K::AutopilotStopped { reason }
        }
        "session.usage_info" => {
            let u: UsageInfo = field(data)?;
            K::ContextUsage { current_tokens: tokens(u.current_tokens), token_limit: tokens(u.token_limit) }
        }
        "session.compaction_complete" => {
            let c: CompactionComplete = field(data)?;
            // "Nothing to compact" (outcome not_applicable) changed nothing: no divider for it.
            if c.outcome.as_deref() == Some("not_applicable") {
                return None;
            }
            K::Compacted {
                messages_removed: c.messages_removed.map(tokens),
                tokens_before: c.pre_compaction_tokens.map(tokens),
                tokens_after: c.post_compaction_tokens.map(tokens),
                error: c.error.filter(|_| c.success != Some(true)),
            }
        }
        _ => return None,
    })
}

/// Appends `event` to `batch`, merging it into the previous delta of the same message.
pub fn push_coalesced(batch: &mut Vec<ChatEvent>, event: ChatEvent) {
    use ChatEventKind as K;
    if let Some(last) = batch.last_mut() {
        match (&mut last.kind, &event.kind) {
            (K::MessageDelta { message_id: a, delta }, K::MessageDelta { message_id: b, delta: more })
            | (K::ReasoningDelta { reasoning_id: a, delta }, K::ReasoningDelta { reasoning_id: b, delta: more })
                if a == b =>
            {
                delta.push_str(more);
                return;
            }
            (K::ToolOutput { tool_call_id: a, output }, K::ToolOutput { tool_call_id: b, output: more }) if a == b => {
                output.push_str(more);
                return;
            }
            _ => {}
        }
    }
    batch.push(event);
}

/// Fan-out point for one session's events. Each subscriber has its own coalescing buffer, so a
/// slow reader never holds up the CLI's event loop and never loses an event, only gets bigger
/// batches.
#[derive(Default)]
pub struct EventHub {
    subscribers: Mutex<Vec<Weak<Buffer>>>,
}

#[derive(Default)]
struct Buffer {
    events: Mutex<Vec<ChatEvent>>,
    closed: Mutex<bool>,
    notify: Notify,
}

impl EventHub {
    pub fn subscribe(&self) -> EventStream {
        let buffer = Arc::new(Buffer::default());
        self.subscribers.lock().unwrap().push(Arc::downgrade(&buffer));
        EventStream { buffer }
    }

    pub fn publish(&self, event: ChatEvent) {
        let mut subscribers = self.subscribers.lock().unwrap();
        subscribers.retain(|weak| {
            let Some(buffer) = weak.upgrade() else { return false };
            push_coalesced(&mut buffer.events.lock().unwrap(), event.clone());
            buffer.notify.notify_one();
            true
        });
    }

    /// End every stream (the session was deleted or the engine is shutting down).
    pub fn close(&self) {
        for buffer in self.subscribers.lock().unwrap().drain(..).filter_map(|w| w.upgrade()) {
            *buffer.closed.lock().unwrap() = true;
            buffer.notify.notify_one();
        }
    }
}

/// A consumer's view of one session's events.
pub struct EventStream {
    buffer: Arc<Buffer>,
}

impl EventStream {
    /// Everything that arrived since the last call, coalesced; waits while nothing has.
    /// `None` once the stream is closed and drained.
    pub async fn next_batch(&mut self) -> Option<Vec<ChatEvent>> {
        loop {
            let batch = std::mem::take(&mut *self.buffer.events.lock().unwrap());
            if !batch.is_empty() {
                return Some(batch);
            }
            if *self.buffer.closed.lock().unwrap() {
                return None;
            }
            self.buffer.notify.notified().await;
        }
    }
}

/// Tracks which stored events a session's consumers have seen, so a re-sync from history after
/// the SDK reported lag publishes only what was missed: nothing lost, nothing twice.
#[derive(Default)]
pub struct SeenEvents {
    ids: std::collections::HashSet<String>,
}

impl SeenEvents {
    /// Record an event; false when it was seen before.
    pub fn insert(&mut self, id: &str) -> bool {
        self.ids.insert(id.to_owned())
    }
}

/// The transcript of a stored session, built from `session.getMessages`.
pub fn transcript(events: &[SessionEvent]) -> Vec<ChatEvent> {
    let mut out = Vec::new();
    for event in events.iter().filter_map(ChatEvent::from_cli) {
        push_coalesced(&mut out, event);
    }
    out
}

/// Per-message accumulated text, for tests and benchmarks that check a stream end to end.
pub fn assemble_messages(events: &[ChatEvent]) -> HashMap<String, String> {
    let mut messages: HashMap<String, String> = HashMap::new();
    for event in events {
        match &event.kind {
            ChatEventKind::MessageDelta { message_id, delta } => {
                messages.entry(message_id.clone()).or_default().push_str(delta)
            }
            ChatEventKind::AssistantMessage { message_id, content } => {
                messages.insert(message_id.clone(), content.clone());
            }
            _ => {}
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cli_event(id: &str, event_type: &str, data: Value) -> SessionEvent {
        serde_json::from_value(json!({
            "id": id, "timestamp": "2026-01-01T00:00:00Z", "parentId": null,
            "type": event_type, "data": data
        }))
        .unwrap()
    }

    fn delta(id: &str, message: &str, text: &str) -> ChatEvent {
        ChatEvent::from_cli(&cli_event(
            id,
            "assistant.message_delta",
            json!({"messageId": message, "deltaContent": text}),
        ))
        .unwrap()
    }

    #[test]
    fn maps_the_events_a_chat_view_needs_and_drops_the_rest() {
        let e = ChatEvent::from_cli(&cli_event(
            "1",
            "tool.execution_complete",
            json!({
                "toolCallId": "t1", "success": true, "result": {"content": "hi\n"}
            }),
        ))
        .unwrap();
        assert_eq!(
            e.kind,
            ChatEventKind::ToolCompleted {
                tool_call_id: "t1".into(),
                success: true,
                output: Some("hi\n".into()),
                error: None
            }
        );
        assert!(ChatEvent::from_cli(&cli_event("2", "session.usage_info", json!({}))).is_none());
        // A malformed payload is dropped, not a panic.
        assert!(ChatEvent::from_cli(&cli_event("3", "assistant.message_delta", json!({"oops": 1}))).is_none());
    }

    #[test]
    fn every_stored_chat_event_type_maps() {
        let payloads = [
            json!({"content": "hi"}),
            json!({"turnId": "0"}),
            json!({"messageId": "m", "content": "hello"}),
            json!({"reasoningId": "r", "content": "thinking"}),
            json!({"toolCallId": "t", "toolName": "bash", "arguments": {"command": "ls"}}),
            json!({"toolCallId": "t", "success": true}),
            json!({"errorType": "x", "message": "broke"}),
            json!({"reason": "user"}),
            json!({"success": true, "outcome": "applied", "messagesRemoved": 5}),
        ];
        assert_eq!(payloads.len(), STORED_CHAT_EVENT_TYPES.len());
        for (kind, data) in STORED_CHAT_EVENT_TYPES.iter().zip(payloads) {
            let event = ChatEvent::from_cli(&cli_event("1", kind, data));
            assert!(event.is_some_and(|e| !e.is_streaming_only()), "{kind} maps to a stored chat event");
        }
    }

    #[test]
    fn modes_context_use_and_compactions_map_and_nothing_to_compact_is_no_divider() {
        let kind = |t: &str, data: Value| ChatEvent::from_cli(&cli_event("1", t, data)).map(|e| e.kind);
        assert_eq!(
            kind("session.mode_changed", json!({"newMode": "plan", "previousMode": "interactive"})),
            Some(ChatEventKind::ModeChanged { mode: "plan".into() })
        );
        assert_eq!(
            kind("session.usage_info", json!({"currentTokens": 1200, "tokenLimit": 128000, "messagesLength": 3})),
            Some(ChatEventKind::ContextUsage { current_tokens: 1200, token_limit: 128000 })
        );
        assert_eq!(
            kind(
                "session.compaction_complete",
                json!({"success": true, "outcome": "applied", "messagesRemoved": 5, "preCompactionTokens": 9570, "postCompactionTokens": 9533})
            ),
            Some(ChatEventKind::Compacted {
                messages_removed: Some(5),
                tokens_before: Some(9570),
                tokens_after: Some(9533),
                error: None
            })
        );
        assert_eq!(
            kind("session.autopilot_stopped", json!({"reason": "cap_reached"})),
            Some(ChatEventKind::AutopilotStopped { reason: "cap_reached".into() })
        );
        assert_eq!(kind("session.autopilot_stopped", json!({"reason": "task_complete"})), None);
        let nothing = json!({"success": false, "error": "Nothing to compact.", "outcome": "not_applicable"});
        assert_eq!(kind("session.compaction_complete", nothing), None);
        let failed = json!({"success": false, "error": "The model timed out", "outcome": "failed"});
        assert!(matches!(
            kind("session.compaction_complete", failed),
            Some(ChatEventKind::Compacted { error: Some(e), .. }) if e == "The model timed out"
        ));
    }

    #[test]
    fn coalesces_consecutive_deltas_of_one_message_only() {
        let mut batch = Vec::new();
        push_coalesced(&mut batch, delta("1", "m1", "Hel"));
        push_coalesced(&mut batch, delta("2", "m1", "lo"));
        push_coalesced(&mut batch, delta("3", "m2", "!"));
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0].id, "1");
        assert_eq!(batch[0].kind, ChatEventKind::MessageDelta { message_id: "m1".into(), delta: "Hello".into() });
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_everything_in_one_batch() {
        let hub = EventHub::default();
        let mut stream = hub.subscribe();
        for (i, word) in ["a", "b", "c"].iter().enumerate() {
            hub.publish(delta(&i.to_string(), "m", word));
        }
        let batch = stream.next_batch().await.unwrap();
        assert_eq!(assemble_messages(&batch)["m"], "abc");
        hub.close();
        assert!(stream.next_batch().await.is_none());
    }
}
