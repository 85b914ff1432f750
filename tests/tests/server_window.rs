//! End to end: the app attached to a Copilot CLI server, in the real webview (WebKitGTK through
//! tauri-driver). The server is the real CLI started headless in the test with
//! `COPILOT_CONNECTION_TOKEN`, signed in (GH_TOKEN) to the fake GitHub + Copilot API; the app's
//! token for it goes through the Settings page into the real Secret Service.
//!
//! * Settings → Copilot CLI: "Test connection" names why a closed port and a web server will not
//!   do; the server without a token shows the token error; with the token the app chats and a
//!   command is approved and runs; the token is then in no file, no command line and not the DOM.
//! * The server is killed and started again on the same port: the window says it is
//!   reconnecting, then the open session goes on with its history, the typed text kept, nothing
//!   twice; the time from the server listening again to the next reply is printed.
//! * Settings → Old sessions on the server: the preview lists exactly the old session that is
//!   not open, and only it is deleted.
//!
//! Run inside a private D-Bus session with a throwaway gnome-keyring, as scripts/test.sh does;
//! it needs `cargo build -p copilot-desktop` (with `ui/dist` built) first.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use copilot_desktop::auth::{Keychain, SecretKey};
use copilot_desktop::engine::{
    ChatEventKind, CliTarget, Engine, EngineConfig, ExternalServer, NewSession, RestartPolicy, SessionOptions,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::app::{AppUnderTest, LaunchOptions, Target, pinned_cli_version};
use copilot_desktop_tests::chat::{self, copilot_messages, message_box, status_bar, user_messages};
use copilot_desktop_tests::cli_server::{HeadlessServer, ServerOptions};
use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};
use copilot_desktop_tests::webdriver::processes;
use tokio::net::TcpListener;

const HANG_GUARD: Duration = Duration::from_secs(60);
/// The server's connection token: no known credential's shape, so only an exact search finds it.
const CONNECTION_TOKEN: &str = "conn-e2e-9d41c7a2b6f38e05";
/// The GitHub token the server signs in with (the server's own business).
const SERVER_GITHUB_TOKEN: &str = "gho_serverwindowe2etoken000000000001";

struct World {
    github: FakeGitHub,
    server: HeadlessServer,
}

impl World {
    async fn start() -> World {
        let github = FakeGitHub::start().await;
        github.add_token(SERVER_GITHUB_TOKEN).add_token(chat::TOKEN);
        let mut env = github.env();
        env.push(("GH_TOKEN".into(), SERVER_GITHUB_TOKEN.into()));
        let server =
            HeadlessServer::start(ServerOptions { connection_token: Some(CONNECTION_TOKEN.into()), env }).await;
        World { github, server }
    }

    /// The app pointed at the server by the environment (COPILOT_DESKTOP_SERVER and its token).
    fn attached(&self) -> LaunchOptions {
        LaunchOptions::new()
            .env("COPILOT_DESKTOP_SERVER", self.server.address())
            .env("COPILOT_CONNECTION_TOKEN", CONNECTION_TOKEN)
    }

    fn connected_text(&self) -> String {
        format!("Connected · Copilot CLI {} at {}", pinned_cli_version(), self.server.address())
    }
}

async fn wait_status(app: &AppUnderTest, accept: impl Fn(&str) -> bool) -> String {
    app.wait_for_text(&status_bar(), accept, HANG_GUARD).await
}

/// Start a session in `dir` through the New session dialog.
async fn new_session(app: &AppUnderTest, dir: &Path) {
    app.click(&Target::button("New session"), HANG_GUARD).await;
    let dialog = Target::dialog("New session");
    app.wait_for(&dialog, HANG_GUARD).await;
    app.fill(&Target::textbox("Working directory"), &dir.display().to_string(), HANG_GUARD).await;
    app.choose(&Target::select("Model").within(&dialog), DEFAULT_MODEL, HANG_GUARD).await;
    app.click(&Target::button("Create"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
    app.wait_for(&message_box(), HANG_GUARD).await;
}

async fn send(app: &AppUnderTest, text: &str) {
    app.fill(&message_box(), text, HANG_GUARD).await;
    app.press_enter(&message_box(), HANG_GUARD).await;
}

async fn wait_reply(app: &AppUnderTest, needle: &str) -> String {
    app.wait_for_text(&copilot_messages().last(), |t| t.contains(needle), HANG_GUARD).await
}

async fn wait_idle(app: &AppUnderTest) {
    app.wait_for(&Target::button("Send"), HANG_GUARD).await;
    app.wait_gone(&Target::button("Stop"), HANG_GUARD).await;
}

async fn open_settings_page(app: &AppUnderTest, page: &str) {
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    app.click(&Target::role("tab", page), HANG_GUARD).await;
    let chosen = format!("//*[@role='tab'][@aria-selected='true'][normalize-space(.)='{page}']");
    app.wait_for(&Target::xpath(&chosen, &format!("the chosen page \"{page}\"")), HANG_GUARD).await;
}

async fn close_settings(app: &AppUnderTest) {
    app.click(&Target::button("Close").within(&Target::dialog("Settings")), HANG_GUARD).await;
    app.wait_gone(&Target::dialog("Settings"), HANG_GUARD).await;
}

fn page_alert() -> Target {
    Target::xpath("//*[@role='tabpanel' and not(@hidden)]//*[@role='alert']", "alert on the settings page")
}

fn test_result() -> Target {
    Target::status("Connection test")
}

/// Type `port` (and `token`, if any), press Test connection, and wait for an answer (the alert or
/// the result) containing `expected`; returns it.
async fn test_connection(app: &AppUnderTest, port: u16, token: Option<&str>, expected: &str) -> String {
    app.fill(&Target::textbox("Host"), "127.0.0.1", HANG_GUARD).await;
    app.fill(&Target::textbox("Port"), &port.to_string(), HANG_GUARD).await;
    app.fill(&Target::textbox("Connection token"), token.unwrap_or_default(), HANG_GUARD).await;
    app.click(&Target::button("Test connection"), HANG_GUARD).await;
    let answer = Target::xpath(
        &format!(
            "({} | {})[normalize-space(.) != '' and normalize-space(.) != 'Testing…']",
            page_alert().as_xpath(),
            test_result().as_xpath()
        ),
        "the connection test's answer",
    );
    app.wait_for_text(&answer, |t| t.contains(expected), HANG_GUARD).await
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => files_under(&entry.path(), out),
            Ok(kind) if kind.is_file() => out.push(entry.path()),
            _ => {}
        }
    }
}

/// The connection token is in no file under the app's test home (logs, settings, WebKit's
/// storage, the driver log with the app's output) nor the server's, in no process's command line
/// on this machine, and not in the page (DOM, form values, storage). Each place is checked to be
/// non-empty, so the search cannot pass by looking at nothing.
async fn assert_token_nowhere(app: &AppUnderTest, server: &HeadlessServer, stage: &str) {
    let mut hits: Vec<String> = Vec::new();
    let page = app
        .eval(
            "return { \
               html: document.documentElement.outerHTML, \
               values: [...document.querySelectorAll('input, textarea, select')].map(e => e.value).join('\\n'), \
               storage: JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]) };",
            vec![],
        )
        .await;
    let html = page["html"].as_str().unwrap_or_default();
    assert!(html.contains("aria-label=\"Copilot CLI connection\""), "[{stage}] the DOM was read");
    for part in ["html", "values", "storage"] {
        if page[part].as_str().unwrap_or_default().contains(CONNECTION_TOKEN) {
            hits.push(format!("webview {part}"));
        }
    }

    let all = processes::all();
    let app_pid = app.app_process().pid;
    assert!(all.iter().any(|p| p.pid == app_pid), "[{stage}] the app's process is among those read");
    assert!(all.iter().any(|p| Some(p.pid) == server.pid()), "[{stage}] the server's process is among those read");
    for process in &all {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", process.pid)).unwrap_or_default();
        if contains(&cmdline, CONNECTION_TOKEN) {
            hits.push(format!("command line of pid {}: {}", process.pid, String::from_utf8_lossy(&cmdline)));
        }
    }

    let mut files = Vec::new();
    files_under(&app.home().root(), &mut files);
    let app_files = files.len();
    files_under(&server.home().root(), &mut files);
    let logs =
        files.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("copilot-desktop")));
    assert!(logs.count() > 0, "[{stage}] the app's log files exist among {app_files} files");
    for file in &files {
        if std::fs::read(file).is_ok_and(|bytes| contains(&bytes, CONNECTION_TOKEN)) {
            hits.push(format!("file {}", file.display()));
        }
    }
    assert!(hits.is_empty(), "[{stage}] the connection token leaked to: {hits:#?}");
    eprintln!(
        "[test] {stage}: the token is in none of {} files, {} command lines, the DOM ({} bytes)",
        files.len(),
        all.len(),
        html.len()
    );
}

/// Removes the app's keychain entry for the server when the test ends, however it ends.
struct RemoveEntry(SecretKey);

impl Drop for RemoveEntry {
    fn drop(&mut self) {
        let key = self.0.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async { Keychain::new().delete(&key).await })
        })
        .join();
    }
}

#[tokio::test]
async fn settings_attach_to_a_server_with_its_token_and_the_token_stays_secret() {
    let world = World::start().await;
    let key = SecretKey::cli_server("127.0.0.1", world.server.port());
    assert_eq!(
        Keychain::new().load(&key).await.expect("a usable Secret Service (run under scripts/test.sh)").map(|_| ()),
        None,
        "no entry for this server before the test"
    );
    let _cleanup = RemoveEntry(key.clone());
    let closed_port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let web_port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let site = axum::Router::new().route("/", axum::routing::get(|| async { "a web page" }));
        tokio::spawn(async move { axum::serve(listener, site).await });
        port
    };

    // The app as installed: its bundled CLI (signed in through GH_TOKEN like the chat tests).
    let app = AppUnderTest::launch(chat::launch_options(&world.github)).await;
    let bundled = format!("Connected · Copilot CLI {} (bundled)", pinned_cli_version());
    wait_status(&app, |t| t == bundled).await;

    open_settings_page(&app, "Copilot CLI").await;
    let choice = app.wait_for(&Target::choice("Bundled (this computer)"), HANG_GUARD).await;
    assert_eq!(choice.prop("checked").await.ok().flatten().as_deref(), Some("true"), "the default");
    app.click(&Target::choice("A Copilot CLI server"), HANG_GUARD).await;

    let refused = format!("Nothing is listening at 127.0.0.1:{closed_port}");
    test_connection(&app, closed_port, None, &refused).await;
    let web = test_connection(&app, web_port, None, "not a Copilot CLI server").await;
    assert!(web.contains("web server") && web.contains("HTTP/1.1 400"), "{web}");
    test_connection(&app, world.server.port(), None, "requires a connection token").await;
    eprintln!("[test] saved {}", app.screenshot("server-token-missing.png").await.display());

    // Saved without the token: the app switches and shows the server's answer.
    app.click(&Target::button("Save"), HANG_GUARD).await;
    let failed = wait_status(&app, |t| t.starts_with("Failed:")).await;
    assert!(
        failed.contains(&world.server.address()) && failed.contains("requires a connection token"),
        "the token error in the status bar: {failed}"
    );

    let answer = test_connection(&app, world.server.port(), Some(CONNECTION_TOKEN), "answered at").await;
    assert_eq!(
        answer.split_whitespace().collect::<Vec<_>>().join(" "),
        format!("Copilot CLI {} (protocol 3) answered at {}.", pinned_cli_version(), world.server.address())
    );
    app.click(&Target::button("Save"), HANG_GUARD).await;
    wait_status(&app, |t| t == world.connected_text()).await;
    app.wait_for(
        &Target::xpath("//*[normalize-space(.)='A token is stored. Leave this empty to keep it.']", "stored"),
        HANG_GUARD,
    )
    .await;
    let field = app.wait_for(&Target::textbox("Connection token"), HANG_GUARD).await;
    assert_eq!(field.prop("value").await.ok().flatten().as_deref(), Some(""), "the field is emptied");
    let stored = Keychain::new().load(&key).await.expect("keychain").map(|t| t.expose().clone());
    assert_eq!(stored.as_deref(), Some(CONNECTION_TOKEN), "the token is in the keychain under {}", key.account());
    eprintln!("[test] saved {}", app.screenshot("settings-cli-server.png").await.display());
    close_settings(&app).await;
    assert_token_nowhere(&app, &world.server, "after saving").await;

    // Chat on the server and approve a command: it runs there.
    world
        .github
        .when(Match::user_contains("make the marker"), Reply::shell("echo ran-on-the-server > marker.txt && echo done"))
        .when(Match::tool_output_contains("done"), Reply::text("The command ran on the server."));
    let work = world.server.home().work_dir();
    new_session(&app, &work).await;
    send(&app, "Please make the marker").await;
    let dialog = Target::dialog("Run this command?");
    app.wait_for(&dialog, HANG_GUARD).await;
    assert!(!work.join("marker.txt").exists(), "nothing runs before the user answers");
    app.click(&Target::button("Allow once"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
    wait_reply(&app, "The command ran on the server.").await;
    let marker = std::fs::read_to_string(work.join("marker.txt")).expect("the approved command ran");
    assert_eq!(marker.trim(), "ran-on-the-server");
    let server_sessions = std::fs::read_dir(world.server.home().session_state_dir()).map(|d| d.count()).unwrap_or(0);
    assert!(server_sessions > 1, "the session is the server's");
    eprintln!("[test] saved {}", app.screenshot("chat-on-server.png").await.display());
    assert_token_nowhere(&app, &world.server, "after chatting").await;

    // The choice survives a restart of the app: straight back to the server, token from the keychain.
    let app = app.relaunch(chat::launch_options(&world.github)).await;
    wait_status(&app, |t| t == world.connected_text()).await;
    assert_token_nowhere(&app, &world.server, "after a restart").await;
}

#[tokio::test]
async fn the_window_reconnects_to_a_restarted_server_and_the_session_goes_on() {
    let mut world = World::start().await;
    world
        .github
        .when(Match::user_contains("first question"), Reply::text("First answer."))
        .when(Match::user_contains("my draft"), Reply::text("Second answer, after the restart."));
    let app = AppUnderTest::launch(world.attached()).await;
    wait_status(&app, |t| t == world.connected_text()).await;
    new_session(&app, &world.server.home().work_dir()).await;
    send(&app, "first question").await;
    wait_reply(&app, "First answer.").await;
    wait_idle(&app).await;
    let draft = "my draft survives the restart";
    app.fill(&message_box(), draft, HANG_GUARD).await;

    world.server.kill().await;
    let reconnecting = format!("Reconnecting to {}…", world.server.address());
    wait_status(&app, |t| t.starts_with(&reconnecting)).await;
    eprintln!("[test] saved {}", app.screenshot("server-reconnecting.png").await.display());

    let listening_in = world.server.restart().await;
    let back = Instant::now();
    wait_status(&app, |t| t == world.connected_text()).await;
    let connected_after = back.elapsed();
    // The transcript reloads in place: wait until it is there again, then check it is whole.
    app.wait_for_text(&copilot_messages().last(), |t| t.contains("First answer."), HANG_GUARD).await;
    let typed = app.wait_for(&message_box(), HANG_GUARD).await.prop("value").await.ok().flatten();
    assert_eq!(typed.as_deref(), Some(draft), "the typed text is kept");
    assert_eq!(app.count(&user_messages()).await, 1, "nothing twice");
    assert_eq!(app.count(&copilot_messages()).await, 1, "nothing twice");

    app.press_enter(&message_box(), HANG_GUARD).await;
    wait_reply(&app, "Second answer, after the restart.").await;
    let replied_after = back.elapsed();
    eprintln!(
        "[test] MEASURED: the server listened again {listening_in:.2?} after it was started; from then, the \
         window said connected after {connected_after:.2?} and showed the next reply after {replied_after:.2?}"
    );
    wait_idle(&app).await;
    assert_eq!(app.count(&user_messages()).await, 2);
    assert_eq!(app.count(&copilot_messages()).await, 2);
    let first = app.text(&user_messages().nth(1)).await.unwrap_or_default();
    assert!(first.contains("first question"), "the history is in order: {first}");
}

#[tokio::test]
async fn old_sessions_on_the_server_are_cleaned_up_from_settings_but_never_the_open_one() {
    let world = World::start().await;
    // Two sessions made earlier, by another client of the server (the engine, as the app uses it).
    let target = CliTarget::External(ExternalServer::new(
        "127.0.0.1",
        world.server.port(),
        Some(Sensitive::new(CONNECTION_TOKEN.to_owned())),
    ));
    let earlier =
        Engine::start(EngineConfig { target, restart: RestartPolicy::default(), sessions: SessionOptions::default() });
    earlier.supervisor.connected(HANG_GUARD).await.expect("connected to the server");
    let mut ids = Vec::new();
    for text in ["talk about apples", "talk about pears"] {
        let id = earlier
            .sessions
            .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: world.server.home().work_dir() })
            .await
            .expect("create")
            .id;
        let mut stream = earlier.sessions.subscribe(&id).await.expect("subscribe");
        earlier.sessions.send(&id, text).await.expect("send");
        tokio::time::timeout(HANG_GUARD, async {
            while let Some(batch) = stream.next_batch().await {
                if batch.iter().any(|e| matches!(e.kind, ChatEventKind::Idle)) {
                    return;
                }
            }
        })
        .await
        .expect("the turn ends");
        ids.push(id);
    }
    earlier.shutdown().await;
    let [apples, pears] = <[String; 2]>::try_from(ids).unwrap();

    let app = AppUnderTest::launch(world.attached()).await;
    wait_status(&app, |t| t == world.connected_text()).await;
    let row = |title: &str| {
        Target::xpath(
            &format!("//nav[@aria-label='Sessions']//li//button[.//*[normalize-space(.)='{title}']]"),
            &format!("session \"{title}\""),
        )
    };
    app.click(&row("talk about pears"), HANG_GUARD).await;
    app.wait_for(&message_box(), HANG_GUARD).await;
    // Both were last used 40 days ago, as far as the CLI can tell (the time of its journal).
    for id in [&apples, &pears] {
        let journal = world.server.home().session_state_dir().join(id).join("events.jsonl");
        let file = std::fs::File::options().append(true).open(&journal).expect("the session's journal");
        file.set_modified(SystemTime::now() - Duration::from_secs(40 * 24 * 3600)).expect("age it");
    }

    open_settings_page(&app, "Old sessions").await;
    app.fill(&Target::textbox("Not used for (days)"), "30", HANG_GUARD).await;
    app.click(&Target::button("Find old sessions"), HANG_GUARD).await;
    let list = Target::xpath("//ul[@aria-label='Sessions to delete']", "the sessions to delete");
    let listed = app.wait_for_text(&list, |t| !t.is_empty(), HANG_GUARD).await;
    assert_eq!(app.count(&Target::xpath(&format!("{}//li", list.as_xpath()), "listed session")).await, 1, "{listed}");
    assert!(
        listed.contains("talk about apples") && !listed.contains("pears"),
        "exactly the old one not open: {listed}"
    );
    app.wait_for(
        &Target::xpath("//*[normalize-space(.)='1 more is as old but open in the app, and kept.']", "kept"),
        HANG_GUARD,
    )
    .await;
    eprintln!("[test] saved {}", app.screenshot("settings-old-sessions.png").await.display());

    app.click(&Target::button("Delete 1 session…"), HANG_GUARD).await;
    let confirm = Target::dialog("Delete old sessions?");
    app.wait_for(&confirm, HANG_GUARD).await;
    assert_eq!(app.focused_name().await, "Cancel", "the confirmation defaults to Cancel");
    app.click(&Target::button("Delete").within(&confirm), HANG_GUARD).await;
    app.wait_gone(&confirm, HANG_GUARD).await;
    app.wait_for(&Target::xpath("//*[normalize-space(.)='Deleted 1 session.']", "the outcome"), HANG_GUARD).await;
    close_settings(&app).await;

    app.wait_gone(&row("talk about apples"), HANG_GUARD).await;
    app.wait_for(&row("talk about pears"), HANG_GUARD).await;
    let state = world.server.home().session_state_dir();
    assert!(!state.join(&apples).exists(), "the old session is gone from the server");
    assert!(state.join(&pears).exists(), "the open one is kept");
    world.github.when(Match::user_contains("still here"), Reply::text("Still here."));
    send(&app, "still here?").await;
    wait_reply(&app, "Still here.").await;
}
