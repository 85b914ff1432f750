//! The UI-free core of Copilot Desktop: supervising the Copilot CLI (bundled, or a server),
//! sessions and their housekeeping, the event stream and the permission broker. Nothing here
//! imports `tauri`; everything is testable without a window (see `tests/`, which drives it
//! against the real CLI).

pub mod account;
pub mod attachments;
pub mod context;
pub mod error;
pub mod events;
pub mod export;
pub mod extensions;
pub mod housekeeping;
pub mod journal;
pub mod logging;
pub mod mcp;
pub mod modes;
pub mod permissions;
pub mod process;
pub mod queue;
pub mod rewind;
pub mod rules;
pub mod search;
pub mod server;
pub mod sessions;
pub mod supervisor;

pub use account::CurrentAuth;
pub use context::{CompactOutcome, ContextBreakdown, ModelEfforts};
pub use error::{EngineError, EngineResult};
pub use events::{ChatEvent, ChatEventKind, EventStream};
pub use extensions::{AgentDraft, AgentScope, AgentSummary, Extensions, SessionAgents, SkillSummary};
pub use housekeeping::{CleanupFailure, CleanupOutcome, CleanupPreview};
pub use journal::{SessionJournal, TailLimits};
pub use modes::{AgentMode, PlanDecision, PlanReview, PlanReviewEvent, PlanReviews, SessionPlan};
pub use permissions::{
    PermissionAnswer, PermissionBroker, PermissionPrompt, PromptDetails, PromptEvent, UserAnswer, UserQuestion,
};
pub use rules::{NewProjectApproval, ProjectApproval, RulesOverview, StandingRules, ToolRule};
pub use search::{SessionMatch, SessionSearch, SnippetPart};
pub use server::{ServerInfo, ServerProblem};
pub use sessions::{
    AuthStatus, EarlyHistory, Handover, ModelInfo, NewSession, ProviderSettings, SessionOptions, SessionService,
    SessionSummary,
};
pub use supervisor::{
    BundledCli, CliAuth, CliSupervisor, CliTarget, ConnectionState, ConnectionTarget, ExternalServer, RestartPolicy,
};

/// Everything the engine needs to start.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub target: CliTarget,
    pub restart: RestartPolicy,
    pub sessions: SessionOptions,
}

/// The engine: one supervisor, one broker, one session service, the search over stored sessions
/// and their journals' tails. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub supervisor: CliSupervisor,
    pub broker: PermissionBroker,
    pub sessions: SessionService,
    pub search: SessionSearch,
    pub journal: SessionJournal,
    /// Messages waiting while a turn runs, and steering (engine/queue.rs).
    pub queue: queue::MessageQueue,
}

impl Engine {
    /// Start the CLI (in the background) and the services on top of it.
    pub fn start(config: EngineConfig) -> Self {
        // Both follow the target when the app switches to another CLI (`set_target`).
        let search = SessionSearch::for_target(&config.target);
        let journal = SessionJournal::for_target(&config.target);
        let supervisor = CliSupervisor::start(config.target, config.restart);
        // A server's sessions are read through the connection.
        search.read_through(supervisor.clone());
        let broker = PermissionBroker::default();
        let sessions = SessionService::new(supervisor.clone(), broker.clone(), config.sessions, journal.clone());
        let queue = queue::MessageQueue::new(sessions.clone(), supervisor.clone());
        Self { supervisor, broker, sessions, search, journal, queue }
    }

    /// Detach sessions and stop the CLI with its whole process tree.
    pub async fn shutdown(&self) {
        self.queue.close();
        self.sessions.close_all().await;
        self.supervisor.shutdown().await;
    }
}
