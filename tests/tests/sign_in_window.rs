//! End to end: signing in through the app's window, in the real webview (WebKitGTK through
//! tauri-driver), with the real Copilot CLI and the real Secret Service. GitHub's web endpoints
//! (device flow) and its API are the fakes; the app reaches them through
//! `COPILOT_DESKTOP_GITHUB_WEB_URL` and the CLI's `COPILOT_API_URL` /
//! `COPILOT_DEBUG_GITHUB_API_URL`. No `GH_TOKEN`: the only way in is the sign-in dialog.
//!
//! After each step the token is searched for everywhere it must never be: the app's logs and
//! settings, every file of the test home, the webview's DOM and storage, and the command lines of
//! the app and its CLI. It must be in exactly two places: the keychain and the CLI's environment.
//!
//! The app's real keychain service (`com.copilot-desktop.client`) is used, so run this only inside
//! a private D-Bus session with a throwaway gnome-keyring, as scripts/test.sh does:
//! `xvfb-run -a dbus-run-session -- sh -c 'printf pw | HOME=$(mktemp -d) gnome-keyring-daemon
//! --unlock --components=secrets >/dev/null; cargo test -p copilot-desktop-tests --test
//! sign_in_window'`. It refuses to touch an entry that exists before it starts, and it fails
//! (never skips) without a Secret Service or a display.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use copilot_desktop::auth::keychain::APP_IDENTIFIER;
use copilot_desktop::auth::{Keychain, SecretKey};
use copilot_desktop_tests::app::{AppUnderTest, LaunchOptions, Target};
use copilot_desktop_tests::chat::Chat;
use copilot_desktop_tests::cli::TestHome;
use copilot_desktop_tests::fake_github::{DEFAULT_LOGIN, FakeGitHub};
use copilot_desktop_tests::fake_github_web::{CLIENT_ID, CodeGrant, FakeGitHubWeb, PollReply, USER_CODE};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};
use copilot_desktop_tests::webdriver::processes;

const HANG_GUARD: Duration = Duration::from_secs(60);
/// What the fake hands out after approval. GitHub-shaped, and used by no other test.
const TOKEN: &str = "gho_SignInWindowE2eToken00000000000001";
/// The fake's account: `octo-tester` on plan `individual_pro`.
const SIGNED_IN: &str = "Signed in as octo-tester · Copilot Pro+";

fn account_status() -> Target {
    Target::status("Account")
}

fn sign_in_dialog() -> Target {
    Target::dialog("Sign in to GitHub")
}

fn launch_options(web: &FakeGitHubWeb, github: &FakeGitHub) -> LaunchOptions {
    github
        .env()
        .into_iter()
        .fold(LaunchOptions::new(), |options, (k, v)| options.env(k, v))
        .env("COPILOT_DESKTOP_GITHUB_WEB_URL", web.url())
        .env("COPILOT_DESKTOP_GITHUB_CLIENT_ID", CLIENT_ID)
}

/// The app's keychain entry for github.com, read the way the app reads it.
async fn keychain_entry() -> Option<String> {
    let keychain = Keychain::new();
    assert_eq!(keychain.service(), APP_IDENTIFIER);
    match keychain.load(&SecretKey::github("github.com")).await {
        Ok(found) => found.map(|secret| secret.expose().clone()),
        Err(error) => panic!(
            "no usable Secret Service: [{}] {error}\n\
             Run under scripts/test.sh, or: xvfb-run -a dbus-run-session -- sh -c 'printf pw | \
             HOME=$(mktemp -d) gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
             cargo test -p copilot-desktop-tests --test sign_in_window'",
            error.code()
        ),
    }
}

/// The same entry through libsecret's `secret-tool`, another Secret Service client.
fn secret_tool_lookup() -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", APP_IDENTIFIER, "username", "github:github.com"])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim_end_matches('\n').to_owned())
}

/// The app's CLI: a child of the app running the bundled `copilot`.
fn cli_process(app: &AppUnderTest) -> processes::Process {
    let app_pid = app.app_process().pid;
    processes::children(app_pid)
        .into_iter()
        .find(|p| {
            p.exe.as_ref().and_then(|e| e.file_name()).is_some_and(|n| n.to_string_lossy().starts_with("copilot"))
        })
        .unwrap_or_else(|| panic!("the app (pid {app_pid}) runs no CLI"))
}

fn proc_file(pid: u32, name: &str) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/{name}")).unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// The token must be in none of: the files of the test home (logs, settings, the CLI's home,
/// WebKit's storage, the driver log with the app's stderr) and the CLI's cache, the page's DOM,
/// form values and storage, or any command line of the app's process tree. Each place is checked
/// to be non-empty, so the search cannot pass by looking at nothing.
async fn assert_token_nowhere(app: &AppUnderTest, stage: &str) {
    let mut hits: Vec<String> = Vec::new();

    let page = app
        .eval(
            "return { \
               html: document.documentElement.outerHTML, \
               values: [...document.querySelectorAll('input, textarea, select')].map(e => e.value).join('\\n'), \
               local: JSON.stringify(Object.entries(localStorage)), \
               session: JSON.stringify(Object.entries(sessionStorage)), \
               title: document.title };",
            vec![],
        )
        .await;
    let html = page["html"].as_str().unwrap_or_default();
    assert!(html.contains("aria-label=\"Account\""), "[{stage}] the DOM was read");
    for part in ["html", "values", "local", "session", "title"] {
        if page[part].as_str().unwrap_or_default().contains(TOKEN) {
            hits.push(format!("webview {part}"));
        }
    }

    let app_pid = app.app_process().pid;
    let tree: Vec<u32> = std::iter::once(app_pid).chain(processes::descendants(app_pid)).collect();
    assert!(tree.len() >= 2, "[{stage}] the app and its CLI are running");
    for pid in &tree {
        let cmdline = proc_file(*pid, "cmdline");
        if contains(&cmdline, TOKEN) {
            hits.push(format!("command line of pid {pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }

    let home = app.home();
    let mut files = Vec::new();
    files_under(&home.root(), &mut files);
    files_under(&home.cache_dir(), &mut files);
    let logs: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("copilot-desktop")))
        .collect();
    assert!(!logs.is_empty(), "[{stage}] the app's log files exist among {} files", files.len());
    for file in &files {
        if let Ok(bytes) = std::fs::read(file)
            && contains(&bytes, TOKEN)
        {
            hits.push(format!("file {}", file.display()));
        }
    }

    assert!(hits.is_empty(), "[{stage}] the token leaked to: {hits:#?}");
    eprintln!(
        "[test] {stage}: token in none of {} files, {} processes, the DOM ({} bytes) and storage",
        files.len(),
        tree.len(),
        html.len()
    );
}

/// While signed in, the token reaches the CLI through its environment and a flag that names
/// the variable: positive proof that the search above looked at the right process.
fn assert_cli_gets_the_token_by_environment(app: &AppUnderTest) {
    let cli = cli_process(app);
    let cmdline = String::from_utf8_lossy(&proc_file(cli.pid, "cmdline")).replace('\0', " ");
    assert!(
        cmdline.contains("--auth-token-env COPILOT_SDK_AUTH_TOKEN") && cmdline.contains("--no-auto-login"),
        "the CLI is told where the token is: {cmdline}"
    );
    let environ = proc_file(cli.pid, "environ");
    assert!(contains(&environ, &format!("COPILOT_SDK_AUTH_TOKEN={TOKEN}")), "the CLI's environment carries the token");
}

/// The store's file: `settings.json` in the app's data directory.
fn settings_file(home: &TestHome) -> PathBuf {
    home.home().join(".local/share").join(APP_IDENTIFIER).join("settings.json")
}

/// Both tests use the app's one keychain entry for github.com: one at a time.
static KEYCHAIN_ENTRY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Removes the entry if a test fails half-way, so no later app in this keyring starts signed in
/// with it. Made only after checking that no entry existed before the test.
struct RemoveEntryOnFailure;

impl Drop for RemoveEntryOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("secret-tool")
                .args(["clear", "service", APP_IDENTIFIER, "username", "github:github.com"])
                .status();
        }
    }
}

/// An alert inside the open dialog.
fn dialog_alert() -> Target {
    Target::xpath("//dialog[@open]//*[@role='alert']", "alert in the open dialog")
}

#[tokio::test]
async fn sign_in_through_the_window_keeps_the_token_in_the_keychain_only() {
    let _one_at_a_time = KEYCHAIN_ENTRY.lock().await;
    assert_eq!(
        keychain_entry().await,
        None,
        "an entry for github.com already exists under {APP_IDENTIFIER}: this test runs only \
         against a throwaway keyring (scripts/test.sh) and never touches a real token"
    );
    let web = FakeGitHubWeb::start().await;
    web.set_grant(CodeGrant { interval: Some(1), ..CodeGrant::default() });
    let github = FakeGitHub::start().await;
    github.add_token(TOKEN);
    let options = launch_options(&web, &github);
    let _cleanup = RemoveEntryOnFailure;

    let app = AppUnderTest::launch(options.clone()).await;
    app.wait_for_text(&account_status(), |t| t == "Not signed in", HANG_GUARD).await;

    // A first run welcomes the user with the ways in; sign in from there. The fake keeps
    // answering "pending" until told otherwise.
    let welcome = Target::xpath("//main//h2[normalize-space(.)='Welcome to Copilot Desktop']", "the welcome");
    app.wait_for(&welcome, HANG_GUARD).await;
    app.wait_for(&Target::button("Use your own model provider"), HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("welcome.png").await.display());
    app.click(&Target::button("Sign in with GitHub"), HANG_GUARD).await;
    app.wait_for(&sign_in_dialog(), HANG_GUARD).await;
    let host = app.wait_for(&Target::textbox("GitHub host"), HANG_GUARD).await.prop("value").await.ok().flatten();
    assert_eq!(host.as_deref(), Some("github.com"));
    app.click(&Target::button("Continue"), HANG_GUARD).await;
    let shown = app
        .wait_for_text(
            &sign_in_dialog(),
            // The countdown from the code's 15 minutes (the first frame may precede Rust's figure).
            |t| t.contains(USER_CODE) && (t.contains("Expires in 15:00") || t.contains("Expires in 14:")),
            HANG_GUARD,
        )
        .await;
    assert!(shown.contains(USER_CODE), "{shown}");
    for button in ["Copy code", "Open GitHub", "Cancel"] {
        app.wait_for(&Target::button(button), HANG_GUARD).await;
    }
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while web.polls().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the app never polled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(web.polls()[0].answered, "pending");
    eprintln!("[test] saved {}", app.screenshot("sign-in-code.png").await.display());
    web.script_polls([PollReply::token(TOKEN)]);

    app.wait_gone(&sign_in_dialog(), HANG_GUARD).await;
    app.wait_for_text(&account_status(), |t| t == SIGNED_IN, HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("signed-in.png").await.display());
    assert_eq!(keychain_entry().await.as_deref(), Some(TOKEN), "the token is in the keychain");
    assert_eq!(secret_tool_lookup().as_deref(), Some(TOKEN), "as another Secret Service client sees it");
    let asked = github.user_requests().iter().any(|r| r.bearer_token() == Some(TOKEN));
    assert!(asked, "the CLI asked GitHub who {DEFAULT_LOGIN} is, with the token");
    assert_cli_gets_the_token_by_environment(&app);
    let settings = std::fs::read_to_string(settings_file(app.home())).expect("settings were saved");
    assert!(settings.contains("\"githubHost\""), "{settings}");
    assert_token_nowhere(&app, "after sign-in").await;

    // Chat in the window, through the fake Copilot API, with the token the sign-in got. Signed in
    // with no sessions yet, the first one is one click, in the home folder the window shows.
    github.when(Match::user_contains("after signing in"), Reply::text("Hello, signed-in user."));
    let chat = Chat { app, github };
    let home = chat.app.home().home().display().to_string();
    let first = Target::xpath("//main//h2[normalize-space(.)='Start your first session']", "the first-session offer");
    let offer = chat
        .app
        .wait_for_text(&Target::xpath("//main//section", "the first-session offer"), |t| t.contains(&home), HANG_GUARD)
        .await;
    assert!(chat.app.find(&first).await.is_some(), "{offer}");
    chat.app.click(&Target::button("Start a session in your home folder"), HANG_GUARD).await;
    chat.app.wait_for(&copilot_desktop_tests::chat::message_box(), HANG_GUARD).await;
    // The CLI's "Auto" needs endpoints the fake does not serve: pick its model in the composer.
    chat.app.choose(&Target::select("Model"), DEFAULT_MODEL, HANG_GUARD).await;
    chat.send("Hello after signing in").await;
    chat.wait_reply("Hello, signed-in user.").await;
    let Chat { app, github } = chat;
    assert!(
        github.chat_requests().iter().any(|r| r.bearer_token() == Some(TOKEN)),
        "the chat reached the Copilot API with the signed-in token"
    );
    assert_token_nowhere(&app, "after chatting").await;

    // Quit and start again: signed in from the keychain, no dialog.
    let app = app.relaunch(options.clone()).await;
    app.wait_for_text(&account_status(), |t| t == SIGNED_IN, HANG_GUARD).await;
    assert_cli_gets_the_token_by_environment(&app);
    assert_token_nowhere(&app, "after a restart").await;

    // Sign out in Settings: the entry goes, the CLI restarts signed out.
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    let settings_dialog = Target::dialog("Settings");
    app.wait_for(&settings_dialog, HANG_GUARD).await;
    app.click(&Target::button("Sign out"), HANG_GUARD).await;
    app.wait_for_text(&account_status(), |t| t == "Not signed in", HANG_GUARD).await;
    app.click(&Target::button("Close"), HANG_GUARD).await;
    app.wait_gone(&settings_dialog, HANG_GUARD).await;
    assert_eq!(keychain_entry().await, None, "the keychain entry is gone");
    assert_eq!(secret_tool_lookup(), None, "for every client");
    let cli = cli_process(&app);
    let environ = proc_file(cli.pid, "environ");
    assert!(!contains(&environ, TOKEN), "the new CLI runs without the token");
    assert_token_nowhere(&app, "after sign-out").await;
}

#[tokio::test]
async fn a_corrupt_settings_file_is_set_aside_and_sign_in_without_a_client_id_says_so() {
    let _one_at_a_time = KEYCHAIN_ENTRY.lock().await;
    assert_eq!(keychain_entry().await, None, "no entry from elsewhere signs this app in");
    // No COPILOT_DESKTOP_GITHUB_CLIENT_ID: this build has no OAuth app.
    let app = AppUnderTest::launch(LaunchOptions::new()).await;
    app.wait_for_text(&account_status(), |t| t == "Not signed in", HANG_GUARD).await;
    let garbage = "{\"githubHost\": \"tenant.ghe.com\", oops";
    let app = app
        .relaunch_after(LaunchOptions::new(), |home| {
            let path = settings_file(home);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, garbage).unwrap();
        })
        .await;

    app.click(&Target::button("Settings were reset"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    let notice = app.wait_for_text(&dialog_alert(), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(notice.contains("defaults were restored") && notice.contains("settings.json.corrupt-"), "{notice}");
    let dir = settings_file(app.home()).parent().unwrap().to_path_buf();
    let kept: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("settings.json.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "the old file is kept: {kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), garbage);
    eprintln!("[test] saved {}", app.screenshot("settings-reset.png").await.display());
    app.click(&Target::button("Close"), HANG_GUARD).await;

    app.click(&Target::button("Sign in"), HANG_GUARD).await;
    app.wait_for(&sign_in_dialog(), HANG_GUARD).await;
    app.click(&Target::button("Continue"), HANG_GUARD).await;
    let alert = app.wait_for_text(&dialog_alert(), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(alert.contains("not set up") && alert.contains("COPILOT_DESKTOP_GITHUB_CLIENT_ID"), "{alert}");
}
