//! MCP servers through the engine (`engine::mcp`, `auth::mcp_secrets`) against the real Copilot CLI, with
//! the tests' real MCP server (rmcp, stdio) and the fake model as a BYOK provider. Secrets rest in the
//! in-memory token store here (the keychain path runs in `mcp_window.rs`, under a real Secret Service).
//! Timeouts are hang guards, never timing checks.

use std::time::Duration;

use copilot_desktop::auth::TokenStore;
use copilot_desktop::auth::mcp_secrets::McpSettings;
use copilot_desktop::engine::mcp::{McpAction, McpEntry, McpServerDraft, McpServerSpec};
use copilot_desktop::engine::{
    ChatEvent, ChatEventKind, Engine, EngineConfig, EventStream, NewSession, PermissionAnswer, PromptDetails,
    PromptEvent, RestartPolicy,
};
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::engine_setup::{bundled, byok};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, FakeModel, Match, Reply};
use copilot_desktop_tests::mcp::{MARKER, offered_name};
use serde_json::json;

const HANG_GUARD: Duration = Duration::from_secs(90);
const SERVER: &str = env!("CARGO_BIN_EXE_mcp_test_server");
const SECRET_VALUE: &str = "mcp-secret-value-91ab7";

struct Harness {
    home: TestHome,
    model: FakeModel,
    engine: Engine,
    settings: McpSettings,
    _asker: copilot_desktop::engine::permissions::AskerGuard,
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
        let settings = McpSettings::new(engine.sessions.clone(), TokenStore::session_only(), "engine-test");
        Self { home, model, engine, settings, _asker: asker }
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
        let mut out: Vec<ChatEvent> = Vec::new();
        let collect = async {
            while let Some(batch) = stream.next_batch().await {
                let done = batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle));
                out.extend(batch);
                if done {
                    return;
                }
            }
        };
        if tokio::time::timeout(HANG_GUARD, collect).await.is_err() {
            panic!("turn did not finish: {:#?}", out.iter().map(|e| &e.kind).collect::<Vec<_>>());
        }
        out
    }

    /// Wait until `server` reaches `status` in the session (servers start in the background).
    async fn wait_status(
        &self,
        id: &str,
        server: &str,
        status: &str,
    ) -> copilot_desktop::engine::mcp::SessionMcpServer {
        let mcp = self.settings.service();
        let waited = tokio::time::timeout(HANG_GUARD, async {
            loop {
                let listed = mcp.session_servers(id).await.expect("session.mcp.list");
                assert_eq!(listed.third_party_enabled, Some(true), "a BYOK session may run the user's servers");
                if let Some(found) = listed.servers.iter().find(|s| s.name == server && s.status == status) {
                    return found.clone();
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("{server} never became {status}"))
    }
}

fn local(command: &str, env: Vec<McpEntry>) -> McpServerSpec {
    McpServerSpec::Local { command: command.into(), args: vec![], working_directory: None, env, tools: vec![] }
}

fn entry(name: &str, value: &str, secret: bool) -> McpEntry {
    McpEntry { name: name.into(), value: value.into(), secret }
}

fn add(name: &str, spec: McpServerSpec) -> McpServerDraft {
    McpServerDraft { original_name: None, name: name.into(), spec }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())) {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_servers_are_added_edited_disabled_and_removed_through_the_cli() {
    let h = Harness::start().await;
    let s = &h.settings;
    s.save(add("tester", local(SERVER, vec![entry("PLAIN", "visible", false), entry("TOKEN", SECRET_VALUE, true)])))
        .await
        .expect("add a local server");
    s.save(add(
        "web",
        McpServerSpec::Http {
            url: "https://mcp.example.invalid/mcp".into(),
            headers: vec![entry("X-Team", "desktop", false)],
            tools: vec!["search".into()],
        },
    ))
    .await
    .expect("add an HTTP server");

    let overview = s.overview(&h.home.work_dir().display().to_string()).await.expect("overview");
    let names: Vec<(&str, &str)> = overview.user.iter().map(|u| (u.name.as_str(), u.stored_in.as_str())).collect();
    assert_eq!(names, [("web", "cli"), ("tester", "app")], "a server with a secret is kept by the app");
    let tester = &overview.user[1];
    let McpServerSpec::Local { command, env, tools, .. } = &tester.spec else { panic!("local: {tester:?}") };
    assert_eq!(command, SERVER);
    assert_eq!(tools, &["*"]);
    assert_eq!(env, &[entry("PLAIN", "visible", false), entry("TOKEN", "", true)], "a secret comes back by name only");
    let McpServerSpec::Http { url, tools, .. } = &overview.user[0].spec else { panic!("http") };
    assert_eq!((url.as_str(), tools.as_slice()), ("https://mcp.example.invalid/mcp", &["search".to_string()][..]));
    let discovered: Vec<(&str, &str, bool)> =
        overview.discovered.iter().map(|d| (d.name.as_str(), d.source.as_str(), d.enabled)).collect();
    assert_eq!(discovered, [("web", "user", true)]);

    // The CLI's file has the server without secrets, and not the one with a secret.
    let config = std::fs::read_to_string(h.home.copilot_home().join("mcp-config.json")).expect("mcp-config.json");
    assert!(config.contains("X-Team") && !config.contains("tester") && !config.contains(SECRET_VALUE), "{config}");
    assert_eq!(files_containing(&h.home.root(), SECRET_VALUE), Vec::<std::path::PathBuf>::new());

    // Validation, before anything is written.
    let message = |r: Result<(), copilot_desktop::auth::mcp_secrets::McpSettingsError>| r.unwrap_err().to_string();
    assert!(message(s.save(add("tester", local(SERVER, vec![]))).await).contains("already exists"));
    assert!(message(s.save(add("empty", local("  ", vec![]))).await).contains("command"));
    let ftp = McpServerSpec::Http { url: "ftp://example.com".into(), headers: vec![], tools: vec![] };
    assert!(message(s.save(add("ftp", ftp)).await).contains("not an http"));
    assert!(
        message(s.save(add("nosecret", local(SERVER, vec![entry("K", "", true)]))).await).contains("Enter a value")
    );

    // Edit: rename, keep the secret without retyping it.
    let edit = McpServerDraft {
        original_name: Some("tester".into()),
        name: "tester2".into(),
        spec: local(SERVER, vec![entry("TOKEN", "", true)]),
    };
    s.save(edit).await.expect("rename keeping the secret");
    s.set_enabled("web", false).await.expect("disable");
    let overview = s.overview("").await.expect("overview");
    let state: Vec<(&str, bool)> = overview.user.iter().map(|u| (u.name.as_str(), u.enabled)).collect();
    assert_eq!(state, [("web", false), ("tester2", true)]);
    s.set_enabled("web", true).await.expect("enable");
    s.remove("web").await.expect("remove");
    // Dropping the secret moves the server to the CLI's config.
    let plain = McpServerDraft {
        original_name: Some("tester2".into()),
        name: "tester2".into(),
        spec: local(SERVER, vec![entry("PLAIN", "now-plain", false)]),
    };
    s.save(plain).await.expect("no secret any more");
    let overview = s.overview("").await.expect("overview");
    let names: Vec<(&str, &str)> = overview.user.iter().map(|u| (u.name.as_str(), u.stored_in.as_str())).collect();
    assert_eq!(names, [("tester2", "cli")]);
    // A folder the CLI cannot look into still shows the user's servers.
    let elsewhere = s.overview("/nonexistent/folder-for-mcp").await.expect("overview of a missing folder");
    assert!(
        elsewhere.discover_error.as_deref().is_some_and(|e| e.contains("Invalid working directory")),
        "{elsewhere:?}"
    );
    assert_eq!(elsewhere.user.len(), 1);
    let err = s.remove("web").await.unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_runs_the_server_with_its_secret_and_the_model_calls_its_tool() {
    let h = Harness::start().await;
    h.settings
        .save(add("tester", local(SERVER, vec![entry("MCP_TEST_TOKEN", SECRET_VALUE, true)])))
        .await
        .expect("add");
    h.settings.save(add("broken", local("/nonexistent/mcp-server-xyz", vec![]))).await.expect("add broken");
    let (id, mut stream) = h.new_session().await;

    let running = h.wait_status(&id, "tester", "connected").await;
    assert_eq!(running.error, None);
    let failed = h.wait_status(&id, "broken", "failed").await;
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("No such file")), "{failed:?}");
    let mcp = h.settings.service();
    let tools: Vec<String> =
        mcp.session_tools(&id, "tester").await.expect("tools").into_iter().map(|t| t.name).collect();
    assert_eq!(tools, ["desktop_marker", "env_present"]);

    // The failed server does not block the chat; the model is offered the running server's tools.
    h.model.when_once(Match::user_contains("hello"), Reply::text("hi there"));
    let events = h.turn(&id, &mut stream, "hello").await;
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, ChatEventKind::AssistantMessage { content, .. } if content == "hi there"))
    );
    let tool = offered_name(&h.model.chat_requests(), "tester", "env_present").expect("the CLI offers the MCP tool");

    // The model calls it; the permission prompt names server, tool and arguments; the secret reached the server.
    h.model
        .when_once(Match::user_contains("check the token"), Reply::tool_call(&tool, json!({"name": "MCP_TEST_TOKEN"})));
    h.model.when_once(Match::tool_result(), Reply::QuoteToolResult);
    let mut prompts = h.engine.broker.subscribe();
    let broker = h.engine.broker.clone();
    let answered = tokio::spawn(async move {
        loop {
            if let PromptEvent::PermissionRequested { prompt } = prompts.recv().await.expect("prompts") {
                let details = prompt.details.clone();
                broker.decide(&prompt.request_id, PermissionAnswer::ApproveOnce).await.expect("decide");
                return details;
            }
        }
    });
    let events = h.turn(&id, &mut stream, "check the token").await;
    match answered.await.unwrap() {
        PromptDetails::Mcp { server_name, tool_name, arguments } => {
            assert_eq!((server_name.as_str(), tool_name.as_str()), ("tester", "env_present"));
            assert_eq!(arguments, Some(json!({"name": "MCP_TEST_TOKEN"})));
        }
        other => panic!("expected an MCP prompt, got {other:?}"),
    }
    let expected = format!("MCP_TEST_TOKEN is set ({} characters)", SECRET_VALUE.len());
    assert!(h.model.tool_results_seen().iter().any(|r| r.contains(&expected)), "{:?}", h.model.tool_results_seen());
    assert!(events.iter().any(|e| matches!(&e.kind, ChatEventKind::ToolCompleted { success: true, .. })));

    // Stop, start and restart one server of the session.
    mcp.control(&id, "tester", McpAction::Stop).await.expect("stop");
    h.wait_status(&id, "tester", "stopped").await;
    mcp.control(&id, "tester", McpAction::Start).await.expect("start");
    h.wait_status(&id, "tester", "connected").await;
    mcp.control(&id, "tester", McpAction::Restart).await.expect("restart");
    h.wait_status(&id, "tester", "connected").await;

    // A resumed session gets the app-kept server again (it is not in the CLI's file: only the session's
    // mcpServers carry it, with its secret).
    h.engine.sessions.let_go_all().await;
    let mut stream = h.engine.sessions.subscribe(&id).await.expect("resume the session");
    h.wait_status(&id, "tester", "connected").await;

    // The marker tool answers through the CLI too.
    let marker = offered_name(&h.model.chat_requests(), "tester", "desktop_marker").expect("marker tool offered");
    h.model.when_once(Match::user_contains("mark it"), Reply::tool_call(&marker, json!({"note": "engine"})));
    h.model.when_once(Match::tool_result(), Reply::QuoteToolResult);
    let decide = {
        let mut prompts = h.engine.broker.subscribe();
        let broker = h.engine.broker.clone();
        tokio::spawn(async move {
            loop {
                if let PromptEvent::PermissionRequested { prompt } = prompts.recv().await.expect("prompts") {
                    broker.decide(&prompt.request_id, PermissionAnswer::ApproveOnce).await.expect("decide");
                    return;
                }
            }
        })
    };
    h.turn(&id, &mut stream, "mark it").await;
    decide.await.unwrap();
    assert!(h.model.tool_results_seen().iter().any(|r| r.contains(&format!("{MARKER} engine"))));
    assert_eq!(
        files_containing(&h.home.root(), SECRET_VALUE),
        Vec::<std::path::PathBuf>::new(),
        "no file holds the secret"
    );
}
