//! The composer's engine features against the real Copilot CLI (queue and steer, attachments,
//! rewind and fork, export), with the fake model as a BYOK provider. Each test has its own
//! COPILOT_HOME. Timeouts are hang guards, never timing checks.

use std::time::Duration;

use copilot_desktop::engine::attachments::{self, ChosenPaths};
use copilot_desktop::engine::permissions::AskerGuard;
use copilot_desktop::engine::queue::Delivery;
use copilot_desktop::engine::{
    ChatEvent, ChatEventKind, ConnectionState, Engine, EngineConfig, EventStream, NewSession, RestartPolicy,
};
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::engine_setup::{bundled, byok};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel, Match, Reply};

const HANG_GUARD: Duration = Duration::from_secs(90);

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
        let target = bundled(&home);
        let restart = RestartPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            ..RestartPolicy::default()
        };
        let sessions = byok(&model);
        let engine = Engine::start(EngineConfig { target, restart, sessions });
        engine.supervisor.connected(HANG_GUARD).await.expect("engine connects to the real CLI");
        let asker = engine.broker.attach_asker();
        Self { home, model, engine, _asker: asker }
    }

    /// Answer every permission request with Allow once (the slow shell commands these turns run).
    fn approve_every_request(&self) {
        let broker = self.engine.broker.clone();
        let mut prompts = broker.subscribe();
        tokio::spawn(async move {
            while let Ok(event) = prompts.recv().await {
                if let copilot_desktop::engine::PromptEvent::PermissionRequested { prompt } = event {
                    let _ =
                        broker.decide(&prompt.request_id, copilot_desktop::engine::PermissionAnswer::ApproveOnce).await;
                }
            }
        });
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

fn user_texts(events: &[ChatEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::UserMessage { content, .. } => Some(content.clone()),
            _ => None,
        })
        .collect()
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

/// A slow reply: 60 words, 50 ms apart (about 3 s), so a test can act while the turn runs.
fn slow(text: &str) -> Reply {
    Reply::chunks((0..60).map(|i| format!("{text}{i} "))).with_delay(Duration::from_millis(50))
}

async fn wait_queue(h: &Harness, id: &str, want: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        let queued: Vec<String> =
            h.engine.queue.queue(id).await.expect("queue").queued.into_iter().map(|m| m.text).collect();
        if want(&queued) {
            return queued;
        }
        assert!(tokio::time::Instant::now() < deadline, "queue never matched; last: {queued:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Queue and steer
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_during_a_turn_wait_can_be_edited_and_removed_and_run_in_order() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("long task"), slow("busy"));
    h.model.when(Match::user_contains("first queued"), Reply::text("answer one"));
    h.model.when(Match::user_contains("second queued, edited"), Reply::text("answer two"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.queue;

    s.deliver(&id, "long task please", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::MessageDelta { .. })).await;
    s.deliver(&id, "first queued", &[], Delivery::Queue).await.unwrap();
    s.deliver(&id, "second queued", &[], Delivery::Queue).await.unwrap();
    s.deliver(&id, "third queued, to remove", &[], Delivery::Queue).await.unwrap();

    let queue = s.queue(&id).await.unwrap();
    let texts: Vec<&str> = queue.queued.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["first queued", "second queued", "third queued, to remove"], "{queue:?}");
    assert!(queue.queued.iter().all(|m| m.message_id.is_some()));
    s.edit_queued(&id, &queue.queued[1].id, "second queued, edited").await.unwrap();
    s.remove_queued(&id, &queue.queued[2].id).await.unwrap();
    let removed_again = s.remove_queued(&id, &queue.queued[2].id).await.unwrap_err();
    assert!(removed_again.to_string().contains("no longer queued"), "{removed_again}");
    assert_eq!(wait_queue(&h, &id, |_| true).await, ["first queued", "second queued, edited"]);

    // Both run after the long turn, in order, and nothing else does.
    let events = collect_until(
        &mut stream,
        |e| matches!(&e.kind, ChatEventKind::AssistantMessage { content, .. } if content == "answer two"),
    )
    .await;
    assert_eq!(user_texts(&events), ["first queued", "second queued, edited"]);
    let answers = final_messages(&events);
    let one = answers.iter().position(|a| a == "answer one").expect("first answered");
    let two = answers.iter().position(|a| a == "answer two").expect("second answered");
    assert!(one < two && answers[0].starts_with("busy"), "{answers:?}");
    assert!(s.queue(&id).await.unwrap().queued.is_empty());
    let prompts: Vec<String> = h.model.agent_requests().iter().filter_map(|r| r.last_user_text()).collect::<Vec<_>>();
    assert!(!prompts.iter().any(|p| p.contains("to remove")), "{prompts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_reaches_the_model_inside_the_running_turn() {
    let h = Harness::start().await;
    // The turn runs a slow command; the model's next request (after its result) is where a steer lands.
    h.model.when_once(Match::user_contains("build it"), Reply::shell("sleep 3; echo built"));
    h.model.when(Match::tool_result(), Reply::text("done building"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.queue;
    h.approve_every_request();

    s.deliver(&id, "build it", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::ToolStarted { .. })).await;
    s.deliver(&id, "use the release profile", &[], Delivery::Steer).await.unwrap();
    let events = collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    assert!(user_texts(&events).contains(&"use the release profile".to_string()), "{events:#?}");

    // One turn: the steer rode along with the tool result, not as a turn of its own afterwards.
    let requests = h.model.agent_requests();
    let steered = requests
        .iter()
        .find(|r| r.raw_body.contains("use the release profile"))
        .expect("the model received the steering message");
    assert!(steered.raw_body.contains("built"), "the steer arrived with the command's result, mid-turn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_can_be_sent_now_into_the_running_turn() {
    let h = Harness::start().await;
    h.model.when_once(Match::user_contains("slow job"), Reply::shell("sleep 3; echo finished"));
    h.model.when(Match::tool_result(), Reply::text("job over"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.queue;
    h.approve_every_request();
    s.deliver(&id, "slow job", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::ToolStarted { .. })).await;
    s.deliver(&id, "also mention the time", &[], Delivery::Queue).await.unwrap();
    let queued = s.queue(&id).await.unwrap().queued;
    assert_eq!(queued.len(), 1);
    assert!(s.send_queued_now(&id, &queued[0].id).await.unwrap(), "a turn was running to steer");
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    let steered = h.model.agent_requests().into_iter().find(|r| r.raw_body.contains("also mention the time"));
    assert!(steered.expect("the model got it").raw_body.contains("finished"), "it arrived with the tool result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_messages_survive_a_cli_crash_and_run_on_the_new_one() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("long task"), slow("busy"));
    h.model.when(Match::user_contains("waiting message"), Reply::text("ran after the crash"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.queue;
    s.deliver(&id, "hello first", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    s.deliver(&id, "long task please", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::MessageDelta { .. })).await;
    s.deliver(&id, "waiting message", &[], Delivery::Queue).await.unwrap();
    assert_eq!(wait_queue(&h, &id, |q| !q.is_empty()).await, ["waiting message"]);

    let pid = h.engine.supervisor.cli_pid().expect("CLI pid");
    let mut states = h.engine.supervisor.watch_state();
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    tokio::time::timeout(HANG_GUARD, states.wait_for(|s| matches!(s, ConnectionState::Restarting { .. })))
        .await
        .expect("crash noticed")
        .unwrap();
    tokio::time::timeout(HANG_GUARD, states.wait_for(|s| matches!(s, ConnectionState::Connected { .. })))
        .await
        .expect("CLI restarted")
        .unwrap();
    // The CLI forgets its queue when it dies; the app queues the message again on the new CLI, and it runs.
    let events = collect_until(
        &mut stream,
        |e| matches!(&e.kind, ChatEventKind::AssistantMessage { content, .. } if content == "ran after the crash"),
    )
    .await;
    assert_eq!(user_texts(&events), ["waiting message"], "it ran once");
    let history = user_texts(&h.engine.sessions.history(&id).await.unwrap());
    assert_eq!(history.iter().filter(|t| *t == "waiting message").count(), 1, "{history:?}");
}

// ---------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_reach_the_model() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("look at these"), Reply::text("seen them"));
    let (id, mut stream) = h.new_session().await;
    let notes = h.home.work_dir().join("notes.txt");
    std::fs::write(&notes, "the secret word is pelican").unwrap();
    let png = tiny_png();
    let chosen = ChosenPaths::default();
    chosen.allow(&notes);
    let folder = h.home.work_dir().join("src");
    std::fs::create_dir_all(&folder).unwrap();
    chosen.allow(&folder);
    let file = attachments::from_path(&notes).unwrap();
    let image = attachments::image_from_bytes("screenshot.png", &png).unwrap();
    let directory = attachments::from_path(&folder).unwrap();
    let all = [file, image, directory];
    chosen.check(&all).unwrap();
    h.engine.queue.deliver(&id, "look at these", &all, Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;

    let request = h.model.agent_requests().pop().expect("a request");
    assert!(request.raw_body.contains("notes.txt"), "the file reached the model (tagged by its path)");
    assert!(request.raw_body.contains(&folder.display().to_string()), "the folder reached the model");
    // The transcript keeps what was attached: the file, the folder, and the image as a data URL made from its bytes.
    let history = h.engine.sessions.history(&id).await.unwrap();
    let sent = history
        .iter()
        .find_map(|e| match &e.kind {
            ChatEventKind::UserMessage { attachments, .. } if !attachments.is_empty() => Some(attachments.clone()),
            _ => None,
        })
        .expect("the user message lists its attachments");
    use copilot_desktop::engine::attachments::SentAttachment;
    assert!(sent.iter().any(|a| matches!(a, SentAttachment::File { name, .. } if name == "notes.txt")), "{sent:?}");
    assert!(sent.iter().any(|a| matches!(a, SentAttachment::Directory { name, .. } if name == "src")), "{sent:?}");
    assert!(
        sent.iter().any(|a| matches!(a, SentAttachment::Image { data_url: Some(url), .. } if url.starts_with("data:image/png;base64,"))),
        "{sent:?}"
    );
    let images = request.images();
    assert_eq!(images.len(), 1, "one image reached the model");
    assert!(images[0].starts_with("data:image/png;base64,"), "{}", &images[0][..40.min(images[0].len())]);
}

/// A 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Rewind and fork
// ---------------------------------------------------------------------------------------------

/// Approve every permission request from now on (the fake model's file edits).
fn approve_everything(engine: &Engine) {
    let broker = engine.broker.clone();
    let mut prompts = broker.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = prompts.recv().await {
            if let copilot_desktop::engine::PromptEvent::PermissionRequested { prompt } = event {
                let _ = broker.decide(&prompt.request_id, copilot_desktop::engine::PermissionAnswer::ApproveOnce).await;
            }
        }
    });
}

fn user_event_id(events: &[ChatEvent], text: &str) -> String {
    events
        .iter()
        .find(|e| matches!(&e.kind, ChatEventKind::UserMessage { content, .. } if content == text))
        .map(|e| e.id.clone())
        .unwrap_or_else(|| panic!("no user message {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewind_takes_the_conversation_and_the_files_back() {
    let h = Harness::start().await;
    approve_everything(&h.engine);
    let file = h.home.work_dir().join("poem.txt");
    std::fs::write(&file, "roses are red\n").unwrap();
    let path = file.display().to_string();
    h.model.when_once(
        Match::user_contains("change the poem"),
        Reply::tool_call("edit", serde_json::json!({ "path": path, "old_str": "red", "new_str": "blue" })),
    );
    h.model.when(Match::tool_result(), Reply::text("edited"));
    h.model.when(Match::user_contains("keep this"), Reply::text("kept"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.sessions;

    h.engine.queue.deliver(&id, "keep this turn", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    h.engine.queue.deliver(&id, "change the poem", &[], Delivery::Queue).await.unwrap();
    let events = collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "roses are blue\n", "the model's edit happened: {events:#?}");
    let history = s.history(&id).await.unwrap();
    let change = user_event_id(&history, "change the poem");

    let preview = s.preview_rewind(&id, &change).await.unwrap();
    assert!(preview.tracking && preview.files_available, "{preview:?}");
    assert_eq!(preview.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [path.as_str()], "{preview:?}");

    let outcome =
        s.rewind(&id, &change, copilot_desktop::engine::rewind::RewindMode::ConversationAndFiles).await.unwrap();
    assert_eq!(outcome.restored, std::slice::from_ref(&path), "{outcome:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "roses are red\n", "the file is back");
    let after = user_texts(&s.history(&id).await.unwrap());
    assert_eq!(after, ["keep this turn"], "the rewound message and its turn are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_starts_a_session_with_the_history_before_a_message() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("first"), Reply::text("one"));
    h.model.when(Match::user_contains("second"), Reply::text("two"));
    let (id, mut stream) = h.new_session().await;
    let s = &h.engine.sessions;
    for text in ["first message", "second message"] {
        h.engine.queue.deliver(&id, text, &[], Delivery::Queue).await.unwrap();
        collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    }
    let second = user_event_id(&s.history(&id).await.unwrap(), "second message");
    let fork = s.fork(&id, &second).await.unwrap();
    assert_ne!(fork.id, id);
    let forked = s.history(&fork.id).await.unwrap();
    assert_eq!(user_texts(&forked), ["first message"]);
    assert_eq!(final_messages(&forked), ["one"]);
    // The original is untouched.
    assert_eq!(user_texts(&s.history(&id).await.unwrap()), ["first message", "second message"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_file_tracking_says_so_and_still_rewinds_its_conversation() {
    let h = Harness::start().await;
    h.model.when(Match::user_contains("old"), Reply::text("from before"));
    // A session made the way older versions of the app made them: no file-change tracking.
    let connection = h.engine.supervisor.connection().unwrap();
    let config = github_copilot_sdk::SessionConfig::default()
        .with_model(DEFAULT_MODEL)
        .with_provider(h.model.provider())
        .with_working_directory(h.home.work_dir());
    let id = connection.client.create_session(config).await.unwrap().id().to_string();
    let mut stream = h.engine.sessions.subscribe(&id).await.unwrap();
    for text in ["an old message", "another old one"] {
        h.engine.queue.deliver(&id, text, &[], Delivery::Queue).await.unwrap();
        collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;
    }
    let s = &h.engine.sessions;
    let second = user_event_id(&s.history(&id).await.unwrap(), "another old one");
    let preview = s.preview_rewind(&id, &second).await.unwrap();
    assert!(!preview.tracking && !preview.files_available && preview.files.is_empty(), "{preview:?}");
    assert!(preview.reason.unwrap().contains("does not track file changes"));
    s.rewind(&id, &second, copilot_desktop::engine::rewind::RewindMode::Conversation).await.unwrap();
    assert_eq!(user_texts(&s.history(&id).await.unwrap()), ["an old message"]);
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_messages_commands_results_and_decisions() {
    let h = Harness::start().await;
    approve_everything(&h.engine);
    h.model.when_once(Match::user_contains("run it"), Reply::shell("echo exported-output"));
    h.model.when(Match::tool_result(), Reply::text("It printed <script>alert('x')</script> for you."));
    let (id, mut stream) = h.new_session().await;
    h.engine.queue.deliver(&id, "run it please", &[], Delivery::Queue).await.unwrap();
    collect_until(&mut stream, |e| matches!(e.kind, ChatEventKind::Idle)).await;

    use copilot_desktop::engine::export::ExportFormat;
    let (md, name) = h.engine.sessions.export(&id, ExportFormat::Markdown).await.unwrap();
    assert!(name.ends_with(".md"), "{name}");
    for needle in ["## You\n\nrun it please", "### Tool: bash (succeeded)", "echo exported-output", "**approved**"] {
        assert!(md.contains(needle), "{needle:?} in {md}");
    }
    assert!(md.contains("It printed <script>"), "Markdown keeps the text as written");
    let (html, name) = h.engine.sessions.export(&id, ExportFormat::Html).await.unwrap();
    assert!(name.ends_with(".html"), "{name}");
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(html.contains("It printed &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; for you."), "{html}");
    assert!(html.contains("exported-output") && html.contains("<strong>approved</strong>"), "{html}");
}
