//! `AccountService`: which credential the Copilot CLI runs with, and every way to change it:
//! signing in (device flow, then the keychain, then a CLI restart with the token), the explicit
//! "keep the token in memory for this run" choice when there is no keychain, signing out, and
//! the bring-your-own-key provider, and which Copilot CLI the app talks to (the bundled one, or a
//! server with its connection token). It also tells the UI who is signed in, from the CLI itself.
//!
//! It owns the rule that a token or API key goes to the keychain (or memory, when the user says
//! so) and to the CLI (its environment, or a server's handshake), and nowhere else: nothing it
//! returns, logs or saves in settings holds one. It knows nothing of windows;
//! `commands/account.rs` and `commands/cli.rs` are its thin doors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex as AsyncMutex, watch};
use tokio::time::Instant;

use super::device_flow::{
    CancellationToken, DEFAULT_HOST, DeviceFlowClient, DeviceFlowConfig, DeviceFlowError, DeviceFlowState,
    normalize_host,
};
use super::keychain::{KeychainError, SecretKey, TokenStore};
use super::settings::{CliMode, CliSettings, LoadedSettings, ProviderConfig, ServerAddress, Settings, SettingsSink};
use crate::engine::account::{CurrentAuth, current_auth};
use crate::engine::server::{self, ServerInfo};
use crate::engine::{
    CliAuth, CliTarget, Engine, EngineConfig, EngineError, ExternalServer, ProviderSettings, RestartPolicy,
    SessionOptions,
};
use crate::secret::Sensitive;

/// The keychain account of the provider's API key (one provider is configured at a time).
pub const PROVIDER_KEY_NAME: &str = "default";

/// How the app starts, besides the settings and the secret store.
#[derive(Clone, Debug)]
pub struct AccountOptions {
    /// The CLI to run. `Bundled`: the app's own CLI (its `auth` is replaced by what the keychain
    /// holds), unless the settings choose a server. `External`: a server named by the environment
    /// (COPILOT_DESKTOP_SERVER), which wins over the settings. For a server the app cannot choose
    /// credentials: signing in is that server's business.
    pub cli: CliTarget,
    pub restart: RestartPolicy,
    /// Session options other than the provider (which comes from the settings).
    pub sessions: SessionOptions,
    /// `COPILOT_DESKTOP_GITHUB_CLIENT_ID`: the OAuth client id; wins over the settings' one.
    pub client_id: Option<String>,
    /// The client id the build carries (release builds: the project's OAuth App); used when
    /// neither the environment nor the settings name one.
    pub builtin_client_id: Option<String>,
    /// `COPILOT_DESKTOP_GITHUB_WEB_URL`: the base of the device flow's endpoints instead of
    /// `https://<host>` (tests point it at a local fake).
    pub web_base_url: Option<String>,
    /// How long reading the keychain at start may take (a locked keychain can wait for a
    /// password) before the app starts signed out and says why.
    pub keychain_timeout: Duration,
}

impl AccountOptions {
    pub fn new(cli: CliTarget) -> Self {
        Self {
            cli,
            restart: RestartPolicy::default(),
            sessions: SessionOptions::default(),
            client_id: None,
            builtin_client_id: None,
            web_base_url: None,
            keychain_timeout: Duration::from_secs(20),
        }
    }
}

/// Something the user should know about, with a stable code the UI branches on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

impl Problem {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

impl From<&KeychainError> for Problem {
    fn from(error: &KeychainError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

/// Where the CLI's credential comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AccountSource {
    /// A token from the app's sign-in, kept in the keychain.
    Keychain,
    /// A token from the app's sign-in, kept in memory for this run only (the user's choice).
    SessionOnly,
    /// The CLI found a token in its environment (`COPILOT_GITHUB_TOKEN`, `GH_TOKEN`, ...).
    Environment,
    /// The CLI's own login (the terminal CLI's `copilot login`, or the GitHub CLI's).
    CliLogin,
    /// A bring-your-own-key provider serves every session.
    Provider,
    SignedOut,
}

/// The account as the UI shows it. Never holds a credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub source: AccountSource,
    /// The GitHub host: the CLI's when it is signed in, else the configured one.
    pub host: String,
    /// From the CLI (`account.getCurrentAuth`), once GitHub accepted the credential.
    pub login: Option<String>,
    /// Copilot plan as GitHub names it: `free`, `individual`, `individual_pro`, `business`, ...
    pub plan: Option<String>,
    /// For [`AccountSource::Environment`]: the variable the token came from.
    pub env_var: Option<String>,
    /// The configured provider, if any (its API key stays in the keychain).
    pub provider: Option<ProviderConfig>,
    /// Whether the CLI answered; without it, login and plan are unknown.
    pub cli_connected: bool,
    /// The credentials were refused and the user has to act: `token_invalid` (sign in again),
    /// `environment_token_invalid`, `cli_login_invalid`, `provider_unauthorized`.
    pub problem: Option<Problem>,
    /// The keychain could not be used (`keychain_unavailable`, `keychain_locked`, ...).
    pub keychain_problem: Option<Problem>,
    /// The settings file was unusable and set aside: what happened and where it is.
    pub settings_notice: Option<String>,
    /// Whether this build knows an OAuth client id, so "Sign in" can work.
    pub sign_in_available: bool,
}

/// What the user needs to approve a sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SignInStart {
    /// The code to type on GitHub (`WDJB-MJHT`).
    pub user_code: String,
    /// Where to type it; `open_verification_uri` opens it in the browser.
    pub verification_uri: String,
    /// Seconds until the code expires.
    pub expires_in: u32,
}

/// Progress of a sign-in, pushed to the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SignInState {
    /// Waiting for the user to approve; `trouble` says why GitHub could not be reached lately.
    Waiting { seconds_left: u32, next_poll_in: u32, trouble: Option<String> },
    /// GitHub approved, but the keychain refused the token. `keep_token_in_memory` finishes
    /// the sign-in for this run only; cancelling drops the token.
    KeychainUnavailable { code: String, message: String },
    /// The token is stored and the CLI restarts with it.
    SignedIn,
    /// The sign-in ended without a token (`code`: the device flow's, e.g. `expired`, `denied`).
    Failed { code: String, message: String },
}

/// Settings as the settings view shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub github_host: String,
    pub provider: Option<ProviderConfig>,
    /// An API key for the provider is stored (it is never shown).
    pub provider_key_stored: bool,
    pub notice: Option<String>,
    pub sign_in_available: bool,
    pub cli: CliView,
}

/// The Copilot CLI settings as the settings view shows them. Never holds the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CliView {
    pub mode: CliMode,
    pub server: Option<ServerAddress>,
    /// A connection token for `server` is stored (it is never shown).
    pub token_stored: bool,
    /// `COPILOT_DESKTOP_SERVER` names a server (this address): it wins over these settings.
    pub env_server: Option<String>,
    /// Said when the chosen server is on another machine and no token protects it.
    pub warning: Option<String>,
}

/// What the connection token of a server becomes when the CLI settings are saved.
#[derive(Debug)]
pub enum TokenChange {
    Keep,
    Replace(Sensitive<String>),
    Remove,
}

/// A server answered "Test connection".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerCheck {
    pub info: ServerInfo,
    /// Said when the server is on another machine and let the app in without a token.
    pub warning: Option<String>,
}

/// The warning for a server on another machine that accepts clients without a token.
pub fn unprotected_warning(address: &str) -> String {
    format!(
        "{address} is on another machine and no connection token protects it: anyone who can reach that port can drive the agent and run commands there. Start the server with COPILOT_CONNECTION_TOKEN, enter the token here, and reach it through an SSH tunnel (the connection is not encrypted)."
    )
}

/// Why an account operation failed. Messages say what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "Signing in with GitHub is not set up in this build: it has no OAuth client id. Set COPILOT_DESKTOP_GITHUB_CLIENT_ID, or sign in with the terminal CLI (`copilot login`) or a GH_TOKEN, and restart the app."
    )]
    NotConfigured,
    #[error(
        "The app is connected to a Copilot CLI server at {0}, which signs in on its own. Sign in on that server, or switch to the bundled CLI."
    )]
    ExternalServer(String),
    #[error(transparent)]
    DeviceFlow(#[from] DeviceFlowError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("No sign-in is in progress. Start signing in again.")]
    NoSignIn,
    #[error("{0}")]
    InvalidRequest(String),
    #[error("The settings could not be saved ({0}). Check that the app's data folder is writable, then try again.")]
    SettingsNotSaved(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl AccountError {
    /// A stable, machine-readable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::ExternalServer(_) => "external_server",
            Self::DeviceFlow(e) => e.code(),
            Self::Keychain(e) => e.code(),
            Self::NoSignIn => "no_sign_in",
            Self::InvalidRequest(_) => "invalid_request",
            Self::SettingsNotSaved(_) => "settings_not_saved",
            Self::Engine(e) => e.code(),
        }
    }
}

/// The token the CLI runs with, when the app gave it one.
#[derive(Clone, Debug)]
struct SignedIn {
    host: String,
    token: Sensitive<String>,
    /// In the keychain (`true`) or in memory for this run (`false`).
    persistent: bool,
}

/// A token GitHub handed out that the keychain would not take, waiting for the user's choice.
#[derive(Debug)]
struct PendingToken {
    flow: u64,
    host: String,
    token: Sensitive<String>,
}

struct ActiveFlow {
    id: u64,
    cancel: CancellationToken,
    verification_uri: String,
}

struct State {
    settings: Settings,
    notice: Option<String>,
    store: TokenStore,
    keychain_problem: Option<Problem>,
    signed_in: Option<SignedIn>,
    provider_key: Option<Sensitive<String>>,
    /// The connection token of the server in the settings (whether or not it is in use).
    server_token: Option<Sensitive<String>>,
    pending: Option<PendingToken>,
    /// CLI answers from connections up to this generation predate the current credentials.
    stale_through_generation: u64,
    /// A session reported that the current credentials were refused (the CLI may still show a
    /// cached account for a revoked token: only a request to GitHub tells).
    refused: bool,
}

struct Inner {
    engine: Engine,
    /// The environment's choice: the bundled CLI (the settings may still choose a server) or
    /// the server COPILOT_DESKTOP_SERVER names.
    base: CliTarget,
    restart: RestartPolicy,
    client_id_override: Option<String>,
    builtin_client_id: Option<String>,
    web_base_url: Option<String>,
    sink: Arc<dyn SettingsSink>,
    state: Mutex<State>,
    flow: Mutex<Option<ActiveFlow>>,
    next_flow: AtomicU64,
    /// One change of credentials at a time (keychain calls await in between).
    changing: AsyncMutex<()>,
    changed: watch::Sender<u64>,
}

/// The account, cheap to clone.
#[derive(Clone)]
pub struct AccountService {
    inner: Arc<Inner>,
}

impl AccountService {
    /// Read the keychain for the configured host (and the provider's key), then start the engine
    /// signed in with what was found; with nothing found, or no keychain, the CLI signs in its
    /// own way (its login, `COPILOT_GITHUB_TOKEN`, `GH_TOKEN`). A keychain problem is kept for
    /// the UI to explain.
    pub async fn start(
        options: AccountOptions,
        loaded: LoadedSettings,
        sink: Arc<dyn SettingsSink>,
        store: TokenStore,
    ) -> AccountService {
        let settings = loaded.settings;
        if loaded.needs_write
            && let Err(e) = sink.save(&settings)
        {
            tracing::warn!(error = %e, "could not write the settings back");
        }
        let bundled = matches!(options.cli, CliTarget::Bundled(_));
        let mut keychain_problem = None;
        let mut signed_in = None;
        let mut provider_key = None;
        let mut server_token = None;
        if bundled {
            let host = settings.github_host.clone();
            match load_guarded(&store, &SecretKey::github(&host), options.keychain_timeout).await {
                Ok(Some(token)) => {
                    tracing::info!(%host, "signed in from the keychain");
                    signed_in = Some(SignedIn { host, token, persistent: store.is_persistent() });
                }
                Ok(None) => tracing::info!(%host, "no token in the keychain"),
                Err(problem) => {
                    tracing::warn!(code = %problem.code, "keychain unusable at start; starting signed out");
                    keychain_problem = Some(problem);
                }
            }
        }
        if settings.provider.is_some() && keychain_problem.is_none() {
            let key = SecretKey::provider(PROVIDER_KEY_NAME);
            match load_guarded(&store, &key, options.keychain_timeout).await {
                Ok(found) => provider_key = found,
                Err(problem) => keychain_problem = Some(problem),
            }
        }
        if bundled
            && keychain_problem.is_none()
            && let Some(server) = &settings.cli.server
        {
            match load_guarded(&store, &SecretKey::cli_server(&server.host, server.port), options.keychain_timeout)
                .await
            {
                Ok(found) => server_token = found,
                Err(problem) => keychain_problem = Some(problem),
            }
        }

        let state = State {
            settings,
            notice: loaded.notice,
            store,
            keychain_problem,
            signed_in,
            provider_key,
            server_token,
            pending: None,
            stale_through_generation: 0,
            refused: false,
        };
        let target = effective_target(&options.cli, &state);
        tracing::info!(target = ?target.describe(), "starting the engine");
        let mut sessions = options.sessions.clone();
        sessions.provider = None;
        let engine = Engine::start(EngineConfig { target, restart: options.restart.clone(), sessions });
        apply_provider(&engine, &state.settings, state.provider_key.as_ref());
        let (changed, _) = watch::channel(0);
        let service = AccountService {
            inner: Arc::new(Inner {
                engine,
                base: options.cli,
                restart: options.restart,
                client_id_override: options.client_id.filter(|id| !id.trim().is_empty()),
                builtin_client_id: options.builtin_client_id.filter(|id| !id.trim().is_empty()),
                web_base_url: options.web_base_url.filter(|url| !url.trim().is_empty()),
                sink,
                state: Mutex::new(state),
                flow: Mutex::new(None),
                next_flow: AtomicU64::new(1),
                changing: AsyncMutex::new(()),
                changed,
            }),
        };
        service.spawn_refusal_listener();
        service
    }

    /// Sessions report refused credentials (`session.error` of the authorization kind): the
    /// account shows it and the UI offers to sign in again. Sessions stay as they are.
    fn spawn_refusal_listener(&self) {
        let weak = Arc::downgrade(&self.inner);
        let mut failures = self.inner.engine.sessions.watch_auth_failures();
        tokio::spawn(async move {
            while failures.changed().await.is_ok() {
                let Some(inner) = weak.upgrade() else { break };
                let service = AccountService { inner };
                tracing::warn!("the Copilot CLI's credentials were refused");
                service.state().refused = true;
                service.bump();
            }
        });
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.inner.changed.send_modify(|n| *n += 1);
    }

    /// Ticks whenever the credentials or the provider change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// The environment's client id, else the settings', else the one built in.
    fn client_id(&self) -> Option<String> {
        Self::pick_client_id(&self.inner, &self.state().settings)
    }

    fn pick_client_id(inner: &Inner, settings: &Settings) -> Option<String> {
        inner
            .client_id_override
            .clone()
            .or_else(|| settings.client_id.clone())
            .or_else(|| inner.builtin_client_id.clone())
    }

    /// Who is signed in, asking the CLI when it is connected.
    pub async fn view(&self) -> AccountView {
        let (settings, signed_in, keychain_problem, notice, stale, refused_in_session) = {
            let state = self.state();
            // A server signs in on its own: the app's token plays no part there.
            let on_server = matches!(effective_target(&self.inner.base, &state), CliTarget::External(_));
            (
                state.settings.clone(),
                state.signed_in.as_ref().filter(|_| !on_server).map(|s| (s.host.clone(), s.persistent)),
                state.keychain_problem.clone(),
                state.notice.clone(),
                state.stale_through_generation,
                state.refused,
            )
        };
        // A CLI that predates the last change of credentials would answer for the old ones.
        let connection = self.inner.engine.supervisor.connection().ok().filter(|c| c.generation > stale);
        let auth: Option<CurrentAuth> = match connection {
            Some(connection) => match current_auth(&connection.client).await {
                Ok(auth) => Some(auth),
                Err(e) => {
                    tracing::debug!(error = %e, "account.getCurrentAuth failed");
                    None
                }
            },
            None => None,
        };
        let cli_kind = auth.as_ref().and_then(|a| a.kind.clone());
        let source = if settings.provider.is_some() {
            AccountSource::Provider
        } else if let Some((_, persistent)) = &signed_in {
            if *persistent { AccountSource::Keychain } else { AccountSource::SessionOnly }
        } else {
            match cli_kind.as_deref() {
                None => AccountSource::SignedOut,
                Some("env") => AccountSource::Environment,
                Some(_) => AccountSource::CliLogin,
            }
        };
        // The CLI holds a credential GitHub did not accept (it could not fetch the Copilot user).
        let unverified = auth.as_ref().is_some_and(|a| a.is_signed_in() && !a.verified);
        let env_var = auth.as_ref().and_then(|a| a.env_var.clone()).unwrap_or_else(|| "the environment".into());
        let problem = match source {
            AccountSource::Keychain | AccountSource::SessionOnly
                if refused_in_session || (unverified && cli_kind.as_deref() == Some("token")) =>
            {
                Some(Problem::new(
                    "token_invalid",
                    "Your GitHub sign-in is no longer valid: GitHub refused the token (it may have been revoked or expired). Sign in again; your sessions are kept.",
                ))
            }
            AccountSource::Environment if refused_in_session || unverified => Some(Problem::new(
                "environment_token_invalid",
                format!("GitHub refused the token in {env_var}. Replace it, or unset it and sign in here."),
            )),
            AccountSource::CliLogin if refused_in_session || unverified => Some(Problem::new(
                "cli_login_invalid",
                "GitHub refused the Copilot CLI's own login. Run `copilot login` in a terminal again, or sign in here.",
            )),
            AccountSource::Provider if refused_in_session => Some(Problem::new(
                "provider_unauthorized",
                "The model provider refused the request. Check its API key and base URL in Settings.",
            )),
            _ => None,
        };
        let login = if problem.is_some() && source != AccountSource::Provider {
            None
        } else {
            auth.as_ref().and_then(|a| a.login.clone())
        };
        let host = auth
            .as_ref()
            .and_then(|a| a.host.clone())
            .or_else(|| signed_in.as_ref().map(|(host, _)| host.clone()))
            .unwrap_or_else(|| settings.github_host.clone());
        AccountView {
            source,
            host,
            login,
            plan: auth.as_ref().and_then(|a| a.plan.clone()),
            env_var: auth.as_ref().and_then(|a| a.env_var.clone()),
            provider: settings.provider.clone(),
            cli_connected: auth.is_some(),
            problem,
            keychain_problem,
            settings_notice: notice,
            sign_in_available: self.client_id().is_some(),
        }
    }

    /// Send the account view now and after every change (credentials, provider, CLI
    /// connection), skipping repeats, until `send` returns false.
    pub fn watch(&self, mut send: impl FnMut(AccountView) -> bool + Send + 'static) {
        let this = self.clone();
        let mut changes = self.subscribe();
        let mut connection = self.inner.engine.supervisor.watch_state();
        tokio::spawn(async move {
            let mut last: Option<AccountView> = None;
            loop {
                changes.borrow_and_update();
                connection.borrow_and_update();
                let view = this.view().await;
                if last.as_ref() != Some(&view) {
                    if !send(view.clone()) {
                        break;
                    }
                    last = Some(view);
                }
                let ended = tokio::select! {
                    r = changes.changed() => r.is_err(),
                    r = connection.changed() => r.is_err(),
                };
                if ended {
                    break;
                }
            }
        });
    }

    /// The CLI the app should talk to now.
    pub fn current_target(&self) -> CliTarget {
        effective_target(&self.inner.base, &self.state())
    }

    /// The server in use, if any: signing in is then that server's business.
    fn server_in_use(&self) -> Option<ExternalServer> {
        match self.current_target() {
            CliTarget::External(server) => Some(server),
            CliTarget::Bundled(_) => None,
        }
    }

    /// Restart the bundled CLI with the current credentials and provider (a server keeps its own).
    fn restart_cli(&self) {
        let target = self.current_target();
        if matches!(target, CliTarget::External(_)) {
            return;
        }
        let generation = self.inner.engine.supervisor.connection().map(|c| c.generation).unwrap_or(0);
        {
            let mut state = self.state();
            state.stale_through_generation = state.stale_through_generation.max(generation);
            state.refused = false;
        }
        tracing::info!("restarting the Copilot CLI with new credentials");
        self.inner.engine.supervisor.restart(Some(target));
    }

    /// Start signing in to `host` (`github.com` when empty). Returns the code to show; progress
    /// goes to `on_progress` until the flow ends. Starting again cancels a running sign-in.
    pub async fn start_sign_in(
        &self,
        host: &str,
        on_progress: impl Fn(SignInState) + Send + Sync + 'static,
    ) -> Result<SignInStart, AccountError> {
        if let Some(server) = self.server_in_use() {
            return Err(AccountError::ExternalServer(server.address()));
        }
        let client_id = self.client_id().ok_or(AccountError::NotConfigured)?;
        let host = if host.trim().is_empty() { DEFAULT_HOST.to_owned() } else { normalize_host(host)? };
        let mut config = DeviceFlowConfig::new(client_id).with_host(host.clone());
        if let Some(base) = &self.inner.web_base_url {
            config = config.with_base_url(base.clone());
        }
        let client = DeviceFlowClient::new(config)?;
        self.cancel_sign_in();
        let code = client.request_code().await?;
        let id = self.inner.next_flow.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        *self.inner.flow.lock().unwrap() =
            Some(ActiveFlow { id, cancel: cancel.clone(), verification_uri: code.verification_uri.clone() });
        let start = SignInStart {
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            expires_in: u32::try_from(code.expires_in).unwrap_or(u32::MAX),
        };
        let this = self.clone();
        tokio::spawn(async move {
            let progress = |state: &DeviceFlowState| match state {
                DeviceFlowState::Waiting { expires_at, next_poll_in, trouble, .. } => {
                    on_progress(SignInState::Waiting {
                        seconds_left: seconds_until(*expires_at),
                        next_poll_in: u32::try_from(*next_poll_in).unwrap_or(u32::MAX),
                        trouble: trouble.clone(),
                    })
                }
                // Said once the token is stored, not when GitHub hands it out.
                DeviceFlowState::SignedIn => {}
                DeviceFlowState::Failed { code, reason } => {
                    on_progress(SignInState::Failed { code: (*code).to_owned(), message: reason.clone() })
                }
            };
            let result = client.poll(&code, &cancel, progress).await;
            if let Ok(token) = result {
                if this.is_current_flow(id) {
                    on_progress(this.finish_sign_in(id, host, token).await);
                } else {
                    tracing::info!("a superseded sign-in finished; its token is dropped");
                }
            }
            this.end_flow(id);
        });
        Ok(start)
    }

    fn is_current_flow(&self, id: u64) -> bool {
        self.inner.flow.lock().unwrap().as_ref().is_some_and(|f| f.id == id)
    }

    fn end_flow(&self, id: u64) {
        let mut flow = self.inner.flow.lock().unwrap();
        if flow.as_ref().is_some_and(|f| f.id == id) {
            *flow = None;
        }
    }

    /// Keep the token where the user's store says, then restart the CLI signed in.
    async fn finish_sign_in(&self, flow: u64, host: String, token: Sensitive<String>) -> SignInState {
        let _one = self.inner.changing.lock().await;
        let store = self.state().store.clone();
        match store.store(&SecretKey::github(&host), token.clone()).await {
            Ok(()) => {
                self.adopt_token(host, token, store.is_persistent());
                SignInState::SignedIn
            }
            Err(error) => {
                tracing::warn!(code = error.code(), "GitHub approved, but the keychain refused the token");
                let problem = Problem::from(&error);
                let mut state = self.state();
                state.keychain_problem = Some(problem.clone());
                state.pending = Some(PendingToken { flow, host, token });
                drop(state);
                self.bump();
                SignInState::KeychainUnavailable { code: problem.code, message: problem.message }
            }
        }
    }

    /// The token is kept: remember it, the host, and restart the CLI with it.
    fn adopt_token(&self, host: String, token: Sensitive<String>, persistent: bool) {
        let settings = {
            let mut state = self.state();
            if persistent {
                state.keychain_problem = None;
            }
            state.pending = None;
            state.signed_in = Some(SignedIn { host: host.clone(), token, persistent });
            // Saved even when unchanged: the host of the last sign-in is the one to read at start.
            state.settings.github_host = host.clone();
            state.settings.clone()
        };
        if let Err(e) = self.inner.sink.save(&settings) {
            tracing::warn!(error = %e, "could not save the GitHub host");
        }
        tracing::info!(%host, persistent, "signed in");
        self.restart_cli();
        self.bump();
    }

    /// Stop a running sign-in, and drop a token that waits for the keychain choice.
    pub fn cancel_sign_in(&self) {
        if let Some(flow) = self.inner.flow.lock().unwrap().take() {
            flow.cancel.cancel();
        }
        let dropped = self.state().pending.take().is_some();
        if dropped {
            tracing::info!("sign-in cancelled; the token that waited for the keychain is dropped");
            self.bump();
        }
    }

    /// The verification address of the running sign-in (the only page the app opens for it).
    pub fn verification_uri(&self) -> Result<String, AccountError> {
        self.inner.flow.lock().unwrap().as_ref().map(|f| f.verification_uri.clone()).ok_or(AccountError::NoSignIn)
    }

    /// The user's explicit choice when there is no keychain: keep secrets in memory for this
    /// run. Finishes a sign-in whose token the keychain refused.
    pub async fn keep_token_in_memory(&self) -> Result<(), AccountError> {
        let _one = self.inner.changing.lock().await;
        let pending = {
            let mut state = self.state();
            if state.store.is_persistent() {
                state.store = TokenStore::session_only();
                tracing::info!("secrets are kept in memory for this run, as the user chose");
            }
            state.pending.take()
        };
        match pending {
            Some(PendingToken { host, token, flow }) => {
                let store = self.state().store.clone();
                store.store(&SecretKey::github(&host), token.clone()).await?;
                tracing::debug!(flow, "finishing the sign-in in memory");
                self.adopt_token(host, token, false);
            }
            None => self.bump(),
        }
        Ok(())
    }

    /// Forget the token (the keychain entry goes too) and restart the CLI signed out. The CLI
    /// may still find a login of its own or an environment token.
    pub async fn sign_out(&self) -> Result<(), AccountError> {
        self.cancel_sign_in();
        let _one = self.inner.changing.lock().await;
        let (store, signed_in) = {
            let state = self.state();
            (state.store.clone(), state.signed_in.clone())
        };
        let Some(signed_in) = signed_in else {
            return Ok(());
        };
        store.delete(&SecretKey::github(&signed_in.host)).await?;
        self.state().signed_in = None;
        tracing::info!(host = %signed_in.host, "signed out");
        self.restart_cli();
        self.bump();
        Ok(())
    }

    pub fn settings_view(&self) -> SettingsView {
        let state = self.state();
        let cli = &state.settings.cli;
        let env_server = match &self.inner.base {
            CliTarget::External(server) => Some(server.address()),
            CliTarget::Bundled(_) => None,
        };
        let warning = cli
            .active_server()
            .filter(|s| !server::is_loopback_host(&s.host) && state.server_token.is_none())
            .map(|s| unprotected_warning(&server::address_of(&s.host, s.port)));
        SettingsView {
            github_host: state.settings.github_host.clone(),
            provider: state.settings.provider.clone(),
            provider_key_stored: state.provider_key.is_some(),
            notice: state.notice.clone(),
            sign_in_available: Self::pick_client_id(&self.inner, &state.settings).is_some(),
            cli: CliView {
                mode: cli.mode,
                server: cli.server.clone(),
                token_stored: state.server_token.is_some(),
                env_server,
                warning,
            },
        }
    }

    /// Use `cli` from now on: the token goes to (or leaves) the keychain under the server's
    /// address, the settings file remembers the choice (never the token), and the running app
    /// switches to the new CLI. With COPILOT_DESKTOP_SERVER set the environment still wins: the
    /// choice is saved for when it is unset.
    pub async fn save_cli(&self, cli: CliSettings, token: TokenChange) -> Result<SettingsView, AccountError> {
        let cli = cli.validated().map_err(AccountError::InvalidRequest)?;
        let _one = self.inner.changing.lock().await;
        let (store, old) = {
            let state = self.state();
            (state.store.clone(), state.settings.cli.server.clone())
        };
        let key_of = |a: &ServerAddress| SecretKey::cli_server(&a.host, a.port);
        let moved = old.as_ref().map(key_of) != cli.server.as_ref().map(key_of);
        // One server, one token: a token is only ever sent to the address it was entered for.
        if moved && let Some(old) = &old {
            store.delete(&key_of(old)).await?;
        }
        let server_token = match (&cli.server, token) {
            (None, _) => None,
            (Some(server), TokenChange::Replace(token)) => {
                let token = Sensitive::new(token.expose().trim().to_owned());
                if token.expose().is_empty() {
                    return Err(AccountError::InvalidRequest("The connection token is empty.".into()));
                }
                store.store(&key_of(server), token.clone()).await?;
                Some(token)
            }
            (Some(server), TokenChange::Remove) => {
                store.delete(&key_of(server)).await?;
                None
            }
            (Some(server), TokenChange::Keep) if moved => store.load(&key_of(server)).await?,
            (Some(_), TokenChange::Keep) => self.state().server_token.clone(),
        };
        let (settings, target) = {
            let mut state = self.state();
            state.settings.cli = cli;
            state.server_token = server_token;
            (state.settings.clone(), effective_target(&self.inner.base, &state))
        };
        self.inner.sink.save(&settings).map_err(AccountError::SettingsNotSaved)?;
        tracing::info!(mode = ?settings.cli.mode, target = ?target.describe(), "Copilot CLI settings saved");
        if matches!(self.inner.base, CliTarget::Bundled(_)) {
            self.switch_to(target).await;
        }
        self.bump();
        Ok(self.settings_view())
    }

    /// Talk to `target` from now on: sessions opened on the old CLI are let go (they live there),
    /// search and the journals follow, and the supervisor connects to the new one.
    async fn switch_to(&self, target: CliTarget) {
        let engine = &self.inner.engine;
        let generation = engine.supervisor.connection().map(|c| c.generation).unwrap_or(0);
        {
            let mut state = self.state();
            state.stale_through_generation = state.stale_through_generation.max(generation);
            state.refused = false;
        }
        engine.sessions.let_go_all().await;
        engine.search.set_target(&target);
        engine.journal.set_target(&target);
        engine.supervisor.restart(Some(target));
    }

    /// Try a server without switching to it: its CLI and protocol version, or why it cannot be
    /// used. Without a token given, the one stored for that address is used.
    pub async fn test_server(
        &self,
        address: ServerAddress,
        token: Option<Sensitive<String>>,
    ) -> Result<ServerCheck, AccountError> {
        let cli = CliSettings { mode: CliMode::Server, server: Some(address) }
            .validated()
            .map_err(AccountError::InvalidRequest)?;
        let address = cli.server.expect("validated server settings have an address");
        let token = match token.filter(|t| !t.expose().trim().is_empty()) {
            Some(token) => Some(Sensitive::new(token.expose().trim().to_owned())),
            None => {
                let stored = self.state().settings.cli.server.clone();
                if stored.as_ref() == Some(&address) { self.state().server_token.clone() } else { None }
            }
        };
        let sent_token = token.is_some();
        let server = ExternalServer::new(address.host.clone(), address.port, token);
        let info = server::probe(&server, self.inner.restart.server_timeout).await?;
        tracing::info!(address = %server.address(), version = %info.version, "server test succeeded");
        let warning = (!sent_token && !server.is_loopback()).then(|| unprotected_warning(&server.address()));
        Ok(ServerCheck { info, warning })
    }

    /// Use `config` for every new session; `api_key`, when given, replaces the stored key.
    pub async fn save_provider(
        &self,
        config: ProviderConfig,
        api_key: Option<Sensitive<String>>,
    ) -> Result<SettingsView, AccountError> {
        let config = config.validated().map_err(AccountError::InvalidRequest)?;
        let _one = self.inner.changing.lock().await;
        let store = self.state().store.clone();
        let api_key = api_key.filter(|k| !k.expose().trim().is_empty());
        if let Some(key) = &api_key {
            store.store(&SecretKey::provider(PROVIDER_KEY_NAME), key.clone()).await?;
        }
        let (settings, was_offline) = {
            let mut state = self.state();
            if api_key.is_some() {
                state.provider_key = api_key;
            }
            state.refused = false;
            let was_offline = state.settings.provider.as_ref().is_some_and(|p| p.offline);
            state.settings.provider = Some(config.clone());
            (state.settings.clone(), was_offline)
        };
        self.inner.sink.save(&settings).map_err(AccountError::SettingsNotSaved)?;
        self.apply_provider_now();
        tracing::info!(provider = config.provider_type.as_str(), offline = config.offline, "provider saved");
        if was_offline || config.offline {
            self.restart_cli();
        }
        self.bump();
        Ok(self.settings_view())
    }

    /// Go back to GitHub's models; the provider's key leaves the keychain.
    pub async fn clear_provider(&self) -> Result<SettingsView, AccountError> {
        let _one = self.inner.changing.lock().await;
        let store = self.state().store.clone();
        store.delete(&SecretKey::provider(PROVIDER_KEY_NAME)).await?;
        let (settings, was_offline) = {
            let mut state = self.state();
            state.provider_key = None;
            state.refused = false;
            let was_offline = state.settings.provider.take().is_some_and(|p| p.offline);
            (state.settings.clone(), was_offline)
        };
        self.inner.sink.save(&settings).map_err(AccountError::SettingsNotSaved)?;
        self.apply_provider_now();
        tracing::info!("provider removed");
        if was_offline {
            self.restart_cli();
        }
        self.bump();
        Ok(self.settings_view())
    }

    fn apply_provider_now(&self) {
        let (settings, key) = {
            let state = self.state();
            (state.settings.clone(), state.provider_key.clone())
        };
        apply_provider(&self.inner.engine, &settings, key.as_ref());
    }
}

/// Read one secret with a time limit; a failure becomes the problem the UI shows.
async fn load_guarded(
    store: &TokenStore,
    key: &SecretKey,
    limit: Duration,
) -> Result<Option<Sensitive<String>>, Problem> {
    match tokio::time::timeout(limit, store.load(key)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(error)) => Err(Problem::from(&error)),
        Err(_) => Err(Problem::new(
            "keychain_timeout",
            format!(
                "The keychain did not answer within {} s (is it waiting for its password?). Unlock it and restart the app, or keep the token in memory for this run only.",
                limit.as_secs()
            ),
        )),
    }
}

fn seconds_until(deadline: Instant) -> u32 {
    let left = deadline.saturating_duration_since(Instant::now());
    u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0)).unwrap_or(u32::MAX)
}

/// The sessions' provider from the settings and the key.
fn apply_provider(engine: &Engine, settings: &Settings, key: Option<&Sensitive<String>>) {
    let provider = settings.provider.as_ref().map(|p| {
        (
            ProviderSettings {
                provider_type: p.provider_type.as_str().to_owned(),
                base_url: p.base_url.clone(),
                api_key: key.cloned(),
                wire_api: p.wire_api.map(|w| w.as_str().to_owned()),
            },
            p.model.clone(),
        )
    });
    match provider {
        Some((provider, model)) => engine.sessions.set_provider(Some(provider), Some(model)),
        None => engine.sessions.set_provider(None, None),
    }
}

/// The CLI the app should talk to: COPILOT_DESKTOP_SERVER's server when set, else the settings'
/// server (with its token) when chosen, else the bundled CLI with the app's credentials.
fn effective_target(base: &CliTarget, state: &State) -> CliTarget {
    if let CliTarget::External(_) = base {
        return base.clone();
    }
    if let Some(server) = state.settings.cli.active_server() {
        return CliTarget::External(ExternalServer::new(server.host.clone(), server.port, state.server_token.clone()));
    }
    let auth = state.signed_in.as_ref().map(|s| CliAuth::Token(s.token.clone())).unwrap_or_default();
    compose_target(base, auth, state.signed_in.as_ref(), &state.settings)
}

/// `base` with `auth`, plus the non-secret environment the credentials and provider need:
/// the GitHub Enterprise host for a token, and offline mode with its provider.
fn compose_target(base: &CliTarget, auth: CliAuth, signed_in: Option<&SignedIn>, settings: &Settings) -> CliTarget {
    let CliTarget::Bundled(cli) = base else {
        return base.clone();
    };
    let mut cli = cli.clone();
    let token = matches!(auth, CliAuth::Token(_));
    cli.auth = auth;
    if let Some(signed_in) = signed_in.filter(|_| token)
        && signed_in.host != DEFAULT_HOST
    {
        cli.env.push(("COPILOT_GH_HOST".into(), signed_in.host.clone()));
    }
    if let Some(provider) = settings.provider.as_ref().filter(|p| p.offline) {
        cli.env.extend([
            ("COPILOT_OFFLINE".to_owned(), "true".to_owned()),
            ("COPILOT_PROVIDER_BASE_URL".to_owned(), provider.base_url.clone()),
            ("COPILOT_PROVIDER_TYPE".to_owned(), provider.provider_type.as_str().to_owned()),
            ("COPILOT_MODEL".to_owned(), provider.model.clone()),
        ]);
    }
    CliTarget::Bundled(cli)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::auth::settings::{ProviderType, WireApi};
    use crate::engine::{BundledCli, ExternalServer};

    fn bundled() -> CliTarget {
        CliTarget::Bundled(BundledCli {
            program: PathBuf::from("/nowhere/copilot"),
            copilot_home: None,
            working_directory: PathBuf::from("/tmp"),
            auth: CliAuth::CliDefault,
            env: vec![("KEEP".into(), "me".into())],
        })
    }

    fn env_of(target: &CliTarget) -> Vec<(String, String)> {
        match target {
            CliTarget::Bundled(cli) => cli.env.clone(),
            CliTarget::External(_) => panic!("expected the bundled CLI"),
        }
    }

    fn signed_in(host: &str) -> SignedIn {
        SignedIn { host: host.into(), token: Sensitive::new("gho_composetest000000000000".into()), persistent: true }
    }

    #[test]
    fn a_github_com_token_needs_no_extra_environment() {
        let s = signed_in("github.com");
        let target = compose_target(&bundled(), CliAuth::Token(s.token.clone()), Some(&s), &Settings::default());
        assert_eq!(env_of(&target), vec![("KEEP".to_owned(), "me".to_owned())]);
        let CliTarget::Bundled(cli) = &target else { unreachable!() };
        assert!(matches!(cli.auth, CliAuth::Token(_)));
        assert!(!format!("{target:?}").contains("gho_"), "the token never shows in Debug");
    }

    #[test]
    fn an_enterprise_token_names_its_host() {
        let s = signed_in("tenant.ghe.com");
        let target = compose_target(&bundled(), CliAuth::Token(s.token.clone()), Some(&s), &Settings::default());
        assert!(env_of(&target).contains(&("COPILOT_GH_HOST".into(), "tenant.ghe.com".into())));
        // Signed out, the CLI picks its own host.
        let target = compose_target(&bundled(), CliAuth::CliDefault, None, &Settings::default());
        assert!(!env_of(&target).iter().any(|(k, _)| k == "COPILOT_GH_HOST"));
    }

    #[test]
    fn offline_mode_sets_the_provider_environment_without_the_key() {
        let settings = Settings {
            provider: Some(ProviderConfig {
                provider_type: ProviderType::Openai,
                base_url: "http://127.0.0.1:11434/v1".into(),
                model: "llama3.2".into(),
                wire_api: Some(WireApi::Completions),
                offline: true,
            }),
            ..Settings::default()
        };
        let env = env_of(&compose_target(&bundled(), CliAuth::CliDefault, None, &settings));
        for pair in [
            ("COPILOT_OFFLINE", "true"),
            ("COPILOT_PROVIDER_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("COPILOT_PROVIDER_TYPE", "openai"),
            ("COPILOT_MODEL", "llama3.2"),
        ] {
            assert!(env.contains(&(pair.0.into(), pair.1.into())), "{pair:?} in {env:?}");
        }
        assert!(!env.iter().any(|(k, _)| k.contains("KEY")), "{env:?}");
    }

    #[test]
    fn an_external_server_is_left_alone() {
        let external = CliTarget::External(ExternalServer::new("127.0.0.1", 4321, None));
        let target = compose_target(&external, CliAuth::CliDefault, None, &Settings::default());
        assert!(matches!(target, CliTarget::External(s) if s.port == 4321));
    }

    #[test]
    fn views_serialize_without_credentials_and_with_stable_names() {
        let state = SignInState::Waiting { seconds_left: 899, next_poll_in: 5, trouble: None };
        assert_eq!(
            serde_json::to_value(&state).unwrap(),
            serde_json::json!({"state": "waiting", "secondsLeft": 899, "nextPollIn": 5, "trouble": null})
        );
        assert_eq!(serde_json::to_value(AccountSource::SessionOnly).unwrap(), "sessionOnly");
        let failed = SignInState::Failed { code: "expired".into(), message: "m".into() };
        assert_eq!(serde_json::to_value(&failed).unwrap()["state"], "failed");
    }

    #[test]
    fn every_error_has_a_code_and_says_what_to_do() {
        let errors = [
            AccountError::NotConfigured,
            AccountError::ExternalServer("127.0.0.1:4321".into()),
            AccountError::NoSignIn,
            AccountError::InvalidRequest("Enter a model.".into()),
            AccountError::SettingsNotSaved("disk full".into()),
        ];
        for error in &errors {
            assert!(!error.code().is_empty());
            assert!(error.to_string().ends_with('.'), "{error}");
        }
        assert!(AccountError::NotConfigured.to_string().contains("COPILOT_DESKTOP_GITHUB_CLIENT_ID"));
    }
}
