//! Choosing the Copilot CLI (src-tauri/src/auth/account.rs `save_cli`, `test_server`): a real
//! headless CLI with a connection token, the token in the real Secret Service (never in the
//! settings), the running app switching between the bundled CLI and the server, the choice
//! surviving a restart, and COPILOT_DESKTOP_SERVER winning over the settings.
//!
//! Keychain entries go under a service name of this test run. Run inside a private D-Bus
//! session with an unlocked gnome-keyring, as scripts/test.sh does; without a Secret Service
//! these tests fail, never skip.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use copilot_desktop::auth::account::{AccountOptions, AccountService, TokenChange};
use copilot_desktop::auth::keychain::APP_IDENTIFIER;
use copilot_desktop::auth::settings::{CliMode, CliSettings, LoadedSettings, ServerAddress, Settings, SettingsSink};
use copilot_desktop::auth::{Keychain, SecretKey, TokenStore};
use copilot_desktop::engine::{
    BundledCli, ChatEventKind, CliAuth, CliTarget, ConnectionState, ConnectionTarget, ExternalServer, NewSession,
    RestartPolicy,
};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::cli::{TestHome, cli_path};
use copilot_desktop_tests::cli_server::{HeadlessServer, ServerOptions};
use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};

const HANG_GUARD: Duration = Duration::from_secs(90);
const CONNECTION_TOKEN: &str = "conn-settings-5b2e8f1a9c3d7e60";
const GITHUB_TOKEN: &str = "gho_clisettingstest00000000000001";

#[derive(Default)]
struct MemorySink(Mutex<Vec<Settings>>);

impl SettingsSink for MemorySink {
    fn save(&self, settings: &Settings) -> Result<(), String> {
        self.0.lock().unwrap().push(settings.clone());
        Ok(())
    }
}

impl MemorySink {
    fn last(&self) -> Settings {
        self.0.lock().unwrap().last().cloned().expect("settings were saved")
    }

    fn saved_json(&self) -> String {
        serde_json::to_string(&*self.0.lock().unwrap()).unwrap()
    }
}

struct World {
    github: FakeGitHub,
    home: TestHome,
    server: HeadlessServer,
    keychain: Keychain,
}

impl World {
    async fn start(test: &str) -> World {
        let github = FakeGitHub::start().await;
        github.add_token(GITHUB_TOKEN);
        let mut env = github.env();
        env.push(("GH_TOKEN".into(), GITHUB_TOKEN.into()));
        let server =
            HeadlessServer::start(ServerOptions { connection_token: Some(CONNECTION_TOKEN.into()), env }).await;
        let keychain = Keychain::with_service(format!("{APP_IDENTIFIER}.tests.{}.{test}", std::process::id()));
        keychain
            .delete(&SecretKey::cli_server("127.0.0.1", server.port()))
            .await
            .expect("a usable Secret Service (run under scripts/test.sh)");
        World { github, home: TestHome::new(), server, keychain }
    }

    /// The app's options: its bundled CLI in its own home, signed in to the fake GitHub too.
    fn options(&self, base: Option<CliTarget>) -> AccountOptions {
        let mut env: Vec<(String, String)> = self
            .home
            .env()
            .into_iter()
            .chain(self.github.env())
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        env.push(("GH_TOKEN".into(), GITHUB_TOKEN.into()));
        let bundled = CliTarget::Bundled(BundledCli {
            program: cli_path(),
            copilot_home: Some(self.home.copilot_home()),
            working_directory: self.home.work_dir(),
            auth: CliAuth::CliDefault,
            env,
        });
        let mut options = AccountOptions::new(base.unwrap_or(bundled));
        options.restart = RestartPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            server_max_backoff: Duration::from_millis(500),
            server_timeout: Duration::from_secs(5),
            ..RestartPolicy::default()
        };
        options
    }

    fn server_settings(&self) -> CliSettings {
        CliSettings {
            mode: CliMode::Server,
            server: Some(ServerAddress { host: "127.0.0.1".into(), port: self.server.port() }),
        }
    }

    async fn app(&self, settings: Settings, sink: Arc<MemorySink>) -> AccountService {
        let loaded = LoadedSettings { settings, notice: None, needs_write: false };
        AccountService::start(self.options(None), loaded, sink, TokenStore::Keychain(self.keychain.clone())).await
    }
}

async fn wait_connected(service: &AccountService, expected: &ConnectionTarget) {
    let mut rx = service.engine().supervisor.watch_state();
    let wait = rx.wait_for(|s| matches!(s, ConnectionState::Connected { target, .. } if target == expected));
    match tokio::time::timeout(HANG_GUARD, wait).await {
        Ok(Ok(_)) => {}
        _ => panic!("never connected to {expected:?}; state: {:?}", service.engine().supervisor.state()),
    }
}

async fn chat(service: &AccountService, work_dir: std::path::PathBuf, text: &str) -> String {
    let engine = service.engine();
    let id = engine
        .sessions
        .create(NewSession { model: Some(DEFAULT_MODEL.into()), working_directory: work_dir })
        .await
        .expect("create a session")
        .id;
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
    reply
}

#[tokio::test]
async fn saving_a_server_switches_the_app_keeps_the_token_in_the_keychain_and_survives_a_restart() {
    let world = World::start("switch").await;
    world
        .github
        .when(Match::user_contains("where are you"), Reply::text("Answered by whichever CLI the app talks to."));
    let sink = Arc::new(MemorySink::default());
    let service = world.app(Settings::default(), sink.clone()).await;
    wait_connected(&service, &ConnectionTarget::Bundled).await;
    assert_eq!(service.settings_view().cli.mode, CliMode::Bundled);

    // Test first: the wrong token says so, the right one gives the server's versions.
    let address = ServerAddress { host: "127.0.0.1".into(), port: world.server.port() };
    let wrong = service.test_server(address.clone(), Some(Sensitive::new("conn-wrong".into()))).await.unwrap_err();
    assert_eq!(wrong.code(), "server_token_rejected");
    let missing = service.test_server(address.clone(), None).await.unwrap_err();
    assert_eq!(missing.code(), "server_token_required");
    let check =
        service.test_server(address.clone(), Some(Sensitive::new(CONNECTION_TOKEN.into()))).await.expect("test");
    assert_eq!(check.info.protocol_version, 3);
    assert!(check.warning.is_none(), "a token protects it, and it is on this machine");

    // Save: the token goes to the keychain, the app switches to the server.
    let view = service
        .save_cli(world.server_settings(), TokenChange::Replace(Sensitive::new(format!(" {CONNECTION_TOKEN} "))))
        .await
        .expect("save");
    assert_eq!(view.cli.mode, CliMode::Server);
    assert!(view.cli.token_stored);
    assert!(view.cli.warning.is_none());
    let server_target = ConnectionTarget::Server { address: world.server.address() };
    wait_connected(&service, &server_target).await;
    let key = SecretKey::cli_server("127.0.0.1", world.server.port());
    let stored = world.keychain.load(&key).await.expect("keychain").expect("an entry");
    assert_eq!(stored.expose(), CONNECTION_TOKEN, "the token, trimmed, in the keychain");
    assert!(!sink.saved_json().contains(CONNECTION_TOKEN), "never in the settings: {}", sink.saved_json());
    assert!(!format!("{view:?}").contains(CONNECTION_TOKEN), "never in what the UI gets");
    let reply = chat(&service, world.server.home().work_dir(), "where are you").await;
    assert_eq!(reply, "Answered by whichever CLI the app talks to.");
    let on_server = world.server.home().session_state_dir();
    assert!(std::fs::read_dir(&on_server).map(|d| d.count()).unwrap_or(0) > 1, "the session is the server's");

    // Test with the stored token (none typed): it is used.
    service.test_server(address.clone(), None).await.expect("the stored token is used");

    // The app restarts: it goes straight to the server, token from the keychain.
    service.engine().shutdown().await;
    drop(service);
    let service = world.app(sink.last(), sink.clone()).await;
    wait_connected(&service, &server_target).await;
    assert!(service.settings_view().cli.token_stored);

    // Back to the bundled CLI: the server's address and token stay for next time.
    let bundled = CliSettings { mode: CliMode::Bundled, ..world.server_settings() };
    let view = service.save_cli(bundled, TokenChange::Keep).await.expect("save");
    assert_eq!(view.cli.server, Some(address.clone()));
    assert!(view.cli.token_stored);
    wait_connected(&service, &ConnectionTarget::Bundled).await;
    chat(&service, world.home.work_dir(), "where are you").await;
    assert!(world.home.session_state_dir().exists(), "this session is the bundled CLI's");

    // Forget the token: the keychain entry goes, and the server refuses the app.
    let view = service.save_cli(world.server_settings(), TokenChange::Remove).await.expect("save");
    assert!(!view.cli.token_stored);
    assert!(world.keychain.load(&key).await.expect("keychain").is_none());
    let mut rx = service.engine().supervisor.watch_state();
    let failed = tokio::time::timeout(HANG_GUARD, rx.wait_for(|s| matches!(s, ConnectionState::Failed { .. })))
        .await
        .expect("fails")
        .expect("state")
        .clone();
    assert!(matches!(&failed, ConnectionState::Failed { code, .. } if code == "server_token_required"), "{failed:?}");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn another_address_never_gets_the_old_token() {
    let world = World::start("moved").await;
    let sink = Arc::new(MemorySink::default());
    let service = world.app(Settings::default(), sink.clone()).await;
    service
        .save_cli(world.server_settings(), TokenChange::Replace(Sensitive::new(CONNECTION_TOKEN.into())))
        .await
        .expect("save");
    let elsewhere = CliSettings {
        mode: CliMode::Server,
        server: Some(ServerAddress { host: "localhost".into(), port: world.server.port() }),
    };
    let view = service.save_cli(elsewhere, TokenChange::Keep).await.expect("save");
    assert!(!view.cli.token_stored, "a token is only sent to the address it was entered for");
    let old = SecretKey::cli_server("127.0.0.1", world.server.port());
    assert!(world.keychain.load(&old).await.expect("keychain").is_none(), "and the old entry is gone");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn a_remote_server_without_a_token_is_warned_about() {
    let world = World::start("warn").await;
    let service = world.app(Settings::default(), Arc::new(MemorySink::default())).await;
    let remote = CliSettings {
        mode: CliMode::Server,
        server: Some(ServerAddress { host: "devbox.invalid".into(), port: 4321 }),
    };
    let view = service.save_cli(remote, TokenChange::Keep).await.expect("save");
    let warning = view.cli.warning.expect("a warning");
    assert!(warning.contains("anyone who can reach") && warning.contains("devbox.invalid:4321"), "{warning}");
    let local = world.server_settings();
    assert!(service.save_cli(local, TokenChange::Keep).await.expect("save").cli.warning.is_none(), "loopback is fine");
    service.engine().shutdown().await;
}

#[tokio::test]
async fn the_environment_wins_over_the_settings() {
    let world = World::start("env").await;
    let from_env = ExternalServer::new("127.0.0.1", world.server.port(), Some(Sensitive::new(CONNECTION_TOKEN.into())));
    let sink = Arc::new(MemorySink::default());
    let loaded = LoadedSettings { settings: Settings::default(), notice: None, needs_write: false };
    let service = AccountService::start(
        world.options(Some(CliTarget::External(from_env))),
        loaded,
        sink.clone(),
        TokenStore::Keychain(world.keychain.clone()),
    )
    .await;
    let server_target = ConnectionTarget::Server { address: world.server.address() };
    wait_connected(&service, &server_target).await;
    assert_eq!(service.settings_view().cli.env_server, Some(world.server.address()));
    // Saving "bundled" is remembered for later, but the environment's server stays in use.
    service.save_cli(CliSettings::default(), TokenChange::Keep).await.expect("save");
    assert_eq!(sink.last().cli.mode, CliMode::Bundled);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        matches!(service.engine().supervisor.state(), ConnectionState::Connected { ref target, .. } if *target == server_target),
        "{:?}",
        service.engine().supervisor.state()
    );
    service.engine().shutdown().await;
}
