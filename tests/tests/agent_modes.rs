//! The engine's agent controls against the real Copilot CLI (fake model as a BYOK provider):
//! modes, the exit-plan-mode review, the plan, reasoning effort, context and compaction.
//! Timeouts are hang guards, never timing checks.

use std::time::Duration;

use copilot_desktop::engine::modes::ReviewerGuard;
use copilot_desktop::engine::permissions::AskerGuard;
use copilot_desktop::engine::{
    AgentMode, ChatEvent, ChatEventKind, CliAuth, Engine, EngineConfig, EventStream, NewSession, PlanDecision,
    PlanReviewEvent, RestartPolicy, SessionOptions,
};
use copilot_desktop::engine::{CompactOutcome, EngineError};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::agent_scripts::{EXIT_PLAN_MODE_TOOL, exit_plan_mode, write_file};
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::engine_setup::{bundled, bundled_with, byok};
use copilot_desktop_tests::fake_github::{FakeGitHub, REASONING_EFFORTS, REASONING_MODEL};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel, Match};

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
        let target = bundled(&home);
        let sessions = byok(&model);
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

fn kinds(events: &[ChatEvent]) -> Vec<&ChatEventKind> {
    events.iter().map(|e| &e.kind).collect()
}

fn modes_announced(events: &[ChatEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::ModeChanged { mode } => Some(mode.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_switch_are_announced_and_survive_reopening_the_session() {
    let h = Harness::start().await;
    let (id, mut stream) = h.new_session().await;
    assert_eq!(h.engine.sessions.mode(&id).await.unwrap(), AgentMode::Interactive, "a new session is interactive");

    h.engine.sessions.set_mode(&id, AgentMode::Plan).await.expect("session.mode.set plan");
    let events = collect_until(&mut stream, |e| matches!(&e.kind, ChatEventKind::ModeChanged { .. })).await;
    assert_eq!(modes_announced(&events), ["plan"], "session.mode_changed follows");
    assert_eq!(h.engine.sessions.mode(&id).await.unwrap(), AgentMode::Plan);

    h.engine.sessions.set_mode(&id, AgentMode::Autopilot).await.expect("session.mode.set autopilot");
    let events = collect_until(&mut stream, |e| matches!(&e.kind, ChatEventKind::ModeChanged { .. })).await;
    assert_eq!(modes_announced(&events), ["autopilot"]);
    let events = h.turn(&id, &mut stream, "hello in autopilot").await;
    // The fake model never calls task_complete: autopilot goes on by itself until its cap, and says so.
    let continued = events
        .iter()
        .filter(|e| matches!(&e.kind, ChatEventKind::UserMessage { content, .. } if content.is_empty()))
        .count();
    assert!(continued > 0, "autopilot continues with empty user messages: {:#?}", kinds(&events));
    assert!(
        events.iter().any(|e| matches!(&e.kind, ChatEventKind::AutopilotStopped { reason } if reason == "cap_reached")),
        "{:#?}",
        kinds(&events)
    );

    // Let go of the session (as when the app closes it) and open it again: the mode is still there.
    h.engine.sessions.let_go_all().await;
    h.engine.sessions.open(&id).await.expect("reopen");
    assert_eq!(h.engine.sessions.mode(&id).await.unwrap(), AgentMode::Autopilot, "the mode survives reopening");
}

/// The model writes plan.md, then asks to leave plan mode; after the answer it says what it got.
async fn script_a_plan(h: &Harness, id: &str, plan_text: &str) {
    let plan = h.engine.sessions.plan(id).await.expect("session.plan.read");
    assert!(!plan.exists, "no plan before the agent writes one");
    let path = plan.path.expect("the CLI names where the plan goes");
    h.model.when_once(Match::user_contains("plan the work"), write_file(&path, plan_text));
    h.model.when_once(Match::tool_result(), exit_plan_mode("- **Step one**: add `greet`\n- Step two", "interactive"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_plan_leaves_plan_mode_and_the_agent_goes_on() {
    let h = Harness::start().await;
    let (id, mut stream) = h.new_session().await;
    h.engine.sessions.set_mode(&id, AgentMode::Plan).await.unwrap();
    let plan_text = "# Plan\n\n1. Add a greeting function\n2. Test it\n";
    script_a_plan(&h, &id, plan_text).await;

    let reviews = h.engine.sessions.plan_reviews().clone();
    let mut review_events = reviews.subscribe();
    let reviewer = tokio::spawn(async move {
        loop {
            if let PlanReviewEvent::Requested { review } = review_events.recv().await.expect("review stream") {
                let decision =
                    PlanDecision { approved: true, selected_action: Some("interactive".into()), feedback: None };
                reviews.decide(&review.request_id, decision).expect("decide");
                return review;
            }
        }
    });
    let events = h.turn(&id, &mut stream, "plan the work").await;
    let review = tokio::time::timeout(HANG_GUARD, reviewer).await.expect("a review came").unwrap();

    assert_eq!(review.session_id, id);
    assert!(review.summary.contains("**Step one**"), "the summary is the model's: {review:?}");
    assert!(review.actions.iter().any(|a| a == "interactive"), "the CLI offers ways to go on: {review:?}");
    assert_eq!(review.recommended_action, "interactive");
    assert!(review.plan_content.as_deref().unwrap_or_default().contains("Add a greeting function"), "{review:?}");

    assert!(modes_announced(&events).iter().any(|m| m == "interactive"), "leaves plan mode: {:#?}", kinds(&events));
    assert_eq!(h.engine.sessions.mode(&id).await.unwrap(), AgentMode::Interactive);
    // The agent went on after the answer: the model got the tool's result and answered it.
    let results = h.model.tool_results_seen();
    assert!(results.len() >= 2, "plan written and exit_plan_mode answered: {results:?}");
    assert!(results.iter().any(|r| r.contains("Plan approved")), "the approval reaches the model: {results:?}");
    let requests = h.model.agent_requests();
    let last = requests.last().unwrap();
    assert!(last.assistant_tool_calls().iter().any(|c| c.to_string().contains(EXIT_PLAN_MODE_TOOL)));
    let plan = h.engine.sessions.plan(&id).await.unwrap();
    assert!(plan.exists);
    assert_eq!(plan.content.as_deref(), Some(plan_text));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_plan_stays_in_plan_mode_and_the_feedback_reaches_the_model() {
    let h = Harness::start().await;
    let (id, mut stream) = h.new_session().await;
    h.engine.sessions.set_mode(&id, AgentMode::Plan).await.unwrap();
    script_a_plan(&h, &id, "# Plan\n\nDelete everything\n").await;
    let reviews = h.engine.sessions.plan_reviews().clone();
    let mut review_events = reviews.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = review_events.recv().await {
            if let PlanReviewEvent::Requested { review } = event {
                let decision = PlanDecision {
                    approved: false,
                    selected_action: None,
                    feedback: Some("Keep the tests, please".into()),
                };
                reviews.decide(&review.request_id, decision).unwrap();
            }
        }
    });
    h.turn(&id, &mut stream, "plan the work").await;
    assert_eq!(h.engine.sessions.mode(&id).await.unwrap(), AgentMode::Plan, "still planning");
    let results = h.model.tool_results_seen();
    assert!(results.iter().any(|r| r.contains("Keep the tests, please")), "feedback reaches the model: {results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_effort_is_offered_where_the_model_reports_it_and_reaches_the_request() {
    let github = FakeGitHub::start().await;
    let token = "gho_agent_modes_effort_token_000000001";
    github.add_token(token);
    github.set_models([DEFAULT_MODEL, REASONING_MODEL]);
    let home = TestHome::new();
    let target = bundled_with(&home, cli_path(), CliAuth::Token(Sensitive::new(token.to_string())), github.env());
    let engine =
        Engine::start(EngineConfig { target, restart: RestartPolicy::default(), sessions: SessionOptions::default() });
    engine.supervisor.connected(HANG_GUARD).await.expect("connects");

    let efforts = engine.sessions.model_efforts().await.expect("models.list");
    assert_eq!(efforts.len(), 1, "only the model that reports efforts: {efforts:?}");
    assert_eq!(efforts[0].model_id, REASONING_MODEL);
    assert_eq!(efforts[0].supported, REASONING_EFFORTS);

    let session = engine
        .sessions
        .create(NewSession { model: Some(REASONING_MODEL.into()), working_directory: home.work_dir() })
        .await
        .unwrap();
    let mut stream = engine.sessions.subscribe(&session.id).await.unwrap();
    engine.sessions.set_reasoning_effort(&session.id, "high").await.expect("session.model.setReasoningEffort");
    assert_eq!(engine.sessions.reasoning_effort(&session.id).await.unwrap().as_deref(), Some("high"));
    let refused = engine.sessions.set_reasoning_effort(&session.id, "ultra").await;
    assert!(matches!(refused, Err(EngineError::InvalidRequest(_))), "{refused:?}");

    engine.sessions.send(&session.id, "think hard").await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    let request = github.agent_requests().pop().expect("a chat request");
    assert_eq!(
        request.body.as_ref().unwrap()["reasoning_effort"],
        "high",
        "the effort reaches the model: {}",
        request.raw_body
    );

    let plain = engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: home.work_dir() })
        .await
        .unwrap();
    let refused = engine.sessions.set_reasoning_effort(&plain.id, "high").await;
    assert!(matches!(refused, Err(EngineError::InvalidRequest(_))), "not for a model without efforts: {refused:?}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_is_measured_and_compaction_reports_what_it_removed() {
    let h = Harness::start().await;
    let (id, mut stream) = h.new_session().await;
    assert_eq!(
        h.engine.sessions.compact(&id, None).await.expect("nothing to compact is an answer"),
        CompactOutcome::NothingToCompact
    );

    let mut usage = None;
    for i in 0..3 {
        let events = h.turn(&id, &mut stream, &format!("message number {i}")).await;
        usage = events
            .iter()
            .rev()
            .find_map(|e| match e.kind {
                ChatEventKind::ContextUsage { current_tokens, token_limit } => Some((current_tokens, token_limit)),
                _ => None,
            })
            .or(usage);
    }
    let (current, limit) = usage.expect("session.usage_info arrives during turns");
    assert!(current > 0 && limit > current, "{current}/{limit}");

    let breakdown = h.engine.sessions.context_breakdown(&id).await.expect("contextInfo").expect("initialized");
    assert!(breakdown.limit > 0 && breakdown.total_tokens > 0, "{breakdown:?}");
    assert!(breakdown.system_tokens > 0 && breakdown.conversation_tokens > 0, "{breakdown:?}");

    let outcome =
        h.engine.sessions.compact(&id, Some("Keep the numbers".into())).await.expect("session.history.compact");
    let CompactOutcome::Compacted { messages_removed, .. } = outcome else { panic!("compacted: {outcome:?}") };
    assert!(messages_removed > 0);
    let events = collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Compacted { .. })).await;
    let compacted = events.iter().find_map(|e| match &e.kind {
        ChatEventKind::Compacted { messages_removed, error, .. } => Some((*messages_removed, error.clone())),
        _ => None,
    });
    assert_eq!(compacted, Some((Some(messages_removed), None)), "the transcript learns of it");
    // A summary request reached the model with the user's instructions.
    assert!(h.model.chat_requests().iter().any(|r| r.raw_body.contains("Keep the numbers")));
    // Reopened, the compaction is part of the stored history.
    let history = h.engine.sessions.history(&id).await.unwrap();
    let dividers = history.iter().filter(|e| matches!(e.kind, ChatEventKind::Compacted { .. })).count();
    assert_eq!(dividers, 1, "one compaction; nothing-to-compact is none: {:#?}", kinds(&history));
}
