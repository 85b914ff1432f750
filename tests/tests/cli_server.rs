//! The engine and a Copilot CLI server: the real CLI started headless in the test
//! (`copilot --headless --port N`, signed in to the fake GitHub + Copilot API, with or without
//! `COPILOT_CONNECTION_TOKEN`), the connection token in the handshake (right, wrong, missing),
//! every reason "Test connection" can give (against real peers: a closed port, a web server, a
//! silent listener, ...), reconnecting when the server goes away and comes back, and deleting old
//! sessions, for a server and for the bundled CLI alike. Timeouts are hang guards.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use copilot_desktop::engine::server::{self, ServerInfo, ServerProblem};
use copilot_desktop::engine::{
    BundledCli, ChatEvent, ChatEventKind, CliAuth, CliTarget, ConnectionState, ConnectionTarget, Engine, EngineConfig,
    EngineError, EventStream, ExternalServer, NewSession, RestartPolicy, SessionOptions,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::cli_server::{HeadlessServer, ServerOptions};
use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HANG_GUARD: Duration = Duration::from_secs(90);
/// The server's connection token. Not shaped like any known credential, so only exact
/// matching (never the log redactor's patterns) could hide it.
const CONNECTION_TOKEN: &str = "conn-7f3a9c21d4e8b6059a1c";
/// The GitHub token the server signs in with (its own business, through GH_TOKEN).
const GITHUB_TOKEN: &str = "gho_cliservertest0000000000000001";

fn fast_policy() -> RestartPolicy {
    RestartPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
        max_crashes: 2,
        crash_window: Duration::from_secs(60),
        server_health_interval: Duration::from_millis(500),
        server_max_backoff: Duration::from_millis(500),
        server_timeout: Duration::from_secs(5),
        ..RestartPolicy::default()
    }
}

async fn guarded<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG_GUARD, work).await.unwrap_or_else(|_| panic!("{what} did not finish"))
}

/// The fake GitHub with the server's token accepted.
async fn github() -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.add_token(GITHUB_TOKEN);
    github
}

fn signed_in_env(github: &FakeGitHub) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let mut env = github.env();
    env.push(("GH_TOKEN".into(), GITHUB_TOKEN.into()));
    env
}

async fn start_server(github: &FakeGitHub, token: Option<&str>) -> HeadlessServer {
    HeadlessServer::start(ServerOptions { connection_token: token.map(str::to_owned), env: signed_in_env(github) })
        .await
}

fn server_target(port: u16, token: Option<&str>) -> ExternalServer {
    ExternalServer::new("127.0.0.1", port, token.map(|t| Sensitive::new(t.to_owned())))
}

fn engine_for(target: CliTarget) -> Engine {
    Engine::start(EngineConfig { target, restart: fast_policy(), sessions: SessionOptions::default() })
}

async fn probe(server: &ExternalServer) -> Result<ServerInfo, EngineError> {
    guarded("the probe", server::probe(server, Duration::from_secs(5))).await
}

fn problem_of(result: Result<ServerInfo, EngineError>) -> ServerProblem {
    match result {
        Err(EngineError::Server { problem, .. }) => problem,
        other => panic!("expected a server problem, got {other:?}"),
    }
}

/// Wait until the supervisor's state satisfies `accept`; returns that state.
async fn wait_state(engine: &Engine, what: &str, accept: impl Fn(&ConnectionState) -> bool) -> ConnectionState {
    let mut rx = engine.supervisor.watch_state();
    let mut seen = Vec::new();
    let wait = async {
        loop {
            let state = rx.borrow_and_update().clone();
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if accept(&state) {
                return state;
            }
            if rx.changed().await.is_err() {
                panic!("the supervisor went away");
            }
        }
    };
    match tokio::time::timeout(HANG_GUARD, wait).await {
        Ok(state) => state,
        Err(_) => panic!("never {what}; states: {:#?}", engine.supervisor.state()),
    }
}

async fn collect_turn(stream: &mut EventStream) -> Vec<ChatEvent> {
    let mut out = Vec::new();
    let collect = async {
        while let Some(batch) = stream.next_batch().await {
            let done = batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle));
            out.extend(batch);
            if done {
                return;
            }
        }
    };
    guarded("the turn", collect).await;
    out
}

fn replies(events: &[ChatEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::AssistantMessage { content, .. } if !content.is_empty() => Some(content.clone()),
            _ => None,
        })
        .collect()
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

async fn chat(engine: &Engine, session: &str, text: &str) -> Vec<ChatEvent> {
    let mut stream = engine.sessions.subscribe(session).await.expect("subscribe");
    engine.sessions.send(session, text).await.expect("send");
    collect_turn(&mut stream).await
}

async fn new_session(engine: &Engine, work_dir: std::path::PathBuf) -> String {
    engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: work_dir })
        .await
        .expect("create a session")
        .id
}

#[tokio::test]
async fn the_token_handshake_with_the_real_cli_right_wrong_and_missing() {
    let github = github().await;
    let protected = start_server(&github, Some(CONNECTION_TOKEN)).await;

    let right = probe(&server_target(protected.port(), Some(CONNECTION_TOKEN))).await.expect("the right token");
    assert_eq!(right, ServerInfo { version: copilot_desktop_tests::app::pinned_cli_version(), protocol_version: 3 });

    let wrong = problem_of(probe(&server_target(protected.port(), Some("conn-not-the-right-one"))).await);
    assert_eq!(wrong, ServerProblem::TokenRejected);
    let missing = problem_of(probe(&server_target(protected.port(), None)).await);
    assert_eq!(missing, ServerProblem::TokenRequired);
    let message = EngineError::Server { address: protected.address(), problem: missing }.to_string();
    assert!(message.contains("requires a connection token") && message.contains(&protected.address()), "{message}");

    // A server started without a token refuses one it was not given.
    let open = start_server(&github, None).await;
    let unexpected = problem_of(probe(&server_target(open.port(), Some(CONNECTION_TOKEN))).await);
    assert_eq!(unexpected, ServerProblem::TokenNotConfigured);
    assert!(probe(&server_target(open.port(), None)).await.is_ok(), "and lets anyone in without one");

    // The supervisor: a missing token stops at once with the reason (retrying cannot help);
    // the right one, given later, connects and chats.
    let engine = engine_for(CliTarget::External(server_target(protected.port(), None)));
    let failed = wait_state(&engine, "failed", |s| matches!(s, ConnectionState::Failed { .. })).await;
    let ConnectionState::Failed { target, code, reason } = failed else { unreachable!() };
    assert_eq!(target, ConnectionTarget::Server { address: protected.address() });
    assert_eq!(code, "server_token_required");
    assert!(reason.contains("COPILOT_CONNECTION_TOKEN"), "{reason}");

    engine.supervisor.restart(Some(CliTarget::External(server_target(protected.port(), Some(CONNECTION_TOKEN)))));
    let connected = wait_state(&engine, "connected", |s| matches!(s, ConnectionState::Connected { .. })).await;
    assert!(
        matches!(&connected, ConnectionState::Connected { target: ConnectionTarget::Server { address }, .. } if *address == protected.address()),
        "{connected:?}"
    );
    github.when(Match::user_contains("hello server"), Reply::text("Hello from the server's agent."));
    let session = new_session(&engine, protected.home().work_dir()).await;
    let turn = chat(&engine, &session, "hello server").await;
    assert_eq!(replies(&turn), vec!["Hello from the server's agent.".to_owned()]);
    engine.shutdown().await;
}

#[tokio::test]
async fn test_connection_names_every_reason() {
    // Nothing listens: a port that was just freed.
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    assert_eq!(problem_of(probe(&server_target(closed_port, None)).await), ServerProblem::Refused);

    // A name that does not resolve (RFC 6761 reserves .invalid).
    let nowhere = ExternalServer::new("copilot-server.invalid", 4321, None);
    assert!(
        matches!(problem_of(probe(&nowhere).await), ServerProblem::Unreachable(ref d) if d.contains("not found")),
        "an unknown host"
    );

    // A web server on that port.
    let web = serve_web().await;
    let problem = problem_of(probe(&server_target(web, None)).await);
    assert!(
        matches!(&problem, ServerProblem::NotCopilot(said) if said.contains("web server") && said.contains("HTTP/1.1 400")),
        "{problem:?}"
    );

    // A listener that accepts and says nothing.
    let (silent, _keep) = serve_silence().await;
    let began = Instant::now();
    let problem = problem_of(probe(&server_target(silent, None)).await);
    assert!(matches!(problem, ServerProblem::TimedOut(_)), "{problem:?}");
    eprintln!("[test] a silent listener timed out after {:.2?}", began.elapsed());

    // A listener that accepts and hangs up at once (an SSH tunnel with nothing at its far end).
    let hangs_up = serve_hang_up().await;
    assert_eq!(problem_of(probe(&server_target(hangs_up, None)).await), ServerProblem::Closed);

    // A JSON-RPC peer speaking a protocol version this build does not (another CLI version).
    let other = serve_protocol(99).await;
    let problem = problem_of(probe(&server_target(other, None)).await);
    assert!(matches!(problem, ServerProblem::ProtocolMismatch { server: 99, .. }), "{problem:?}");
    let message = EngineError::Server { address: format!("127.0.0.1:{other}"), problem }.to_string();
    assert!(message.contains("protocol version 99"), "{message}");

    // Every one has its own code.
    let codes: std::collections::HashSet<&str> = [
        ServerProblem::Refused,
        ServerProblem::Unreachable(String::new()),
        ServerProblem::TimedOut(Duration::ZERO),
        ServerProblem::Closed,
        ServerProblem::TokenRequired,
        ServerProblem::TokenRejected,
        ServerProblem::TokenNotConfigured,
        ServerProblem::NotCopilot(String::new()),
        ServerProblem::ProtocolMismatch { server: 0, min: 0, max: 0 },
    ]
    .iter()
    .map(ServerProblem::code)
    .collect();
    assert_eq!(codes.len(), 9);
}

#[tokio::test]
async fn a_server_that_goes_away_is_reconnected_and_the_session_continues() {
    let github = github().await;
    github
        .when(Match::user_contains("before"), Reply::text("Answer before the restart."))
        .when(Match::user_contains("after"), Reply::text("Answer after the restart."));
    let mut server = start_server(&github, Some(CONNECTION_TOKEN)).await;
    let engine = engine_for(CliTarget::External(server_target(server.port(), Some(CONNECTION_TOKEN))));
    guarded("connecting", engine.supervisor.connected(HANG_GUARD)).await.expect("connected");
    let session = new_session(&engine, server.home().work_dir()).await;
    let (mut stream, _) = engine.sessions.watch(&session).await.expect("watch the session");
    engine.sessions.send(&session, "question before").await.expect("send");
    let first = collect_turn(&mut stream).await;
    assert_eq!(replies(&first), vec!["Answer before the restart.".to_owned()]);

    server.kill().await;
    let lost = wait_state(&engine, "reconnecting", |s| matches!(s, ConnectionState::Restarting { .. })).await;
    let ConnectionState::Restarting { target, .. } = &lost else { unreachable!() };
    assert_eq!(*target, ConnectionTarget::Server { address: server.address() });
    // More failures than the bundled CLI's crash limit: a server is never given up on.
    wait_state(
        &engine,
        "still reconnecting after many attempts",
        |s| matches!(s, ConnectionState::Restarting { attempt, .. } if *attempt > 4),
    )
    .await;
    assert!(!matches!(engine.supervisor.state(), ConnectionState::Failed { .. }));

    let started = server.restart().await;
    let back = Instant::now();
    wait_state(&engine, "connected again", |s| matches!(s, ConnectionState::Connected { .. })).await;
    let reconnected = back.elapsed();
    engine.sessions.send(&session, "question after").await.expect("send after the restart");
    let second = collect_turn(&mut stream).await;
    eprintln!(
        "[test] server restarted in {started:.2?}; reconnected {reconnected:.2?} after it listened; reply {:.2?} after it listened",
        back.elapsed()
    );
    assert_eq!(replies(&second), vec!["Answer after the restart.".to_owned()]);

    // The history is whole, in order, nothing twice.
    let history = engine.sessions.history(&session).await.expect("history");
    assert_eq!(user_texts(&history), vec!["question before".to_owned(), "question after".to_owned()]);
    assert_eq!(
        replies(&history),
        vec!["Answer before the restart.".to_owned(), "Answer after the restart.".to_owned()]
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn housekeeping_on_a_server_deletes_only_old_sessions_not_open_in_the_app() {
    let github = github().await;
    let server = start_server(&github, Some(CONNECTION_TOKEN)).await;
    let target = CliTarget::External(server_target(server.port(), Some(CONNECTION_TOKEN)));
    housekeeping_scenario(target, server.home(), server.home().work_dir()).await;
}

#[tokio::test]
async fn housekeeping_with_the_bundled_cli_deletes_only_old_sessions_not_open_in_the_app() {
    let github = github().await;
    let home = TestHome::new();
    let mut env: Vec<(String, String)> = home
        .env()
        .into_iter()
        .chain(signed_in_env(&github))
        .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
        .collect();
    env.push(("COPILOT_AUTO_UPDATE".into(), "false".into()));
    let target = CliTarget::Bundled(BundledCli {
        program: cli_path(),
        copilot_home: Some(home.copilot_home()),
        working_directory: home.work_dir(),
        auth: CliAuth::CliDefault,
        env,
    });
    housekeeping_scenario(target, &home, home.work_dir()).await;
}

/// Four sessions made through the CLI: two aged 40 days, one 10 days, one fresh (their journals'
/// times set back, which is how the CLI dates a session). A second app run opens one of the old
/// ones. "Not used for 30 days" then lists exactly the other old one, and deletes only it.
async fn housekeeping_scenario(target: CliTarget, home: &TestHome, work_dir: std::path::PathBuf) {
    let first_run = engine_for(target.clone());
    guarded("connecting", first_run.supervisor.connected(HANG_GUARD)).await.expect("connected");
    let mut ids = Vec::new();
    for text in ["old and closed", "old but open", "ten days", "fresh"] {
        let id = new_session(&first_run, work_dir.clone()).await;
        chat(&first_run, &id, text).await;
        ids.push(id);
    }
    first_run.shutdown().await;
    let [old_closed, old_open, ten_days, fresh] = <[String; 4]>::try_from(ids).unwrap();

    let app = engine_for(target);
    guarded("connecting", app.supervisor.connected(HANG_GUARD)).await.expect("connected");
    app.sessions.open(&old_open).await.expect("open an old session");
    let day = Duration::from_secs(24 * 3600);
    age(home, &old_closed, 40 * day);
    age(home, &old_open, 40 * day);
    age(home, &ten_days, 10 * day);

    let preview = app.sessions.cleanup_preview(30).await.expect("preview");
    let listed: Vec<&str> = preview.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(listed, vec![old_closed.as_str()], "exactly the old session not open in the app");
    assert_eq!(preview.kept_open, 1, "the open old one is counted as kept");
    assert_eq!(preview.sessions[0].title.as_deref(), Some("old and closed"), "with its title");
    let wider = app.sessions.cleanup_preview(7).await.expect("preview for 7 days");
    let mut wider_ids: Vec<&str> = wider.sessions.iter().map(|s| s.id.as_str()).collect();
    wider_ids.sort();
    let mut expected = vec![old_closed.as_str(), ten_days.as_str()];
    expected.sort();
    assert_eq!(wider_ids, expected);

    // Confirming more than the preview (the open one, a fresh one) deletes only what qualifies.
    let confirmed = vec![old_closed.clone(), old_open.clone(), fresh.clone()];
    let outcome = app.sessions.clean_up(30, &confirmed).await.expect("clean up");
    assert_eq!(outcome.deleted, vec![old_closed.clone()]);
    assert_eq!(outcome.kept, vec![old_open.clone(), fresh.clone()]);
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);

    let left: Vec<String> = app.sessions.list().await.expect("list").into_iter().map(|s| s.id).collect();
    assert!(!left.contains(&old_closed), "deleted: {left:?}");
    for kept in [&old_open, &ten_days, &fresh] {
        assert!(left.contains(kept), "{kept} is kept: {left:?}");
    }
    assert!(!home.session_state_dir().join(&old_closed).exists(), "its stored state is gone from the CLI's disk");
    // The open session still works.
    let turn = chat(&app, &old_open, "still here?").await;
    assert!(!replies(&turn).is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn search_finds_words_in_a_server_s_sessions_and_follows_new_turns() {
    let github = github().await;
    github
        .when(Match::user_contains("fruit"), Reply::text("A pineapple is a tropical fruit."))
        .when(Match::user_contains("weather"), Reply::text("Expect drizzle all afternoon."))
        .when(Match::user_contains("again"), Reply::text("Pineapple again, this time in the weather session."));
    let server = start_server(&github, Some(CONNECTION_TOKEN)).await;
    let engine = engine_for(CliTarget::External(server_target(server.port(), Some(CONNECTION_TOKEN))));
    guarded("connecting", engine.supervisor.connected(HANG_GUARD)).await.expect("connected");
    let fruit = new_session(&engine, server.home().work_dir()).await;
    chat(&engine, &fruit, "tell me about fruit").await;
    let weather = new_session(&engine, server.home().work_dir()).await;
    chat(&engine, &weather, "tell me about the weather").await;

    // "pineapple" is only in the fruit session's reply, and the app cannot read the server's disk.
    let found = engine.search.search("PINEAPPLE").await.expect("search a server");
    assert_eq!(found.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(), vec![fruit.as_str()]);
    let snippet: String = found[0].snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(snippet, "A pineapple is a tropical fruit.");
    assert_eq!(engine.search.search("drizzle").await.expect("search").len(), 1);

    // A new turn changes the session's time on the server: it is read again, the other is not.
    chat(&engine, &weather, "fruit again please").await;
    let mut found: Vec<String> =
        engine.search.search("pineapple").await.expect("search again").into_iter().map(|m| m.session_id).collect();
    found.sort();
    let mut expected = vec![fruit.clone(), weather.clone()];
    expected.sort();
    assert_eq!(found, expected);
    // Tool output, system prompts and the like are not searched there either.
    assert!(engine.search.search("GitHub Copilot, an AI coding agent").await.expect("search").is_empty());
    engine.shutdown().await;
}

/// Set a session's journal time back by `by`: how the CLI dates a session (`modifiedTime`).
fn age(home: &TestHome, session: &str, by: Duration) {
    let journal = home.session_state_dir().join(session).join("events.jsonl");
    let file = std::fs::File::options().append(true).open(&journal).unwrap_or_else(|e| panic!("{journal:?}: {e}"));
    file.set_modified(SystemTime::now() - by).expect("set the journal's time");
}

/// A web server (axum, like any HTTP service on a wrong port); returns its port.
async fn serve_web() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A listener that accepts connections and never says a word; keep the handle alive.
async fn serve_silence() -> (u16, Arc<tokio::sync::Mutex<Vec<tokio::net::TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            keep.lock().await.push(stream);
        }
    });
    (port, held)
}

/// A listener that closes every connection at once.
async fn serve_hang_up() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    port
}

/// A JSON-RPC peer that answers `connect` (and anything else) as a CLI of protocol `version`.
async fn serve_protocol(version: u32) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).into_owned();
                    let Some(at) = text.find("\"id\":") else { continue };
                    let id: String = text[at + 5..].chars().take_while(|c| c.is_ascii_digit()).collect();
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"result":{{"ok":true,"protocolVersion":{version},"version":"9.9.9"}}}}"#
                    );
                    let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
                    let _ = stream.write_all(frame.as_bytes()).await;
                    seen.clear();
                }
            });
        }
    });
    port
}
