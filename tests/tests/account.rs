//! The account (src-tauri/src/auth/account.rs) with the real Copilot CLI: signing in through the
//! device flow against the fake GitHub web endpoints, the token in the real Secret Service, the
//! CLI signed in against the fake GitHub + Copilot API, a chat, a restart, signing out; a revoked
//! token; no keychain at all; a token from the environment; an offline provider.
//!
//! Keychain entries go under a service name of this test run (never the app's own). Run inside a
//! private D-Bus session with an unlocked gnome-keyring, as scripts/test.sh does; without a
//! Secret Service the keychain tests fail, never skip.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use copilot_desktop::auth::account::{AccountOptions, AccountService, AccountSource, AccountView, SignInState};
use copilot_desktop::auth::keychain::APP_IDENTIFIER;
use copilot_desktop::auth::settings::{LoadedSettings, ProviderConfig, ProviderType, Settings, SettingsSink};
use copilot_desktop::auth::{Keychain, SecretKey, TokenStore};
use copilot_desktop::engine::{BundledCli, ChatEventKind, CliAuth, CliTarget, NewSession, RestartPolicy};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::fake_github::{DEFAULT_LOGIN, FakeGitHub};
use copilot_desktop_tests::fake_github_web::{CLIENT_ID, CodeGrant, FakeGitHubWeb, PollReply, USER_CODE};
use copilot_desktop_tests::fake_model::{API_KEY, DEFAULT_MODEL, FakeModel, Match, Reply};

const HANG_GUARD: Duration = Duration::from_secs(90);
const CHILD_MARKER: &str = "COPILOT_DESKTOP_ACCOUNT_TEST_CHILD";

/// Settings "saved" in memory, every version kept for inspection.
#[derive(Default)]
struct MemorySink(Mutex<Vec<Settings>>);

impl SettingsSink for MemorySink {
    fn save(&self, settings: &Settings) -> Result<(), String> {
        self.0.lock().unwrap().push(settings.clone());
        Ok(())
    }
}

impl MemorySink {
    fn saved_json(&self) -> String {
        serde_json::to_string(&*self.0.lock().unwrap()).unwrap()
    }
}

/// The fakes a sign-in needs: GitHub's web endpoints (codes every second) and its API.
struct GitHub {
    web: FakeGitHubWeb,
    api: FakeGitHub,
}

impl GitHub {
    async fn start() -> GitHub {
        let web = FakeGitHubWeb::start().await;
        web.set_grant(CodeGrant { interval: Some(1), ..CodeGrant::default() });
        GitHub { web, api: FakeGitHub::start().await }
    }

    fn env(&self) -> Vec<(String, String)> {
        strings(self.api.env())
    }
}

fn strings(env: Vec<(std::ffi::OsString, std::ffi::OsString)>) -> Vec<(String, String)> {
    env.into_iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect()
}

fn options(home: &TestHome, github: Option<&GitHub>, extra: Vec<(String, String)>) -> AccountOptions {
    let mut env = strings(home.env());
    if let Some(github) = github {
        env.extend(github.env());
    }
    env.extend(extra);
    let mut options = AccountOptions::new(CliTarget::Bundled(BundledCli {
        program: cli_path(),
        copilot_home: Some(home.copilot_home()),
        working_directory: home.work_dir(),
        auth: CliAuth::CliDefault,
        env,
    }));
    options.restart = RestartPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
        ..RestartPolicy::default()
    };
    if let Some(github) = github {
        options.client_id = Some(CLIENT_ID.to_owned());
        options.web_base_url = Some(github.web.url());
    }
    options
}

fn defaults() -> LoadedSettings {
    LoadedSettings { settings: Settings::default(), notice: None, needs_write: false }
}

fn test_keychain(test: &str) -> Keychain {
    Keychain::with_service(format!("{APP_IDENTIFIER}.tests.{}.{test}", std::process::id()))
}

/// Poll the account view until `accept` says yes.
async fn wait_view(service: &AccountService, what: &str, accept: impl Fn(&AccountView) -> bool) -> AccountView {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    let mut last = None;
    loop {
        let view = service.view().await;
        if accept(&view) {
            return view;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("the account never showed {what}; last view: {last:#?}");
        }
        last = Some(view);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Start signing in and collect every state until `until` matches one.
async fn sign_in(service: &AccountService, host: &str, until: impl Fn(&SignInState) -> bool) -> Vec<SignInState> {
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = states.clone();
    let start =
        service.start_sign_in(host, move |state| sink.lock().unwrap().push(state)).await.expect("sign-in starts");
    assert_eq!(start.user_code, USER_CODE);
    assert!(start.verification_uri.ends_with("/login/device"), "{start:?}");
    assert_eq!(start.expires_in, 900);
    assert_eq!(service.verification_uri().unwrap(), start.verification_uri, "the app opens only this flow's address");
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        {
            let seen = states.lock().unwrap();
            if seen.iter().any(&until) {
                return seen.clone();
            }
        }
        if tokio::time::Instant::now() > deadline {
            panic!("sign-in did not get there; states: {:#?}", states.lock().unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signed_in(view: &AccountView, source: AccountSource) -> bool {
    view.source == source && view.login.as_deref() == Some(DEFAULT_LOGIN)
}

/// One chat turn (in `session`, or a new one) through whatever model the account gives;
/// returns the session and the assistant's text. A session error ends the turn like idle.
async fn chat_in(service: &AccountService, home: &TestHome, session: Option<&str>, text: &str) -> (String, String) {
    let engine = service.engine();
    let id = match session {
        Some(id) => id.to_owned(),
        None => {
            engine
                .sessions
                .create(NewSession { model: None, working_directory: home.work_dir() })
                .await
                .expect("create a session")
                .id
        }
    };
    let mut stream = engine.sessions.subscribe(&id).await.expect("subscribe");
    engine.sessions.send(&id, text).await.expect("send");
    let mut reply = String::new();
    let turn = async {
        while let Some(batch) = stream.next_batch().await {
            for event in batch {
                match event.kind {
                    ChatEventKind::AssistantMessage { content, .. } => reply.push_str(&content),
                    ChatEventKind::Idle => return,
                    _ => {}
                }
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, turn).await.expect("the turn ends");
    (id, reply)
}

#[tokio::test]
async fn sign_in_keychain_chat_restart_sign_out() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    let token = "gho_AccountTestToken0000000000000001";
    github.api.add_token(token);
    github.web.script_polls([PollReply::Pending, PollReply::token(token)]);
    github.api.when(Match::user_contains("hello"), Reply::text("Hi from the fake Copilot API."));
    let keychain = test_keychain("round_trip");
    let key = SecretKey::github("github.com");
    keychain.delete(&key).await.expect("a usable Secret Service (run under scripts/test.sh)");
    let sink = Arc::new(MemorySink::default());

    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        sink.clone(),
        TokenStore::Keychain(keychain.clone()),
    )
    .await;
    let view = wait_view(&service, "signed out", |v| v.cli_connected).await;
    assert_eq!(view.source, AccountSource::SignedOut);
    assert!(view.sign_in_available);

    let states =
        sign_in(&service, "github.com", |s| matches!(s, SignInState::SignedIn | SignInState::Failed { .. })).await;
    assert_eq!(states.last(), Some(&SignInState::SignedIn), "{states:#?}");
    assert!(matches!(states[0], SignInState::Waiting { seconds_left, .. } if seconds_left > 800), "{states:#?}");
    let stored = keychain.load(&key).await.expect("keychain").expect("an entry");
    assert_eq!(stored.expose(), token, "the token is in the keychain");

    let view = wait_view(&service, "the fake's login", |v| signed_in(v, AccountSource::Keychain)).await;
    assert_eq!(view.plan.as_deref(), Some("individual_pro"));
    assert_eq!(view.host, "github.com");
    assert!(view.problem.is_none(), "{view:?}");
    let bearer = github.api.user_requests().last().and_then(|r| r.bearer_token().map(str::to_owned));
    assert_eq!(bearer.as_deref(), Some(token), "the CLI asked GitHub with the token");

    let (_, reply) = chat_in(&service, &home, None, "hello there").await;
    assert!(reply.contains("Hi from the fake Copilot API."), "{reply}");

    // The app restarts: the keychain signs it in again.
    service.engine().shutdown().await;
    drop(service);
    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        sink.clone(),
        TokenStore::Keychain(keychain.clone()),
    )
    .await;
    wait_view(&service, "signed in after a restart", |v| signed_in(v, AccountSource::Keychain)).await;

    service.sign_out().await.expect("sign out");
    assert!(keychain.load(&key).await.expect("keychain").is_none(), "the entry is gone");
    let view = wait_view(&service, "signed out", |v| v.source == AccountSource::SignedOut && v.cli_connected).await;
    assert_eq!(view.login, None);
    assert!(!sink.saved_json().contains(token), "no token in the settings");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_asks_for_sign_in_again_and_keeps_sessions() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    let token = "gho_AccountRevokedToken00000000000002";
    let fresh = "gho_AccountFreshToken000000000000005";
    github.api.add_token(token).add_token(fresh);
    github.api.when(Match::user_contains("remember"), Reply::text("Noted."));
    let store = TokenStore::session_only();
    store.store(&SecretKey::github("github.com"), Sensitive::new(token.to_owned())).await.unwrap();
    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        Arc::new(MemorySink::default()),
        store,
    )
    .await;
    wait_view(&service, "signed in", |v| signed_in(v, AccountSource::SessionOnly)).await;
    let (session, reply) = chat_in(&service, &home, None, "remember this").await;
    assert!(reply.contains("Noted."), "{reply}");

    // Revoked on GitHub. The CLI keeps showing its cached account; the next request is refused.
    github.api.revoke(token);
    let (_, reply) = chat_in(&service, &home, Some(&session), "remember that too").await;
    assert!(reply.is_empty(), "no answer with a revoked token: {reply}");
    let view =
        wait_view(&service, "the invalid token", |v| v.problem.as_ref().is_some_and(|p| p.code == "token_invalid"))
            .await;
    let message = &view.problem.as_ref().unwrap().message;
    assert!(message.starts_with("Your GitHub sign-in is no longer valid"), "{message}");
    assert_eq!(view.login, None);
    let sessions = service.engine().sessions.list().await.expect("sessions");
    assert!(sessions.iter().any(|s| s.id == session), "sessions are kept");

    // Back through sign-in: the same session goes on.
    github.web.script_polls([PollReply::Pending, PollReply::token(fresh)]);
    let states =
        sign_in(&service, "github.com", |s| matches!(s, SignInState::SignedIn | SignInState::Failed { .. })).await;
    assert_eq!(states.last(), Some(&SignInState::SignedIn), "{states:#?}");
    let view = wait_view(&service, "signed in again", |v| signed_in(v, AccountSource::SessionOnly)).await;
    assert!(view.problem.is_none(), "{view:?}");
    let (_, reply) = chat_in(&service, &home, Some(&session), "remember more").await;
    assert!(reply.contains("Noted."), "{reply}");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_token_github_never_accepted_asks_for_sign_in() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    let store = TokenStore::session_only();
    store
        .store(&SecretKey::github("github.com"), Sensitive::new("gho_AccountUnknownToken0000000000006".to_owned()))
        .await
        .unwrap();
    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        Arc::new(MemorySink::default()),
        store,
    )
    .await;
    let view = wait_view(&service, "the invalid token", |v| v.cli_connected).await;
    assert_eq!(view.problem.map(|p| p.code).as_deref(), Some("token_invalid"));
    assert_eq!(view.source, AccountSource::SessionOnly);
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_token_in_the_environment_is_shown_as_such() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    let token = "gho_AccountEnvironmentToken000000003";
    github.api.add_token(token);
    let service = AccountService::start(
        options(&home, Some(&github), vec![("GH_TOKEN".into(), token.into())]),
        defaults(),
        Arc::new(MemorySink::default()),
        TokenStore::session_only(),
    )
    .await;
    let view = wait_view(&service, "the environment token", |v| signed_in(v, AccountSource::Environment)).await;
    assert_eq!(view.env_var.as_deref(), Some("GH_TOKEN"));
    // Signing out of the app does not touch a token the app did not give.
    service.sign_out().await.expect("sign out is harmless");
    assert_eq!(service.view().await.source, AccountSource::Environment);
    service.engine().shutdown().await;
}

#[tokio::test]
async fn without_a_client_id_sign_in_says_it_is_not_configured() {
    let home = TestHome::new();
    let service = AccountService::start(
        options(&home, None, vec![]),
        defaults(),
        Arc::new(MemorySink::default()),
        TokenStore::session_only(),
    )
    .await;
    let error = service.start_sign_in("github.com", |_| {}).await.expect_err("no client id");
    assert_eq!(error.code(), "not_configured");
    assert!(error.to_string().contains("COPILOT_DESKTOP_GITHUB_CLIENT_ID"), "{error}");
    assert!(!service.view().await.sign_in_available);
    let error = service.start_sign_in("github.com/evil", |_| {}).await.expect_err("not configured comes first");
    assert_eq!(error.code(), "not_configured");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_denied_or_cancelled_sign_in_changes_nothing() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    github.web.script_polls([PollReply::Denied]);
    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        Arc::new(MemorySink::default()),
        TokenStore::session_only(),
    )
    .await;
    let states = sign_in(&service, "github.com", |s| matches!(s, SignInState::Failed { .. })).await;
    assert!(matches!(states.last(), Some(SignInState::Failed { code, .. }) if code == "denied"), "{states:#?}");

    github.web.set_after_script(PollReply::Pending);
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = states.clone();
    service.start_sign_in("github.com", move |s| sink.lock().unwrap().push(s)).await.expect("starts");
    service.cancel_sign_in();
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while !states.lock().unwrap().iter().any(|s| matches!(s, SignInState::Failed { code, .. } if code == "cancelled")) {
        assert!(tokio::time::Instant::now() < deadline, "no cancelled state");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(service.verification_uri().unwrap_err().code(), "no_sign_in");
    let view = wait_view(&service, "still signed out", |v| v.cli_connected).await;
    assert_eq!(view.source, AccountSource::SignedOut);
    service.engine().shutdown().await;
}

#[tokio::test]
async fn an_offline_provider_serves_sessions_and_keeps_its_key_out_of_settings() {
    let home = TestHome::new();
    let model = FakeModel::start().await;
    model.when(Match::user_contains("offline"), Reply::text("Answered offline."));
    let sink = Arc::new(MemorySink::default());
    let service =
        AccountService::start(options(&home, None, vec![]), defaults(), sink.clone(), TokenStore::session_only()).await;
    wait_view(&service, "connected", |v| v.cli_connected).await;

    let config = ProviderConfig {
        provider_type: ProviderType::Openai,
        base_url: model.base_url(),
        model: DEFAULT_MODEL.into(),
        wire_api: None,
        offline: true,
    };
    let settings = service
        .save_provider(config.clone(), Some(Sensitive::new(API_KEY.to_owned())))
        .await
        .expect("save the provider");
    assert!(settings.provider_key_stored);
    assert_eq!(settings.provider.as_ref(), Some(&config));
    let view = wait_view(&service, "the provider", |v| v.source == AccountSource::Provider && v.cli_connected).await;
    assert_eq!(view.provider.as_ref(), Some(&config));
    let models = service.engine().sessions.models().await.expect("models");
    assert_eq!(models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [DEFAULT_MODEL]);

    let (_, reply) = chat_in(&service, &home, None, "are you offline?").await;
    assert!(reply.contains("Answered offline."), "{reply}");
    let keys: Vec<String> = model.chat_requests().iter().filter_map(|r| r.bearer_token().map(str::to_owned)).collect();
    assert!(
        keys.iter().all(|k| k == API_KEY) && !keys.is_empty(),
        "the key reached the provider: {} requests",
        keys.len()
    );
    assert!(!sink.saved_json().contains(API_KEY), "no key in the settings");
    assert!(sink.saved_json().contains("\"offline\":true"));

    let settings = service.clear_provider().await.expect("clear");
    assert!(settings.provider.is_none() && !settings.provider_key_stored);
    wait_view(&service, "no provider", |v| v.source == AccountSource::SignedOut && v.cli_connected).await;
    service.engine().shutdown().await;
}

/// Re-run [`child_signs_in_without_a_keychain`] where the session bus points at nothing.
#[test]
fn without_a_keychain_the_user_can_keep_the_token_in_memory() {
    let nowhere = tempfile::tempdir().expect("temp dir");
    let address = format!("unix:path={}", nowhere.path().join("no-bus-here").display());
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_signs_in_without_a_keychain", "--ignored", "--nocapture", "--test-threads=1"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env(CHILD_MARKER, "1")
        .output()
        .expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("child: signed in for this session only"), "{stdout}");
}

#[tokio::test]
#[ignore = "helper: run in a child process by without_a_keychain_the_user_can_keep_the_token_in_memory"]
async fn child_signs_in_without_a_keychain() {
    assert_eq!(std::env::var(CHILD_MARKER).as_deref(), Ok("1"), "run only by its parent test");
    let home = TestHome::new();
    let github = GitHub::start().await;
    let token = "gho_AccountMemoryOnlyToken000000004";
    github.api.add_token(token);
    github.web.script_polls([PollReply::token(token)]);
    let service = AccountService::start(
        options(&home, Some(&github), vec![]),
        defaults(),
        Arc::new(MemorySink::default()),
        TokenStore::Keychain(test_keychain("no_bus")),
    )
    .await;
    let view = wait_view(&service, "the keychain problem", |v| v.cli_connected).await;
    let problem = view.keychain_problem.expect("a keychain problem");
    assert_eq!(problem.code, "keychain_unavailable");
    assert!(problem.message.starts_with("No Secret Service"), "{}", problem.message);
    assert_eq!(view.source, AccountSource::SignedOut);

    let states = sign_in(&service, "github.com", |s| !matches!(s, SignInState::Waiting { .. })).await;
    assert!(
        matches!(states.last(), Some(SignInState::KeychainUnavailable { code, .. }) if code == "keychain_unavailable"),
        "{states:#?}"
    );
    service.keep_token_in_memory().await.expect("keep it in memory");
    wait_view(&service, "signed in for this run", |v| signed_in(v, AccountSource::SessionOnly)).await;
    println!("child: signed in for this session only");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_built_in_client_id_signs_in_unless_the_settings_name_another() {
    let home = TestHome::new();
    let github = GitHub::start().await;
    let mut built_in_only = options(&home, Some(&github), vec![]);
    built_in_only.client_id = None;
    built_in_only.builtin_client_id = Some(CLIENT_ID.to_owned());
    let service = AccountService::start(
        built_in_only.clone(),
        defaults(),
        Arc::new(MemorySink::default()),
        TokenStore::session_only(),
    )
    .await;
    assert!(service.view().await.sign_in_available, "a build with a client id offers sign-in");
    let start = service.start_sign_in("github.com", |_| {}).await.expect("the built-in client id is used");
    assert_eq!(start.user_code, USER_CODE);
    service.cancel_sign_in();
    service.engine().shutdown().await;

    // A client id in the settings wins over the built-in one: the fake knows only CLIENT_ID.
    let settings = Settings { client_id: Some("a-self-hosted-oauth-app".into()), ..Settings::default() };
    let loaded = LoadedSettings { settings, notice: None, needs_write: false };
    let service =
        AccountService::start(built_in_only, loaded, Arc::new(MemorySink::default()), TokenStore::session_only()).await;
    let error = service.start_sign_in("github.com", |_| {}).await.expect_err("the settings' client id is sent");
    assert!(error.to_string().to_lowercase().contains("client"), "{error}");
    service.engine().shutdown().await;
}
