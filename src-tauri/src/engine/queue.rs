//! `MessageQueue`: messages written while a turn runs. The CLI's own queue (`session.queue.*`) is
//! what runs them: a message sent with `mode: "enqueue"` waits there until the turn ends and then
//! runs, in order; one sent with `mode: "immediate"` steers the running turn. The CLI (1.0.102)
//! keeps that queue in memory only: a crashed CLI comes back with it empty. So this module also
//! keeps a ledger of what the user queued on each CLI, and when a new CLI connects it sends again,
//! in order, every queued message that neither ran (its `user.message` is in the history) nor was
//! removed. The ledger lives as long as the app; it holds no other state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use github_copilot_sdk::rpc::{QueueRemoveAtRequest, QueueSendNowRequest, QueueUpdateTextRequest};
use github_copilot_sdk::types::{DeliveryMode, MessageOptions};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::attachments::Attachment;
use super::error::{EngineError, EngineResult};
use super::sessions::SessionService;
use super::supervisor::CliSupervisor;

/// How a message reaches the agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Delivery {
    /// After what is running and what is already queued (at once when the session is idle).
    #[default]
    Queue,
    /// Into the running turn: the agent reads it before its next step ("Send now").
    Steer,
}

/// A message waiting in the CLI's queue.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    /// The queue item's id (what edit, remove and send-now address).
    pub id: String,
    /// The message id `send` returned, when the item is a message (not a queued command).
    pub message_id: Option<String>,
    pub text: String,
    /// "message", or the CLI's word for another kind of item (a queued command or model change).
    pub kind: String,
}

/// What waits to be sent in one session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueState {
    /// Messages to run after the current turn, in order.
    pub queued: Vec<QueuedMessage>,
    /// Steering messages the running turn has not read yet.
    pub steering: Vec<String>,
}

/// A message the user queued, as sent to the CLI of `generation`.
#[derive(Clone, Debug)]
struct Pending {
    message_id: String,
    text: String,
    attachments: Vec<Attachment>,
    generation: u64,
}

/// The sessions' queues: sending, listing, editing, removing, steering, and carrying queued
/// messages over a CLI restart. Cheap to clone.
#[derive(Clone)]
pub struct MessageQueue {
    sessions: SessionService,
    supervisor: CliSupervisor,
    ledger: Arc<Mutex<HashMap<String, Vec<Pending>>>>,
    restore: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl MessageQueue {
    pub fn new(sessions: SessionService, supervisor: CliSupervisor) -> Self {
        let queue = Self { sessions, supervisor, ledger: Arc::default(), restore: Arc::default() };
        queue.spawn_restore();
        queue
    }

    /// After every reconnect, queue again what the previous CLI lost.
    fn spawn_restore(&self) {
        let this = self.clone();
        let mut connections = self.supervisor.watch_connection();
        let task = tokio::spawn(async move {
            while connections.changed().await.is_ok() {
                let Some(generation) = connections.borrow_and_update().as_ref().map(|c| c.generation) else {
                    continue;
                };
                let sessions: Vec<String> = this.ledger.lock().unwrap().keys().cloned().collect();
                for session_id in sessions {
                    if let Err(e) = this.restore(&session_id, generation).await {
                        tracing::warn!(session = %session_id, error = %e, "could not queue messages again after a restart");
                    }
                }
            }
        });
        *self.restore.lock().unwrap() = Some(task);
    }

    /// Stop following reconnects (app exit).
    pub fn close(&self) {
        if let Some(task) = self.restore.lock().unwrap().take() {
            task.abort();
        }
    }

    fn generation(&self) -> u64 {
        self.supervisor.connection().map(|c| c.generation).unwrap_or(0)
    }

    /// Send again, in order, the messages queued on an earlier CLI that never ran.
    async fn restore(&self, session_id: &str, generation: u64) -> EngineResult<()> {
        let stale: Vec<Pending> = {
            let ledger = self.ledger.lock().unwrap();
            ledger.get(session_id).map(|p| p.iter().filter(|p| p.generation < generation).cloned().collect())
        }
        .unwrap_or_default();
        if stale.is_empty() {
            return Ok(());
        }
        let session = self.sessions.handle(session_id).await?;
        // A server the app reconnected to may still hold its queue: what it holds stays as it is.
        let still_queued: Vec<String> =
            session.rpc().queue().pending_items().await?.items.into_iter().filter_map(|item| item.message_id).collect();
        let ran: Vec<String> = session
            .get_events()
            .await?
            .into_iter()
            .filter(|e| e.event_type == "user.message")
            .filter_map(|e| e.data.get("messageId").and_then(|v| v.as_str()).map(str::to_owned))
            .collect();
        for pending in stale {
            if still_queued.contains(&pending.message_id) {
                let mut ledger = self.ledger.lock().unwrap();
                for entry in ledger.get_mut(session_id).into_iter().flatten() {
                    if entry.message_id == pending.message_id {
                        entry.generation = generation;
                    }
                }
                continue;
            }
            self.forget(session_id, &pending.message_id);
            if ran.contains(&pending.message_id) {
                continue;
            }
            tracing::info!(session = session_id, "queueing a message again that the restarted CLI lost");
            self.deliver(session_id, &pending.text, &pending.attachments, Delivery::Queue).await?;
        }
        Ok(())
    }

    fn forget(&self, session_id: &str, message_id: &str) {
        let mut ledger = self.ledger.lock().unwrap();
        if let Some(pending) = ledger.get_mut(session_id) {
            pending.retain(|p| p.message_id != message_id);
            if pending.is_empty() {
                ledger.remove(session_id);
            }
        }
    }

    /// Send `text` (with `attachments`) as `delivery` says; returns the CLI's message id.
    /// Attachments are checked first (see [`super::attachments::to_sdk`]): nothing is sent when one
    /// is unusable.
    pub async fn deliver(
        &self,
        session_id: &str,
        text: &str,
        attachments: &[Attachment],
        delivery: Delivery,
    ) -> EngineResult<String> {
        if text.trim().is_empty() && attachments.is_empty() {
            return Err(EngineError::InvalidRequest("There is nothing to send.".into()));
        }
        let mut options = MessageOptions::new(text).with_mode(match delivery {
            Delivery::Queue => DeliveryMode::Enqueue,
            Delivery::Steer => DeliveryMode::Immediate,
        });
        if !attachments.is_empty() {
            options = options.with_attachments(super::attachments::to_sdk(attachments)?);
        }
        let message_id = self.sessions.send_with(session_id, options).await?;
        if delivery == Delivery::Queue {
            let pending = Pending {
                message_id: message_id.clone(),
                text: text.to_owned(),
                attachments: attachments.to_vec(),
                generation: self.generation(),
            };
            self.ledger.lock().unwrap().entry(session_id.to_owned()).or_default().push(pending);
        }
        Ok(message_id)
    }

    /// The session's queue as the CLI holds it. Messages of the ledger the CLI no longer holds ran
    /// (or were removed) and are forgotten; those of an earlier CLI wait for [`Self::restore`].
    pub async fn queue(&self, session_id: &str) -> EngineResult<QueueState> {
        let session = self.sessions.handle(session_id).await?;
        let generation = self.generation();
        let pending = session.rpc().queue().pending_items().await?;
        if let Some(ledger) = self.ledger.lock().unwrap().get_mut(session_id) {
            ledger.retain(|p| {
                p.generation != generation || pending.items.iter().any(|i| i.message_id.as_ref() == Some(&p.message_id))
            });
        }
        let in_flight = pending.in_flight_steering_count.unwrap_or(0).max(0) as usize;
        let queued = pending
            .items
            .into_iter()
            .map(|item| QueuedMessage {
                kind: serde_json::to_value(&item.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "message".into()),
                id: item.id,
                message_id: item.message_id,
                text: item.display_text,
            })
            .collect();
        Ok(QueueState { queued, steering: pending.steering_messages.into_iter().skip(in_flight).collect() })
    }

    /// Change the text of a queued message before it runs.
    pub async fn edit_queued(&self, session_id: &str, item_id: &str, text: &str) -> EngineResult<()> {
        if text.trim().is_empty() {
            return Err(EngineError::InvalidRequest("A queued message cannot be empty; remove it instead.".into()));
        }
        let session = self.sessions.handle(session_id).await?;
        let message_id = self.message_id_of(session_id, item_id).await?;
        let request = QueueUpdateTextRequest { id: item_id.to_owned(), prompt: text.to_owned(), display_prompt: None };
        session.rpc().queue().update_text(request).await.map_err(unknown)?;
        if let Some(pending) = self.ledger.lock().unwrap().get_mut(session_id) {
            pending.iter_mut().filter(|p| Some(&p.message_id) == message_id.as_ref()).for_each(|p| {
                p.text = text.to_owned();
            });
        }
        Ok(())
    }

    /// Take a message out of the queue before it runs.
    pub async fn remove_queued(&self, session_id: &str, item_id: &str) -> EngineResult<()> {
        let session = self.sessions.handle(session_id).await?;
        let message_id = self.message_id_of(session_id, item_id).await?;
        let result =
            session.rpc().queue().remove_at(QueueRemoveAtRequest { id: item_id.to_owned() }).await.map_err(unknown)?;
        if !result.removed {
            return Err(gone());
        }
        if let Some(message_id) = message_id {
            self.forget(session_id, &message_id);
        }
        Ok(())
    }

    /// Move a queued message into the running turn (steer with it). `false` when no turn was
    /// running: then it stays queued and runs next.
    pub async fn send_queued_now(&self, session_id: &str, item_id: &str) -> EngineResult<bool> {
        let session = self.sessions.handle(session_id).await?;
        let message_id = self.message_id_of(session_id, item_id).await?;
        let result =
            session.rpc().queue().send_now(QueueSendNowRequest { id: item_id.to_owned() }).await.map_err(unknown)?;
        if result.steered
            && let Some(message_id) = message_id
        {
            self.forget(session_id, &message_id);
        }
        Ok(result.steered)
    }

    /// The message id of queue item `item_id`; an error when the CLI no longer holds it.
    async fn message_id_of(&self, session_id: &str, item_id: &str) -> EngineResult<Option<String>> {
        let queue = self.queue(session_id).await?;
        let item = queue.queued.into_iter().find(|m| m.id == item_id).ok_or_else(gone)?;
        Ok(item.message_id)
    }
}

/// The CLI answers an id it no longer holds with "unknown queue item id": the message went meanwhile.
fn unknown(error: github_copilot_sdk::Error) -> EngineError {
    if error.to_string().contains("unknown queue item") { gone() } else { error.into() }
}

fn gone() -> EngineError {
    EngineError::InvalidRequest("That message is no longer queued: it has been sent or removed.".into())
}
