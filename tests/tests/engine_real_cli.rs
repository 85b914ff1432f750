//! The engine (src-tauri/src/engine) against the real Copilot CLI, with the fake model as a BYOK
//! provider. Each test gets its own COPILOT_HOME. Timeouts are hang guards, never timing checks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use copilot_desktop::engine::events::{assemble_messages, push_coalesced};
use copilot_desktop::engine::permissions::AskerGuard;
use copilot_desktop::engine::{
    ChatEvent, ChatEventKind, CliAuth, CliTarget, ConnectionState, Engine, EngineConfig, EventStream, ExternalServer,
    Handover, NewSession, PermissionAnswer, PromptDetails, PromptEvent, RestartPolicy, SessionOptions,
};
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::engine_setup::{bundled, bundled_with, byok};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel, Match, Reply};

const HANG_GUARD: Duration = Duration::from_secs(90);

fn fast_policy() -> RestartPolicy {
    RestartPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
        max_crashes: 3,
        crash_window: Duration::from_secs(60),
        ..RestartPolicy::default()
    }
}

struct Harness {
    home: TestHome,
    model: FakeModel,
    engine: Engine,
    _asker: AskerGuard,
}

impl Harness {
    async fn start() -> Self {
        let home = TestHome::new();
        let model = FakeModel::start().await;
        Self::start_with(home, model, None).await
    }

    async fn start_with(home: TestHome, model: FakeModel, capacity: Option<usize>) -> Self {
        let mut sessions = byok(&model);
        sessions.event_buffer_capacity = capacity;
        let engine = Engine::start(EngineConfig { target: bundled(&home), restart: fast_policy(), sessions });
        engine.supervisor.connected(HANG_GUARD).await.expect("engine connects to the real CLI");
        let asker = engine.broker.attach_asker();
        Self { home, model, engine, _asker: asker }
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

    /// Send and collect events until the turn is over.
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
        panic!("turn did not finish; events so far: {:#?}", kinds(&out));
    }
    out
}

fn kinds(events: &[ChatEvent]) -> Vec<&ChatEventKind> {
    events.iter().map(|e| &e.kind).collect()
}

fn position(events: &[ChatEvent], pred: impl Fn(&ChatEventKind) -> bool) -> usize {
    events.iter().position(|e| pred(&e.kind)).unwrap_or_else(|| panic!("not found in {:#?}", kinds(events)))
}

fn final_messages(events: &[ChatEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::AssistantMessage { content, .. } if !content.is_empty() => Some(content.clone()),
            _ => None,
        })
        .collect()
}

/// Answer the next permission prompt with `answer`, after checking what the user would see.
fn answer_next_prompt(
    engine: &Engine,
    answer: PermissionAnswer,
    check: impl FnOnce(&PromptDetails) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let mut prompts = engine.broker.subscribe();
    let broker = engine.broker.clone();
    tokio::spawn(async move {
        loop {
            match prompts.recv().await.expect("prompt stream") {
                PromptEvent::PermissionRequested { prompt } => {
                    check(&prompt.details);
                    broker.decide(&prompt.request_id, answer).await.expect("decide");
                    return;
                }
                _ => continue,
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_reply_arrives_complete_and_in_order() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("greet me"), Reply::chunks(["Hel", "lo ", "there, ", "friend", "!"]));
    let (id, mut stream) = h.new_session().await;
    let events = h.turn(&id, &mut stream, "greet me").await;

    let user = position(&events, |k| matches!(k, ChatEventKind::UserMessage { content, .. } if content == "greet me"));
    let first_delta = position(&events, |k| matches!(k, ChatEventKind::MessageDelta { .. }));
    let message =
        position(&events, |k| matches!(k, ChatEventKind::AssistantMessage { content, .. } if !content.is_empty()));
    let idle = position(&events, |k| matches!(k, ChatEventKind::Idle));
    assert!(user < first_delta && first_delta < message && message < idle, "{:#?}", kinds(&events));

    let streamed: String = events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::MessageDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "Hello there, friend!", "deltas arrive complete, in order, once");
    assert_eq!(final_messages(&events), vec!["Hello there, friend!".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_shell_command_runs_and_its_output_reaches_the_agent() {
    let h = Harness::start().await;
    h.model.when_once(
        Match::user_contains("run the check"),
        Reply::shell("echo engine-check-$((40+2)) > result.txt && cat result.txt"),
    );
    let (id, mut stream) = h.new_session().await;
    let answered = answer_next_prompt(&h.engine, PermissionAnswer::ApproveOnce, |details| match details {
        PromptDetails::Shell { full_command_text, .. } => {
            assert_eq!(full_command_text, "echo engine-check-$((40+2)) > result.txt && cat result.txt")
        }
        other => panic!("expected a shell prompt, got {other:?}"),
    });
    let events = h.turn(&id, &mut stream, "run the check").await;
    answered.await.unwrap();

    let completed = events.iter().find_map(|e| match &e.kind {
        ChatEventKind::ToolCompleted { success, output, .. } => Some((*success, output.clone().unwrap_or_default())),
        _ => None,
    });
    let (success, output) = completed.unwrap_or_else(|| panic!("no tool completion in {:#?}", kinds(&events)));
    assert!(success, "the command ran: {output}");
    assert!(output.contains("engine-check-42"), "{output}");
    assert!(h.home.work_dir().join("result.txt").exists(), "the command ran in the session's folder");
    assert!(h.model.tool_results_seen().iter().any(|r| r.contains("engine-check-42")), "output went back to the model");
    assert!(h.engine.broker.pending_permissions().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_command_does_not_run_and_the_agent_hears_why() {
    let h = Harness::start().await;
    h.model.when_once(Match::user_contains("make a file"), Reply::shell("touch should-not-exist.txt"));
    let (id, mut stream) = h.new_session().await;
    let answered =
        answer_next_prompt(&h.engine, PermissionAnswer::Reject { feedback: Some("not in this folder".into()) }, |_| {});
    let events = h.turn(&id, &mut stream, "make a file").await;
    answered.await.unwrap();

    assert!(!h.home.work_dir().join("should-not-exist.txt").exists(), "a rejected command must not run");
    assert!(
        h.model.tool_results_seen().iter().any(|r| r.contains("not in this folder")),
        "the feedback reached the agent: {:?}",
        h.model.tool_results_seen()
    );
    assert!(!final_messages(&events).is_empty(), "the agent continued after the rejection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_for_session_is_not_asked_again() {
    let h = Harness::start().await;
    // File writes offer "allow for this session" (shell commands on CLI 1.0.102 do not).
    let create = |name: &str| {
        let path = h.home.work_dir().join(name).display().to_string();
        Reply::tool_call("create", serde_json::json!({"path": path, "file_text": "hello\n"}))
    };
    h.model.when_once(Match::user_contains("first"), create("first.txt"));
    h.model.when_once(Match::user_contains("second"), create("second.txt"));
    let (id, mut stream) = h.new_session().await;

    let mut prompts = h.engine.broker.subscribe();
    let broker = h.engine.broker.clone();
    let first_prompt = tokio::spawn(async move {
        loop {
            if let PromptEvent::PermissionRequested { prompt } = prompts.recv().await.unwrap() {
                assert!(prompt.can_approve_for_session, "a file write offers session approval: {prompt:?}");
                broker.decide(&prompt.request_id, PermissionAnswer::ApproveForSession).await.unwrap();
                return prompts;
            }
        }
    });
    h.turn(&id, &mut stream, "first").await;
    let mut prompts = first_prompt.await.unwrap();
    assert!(h.home.work_dir().join("first.txt").exists());

    h.turn(&id, &mut stream, "second").await;
    assert!(h.home.work_dir().join("second.txt").exists(), "the second write happened");
    while let Ok(event) = prompts.try_recv() {
        assert!(!matches!(event, PromptEvent::PermissionRequested { .. }), "asked twice: {event:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_an_engine_restart_and_delete_removes_it() {
    let home = TestHome::new();
    let model = FakeModel::start().await;
    model.when(Match::user_contains("remember"), Reply::text("I will remember the lighthouse."));
    let h = Harness::start_with(home, model, None).await;
    let (id, mut stream) = h.new_session().await;
    h.turn(&id, &mut stream, "remember the lighthouse").await;
    h.engine.shutdown().await;
    assert_eq!(h.engine.supervisor.state(), ConnectionState::Stopped);

    let Harness { home, model, .. } = h;
    let h = Harness::start_with(home, model, None).await;
    let listed = h.engine.sessions.list().await.expect("list");
    let entry = listed.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("{id} not in {listed:?}"));
    assert!(!entry.modified_at.is_empty());

    // Opened for viewing: the history read while resuming, then the live events, with nothing repeated.
    let (mut stream, history) = h.engine.sessions.watch(&id).await.expect("watch");
    assert!(history.iter().any(
        |e| matches!(&e.kind, ChatEventKind::UserMessage { content, .. } if content == "remember the lighthouse")
    ));
    assert!(
        final_messages(&history).contains(&"I will remember the lighthouse.".to_string()),
        "{:#?}",
        kinds(&history)
    );
    let live = h.turn(&id, &mut stream, "remember it again").await;
    assert!(final_messages(&live).contains(&"I will remember the lighthouse.".to_string()), "{:#?}", kinds(&live));
    let stored: std::collections::HashSet<&str> = history.iter().map(|e| e.id.as_str()).collect();
    assert!(live.iter().all(|e| !stored.contains(e.id.as_str())), "a stored event came again on the live stream");
    // Opened again while live: the same history and the new turn, read from the CLI.
    let again = h.engine.sessions.open(&id).await.expect("open");
    assert_eq!(final_messages(&again).len(), 2, "{:#?}", kinds(&again));

    h.engine.sessions.delete(&id).await.expect("delete");
    let listed = h.engine.sessions.list().await.expect("list");
    assert!(listed.iter().all(|s| s.id != id), "deleted session still listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_stops_a_stream_midway_and_the_session_keeps_working() {
    let h = Harness::start().await;
    let words: Vec<String> = (0..400).map(|i| format!("w{i} ")).collect();
    h.model.when_once(
        Match::user_contains("long story"),
        Reply::chunks(words.clone()).with_delay(Duration::from_millis(25)),
    );
    h.model.when(Match::user_contains("short"), Reply::text("short answer"));
    let (id, mut stream) = h.new_session().await;
    h.engine.sessions.send(&id, "tell a long story").await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::MessageDelta { .. })).await;
    h.engine.sessions.abort(&id).await.expect("abort");
    // The CLI reports `abort`, then ends the turn with `session.idle`; wait for the end of the turn.
    let after = collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    assert!(after.iter().any(|e| matches!(e.kind, ChatEventKind::Aborted)), "{:#?}", kinds(&after));
    let text: String = assemble_messages(&after).values().cloned().collect();
    assert!(text.len() < words.concat().len(), "the stream stopped early");

    let events = h.turn(&id, &mut stream, "now something short").await;
    assert!(final_messages(&events).contains(&"short answer".to_string()), "{:#?}", kinds(&events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_cli_is_restarted_and_the_session_resumes_with_history() {
    let h = Harness::start().await;
    let words: Vec<String> = (0..400).map(|i| format!("w{i} ")).collect();
    h.model.when_once(Match::user_contains("slow"), Reply::chunks(words).with_delay(Duration::from_millis(25)));
    h.model.when(Match::user_contains("after the crash"), Reply::text("still here"));
    h.model.when(Match::user_contains("before"), Reply::text("noted before the crash"));
    let (id, mut stream) = h.new_session().await;
    h.turn(&id, &mut stream, "before anything breaks").await;
    h.engine.sessions.send(&id, "a slow reply please").await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::MessageDelta { .. })).await;

    let pid = h.engine.supervisor.cli_pid().expect("CLI pid");
    let mut states = h.engine.supervisor.watch_state();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    tokio::time::timeout(HANG_GUARD, states.wait_for(|s| matches!(s, ConnectionState::Restarting { .. })))
        .await
        .expect("supervisor noticed the crash")
        .unwrap();
    tokio::time::timeout(HANG_GUARD, states.wait_for(|s| matches!(s, ConnectionState::Connected { .. })))
        .await
        .expect("supervisor restarted the CLI")
        .unwrap();
    assert_ne!(h.engine.supervisor.cli_pid(), Some(pid));

    let events = h.turn(&id, &mut stream, "hello after the crash").await;
    assert!(final_messages(&events).contains(&"still here".to_string()), "{:#?}", kinds(&events));
    let history = h.engine.sessions.history(&id).await.unwrap();
    assert!(
        history.iter().any(
            |e| matches!(&e.kind, ChatEventKind::UserMessage { content, .. } if content == "before anything breaks")
        )
    );
    assert!(final_messages(&history).contains(&"noted before the crash".to_string()), "{:#?}", kinds(&history));
    assert!(final_messages(&history).contains(&"still here".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_provider_reply_is_a_session_error_and_the_engine_lives_on() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("break"), Reply::malformed());
    h.model.when(Match::user_contains("again"), Reply::text("fine now"));
    let (id, mut stream) = h.new_session().await;
    h.engine.sessions.send(&id, "break please").await.unwrap();
    let events =
        collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::SessionError { .. } | ChatEventKind::Idle))
            .await;
    assert!(
        events.iter().any(|e| matches!(&e.kind, ChatEventKind::SessionError { message, .. } if !message.is_empty())),
        "{:#?}",
        kinds(&events)
    );
    assert!(matches!(h.engine.supervisor.state(), ConnectionState::Connected { .. }));
    // The failed turn's idle usually follows its error: let it pass, or the next turn would stop at it.
    if !events.iter().any(|e| matches!(e.kind, ChatEventKind::Idle)) {
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(batch) = stream.next_batch().await {
                if batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle)) {
                    break;
                }
            }
        })
        .await;
    }
    let events = h.turn(&id, &mut stream, "try again").await;
    assert!(final_messages(&events).contains(&"fine now".to_string()), "{:#?}", kinds(&events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_cli_fails_with_a_clear_error() {
    let home = TestHome::new();
    let engine = Engine::start(EngineConfig {
        target: bundled_with(&home, home.root().join("no-such-copilot"), CliAuth::CliDefault, Vec::new()),
        restart: fast_policy(),
        sessions: SessionOptions::default(),
    });
    let mut states = engine.supervisor.watch_state();
    let state = tokio::time::timeout(HANG_GUARD, states.wait_for(|s| matches!(s, ConnectionState::Failed { .. })))
        .await
        .expect("gives up")
        .unwrap()
        .clone();
    let ConnectionState::Failed { reason, code, .. } = state else { unreachable!() };
    assert_eq!(code, "cli_missing");
    assert!(reason.contains("was not found") && reason.contains("no-such-copilot"), "{reason}");
    let err = engine.sessions.list().await.unwrap_err();
    assert_eq!(err.code(), "not_connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_cli_fails_with_a_clear_error_after_retries() {
    let home = TestHome::new();
    let corrupt = home.root().join("copilot-corrupt");
    std::fs::write(&corrupt, b"\x7fELF\x02\x01\x01 this is not a real executable \x00\x01\x02").unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&corrupt).unwrap().permissions(), 0o755);
    std::fs::set_permissions(&corrupt, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let engine = Engine::start(EngineConfig {
        target: bundled_with(&home, corrupt, CliAuth::CliDefault, Vec::new()),
        restart: fast_policy(),
        sessions: SessionOptions::default(),
    });
    let mut states = engine.supervisor.watch_state();
    let mut saw_restarting = false;
    let failed = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let state = states.borrow_and_update().clone();
            match state {
                ConnectionState::Restarting { .. } => saw_restarting = true,
                ConnectionState::Failed { reason, .. } => return reason,
                _ => {}
            }
            states.changed().await.unwrap();
        }
    })
    .await
    .expect("gives up");
    assert!(saw_restarting, "retried with backoff before giving up");
    assert!(failed.contains("keeps crashing") && failed.contains("could not be started"), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaches_to_a_headless_cli_server() {
    let home = TestHome::new();
    let model = FakeModel::start().await;
    model.when(Match::user_contains("over tcp"), Reply::text("hello over tcp"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = tokio::process::Command::new(cli_path())
        .args(["--headless", "--port", &port.to_string(), "--no-auto-update"])
        .envs(home.env())
        .current_dir(home.work_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start headless CLI");
    // Wait for the port to accept connections.
    tokio::time::timeout(HANG_GUARD, async {
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("headless CLI listens");

    let engine = Engine::start(EngineConfig {
        target: CliTarget::External(ExternalServer::new("127.0.0.1", port, None)),
        restart: fast_policy(),
        sessions: byok(&model),
    });
    engine.supervisor.connected(HANG_GUARD).await.expect("attached");
    assert!(matches!(engine.supervisor.state(), ConnectionState::Connected { ref version, .. } if !version.is_empty()));
    assert_eq!(engine.supervisor.cli_pid(), None, "nothing spawned");
    let summary = engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: home.work_dir() })
        .await
        .unwrap();
    let mut stream = engine.sessions.subscribe(&summary.id).await.unwrap();
    engine.sessions.send(&summary.id, "hello over tcp").await.unwrap();
    let events = collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    assert!(final_messages(&events).contains(&"hello over tcp".to_string()));
    let search = engine.search.search("over TCP").await.expect("a server's sessions are searched through the CLI");
    assert_eq!(search.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(), vec![summary.id.as_str()]);
    engine.shutdown().await;
    assert!(server.try_wait().unwrap().is_none(), "detaching must not shut down someone else's server");
    server.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_event_stream_loses_no_text_and_duplicates_none() {
    let home = TestHome::new();
    let model = FakeModel::start().await;
    let words: Vec<String> = (0..1500).map(|i| format!("t{i} ")).collect();
    let full = words.concat();
    model.when(Match::user_contains("flood"), Reply::chunks(words));
    // A one-event SDK buffer makes the broadcast lag; the engine must re-sync from history.
    let h = Harness::start_with(home, model, Some(1)).await;
    let (id, mut stream) = h.new_session().await;
    let events = h.turn(&id, &mut stream, "flood me").await;
    let finals = final_messages(&events);
    assert_eq!(finals.len(), 1, "exactly one final message: {finals:?}");
    assert_eq!(finals[0], full, "the final text is complete");
    let user_messages = events.iter().filter(|e| matches!(e.kind, ChatEventKind::UserMessage { .. })).count();
    assert_eq!(user_messages, 1, "nothing published twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_messages_the_real_cli_journaled_but_not_tool_output() {
    let h = Harness::start().await;
    assert_eq!(h.engine.search.session_state_dir(), Some(h.home.session_state_dir()));
    h.model
        .when(Match::user_contains("tell me about fruit"), Reply::chunks(["A Pine", "apple is a ", "tropical fruit."]));
    h.model.when_once(Match::user_contains("run the listing"), Reply::shell("echo quasar-$((6*7))"));
    // Without this the fake quotes the tool's output back, which would put it in a message.
    h.model.when(Match::tool_result(), Reply::text("The listing ran."));
    let (fruit, mut stream) = h.new_session().await;
    h.turn(&fruit, &mut stream, "tell me about fruit").await;
    let answered = answer_next_prompt(&h.engine, PermissionAnswer::ApproveOnce, |_| {});
    let events = h.turn(&fruit, &mut stream, "run the listing").await;
    answered.await.unwrap();
    assert!(
        events.iter().any(
            |e| matches!(&e.kind, ChatEventKind::ToolCompleted { output: Some(o), .. } if o.contains("quasar-42"))
        ),
        "the command ran: {:#?}",
        kinds(&events)
    );
    let (other, mut other_stream) = h.new_session().await;
    h.turn(&other, &mut other_stream, "something unrelated").await;

    // Streamed in pieces, stored whole: the assistant's message.
    let found = h.engine.search.search("PINEAPPLE").await.expect("search");
    let ids: Vec<&str> = found.iter().map(|m| m.session_id.as_str()).collect();
    assert_eq!(ids, vec![fruit.as_str()], "{found:?}");
    let snippet: String = found[0].snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(snippet, "A Pineapple is a tropical fruit.");
    assert!(found[0].snippet.iter().any(|p| p.hit && p.text == "Pineapple"), "{found:?}");
    // The user's message.
    let found = h.engine.search.search("about fruit").await.expect("search");
    assert_eq!(found.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(), vec![fruit.as_str()]);
    let found = h.engine.search.search("unrelated").await.expect("search");
    assert_eq!(found.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(), vec![other.as_str()]);
    // The command's output and its text are the tool's, not anyone's message.
    for tool_only in ["quasar-42", "quasar"] {
        let found = h.engine.search.search(tool_only).await.expect("search");
        assert!(found.is_empty(), "{tool_only} is only in the tool's call and output: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_tail_is_the_end_of_the_history_the_cli_hands_over() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("first question"), Reply::chunks(["The first ", "answer."]));
    h.model.when_once(Match::user_contains("run the listing"), Reply::shell("echo nebula-$((6*7))"));
    h.model.when(Match::tool_result(), Reply::text("The listing ran."));
    h.model.when(Match::user_contains("last question"), Reply::text("The last answer."));
    let (id, mut stream) = h.new_session().await;
    h.turn(&id, &mut stream, "first question").await;
    let answered = answer_next_prompt(&h.engine, PermissionAnswer::ApproveOnce, |_| {});
    h.turn(&id, &mut stream, "run the listing").await;
    answered.await.unwrap();
    h.turn(&id, &mut stream, "last question").await;
    h.engine.shutdown().await;

    // What a later open reads: the tail from the file, then the history from the CLI (filtered to chat events).
    let Harness { home, model, .. } = h;
    let h = Harness::start_with(home, model, None).await;
    let tail = h.engine.journal.tail(&id).await.expect("a local CLI's session has a journal");
    let history = h.engine.sessions.history(&id).await.expect("history");
    let ids = |events: &[ChatEvent]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert!(
        history.iter().any(
            |e| matches!(&e.kind, ChatEventKind::ToolCompleted { output: Some(o), .. } if o.contains("nebula-42"))
        ),
        "{:#?}",
        kinds(&history)
    );
    assert_eq!(final_messages(&history), vec!["The first answer.", "The listing ran.", "The last answer."]);
    assert_eq!(tail, history, "a short session's tail is all of it, event for event");
    // A tail of a few rows is the end of that history: the same events, with the same ids, in the same order.
    let short = copilot_desktop::engine::SessionJournal::local(
        h.home.session_state_dir(),
        copilot_desktop::engine::TailLimits { rows: 3, ..Default::default() },
    );
    let tail = short.tail(&id).await.expect("tail");
    assert!(!tail.is_empty() && tail.len() < history.len(), "{:#?}", kinds(&tail));
    assert_eq!(ids(&tail), ids(&history[history.len() - tail.len()..]));
    assert_eq!(tail, history[history.len() - tail.len()..]);
    h.engine.shutdown().await;

    // The filtered history is what the CLI's whole stored history maps to.
    let client = github_copilot_sdk::Client::start(h.home.client_options()).await.expect("a CLI of its own");
    let config = github_copilot_sdk::ResumeSessionConfig::new(github_copilot_sdk::SessionId::new(&id));
    let session = client.resume_session(config).await.expect("resume");
    let all = session.get_events().await.expect("all stored events");
    assert_eq!(copilot_desktop::engine::events::transcript(&all), history);
    let _ = session.disconnect().await;
    let _ = client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_asked_for_while_it_resumes_is_resumed_once() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("lighthouse"), Reply::text("I will remember the lighthouse."));
    let (id, mut stream) = h.new_session().await;
    h.turn(&id, &mut stream, "remember the lighthouse").await;
    h.engine.shutdown().await;
    let Harness { home, model, .. } = h;
    let h = Harness::start_with(home, model, None).await;
    let attached = attach_log();
    // Opening a session shows its composer at once: its model picker and a rename can ask for the session
    // while the open is still resuming it.
    let sessions = &h.engine.sessions;
    let (watched, model, renamed, again, subscribed) = tokio::join!(
        sessions.watch(&id),
        sessions.model_of(&id),
        sessions.rename(&id, "Lighthouse"),
        sessions.history(&id),
        sessions.subscribe(&id)
    );
    let (mut stream, history) = watched.expect("watch");
    model.expect("the model of a session being resumed");
    renamed.expect("rename a session being resumed");
    assert_eq!(again.expect("history"), history);
    drop(subscribed.expect("subscribe"));
    let resumes = attached.lock().unwrap().iter().filter(|s| **s == id).count();
    assert_eq!(resumes, 1, "the engine resumed the session on the CLI once");
    assert_eq!(final_messages(&history), vec!["I will remember the lighthouse."]);
    let live = h.turn(&id, &mut stream, "the lighthouse again").await;
    assert_eq!(final_messages(&live), vec!["I will remember the lighthouse."], "{:#?}", kinds(&live));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_session_reads_its_history_from_the_journal_and_it_is_the_clis_own() {
    let from_journal = logged("history read from the journal");
    let h = Harness::start().await;
    h.model.when(Match::user_contains("question"), Reply::chunks(["An ", "answer."]));
    h.model.when_once(Match::user_contains("run the listing"), Reply::shell("echo comet-$((6*7))"));
    h.model.when(Match::tool_result(), Reply::text("The listing ran."));
    let (id, mut stream) = h.new_session().await;
    // More turns than the engine's confirming page of the CLI's newest 100 events holds: the journal has
    // to supply the rest.
    for n in 0..36 {
        h.turn(&id, &mut stream, &format!("early question {n}")).await;
    }
    for text in ["first question", "second question"] {
        h.turn(&id, &mut stream, text).await;
    }
    let answered = answer_next_prompt(&h.engine, PermissionAnswer::ApproveOnce, |_| {});
    h.turn(&id, &mut stream, "run the listing").await;
    answered.await.unwrap();
    h.turn(&id, &mut stream, "third question").await;

    // Opened in a later run: the journal read while the CLI resumed it is the whole history, event for event,
    // as the CLI hands it over in pages; the session then goes on without repeating or losing anything.
    let (h, mut stream, opened) = reopen(h, &id).await;
    assert_eq!(from_journal.lock().unwrap().iter().filter(|s| **s == id).count(), 1, "read from the journal");
    assert_eq!(final_messages(&opened)[36..], ["An answer.", "An answer.", "The listing ran.", "An answer."]);
    assert_eq!(final_messages(&opened).len(), 40);
    assert!(
        opened
            .iter()
            .any(|e| matches!(&e.kind, ChatEventKind::ToolCompleted { output: Some(o), .. } if o.contains("comet-42")))
    );
    let live = h.turn(&id, &mut stream, "fourth question").await;
    assert_eq!(final_messages(&live), vec!["An answer."], "{:#?}", kinds(&live));
    assert!(live.iter().all(|e| !opened.iter().any(|o| o.id == e.id)), "no event twice");

    // Compacted, the history is still the CLI's (from the journal or, when they differ, from the CLI).
    let outcome = h.engine.sessions.compact(&id, None).await.expect("compact");
    assert!(matches!(outcome, copilot_desktop::engine::CompactOutcome::Compacted { .. }), "{outcome:?}");
    h.turn(&id, &mut stream, "fifth question").await;
    let (h, _stream, opened) = reopen(h, &id).await;
    let dividers = opened.iter().filter(|e| matches!(e.kind, ChatEventKind::Compacted { .. })).count();
    assert_eq!(dividers, 1, "{:#?}", kinds(&opened));
    // The pinned CLI keeps compacted events in its history and its journal alike: still read from the journal.
    let journal_reads = || from_journal.lock().unwrap().iter().filter(|s| **s == id).count();
    assert_eq!(journal_reads(), 2, "read from the journal after compaction too");

    // Rewound, the history loses the rewound turn whichever way it is read.
    let fourth = opened
        .iter()
        .find(|e| matches!(&e.kind, ChatEventKind::UserMessage { content, .. } if content == "fourth question"))
        .expect("the fourth question")
        .id
        .clone();
    h.engine.sessions.rewind(&id, &fourth, copilot_desktop::engine::rewind::RewindMode::Conversation).await.unwrap();
    let (h, _stream, opened) = reopen(h, &id).await;
    let asked: Vec<_> = opened
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::UserMessage { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(asked[36..], ["first question", "second question", "run the listing", "third question"]);
    // The pinned CLI rewrites its journal when it rewinds: still read from the journal.
    assert_eq!(journal_reads(), 3, "read from the journal after the rewind too");
    h.engine.shutdown().await;
}

/// Stop `h`'s engine, start another on the same home, and open `id` there as the window does: its history as
/// opened, the journal's part (handed over while the CLI resumed) and what follows it, after checking that the
/// journal's part stood and that the two together are the CLI's own history, read in pages.
async fn reopen(h: Harness, id: &str) -> (Harness, EventStream, Vec<ChatEvent>) {
    h.engine.shutdown().await;
    let Harness { home, model, .. } = h;
    let h = Harness::start_with(home, model, None).await;
    let early = Arc::new(Mutex::new(None));
    let sink = early.clone();
    let (stream, handover) = h
        .engine
        .sessions
        .watch_handing_over(id, Box::new(move |journal| *sink.lock().unwrap() = Some(journal)))
        .await
        .expect("watch");
    let Handover::AfterJournal(rest) = handover else { panic!("the journal's history should stand: {handover:?}") };
    let mut opened = early.lock().unwrap().take().expect("the journal's history went ahead of the answer");
    assert!(!opened.is_empty());
    for event in rest {
        push_coalesced(&mut opened, event);
    }
    let paged = h.engine.sessions.history(id).await.expect("the CLI's history");
    assert_eq!(opened, paged, "the history read from the journal is the CLI's");
    (h, stream, opened)
}

/// The session ids of every "session attached" the engine logs from now on (one per resume on the CLI), for
/// all tests of this binary (each test's sessions have ids of their own).
fn attach_log() -> Arc<Mutex<Vec<String>>> {
    logged("session attached")
}

/// The session ids of every engine log line whose message is `message`, from now on, for all tests of this
/// binary. One subscriber serves every message asked for.
fn logged(message: &'static str) -> Arc<Mutex<Vec<String>>> {
    use tracing_subscriber::layer::SubscriberExt;
    type Logs = Arc<Mutex<Vec<(&'static str, Arc<Mutex<Vec<String>>>)>>>;
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();

    struct Watched(Logs);
    #[derive(Default)]
    struct Fields {
        message: String,
        session: String,
    }
    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            match field.name() {
                "message" => self.message = format!("{value:?}"),
                "session" => self.session = format!("{value:?}"),
                _ => {}
            }
        }
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Watched {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            for (message, log) in self.0.lock().unwrap().iter() {
                if fields.message == *message {
                    log.lock().unwrap().push(fields.session.clone());
                }
            }
        }
    }
    let logs = LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::registry().with(Watched(logs.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in this test binary");
        logs
    });
    let mut logs = logs.lock().unwrap();
    if let Some((_, log)) = logs.iter().find(|(m, _)| *m == message) {
        return log.clone();
    }
    let log = Arc::default();
    logs.push((message, Arc::clone(&log)));
    log
}
