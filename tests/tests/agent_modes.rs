//! The engine's agent controls against the real Copilot CLI (fake model as a BYOK provider):
//! modes, the exit-plan-mode review, the plan, reasoning effort, context and compaction.
//! Timeouts are hang guards, never timing checks.

use std::time::Duration;

use copilot_desktop::engine::modes::ReviewerGuard;
use copilot_desktop::engine::permissions::AskerGuard;
use copilot_desktop::engine::{
    AgentMode, BundledCli, ChatEvent, ChatEventKind, CliAuth, CliTarget, Engine, EngineConfig, EventStream,
    NewSession, PlanDecision, PlanReviewEvent, ProviderSettings, RestartPolicy, SessionOptions,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::fake_model::{API_KEY, DEFAULT_MODEL, FakeModel, Match, Reply};

const HANG_GUARD: Duration = Duration::from_secs(90);

struct Harness {
    home: TestHome,
    model: FakeModel,
    engine: Engine,
    _asker: AskerGuard,
    _reviewer: ReviewerGuard,
}

impl Harness {
    async fn start() -> Self {
        let home = TestHome::new();
        let model = FakeModel::start().await;
        let target = CliTarget::Bundled(BundledCli {
            program: cli_path(),
            copilot_home: Some(home.copilot_home()),
            working_directory: home.work_dir(),
            auth: CliAuth::CliDefault,
            env: home
                .env()
                .into_iter()
                .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
                .collect(),
        });
        let sessions = SessionOptions {
            provider: Some(ProviderSettings {
                provider_type: "openai".into(),
                base_url: model.base_url(),
                api_key: Some(Sensitive::new(API_KEY.to_string())),
                wire_api: None,
            }),
            event_buffer_capacity: None,
        };
        let engine = Engine::start(EngineConfig { target, restart: RestartPolicy::default(), sessions });
        engine.supervisor.connected(HANG_GUARD).await.expect("engine connects to the real CLI");
        let asker = engine.broker.attach_asker();
        let reviewer = engine.sessions.plan_reviews().attach_reviewer();
        Self { home, model, engine, _asker: asker, _reviewer: reviewer }
    }

    async fn new_session(&self) -> (String, EventStream) {
        let summary = self
            .engine
            .sessions
            .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: self.home.work_dir() })
            .await
            .expect("create session");
        let stream = self.engine.sessions.subscribe(&summary.id).await.expect("subscribe");
        (summary.id, stream)
    }

    async fn turn(&self, id: &str, stream: &mut EventStream, text: &str) -> Vec<ChatEvent> {
        self.engine.sessions.send(id, text).await.expect("send");
        collect_until(stream, |e| matches!(e.kind, ChatEventKind::Idle)).await
    }
}

async fn collect_until(stream: &mut EventStream, done: impl Fn(&ChatEvent) -> bool) -> Vec<ChatEvent> {
    let mut out: Vec<ChatEvent> = Vec::new();
    let collect = async {
        while let Some(batch) = stream.next_batch().await {
            let finished = batch.iter().any(&done);
            out.extend(batch);
            if finished {
                return;
            }
        }
    };
    if tokio::time::timeout(HANG_GUARD, collect).await.is_err() {
        panic!("did not finish; events so far: {:#?}", out.iter().map(|e| &e.kind).collect::<Vec<_>>());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_plan_mode_tools() {
    let h = Harness::start().await;
    let (id, mut stream) = h.new_session().await;
    h.engine.sessions.set_mode(&id, AgentMode::Plan).await.expect("set plan");
    let events = h.turn(&id, &mut stream, "make a plan").await;
    let req = h.model.agent_requests();
    let last = req.last().unwrap();
    for name in last.tool_names() {
        eprintln!("TOOL {name}: {}", last.tool(&name).unwrap());
    }
    eprintln!("{:#?}", events.iter().map(|e| &e.kind).collect::<Vec<_>>());
}
