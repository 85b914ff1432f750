//! `CliSupervisor`: owns the connection to the Copilot CLI, either a bundled child over stdio or
//! an external headless server over TCP. It publishes the connection state (which CLI, and how it
//! goes), restarts a crashed bundled CLI with exponential backoff and jitter and gives up after
//! repeated crashes in a short window, reconnects to a server that went away for as long as it
//! takes (capped backoff; only a problem the user must fix, such as a refused token, stops it),
//! and kills the child's whole process tree on every exit path. It knows nothing of sessions:
//! those re-attach by watching [`CliSupervisor::watch_connection`].

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use github_copilot_sdk::Client;
use rand::Rng;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::{EngineError, EngineResult};
use super::logging;
use super::process::{ChildSpec, GuardedChild};
pub use super::server::ExternalServer;
use super::server::{self, ServerProblem};
use crate::secret::Sensitive;

/// Where the CLI comes from.
#[derive(Clone, Debug)]
pub enum CliTarget {
    /// The CLI bundled with the app, started as a child over stdio.
    Bundled(BundledCli),
    /// A CLI already running elsewhere as `copilot --headless --port N`.
    External(ExternalServer),
}

#[derive(Clone, Debug)]
pub struct BundledCli {
    pub program: PathBuf,
    /// `COPILOT_HOME`; `None` keeps the CLI's default (`~/.copilot`), shared with the terminal CLI.
    pub copilot_home: Option<PathBuf>,
    pub working_directory: PathBuf,
    pub auth: CliAuth,
    /// Extra, non-secret environment for the CLI (e.g. `COPILOT_OFFLINE`, API URLs in tests).
    pub env: Vec<(String, String)>,
}

/// How the bundled CLI signs in.
#[derive(Clone, Debug, Default)]
pub enum CliAuth {
    /// The CLI's own precedence: its stored login, then `COPILOT_GITHUB_TOKEN` / `GH_TOKEN`.
    #[default]
    CliDefault,
    /// A token from the app's keychain, passed only through the CLI's environment.
    Token(Sensitive<String>),
}

impl CliTarget {
    /// Which CLI this is, as the status bar names it.
    pub fn describe(&self) -> ConnectionTarget {
        match self {
            Self::Bundled(_) => ConnectionTarget::Bundled,
            Self::External(server) => ConnectionTarget::Server { address: server.address() },
        }
    }
}

/// When to restart and when to give up.
#[derive(Clone, Debug)]
pub struct RestartPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// This many crashes inside `crash_window` and the supervisor stops trying.
    pub max_crashes: u32,
    pub crash_window: Duration,
    /// How often a connected CLI is pinged; three failed pings in a row count as a crash, and
    /// one that finds the connection closed at once.
    pub health_interval: Duration,
    pub handshake_timeout: Duration,
    /// How often a CLI server is pinged: its connection can drop without a process exit to see.
    pub server_health_interval: Duration,
    /// The longest wait between two attempts to reach a server that went away.
    pub server_max_backoff: Duration,
    /// How long connecting to a server and its handshake may take.
    pub server_timeout: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(15),
            max_crashes: 5,
            crash_window: Duration::from_secs(120),
            health_interval: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(30),
            server_health_interval: Duration::from_secs(3),
            server_max_backoff: Duration::from_secs(5),
            server_timeout: Duration::from_secs(10),
        }
    }
}

impl RestartPolicy {
    /// Exponential backoff with ±25 % jitter, capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let base = exp.min(self.max_backoff);
        let jitter = rand::rng().random_range(0.75..=1.25);
        base.mul_f64(jitter).min(self.max_backoff)
    }

    /// The wait before attempt `attempt` to reach a server: like [`Self::backoff`], capped at
    /// `server_max_backoff`, and never given up.
    pub fn server_backoff(&self, attempt: u32) -> Duration {
        self.backoff(attempt).min(self.server_max_backoff)
    }
}

/// Which CLI the app talks to, as the status bar names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ConnectionTarget {
    /// The CLI bundled with the app, on this computer.
    Bundled,
    /// A CLI server at `address` (`host:port`).
    Server { address: String },
}

/// What the UI shows in its status bar. `code` says why in a word the UI can branch on
/// (`server_token_rejected`, `crash_loop`, ...); `reason` says it to the user.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ConnectionState {
    Connecting {
        target: ConnectionTarget,
    },
    Connected {
        target: ConnectionTarget,
        version: String,
        protocol_version: u32,
    },
    /// Reconnecting (a server) or restarting (the bundled CLI) after `attempt` failures.
    Restarting {
        target: ConnectionTarget,
        attempt: u32,
        code: String,
        reason: String,
        retry_in_ms: u32,
    },
    /// Given up until the user acts (Retry, or new settings).
    Failed {
        target: ConnectionTarget,
        code: String,
        reason: String,
    },
    Stopped,
}

/// A live connection. `generation` grows by one with every (re)connect, so holders can tell a
/// fresh CLI from the one they attached to.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub generation: u64,
}

enum Control {
    Retry,
    Restart(Option<CliTarget>),
    Shutdown(tokio::sync::oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct CliSupervisor {
    shared: Arc<Shared>,
}

struct Shared {
    state: watch::Sender<ConnectionState>,
    connection: watch::Sender<Option<Connection>>,
    control: mpsc::UnboundedSender<Control>,
    child_pid: Mutex<Option<u32>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl CliSupervisor {
    /// Start supervising: connects in the background; watch the state to see the outcome.
    pub fn start(target: CliTarget, policy: RestartPolicy) -> Self {
        let (state, _) = watch::channel(ConnectionState::Connecting { target: target.describe() });
        let (connection, _) = watch::channel(None);
        let (control, control_rx) = mpsc::unbounded_channel();
        let shared =
            Arc::new(Shared { state, connection, control, child_pid: Mutex::new(None), task: Mutex::new(None) });
        let task = tokio::spawn(run(shared.clone(), target, policy, control_rx));
        *shared.task.lock().unwrap() = Some(task);
        Self { shared }
    }

    pub fn state(&self) -> ConnectionState {
        self.shared.state.borrow().clone()
    }

    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    pub fn watch_connection(&self) -> watch::Receiver<Option<Connection>> {
        self.shared.connection.subscribe()
    }

    /// The current connection, or `NotConnected` with the reason the UI shows.
    pub fn connection(&self) -> EngineResult<Connection> {
        if let Some(connection) = self.shared.connection.borrow().clone() {
            return Ok(connection);
        }
        Err(EngineError::NotConnected { reason: state_reason(&self.state()) })
    }

    /// Wait until connected (or until the supervisor has given up).
    pub async fn connected(&self, timeout: Duration) -> EngineResult<Connection> {
        let mut rx = self.watch_connection();
        let mut state_rx = self.watch_state();
        let wait = async {
            loop {
                let connection = rx.borrow_and_update().clone();
                match (&*state_rx.borrow_and_update(), connection) {
                    (ConnectionState::Connected { .. }, Some(connection)) => return Ok(connection),
                    (ConnectionState::Failed { reason, .. }, _) => {
                        return Err(EngineError::NotConnected { reason: Some(reason.clone()) });
                    }
                    _ => {}
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() { break },
                    r = state_rx.changed() => if r.is_err() { break },
                }
            }
            Err(EngineError::NotConnected { reason: Some("the supervisor stopped".into()) })
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| Err(EngineError::NotConnected { reason: state_reason(&self.state()) }))
    }

    /// The bundled CLI's process id while it runs (diagnostics and tests).
    pub fn cli_pid(&self) -> Option<u32> {
        *self.shared.child_pid.lock().unwrap()
    }

    /// Try again after the supervisor gave up.
    pub fn retry(&self) {
        let _ = self.shared.control.send(Control::Retry);
    }

    /// Restart the CLI, optionally with a new target (after sign-in or sign-out, or another CLI
    /// chosen in Settings).
    pub fn restart(&self, target: Option<CliTarget>) {
        let _ = self.shared.control.send(Control::Restart(target));
    }

    /// Stop the CLI (gracefully, then by force) and wait until it is gone.
    pub async fn shutdown(&self) {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        if self.shared.control.send(Control::Shutdown(done_tx)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(8), done_rx).await;
        }
        if let Some(task) = self.shared.task.lock().unwrap().take() {
            task.abort();
        }
    }
}

fn state_reason(state: &ConnectionState) -> Option<String> {
    match state {
        ConnectionState::Connecting { .. } => Some("still connecting".into()),
        ConnectionState::Restarting { reason, .. } | ConnectionState::Failed { reason, .. } => Some(reason.clone()),
        ConnectionState::Stopped => Some("stopped".into()),
        ConnectionState::Connected { .. } => None,
    }
}

/// A connected CLI, as long as it lasts.
struct Running {
    client: Client,
    child: Option<GuardedChild>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

enum Ended {
    Lost(Failure),
    Control(Control),
}

/// Why a connection failed or ended: a code for the UI, words for the user, and whether trying
/// again can help before the user changes something.
struct Failure {
    code: String,
    reason: String,
    needs_user: bool,
}

impl Failure {
    fn new(code: &str, reason: String) -> Self {
        Self { code: code.to_owned(), reason, needs_user: false }
    }
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        let needs_user = match &error {
            // A missing binary will not appear by retrying: fail at once with what to do.
            EngineError::CliMissing { .. } => true,
            EngineError::Server { problem, .. } => problem.needs_user(),
            _ => false,
        };
        Self { code: error.code().to_owned(), reason: error.to_string(), needs_user }
    }
}

async fn run(
    shared: Arc<Shared>,
    mut target: CliTarget,
    policy: RestartPolicy,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    // The bundled CLI: crashes inside the window. A server: failures since it last answered.
    let mut crashes: VecDeque<Instant> = VecDeque::new();
    let mut server_failures = 0u32;
    let mut generation = 0u64;
    loop {
        let failure: Failure = match connect(&target, &policy).await {
            Ok(mut running) => {
                generation += 1;
                server_failures = 0;
                let status = running.client.get_status().await;
                let (version, protocol_version) = match status {
                    Ok(s) => (s.version, s.protocol_version),
                    Err(_) => ("unknown".into(), running.client.protocol_version().unwrap_or(0)),
                };
                tracing::info!(%version, protocol_version, generation, target = ?target.describe(), "Copilot CLI connected");
                *shared.child_pid.lock().unwrap() = running.child.as_ref().and_then(|c| c.id());
                // Connection first: whoever sees "connected" can use it at once.
                shared.connection.send_replace(Some(Connection { client: running.client.clone(), generation }));
                shared.state.send_replace(ConnectionState::Connected {
                    target: target.describe(),
                    version,
                    protocol_version,
                });
                let ended = watch_running(&mut running, &target, &policy, &mut control).await;
                shared.connection.send_replace(None);
                *shared.child_pid.lock().unwrap() = None;
                match ended {
                    Ended::Lost(failure) => {
                        stop_running(running, false).await;
                        failure
                    }
                    Ended::Control(Control::Shutdown(done)) => {
                        stop_running(running, true).await;
                        shared.state.send_replace(ConnectionState::Stopped);
                        let _ = done.send(());
                        return;
                    }
                    Ended::Control(Control::Restart(new_target)) => {
                        stop_running(running, true).await;
                        if let Some(t) = new_target {
                            target = t;
                        }
                        crashes.clear();
                        shared.state.send_replace(ConnectionState::Connecting { target: target.describe() });
                        continue;
                    }
                    Ended::Control(Control::Retry) => unreachable!("retry is ignored while connected"),
                }
            }
            Err(error) => Failure::from(error),
        };

        tracing::warn!(code = %failure.code, reason = %failure.reason, "Copilot CLI connection lost");
        let (attempt, give_up) = match &target {
            CliTarget::External(_) => {
                // Someone else's server: it may be restarting, or the network may come back.
                // Only what the user has to fix (a token, the address) stops the retries.
                server_failures += 1;
                (server_failures, failure.needs_user)
            }
            CliTarget::Bundled(_) => {
                let now = Instant::now();
                if failure.needs_user {
                    crashes.extend(std::iter::repeat_n(now, policy.max_crashes as usize));
                }
                crashes.push_back(now);
                while crashes.front().is_some_and(|t| now.duration_since(*t) > policy.crash_window) {
                    crashes.pop_front();
                }
                let attempt = crashes.len() as u32;
                (attempt, attempt >= policy.max_crashes)
            }
        };
        if give_up {
            let (code, reason) = if failure.needs_user {
                (failure.code.clone(), failure.reason.clone())
            } else {
                let error = EngineError::CrashLoop {
                    crashes: attempt,
                    window_secs: policy.crash_window.as_secs(),
                    last: failure.reason.clone(),
                };
                (error.code().to_owned(), error.to_string())
            };
            tracing::error!(%code, %reason, "giving up on the Copilot CLI until the user retries");
            shared.state.send_replace(ConnectionState::Failed { target: target.describe(), code, reason });
            // Wait for the user: Retry, a new target, or the app closing.
            match control.recv().await {
                Some(Control::Retry) => {}
                Some(Control::Restart(t)) => {
                    if let Some(t) = t {
                        target = t;
                    }
                }
                Some(Control::Shutdown(done)) => {
                    shared.state.send_replace(ConnectionState::Stopped);
                    let _ = done.send(());
                    return;
                }
                None => return,
            }
            crashes.clear();
            server_failures = 0;
            shared.state.send_replace(ConnectionState::Connecting { target: target.describe() });
            continue;
        }
        let delay = match &target {
            CliTarget::External(_) => policy.server_backoff(attempt),
            CliTarget::Bundled(_) => policy.backoff(attempt),
        };
        shared.state.send_replace(ConnectionState::Restarting {
            target: target.describe(),
            attempt,
            code: failure.code,
            reason: failure.reason,
            retry_in_ms: delay.as_millis() as u32,
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            msg = control.recv() => match msg {
                Some(Control::Shutdown(done)) => {
                    shared.state.send_replace(ConnectionState::Stopped);
                    let _ = done.send(());
                    return;
                }
                Some(Control::Restart(new_target)) => {
                    if let Some(t) = new_target {
                        target = t;
                    }
                    crashes.clear();
                    server_failures = 0;
                    shared.state.send_replace(ConnectionState::Connecting { target: target.describe() });
                }
                // Retry: try now instead of after the wait.
                Some(Control::Retry) => {}
                None => return,
            }
        }
    }
}

/// Wait until the running CLI exits, stops answering, or the owner asks for something.
async fn watch_running(
    running: &mut Running,
    target: &CliTarget,
    policy: &RestartPolicy,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Ended {
    let lost = |detail: String| match target {
        CliTarget::Bundled(_) => {
            Ended::Lost(Failure::new("cli_unresponsive", format!("the Copilot CLI is not answering ({detail})")))
        }
        CliTarget::External(server) => {
            let problem = ServerProblem::Lost(detail);
            Ended::Lost(Failure::new(problem.code(), problem.message(&server.address())))
        }
    };
    let interval = match target {
        CliTarget::Bundled(_) => policy.health_interval,
        CliTarget::External(_) => policy.server_health_interval,
    };
    let mut failed_pings = 0u32;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        let exited = async {
            match running.child.as_mut() {
                Some(child) => child.wait().await.map(|s| s.to_string()).ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = exited => {
                let tail = last_lines(&running.stderr_tail);
                let status = status.unwrap_or_else(|| "unknown status".into());
                return Ended::Lost(Failure::new("cli_exited", format!("the Copilot CLI exited ({status}){tail}")));
            }
            msg = control.recv() => match msg {
                Some(Control::Retry) => continue,
                Some(other) => return Ended::Control(other),
                None => return Ended::Control(Control::Restart(None)),
            },
            _ = ticker.tick() => {
                let ping = tokio::time::timeout(Duration::from_secs(5), running.client.ping(None)).await;
                match ping {
                    Ok(Ok(_)) => failed_pings = 0,
                    // The connection is gone (the server stopped, the network dropped it): no
                    // later ping can succeed, so do not wait for three.
                    Ok(Err(e)) if e.is_transport_failure() => {
                        tracing::warn!(error = %e, "the connection to the Copilot CLI is closed");
                        return lost(e.to_string());
                    }
                    Ok(Err(e)) => {
                        failed_pings += 1;
                        tracing::warn!(error = %e, failed_pings, "Copilot CLI ping failed");
                    }
                    Err(_) => {
                        failed_pings += 1;
                        tracing::warn!(failed_pings, "Copilot CLI ping timed out");
                    }
                }
                if failed_pings >= 3 {
                    return lost("three pings in a row went unanswered".into());
                }
            }
        }
    }
}

async fn stop_running(mut running: Running, graceful: bool) {
    if graceful {
        if running.child.is_some() {
            // We own the runtime: ask it to shut down cleanly (it flushes session state).
            let _ = tokio::time::timeout(Duration::from_secs(3), running.client.rpc().runtime().shutdown()).await;
        } else {
            // Someone else's server: detach our sessions, never shut it down.
            let _ = tokio::time::timeout(Duration::from_secs(3), running.client.stop()).await;
        }
    }
    running.client.force_stop();
    if let Some(mut child) = running.child.take() {
        child.terminate(Duration::from_secs(2)).await;
    }
}

async fn connect(target: &CliTarget, policy: &RestartPolicy) -> EngineResult<Running> {
    match target {
        CliTarget::Bundled(cli) => connect_bundled(cli, policy).await,
        CliTarget::External(server) => connect_external(server, policy).await,
    }
}

async fn connect_bundled(cli: &BundledCli, policy: &RestartPolicy) -> EngineResult<Running> {
    let path = cli.program.display().to_string();
    if !cli.program.is_file() {
        return Err(EngineError::CliMissing { path });
    }
    let mut args: Vec<OsString> = ["--server", "--stdio", "--no-auto-update"].into_iter().map(OsString::from).collect();
    let mut env: Vec<(OsString, OsString)> = cli.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    if let Some(home) = &cli.copilot_home {
        env.push(("COPILOT_HOME".into(), home.into()));
    }
    if let CliAuth::Token(token) = &cli.auth {
        logging::register_secret(token);
        // The token travels in the environment only; argv is visible to every local user.
        args.extend(["--auth-token-env", "COPILOT_SDK_AUTH_TOKEN", "--no-auto-login"].map(OsString::from));
        env.push(("COPILOT_SDK_AUTH_TOKEN".into(), token.expose().into()));
    }
    let spec = ChildSpec {
        program: cli.program.clone(),
        args,
        env,
        // A server's token in the app's environment is for that server, not for the bundled CLI
        // and the commands it runs.
        env_remove: vec!["COPILOT_CONNECTION_TOKEN".into()],
        working_directory: cli.working_directory.clone(),
    };
    let (mut child, pipes) = GuardedChild::spawn(&spec).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => EngineError::CliMissing { path: path.clone() },
        _ => EngineError::CliUnusable { path: path.clone(), reason: e.to_string() },
    })?;
    tracing::info!(pid = ?child.id(), program = %path, "started the Copilot CLI");
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    forward_stderr(pipes.stderr, stderr_tail.clone());

    let client = Client::from_streams(pipes.stdout, pipes.stdin, cli.working_directory.clone())
        .map_err(|e| EngineError::CliUnusable { path: path.clone(), reason: e.to_string() })?;
    let handshake = async {
        tokio::select! {
            r = tokio::time::timeout(policy.handshake_timeout, client.verify_protocol_version()) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no handshake within {:?}", policy.handshake_timeout)),
            },
            status = child.wait() => Err(format!("it exited during start-up ({})",
                status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()))),
        }
    };
    if let Err(reason) = handshake.await {
        client.force_stop();
        child.kill_tree();
        let reason = format!("{reason}{}", last_lines(&stderr_tail));
        return Err(EngineError::CliUnusable { path, reason });
    }
    Ok(Running { client, child: Some(child), stderr_tail })
}

async fn connect_external(server: &ExternalServer, policy: &RestartPolicy) -> EngineResult<Running> {
    let client = server::connect(server, policy.server_timeout)
        .await
        .map_err(|problem| EngineError::Server { address: server.address(), problem })?;
    Ok(Running { client, child: None, stderr_tail: Arc::default() })
}

/// Forward the CLI's stderr into our log, line by line, keeping the last few for error messages.
fn forward_stderr(stderr: tokio::process::ChildStderr, tail: Arc<Mutex<VecDeque<String>>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let line = logging::redact(&line).into_owned();
            tracing::info!(target: "copilot_cli", "{line}");
            let mut tail = tail.lock().unwrap();
            if tail.len() == 5 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    });
}

fn last_lines(tail: &Mutex<VecDeque<String>>) -> String {
    let tail = tail.lock().unwrap();
    if tail.is_empty() {
        String::new()
    } else {
        format!("; it said: {}", tail.iter().cloned().collect::<Vec<_>>().join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RestartPolicy::default();
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(187) && first <= Duration::from_millis(313), "{first:?}");
        let fourth = policy.backoff(4);
        assert!(fourth >= Duration::from_millis(1500) && fourth <= Duration::from_millis(2500), "{fourth:?}");
        for attempt in [10, 20, 40] {
            assert!(policy.backoff(attempt) <= policy.max_backoff);
        }
    }

    #[test]
    fn connection_state_serializes_for_the_ui() {
        let state = ConnectionState::Restarting {
            target: ConnectionTarget::Server { address: "devbox:4321".into() },
            attempt: 2,
            code: "server_refused".into(),
            reason: "boom".into(),
            retry_in_ms: 500,
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "restarting", "target": {"kind": "server", "address": "devbox:4321"},
                "attempt": 2, "code": "server_refused", "reason": "boom", "retryInMs": 500})
        );
        let connected = ConnectionState::Connected {
            target: ConnectionTarget::Bundled,
            version: "1.0.102".into(),
            protocol_version: 3,
        };
        assert_eq!(
            serde_json::to_value(&connected).unwrap(),
            serde_json::json!({"state": "connected", "target": {"kind": "bundled"}, "version": "1.0.102", "protocolVersion": 3})
        );
    }

    #[test]
    fn a_server_is_retried_with_a_capped_wait() {
        let policy = RestartPolicy::default();
        for attempt in [1, 5, 10, 100, 10_000] {
            assert!(policy.server_backoff(attempt) <= policy.server_max_backoff, "{attempt}");
        }
    }
}
