//! `SessionService`: the user's chat sessions on top of whatever CLI the supervisor currently
//! holds. Create, list, resume, delete, send, abort; typed history; one ordered event stream per
//! session that survives CLI restarts (sessions re-attach on every new connection) and SDK lag
//! (re-sync from stored history). It owns the live session handles, nothing about processes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use github_copilot_sdk::SessionEvent;
use github_copilot_sdk::session::Session;
use github_copilot_sdk::subscription::RecvErrorKind;
use github_copilot_sdk::{Client, ProviderConfig, ResumeSessionConfig, SessionConfig, SessionId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Mutex as AsyncMutex, watch};
use tokio::task::JoinHandle;

use super::error::{EngineError, EngineResult, is_session_not_found};
use super::events::{
    ChatEvent, ChatEventKind, EventHub, EventStream, STORED_CHAT_EVENT_TYPES, SeenEvents, push_coalesced, transcript,
};
use super::journal::SessionJournal;
use super::modes::PlanReviews;
use super::permissions::PermissionBroker;
use super::supervisor::{CliSupervisor, Connection};
use crate::secret::Sensitive;

/// A bring-your-own-key model provider for new sessions.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    /// "openai", "azure" or "anthropic".
    pub provider_type: String,
    pub base_url: String,
    pub api_key: Option<Sensitive<String>>,
    /// "completions" or "responses" (OpenAI-style providers).
    pub wire_api: Option<String>,
}

impl ProviderSettings {
    fn to_sdk(&self) -> ProviderConfig {
        let value = json!({
            "type": self.provider_type,
            "baseUrl": self.base_url,
            "apiKey": self.api_key.as_ref().map(|k| k.expose().clone()),
            "wireApi": self.wire_api,
        });
        serde_json::from_value(value).expect("provider config has the SDK's shape")
    }
}

/// The provider new and resumed sessions use, and the model it defaults to. Shared by every
/// clone of the service, so a change in settings applies without rebuilding the engine.
#[derive(Clone, Debug)]
struct ActiveProvider {
    settings: ProviderSettings,
    model: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// Provider for every session; `None` uses the signed-in GitHub account.
    pub provider: Option<ProviderSettings>,
    /// The SDK's per-session event buffer; small values force lag (tests only).
    pub event_buffer_capacity: Option<usize>,
}

#[derive(Clone, Debug, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    pub model: Option<String>,
    pub working_directory: PathBuf,
}

/// Where a resume hands the journal's transcript before the CLI has confirmed it: see
/// [`SessionService::watch_handing_over`].
pub type EarlyHistory = Box<dyn FnOnce(Vec<ChatEvent>) + Send>;

/// A session's transcript so far, as [`SessionService::watch_handing_over`] hands it over.
#[derive(Debug, PartialEq)]
pub enum Handover {
    /// All of it.
    Full(Vec<ChatEvent>),
    /// What follows the journal's transcript, which went early and which the CLI confirmed.
    AfterJournal(Vec<ChatEvent>),
}

/// A stored session as the history list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub id: String,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub working_directory: Option<String>,
    pub created_at: String,
    pub modified_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuthStatus {
    pub authenticated: bool,
    pub login: Option<String>,
    pub auth_type: Option<String>,
    pub host: Option<String>,
    pub message: Option<String>,
}

/// Runs on every session the app creates or resumes, before it is used (standing deny rules).
pub type SessionSetup = Arc<dyn Fn(Arc<Session>) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

struct LiveSession {
    id: String,
    model: Option<String>,
    working_directory: PathBuf,
    hub: EventHub,
    attached: AsyncMutex<Option<Attached>>,
    /// One resume at a time: two concurrent resumes of one session (the re-attach task and a
    /// send) would leave the SDK routing events to the handle we dropped.
    attaching: AsyncMutex<()>,
    seen: Arc<Mutex<SeenEvents>>,
}

impl LiveSession {
    fn new(id: String, model: Option<String>, working_directory: PathBuf) -> Self {
        LiveSession {
            id,
            model,
            working_directory,
            hub: EventHub::default(),
            attached: AsyncMutex::new(None),
            attaching: AsyncMutex::new(()),
            seen: Arc::default(),
        }
    }

    /// A stored session about to be resumed: its model and directory are the CLI's.
    fn stored(id: &str) -> Self {
        Self::new(id.to_owned(), None, PathBuf::new())
    }
}

struct Attached {
    session: Arc<Session>,
    generation: u64,
    pump: JoinHandle<()>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

#[derive(Clone)]
pub struct SessionService {
    supervisor: CliSupervisor,
    broker: PermissionBroker,
    options: SessionOptions,
    provider: Arc<Mutex<Option<ActiveProvider>>>,
    /// Counts `session.error`s of the authorization kind: the credentials were refused.
    auth_failures: Arc<watch::Sender<u64>>,
    live: Arc<Mutex<HashMap<String, Arc<LiveSession>>>>,
    reattach: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// MCP servers every new or resumed session gets on top of the CLI's config (their secrets come
    /// from the keychain; see `engine::mcp`).
    session_mcp: Arc<Mutex<Sensitive<super::mcp::SessionMcpServers>>>,
    setup: Arc<Mutex<Vec<SessionSetup>>>,
    /// The CLI's journals on disk, when it runs here: a resumed session's history is read from them.
    journal: SessionJournal,
    /// The agents' requests to leave plan mode (engine/modes.rs).
    plan_reviews: PlanReviews,
}

impl SessionService {
    pub fn new(
        supervisor: CliSupervisor,
        broker: PermissionBroker,
        options: SessionOptions,
        journal: SessionJournal,
    ) -> Self {
        let provider = options.provider.clone().map(|settings| ActiveProvider { settings, model: None });
        let provider = Arc::new(Mutex::new(provider));
        let auth_failures = Arc::new(watch::channel(0).0);
        let service = Self {
            supervisor,
            broker,
            options,
            journal,
            provider,
            auth_failures,
            live: Arc::default(),
            reattach: Arc::default(),
            session_mcp: Arc::new(Mutex::new(Sensitive::new(Default::default()))),
            setup: Arc::default(),
            plan_reviews: PlanReviews::default(),
        };
        service.spawn_reattach();
        service
    }

    /// Every new connection (a restarted CLI) re-attaches the sessions that were open.
    fn spawn_reattach(&self) {
        let this = self.clone();
        let mut connections = self.supervisor.watch_connection();
        let task = tokio::spawn(async move {
            while connections.changed().await.is_ok() {
                let Some(connection) = connections.borrow_and_update().clone() else { continue };
                let sessions: Vec<Arc<LiveSession>> = this.live.lock().unwrap().values().cloned().collect();
                for live in sessions {
                    if let Err(e) = this.attach(&live, &connection, None).await {
                        tracing::warn!(session = %live.id, error = %e, "could not re-attach session after reconnect");
                    }
                }
            }
        });
        *self.reattach.lock().unwrap() = Some(task);
    }

    /// Run `setup` on every session created or resumed from now on.
    pub fn add_session_setup(&self, setup: SessionSetup) {
        self.setup.lock().unwrap().push(setup);
    }

    async fn run_setup(&self, session: &Arc<Session>) {
        let steps: Vec<SessionSetup> = self.setup.lock().unwrap().clone();
        for step in steps {
            step(session.clone()).await;
        }
    }

    /// Use `provider` (with `model` as the default for new sessions) from now on; `None` goes
    /// back to the signed-in GitHub account. Open sessions pick it up when they next re-attach.
    pub fn set_provider(&self, provider: Option<ProviderSettings>, model: Option<String>) {
        *self.provider.lock().unwrap() = provider.map(|settings| ActiveProvider { settings, model });
    }

    /// Ticks whenever a session reports that the CLI's credentials were refused (a revoked
    /// token, a wrong API key): the account shows it and offers to sign in again.
    pub fn watch_auth_failures(&self) -> watch::Receiver<u64> {
        self.auth_failures.subscribe()
    }

    /// MCP servers for sessions created or resumed from now on (see `engine::mcp`).
    pub fn set_session_mcp_servers(&self, servers: super::mcp::SessionMcpServers) {
        *self.session_mcp.lock().unwrap() = Sensitive::new(servers);
    }

    fn session_mcp_servers(&self) -> Option<super::mcp::SessionMcpServers> {
        let servers = self.session_mcp.lock().unwrap().expose().clone();
        (!servers.is_empty()).then_some(servers)
    }

    /// Call a `session.*` method of the CLI on one session (resumed first when it is not open).
    pub async fn call_in_session(
        &self,
        session_id: &str,
        method: &str,
        mut params: serde_json::Value,
    ) -> EngineResult<serde_json::Value> {
        let live = self.live_or_resume(session_id).await?;
        self.attached_session(&live).await?;
        params["sessionId"] = json!(session_id);
        Ok(self.client()?.call(method, Some(params)).await?)
    }

    fn active_provider(&self) -> Option<ActiveProvider> {
        self.provider.lock().unwrap().clone()
    }

    fn connection(&self) -> EngineResult<Connection> {
        self.supervisor.connection()
    }

    pub(super) fn client(&self) -> EngineResult<Client> {
        Ok(self.connection()?.client)
    }

    pub async fn create(&self, request: NewSession) -> EngineResult<SessionSummary> {
        let connection = self.connection()?;
        let handler = self.broker.handler_for(request.working_directory.display().to_string());
        let mut config = SessionConfig::default()
            .with_streaming(true)
            .with_working_directory(request.working_directory.clone())
            // Custom agents and skills in the user's and the project's folders, as the terminal CLI finds them.
            .with_enable_config_discovery(true)
            .with_permission_handler(handler.clone())
            .with_user_input_handler(handler.clone())
            // What its turns change in files can be put back ("Rewind to here", engine/rewind.rs).
            .with_enable_file_change_tracking(true)
            .with_exit_plan_mode_handler(self.plan_reviews.handler())
            // Background compaction with the SDK's default thresholds.
            .with_infinite_sessions(github_copilot_sdk::InfiniteSessionConfig::new().with_enabled(true));
        let provider = self.active_provider();
        let model = request.model.clone().or_else(|| provider.as_ref().and_then(|p| p.model.clone()));
        if let Some(model) = &model {
            config = config.with_model(model.clone());
        }
        if let Some(provider) = &provider {
            config = config.with_provider(provider.settings.to_sdk());
        }
        if let Some(servers) = self.session_mcp_servers() {
            config = config.with_mcp_servers(servers);
        }
        if let Some(capacity) = self.options.event_buffer_capacity {
            config = config.with_event_buffer_capacity(capacity);
        }
        let session = Arc::new(connection.client.create_session(config).await?);
        handler.bind(session.clone());
        self.run_setup(&session).await;
        let id = session.id().to_string();
        tracing::info!(session = %id, "session created");
        let live = Arc::new(LiveSession::new(id.clone(), model, request.working_directory.clone()));
        self.install(&live, session, connection.generation).await;
        self.live.lock().unwrap().insert(id.clone(), live);
        let now = chrono_now();
        Ok(SessionSummary {
            id,
            title: None,
            summary: None,
            working_directory: Some(request.working_directory.display().to_string()),
            created_at: now.clone(),
            modified_at: now,
        })
    }

    /// Stored sessions, newest first (the CLI's own history, shared with the terminal CLI).
    pub async fn list(&self) -> EngineResult<Vec<SessionSummary>> {
        let value = self.client()?.call("session.list", Some(json!({}))).await?;
        let sessions = value.get("sessions").and_then(|s| s.as_array()).cloned().unwrap_or_default();
        let mut out: Vec<SessionSummary> = sessions.iter().filter_map(summary_from).collect();
        out.sort_by(|a, b| b.modified_at.cmp(&a.modified_at));
        Ok(out)
    }

    /// Open a stored session (resume it on the CLI) and return its transcript.
    pub async fn open(&self, session_id: &str) -> EngineResult<Vec<ChatEvent>> {
        Ok(self.watch(session_id).await?.1)
    }

    /// A session's events from now on and its transcript so far, with nothing lost or repeated between the
    /// two. A session not live yet is resumed, and the events read while resuming are the transcript: a long
    /// history is fetched from the CLI once, not twice.
    pub async fn watch(&self, session_id: &str) -> EngineResult<(EventStream, Vec<ChatEvent>)> {
        let early = Arc::new(Mutex::new(Vec::new()));
        let sink = early.clone();
        let (stream, handover) =
            self.watch_handing_over(session_id, Box::new(move |journal| *sink.lock().unwrap() = journal)).await?;
        let history = match handover {
            Handover::Full(history) => history,
            Handover::AfterJournal(rest) => {
                let mut history = std::mem::take(&mut *early.lock().unwrap());
                for event in rest {
                    push_coalesced(&mut history, event);
                }
                history
            }
        };
        Ok((stream, history))
    }

    /// [`Self::watch`], with the transcript handed over in two parts when a resume reads it from the session's
    /// journal: the journal's transcript goes to `early` as soon as it is read, while the CLI is still resuming the
    /// session, and once the CLI has confirmed it the answer is [`Handover::AfterJournal`], what follows it. Any
    /// other answer is all of the transcript, and replaces whatever went to `early`.
    pub async fn watch_handing_over(
        &self,
        session_id: &str,
        early: EarlyHistory,
    ) -> EngineResult<(EventStream, Handover)> {
        let (live, resumed) = self.live_or_resume_reading(session_id, Some(early)).await?;
        if let Some((stream, stored)) = resumed {
            let handover = match stored.handed_early {
                Some(handed) => Handover::AfterJournal(transcript(&stored.events[handed..])),
                None => Handover::Full(transcript(&stored.events)),
            };
            return Ok((stream, handover));
        }
        // Subscribe before reading history, so nothing falls between the two (repeats are dropped by id).
        let stream = live.hub.subscribe();
        let history = self.history_of(&live).await?;
        Ok((stream, Handover::Full(history)))
    }

    /// The typed transcript of a session from the CLI's stored events.
    pub async fn history(&self, session_id: &str) -> EngineResult<Vec<ChatEvent>> {
        let live = self.live_or_resume(session_id).await?;
        self.history_of(&live).await
    }

    async fn history_of(&self, live: &Arc<LiveSession>) -> EngineResult<Vec<ChatEvent>> {
        let session = self.attached_session(live).await?;
        let events = stored_chat_events(&session).await?;
        Ok(transcript(&events))
    }

    /// Events of one session, from now on, in order and coalesced.
    pub async fn subscribe(&self, session_id: &str) -> EngineResult<EventStream> {
        let live = self.live_or_resume(session_id).await?;
        Ok(live.hub.subscribe())
    }

    /// Send a message. A session the CLI dropped (idle timeout, restart) is resumed first.
    pub async fn send(&self, session_id: &str, text: &str) -> EngineResult<String> {
        self.send_with(session_id, github_copilot_sdk::types::MessageOptions::new(text)).await
    }

    /// [`Self::send`] with the SDK's options (delivery mode, attachments): see `engine/queue.rs`.
    pub(super) async fn send_with(
        &self,
        session_id: &str,
        options: github_copilot_sdk::types::MessageOptions,
    ) -> EngineResult<String> {
        let live = self.live_or_resume(session_id).await?;
        let session = self.attached_session(&live).await?;
        match session.send(options.clone()).await {
            Ok(message_id) => Ok(message_id),
            Err(e) if is_session_not_found(&e) => {
                tracing::info!(session = session_id, "CLI forgot the session; resuming it transparently");
                let connection = self.connection()?;
                self.attach(&live, &connection, None).await?;
                let session = self.attached_session(&live).await?;
                Ok(session.send(options).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The SDK handle of a session, resumed first when needed (for the engine's other session modules).
    pub(super) async fn handle(&self, session_id: &str) -> EngineResult<Arc<Session>> {
        let live = self.live_or_resume(session_id).await?;
        self.attached_session(&live).await
    }

    pub async fn abort(&self, session_id: &str) -> EngineResult<()> {
        let live = self.live_or_resume(session_id).await?;
        self.attached_session(&live).await?.abort().await?;
        Ok(())
    }

    pub async fn delete(&self, session_id: &str) -> EngineResult<()> {
        let live = self.live.lock().unwrap().remove(session_id);
        if let Some(live) = live {
            if let Some(attached) = live.attached.lock().await.take() {
                let _ = attached.session.disconnect().await;
            }
            live.hub.close();
        }
        self.broker.withdraw_session(session_id);
        self.client()?.delete_session(&SessionId::new(session_id)).await?;
        tracing::info!(session = session_id, "session deleted");
        Ok(())
    }

    /// Give a session a name of the user's choosing (1-100 characters once trimmed).
    pub async fn rename(&self, session_id: &str, title: &str) -> EngineResult<()> {
        let name = title.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(EngineError::InvalidRequest("A session name must be 1 to 100 characters long.".into()));
        }
        let live = self.live_or_resume(session_id).await?;
        let session = self.attached_session(&live).await?;
        session.rpc().name().set(github_copilot_sdk::rpc::NameSetRequest { name: name.to_owned() }).await?;
        tracing::info!(session = session_id, "session renamed");
        Ok(())
    }

    /// The model a session runs on now (`None` when the CLI does not say).
    pub async fn model_of(&self, session_id: &str) -> EngineResult<Option<String>> {
        let live = self.live_or_resume(session_id).await?;
        let session = self.attached_session(&live).await?;
        Ok(session.rpc().model().get_current().await?.model_id)
    }

    /// Switch a session to another model (the next turn uses it; a running turn finishes first).
    pub async fn switch_model(&self, session_id: &str, model: &str) -> EngineResult<()> {
        let live = self.live_or_resume(session_id).await?;
        let session = self.attached_session(&live).await?;
        let request =
            github_copilot_sdk::rpc::ModelSwitchToRequest { model_id: model.to_owned(), ..Default::default() };
        session.rpc().model().switch_to(request).await?;
        tracing::info!(session = session_id, model, "session model switched");
        Ok(())
    }

    pub async fn models(&self) -> EngineResult<Vec<ModelInfo>> {
        // The CLI lists GitHub's models; with a provider of one's own, its configured model is the choice.
        if let Some(model) = self.active_provider().and_then(|p| p.model) {
            return Ok(vec![ModelInfo { id: model.clone(), name: model }]);
        }
        let models = self.client()?.list_models().await?;
        Ok(models.into_iter().map(|m| ModelInfo { id: m.id.clone(), name: m.name.clone() }).collect())
    }

    pub async fn auth_status(&self) -> EngineResult<AuthStatus> {
        let status = self.client()?.get_auth_status().await?;
        let value = serde_json::to_value(&status).unwrap_or_default();
        let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(AuthStatus {
            authenticated: value.get("isAuthenticated").and_then(|v| v.as_bool()).unwrap_or(false),
            login: text("login"),
            auth_type: text("authType"),
            host: text("host"),
            message: text("statusMessage"),
        })
    }

    /// The agents' pending requests to leave plan mode.
    pub fn plan_reviews(&self) -> &PlanReviews {
        &self.plan_reviews
    }

    /// The SDK handle of a session (resumed when needed), for the engine's other services (modes,
    /// standing rules, agents, skills) that call the CLI's per-session methods.
    pub(crate) async fn session_handle(&self, session_id: &str) -> EngineResult<Arc<Session>> {
        let live = self.live_or_resume(session_id).await?;
        self.attached_session(&live).await
    }

    /// The live session of `session_id`, resuming it on the CLI when it is not live yet.
    async fn live_or_resume(&self, session_id: &str) -> EngineResult<Arc<LiveSession>> {
        Ok(self.live_or_resume_reading(session_id, None).await?.0)
    }

    /// [`Self::live_or_resume`], and when this call resumed the session: a stream subscribed before its pump
    /// started, and the stored events read while resuming (everything before that stream's first event).
    async fn live_or_resume_reading(
        &self,
        session_id: &str,
        early: Option<EarlyHistory>,
    ) -> EngineResult<(Arc<LiveSession>, Option<(EventStream, Stored)>)> {
        if let Some(live) = self.live.lock().unwrap().get(session_id).cloned() {
            return Ok((live, None));
        }
        let connection = self.connection()?;
        // Live (listed) before it is resumed: whoever else needs this session meanwhile (the model picker, a
        // rename, a send) finds it and waits for this resume in `attach`, instead of resuming it a second time.
        let (live, fresh) = {
            let mut sessions = self.live.lock().unwrap();
            match sessions.get(session_id) {
                Some(live) => (live.clone(), false),
                None => {
                    let live = Arc::new(LiveSession::stored(session_id));
                    sessions.insert(session_id.to_owned(), live.clone());
                    (live, true)
                }
            }
        };
        if !fresh {
            return Ok((live, None));
        }
        let stream = live.hub.subscribe();
        match self.attach(&live, &connection, early).await {
            // Attached by someone else first (a reconnect), or the stored events were unreadable: no reading.
            Ok(stored) => Ok((live, stored.map(|events| (stream, events)))),
            Err(e) => {
                let mut sessions = self.live.lock().unwrap();
                if sessions.get(session_id).is_some_and(|listed| Arc::ptr_eq(listed, &live)) {
                    sessions.remove(session_id);
                }
                Err(e)
            }
        }
    }

    /// The SDK handle of a live session, re-attaching first when the CLI was replaced.
    async fn attached_session(&self, live: &Arc<LiveSession>) -> EngineResult<Arc<Session>> {
        let connection = self.connection()?;
        {
            let attached = live.attached.lock().await;
            if let Some(a) = attached.as_ref().filter(|a| a.generation == connection.generation) {
                return Ok(a.session.clone());
            }
        }
        self.attach(live, &connection, None).await?;
        let attached = live.attached.lock().await;
        attached.as_ref().map(|a| a.session.clone()).ok_or(EngineError::NotConnected { reason: None })
    }

    /// Resume `live` on `connection` (no-op when already attached to it). Returns the session's stored events
    /// when it resumed it now and could read them; the journal's transcript goes to `early` as soon as it is read.
    async fn attach(
        &self,
        live: &Arc<LiveSession>,
        connection: &Connection,
        early: Option<EarlyHistory>,
    ) -> EngineResult<Option<Stored>> {
        let _one_at_a_time = live.attaching.lock().await;
        if live.attached.lock().await.as_ref().is_some_and(|a| a.generation == connection.generation) {
            return Ok(None);
        }
        let workdir = live.working_directory.display().to_string();
        let handler = self.broker.handler_for(workdir.clone());
        let mut config = ResumeSessionConfig::new(SessionId::new(&live.id))
            .with_streaming(true)
            .with_enable_config_discovery(true)
            .with_permission_handler(handler.clone())
            .with_user_input_handler(handler.clone())
            .with_exit_plan_mode_handler(self.plan_reviews.handler());
        if !live.working_directory.as_os_str().is_empty() {
            config = config.with_working_directory(live.working_directory.clone());
        }
        if let Some(model) = &live.model {
            config = config.with_model(model.clone());
        }
        if let Some(provider) = self.active_provider() {
            config = config.with_provider(provider.settings.to_sdk());
        }
        if let Some(servers) = self.session_mcp_servers() {
            config = config.with_mcp_servers(servers);
        }
        if let Some(capacity) = self.options.event_buffer_capacity {
            config = config.with_event_buffer_capacity(capacity);
        }
        // The journal is read while the CLI resumes: most of the history, without waiting for the CLI's pages.
        let journal = self.journal.read_history(&live.id).map(|read| hand_early(read, early));
        let started = std::time::Instant::now();
        let session = connection.client.resume_session(config).await.map_err(|e| {
            if is_session_not_found(&e) { EngineError::SessionNotFound(live.id.clone()) } else { e.into() }
        })?;
        let resumed = started.elapsed();
        let session = Arc::new(session);
        handler.bind(session.clone());
        let (_, stored) = tokio::join!(self.run_setup(&session), stored_history(&session, journal));
        let read = started.elapsed() - resumed;
        // Everything stored so far counts as seen: a consumer loads history separately.
        let stored = stored.ok();
        if let Some(stored) = &stored {
            let mut seen = live.seen.lock().unwrap();
            for event in &stored.events {
                seen.insert(&event.id);
            }
        }
        self.broker.withdraw_session(&live.id);
        if let Err(e) = self.broker.restore_pending(session.clone(), workdir).await {
            tracing::debug!(session = %live.id, error = %e, "no pending permission requests restored");
        }
        self.install(live, session, connection.generation).await;
        let ms = |d: Duration| d.as_millis() as u64;
        tracing::info!(
            session = %live.id,
            generation = connection.generation,
            resume_ms = ms(resumed),
            history_ms = ms(read),
            total_ms = ms(started.elapsed()),
            "session attached"
        );
        Ok(stored)
    }

    async fn install(&self, live: &Arc<LiveSession>, session: Arc<Session>, generation: u64) {
        let pump =
            tokio::spawn(pump_events(live.clone(), session.clone(), self.broker.clone(), self.auth_failures.clone()));
        *live.attached.lock().await = Some(Attached { session, generation, pump });
    }

    /// Detach every session (app exit). Sessions stay stored by the CLI.
    pub async fn close_all(&self) {
        if let Some(task) = self.reattach.lock().unwrap().take() {
            task.abort();
        }
        self.let_go_all().await;
    }

    /// Detach every session and end its event stream, before the app switches to another CLI:
    /// the sessions live on the old one, so nothing re-attaches them. Their prompts go too.
    pub async fn let_go_all(&self) {
        let sessions: Vec<Arc<LiveSession>> = self.live.lock().unwrap().drain().map(|(_, v)| v).collect();
        for live in sessions {
            if let Some(attached) = live.attached.lock().await.take() {
                let _ = tokio::time::timeout(Duration::from_secs(2), attached.session.disconnect()).await;
            }
            self.broker.withdraw_session(&live.id);
            live.hub.close();
        }
    }

    /// The sessions open in the app (resumed or created during this run): housekeeping never
    /// touches them.
    pub fn live_ids(&self) -> Vec<String> {
        self.live.lock().unwrap().keys().cloned().collect()
    }
}

/// Most events a page of the event log holds (the CLI's maximum).
const HISTORY_PAGE: i64 = 1000;

/// A session's stored events that a chat view shows, in order. Read from the CLI's event log
/// filtered to [`STORED_CHAT_EVENT_TYPES`], in pages: a long session's system prompts and
/// bookkeeping, most of its bytes, never cross the pipe or sit in memory here. When the CLI cannot
/// filter (another version behind a server) or its history changed under the read (compacted),
/// falls back to all of its stored events (`session.getMessages`).
async fn stored_chat_events(session: &Session) -> EngineResult<Vec<SessionEvent>> {
    use github_copilot_sdk::rpc::{EventLogReadRequest, EventsCursorStatus};
    let mut events = Vec::new();
    let mut cursor = None;
    loop {
        let request = EventLogReadRequest { cursor: cursor.take(), ..chat_events_read(HISTORY_PAGE) };
        let page = match session.rpc().event_log().read(request).await {
            Ok(page) => page,
            Err(e) => {
                tracing::debug!(session = %session.id(), error = %e, "filtered history unavailable; reading all of it");
                return Ok(session.get_events().await?);
            }
        };
        let stuck = page.has_more && page.events.is_empty();
        if matches!(page.cursor_status, EventsCursorStatus::Expired) || stuck {
            tracing::debug!(session = %session.id(), "history changed while reading it; reading all of it");
            return Ok(session.get_events().await?);
        }
        events.extend(page.events);
        if !page.has_more {
            return Ok(events);
        }
        cursor = Some(page.cursor);
    }
}

/// A read of up to `max` of a session's stored chat events: the filter every history read uses.
fn chat_events_read(max: i64) -> github_copilot_sdk::rpc::EventLogReadRequest {
    github_copilot_sdk::rpc::EventLogReadRequest {
        max: Some(max),
        include_ephemeral: Some(false),
        types: Some(json!(STORED_CHAT_EVENT_TYPES)),
        ..Default::default()
    }
}

/// How many of the newest stored events confirm a journal (and add what it had not written yet).
const CONFIRMING_PAGE: i64 = 100;

/// [`stored_chat_events`], from the session's `journal` (read while the CLI resumed it) when the CLI's
/// own first event and newest page confirm it: two small reads instead of the whole history in pages.
/// Otherwise (no journal here, or one that does not match) from the CLI.
async fn stored_history(session: &Session, journal: Option<JournalRead>) -> EngineResult<Stored> {
    if let Some(read) = journal
        && let Ok(Some((journal, handed))) = read.await
    {
        let read = journal.len();
        match confirmed(session, journal).await {
            Ok(Confirmed::Journal(events)) => {
                tracing::debug!(session = %session.id(), journal = read, events = events.len(), "history read from the journal");
                // The journal is where the history starts (see `reconcile`): what went early stands.
                return Ok(Stored { events, handed_early: handed.then_some(read) });
            }
            Ok(Confirmed::Page(events)) => return Ok(Stored { events, handed_early: None }),
            Ok(Confirmed::No) => {
                tracing::debug!(session = %session.id(), "the journal does not match the CLI's history")
            }
            Err(e) => tracing::debug!(session = %session.id(), error = %e, "could not confirm the journal"),
        }
    }
    Ok(Stored { events: stored_chat_events(session).await?, handed_early: None })
}

/// A resumed session's stored events, as [`SessionService::attach`] read them.
struct Stored {
    events: Vec<SessionEvent>,
    /// How many of the first events are the journal's, whose transcript went early.
    handed_early: Option<usize>,
}

/// The journal's events, read in the background, and whether their transcript went early.
type JournalRead = JoinHandle<Option<(Vec<SessionEvent>, bool)>>;

/// Hands the journal's transcript to `early` as soon as `read` is in, while the CLI is still resuming the session.
fn hand_early(read: JoinHandle<Option<Vec<SessionEvent>>>, early: Option<EarlyHistory>) -> JournalRead {
    tokio::spawn(async move {
        let events = read.await.ok().flatten()?;
        let Some(early) = early else { return Some((events, false)) };
        // Converting a long history and serializing it for the webview take tens of milliseconds: not on the
        // runtime's workers, which read the CLI's answer to the resume meanwhile.
        let handed = tokio::task::spawn_blocking(move || {
            early(transcript(&events));
            events
        });
        handed.await.ok().map(|events| (events, true))
    })
}

/// What the CLI's ends of the history say of a journal.
enum Confirmed {
    /// The history: the journal, then the CLI's newest events (see [`super::journal::reconcile`]).
    Journal(Vec<SessionEvent>),
    /// The history, short enough that the CLI's newest page is all of it.
    Page(Vec<SessionEvent>),
    /// They disagree.
    No,
}

/// The history from `journal` when the CLI's first and newest events agree with it.
async fn confirmed(session: &Session, journal: Vec<SessionEvent>) -> EngineResult<Confirmed> {
    use github_copilot_sdk::rpc::{EventLogReadRequest, EventsCursorStatus, EventsReadDirection};
    let read = |direction, max| async move {
        let request = EventLogReadRequest { direction: Some(direction), ..chat_events_read(max) };
        session.rpc().event_log().read(request).await
    };
    let (first, newest) =
        tokio::try_join!(read(EventsReadDirection::Forward, 1), read(EventsReadDirection::Backward, CONFIRMING_PAGE))?;
    if [&first, &newest].iter().any(|page| !matches!(page.cursor_status, EventsCursorStatus::Ok)) {
        return Ok(Confirmed::No);
    }
    if !newest.has_more {
        return Ok(Confirmed::Page(newest.events));
    }
    Ok(super::journal::reconcile(journal, first.events.first(), newest.events)
        .map_or(Confirmed::No, Confirmed::Journal))
}

/// Read one attached session's events into its hub until the session or the CLI goes away.
async fn pump_events(
    live: Arc<LiveSession>,
    session: Arc<Session>,
    broker: PermissionBroker,
    auth_failures: Arc<watch::Sender<u64>>,
) {
    let mut events = session.subscribe();
    loop {
        match events.recv().await {
            Ok(event) => {
                if matches!(event.event_type.as_str(), "permission.completed" | "user_input.completed")
                    && let Some(id) = event.data.get("requestId").and_then(|v| v.as_str())
                {
                    broker.withdraw(id);
                }
                // Only stored events can come back in a re-sync; ephemeral ones (deltas) need no record.
                if event.ephemeral != Some(true) && !live.seen.lock().unwrap().insert(&event.id) {
                    continue;
                }
                if let Some(chat) = ChatEvent::from_cli(&event) {
                    if matches!(&chat.kind, ChatEventKind::SessionError { error_type, .. } if error_type == "authorization")
                    {
                        auth_failures.send_modify(|n| *n += 1);
                    }
                    live.hub.publish(chat);
                }
            }
            Err(e) => match e.kind() {
                RecvErrorKind::Lagged(lag) => {
                    tracing::warn!(session = %live.id, skipped = lag.skipped(), "event stream lagged; re-syncing from history");
                    resync(&live, &session).await;
                }
                _ => break,
            },
        }
    }
}

/// Publish the stored events a lag made us miss, in order, each once.
async fn resync(live: &LiveSession, session: &Session) {
    match session.get_events().await {
        Ok(stored) => {
            let missed: Vec<ChatEvent> = {
                let mut seen = live.seen.lock().unwrap();
                stored.iter().filter(|e| seen.insert(&e.id)).filter_map(ChatEvent::from_cli).collect()
            };
            for event in missed {
                live.hub.publish(event);
            }
        }
        Err(e) => {
            tracing::warn!(session = %live.id, error = %e, "re-sync failed");
            live.hub.publish(ChatEvent {
                id: format!("resync-failed-{}", uuid::Uuid::new_v4()),
                timestamp: chrono_now(),
                kind: ChatEventKind::SessionError {
                    error_type: "resync".into(),
                    message: "Some streamed events were dropped and could not be reloaded. Reopen the session to see its full history.".into(),
                },
            });
        }
    }
}

fn summary_from(value: &serde_json::Value) -> Option<SessionSummary> {
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let context = value.get("context").cloned().unwrap_or_default();
    Some(SessionSummary {
        id: text(value, "sessionId")?,
        title: text(value, "name").or_else(|| text(value, "title")).filter(|s| !s.is_empty()),
        summary: text(value, "summary").filter(|s| !s.is_empty()),
        working_directory: text(&context, "cwd").or_else(|| text(value, "cwd")),
        created_at: text(value, "startTime").unwrap_or_default(),
        modified_at: text(value, "modifiedTime").unwrap_or_default(),
    })
}

fn chrono_now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}
