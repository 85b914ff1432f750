//! Compiled only with the cargo feature `bench` (off by default, never in a release bundle): what the UI
//! benchmark needs from Rust and the app itself does not. `bench_channel_floor` sends one batch of chat events
//! down a Channel to a page that only paints it (ui/floor.html), so bench_ui can measure the Channel and the
//! webview alone: the floor under the app's own "model chunk → painted" latency. It reads and changes nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tauri::ipc::Channel;

use super::{AppError, CommandResult};
use crate::engine::{ChatEvent, ChatEventKind};

/// The commands this module adds (build.rs declares them, capabilities/bench/ grants them).
pub const COMMANDS: &[&str] = &["bench_channel_floor"];

/// What the floor page receives: the same payload the transcript's channel carries, and when Rust sent it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FloorTick {
    /// Wall-clock milliseconds since the Unix epoch, taken just before the send.
    pub sent_at_ms: f64,
    pub events: Vec<ChatEvent>,
}

/// After `delay_ms` (at most a second), send one message delta carrying `text` down `on_tick`.
#[tauri::command]
pub async fn bench_channel_floor(text: String, delay_ms: u32, on_tick: Channel<FloorTick>) -> CommandResult<()> {
    tokio::time::sleep(Duration::from_millis(delay_ms.min(1000).into())).await;
    let events = vec![ChatEvent {
        id: format!("floor-{}", uuid::Uuid::new_v4()),
        timestamp: String::new(),
        kind: ChatEventKind::MessageDelta { message_id: "floor".into(), delta: text },
    }];
    let sent_at_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0;
    on_tick
        .send(FloorTick { sent_at_ms, events })
        .map_err(|e| AppError { code: "channel_closed".into(), message: e.to_string() })
}
