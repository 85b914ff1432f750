//! The real Copilot CLI as a headless server (`copilot --headless --port N`), the way a user runs
//! it on another machine: its own home, its connection token (if any) in its environment as
//! `COPILOT_CONNECTION_TOKEN`, and signed in through `GH_TOKEN` against the fake GitHub +
//! Copilot API. It can be killed and started again on the same port, like a server that restarts.
//!
//! Seen with CLI 1.0.102: it prints `CLI server listening on port N` on stdout once it accepts
//! connections, listens on 127.0.0.1 only, and (without a token) warns on stderr "No
//! COPILOT_CONNECTION_TOKEN was set, so connections will be accepted from any client".

use std::ffi::OsString;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cli::{SCRUBBED_ENV, TestHome, cli_path};

/// How long the server may take to listen; a hang guard, not a timing expectation.
const START_GUARD: Duration = Duration::from_secs(60);

/// What the server runs with, besides its home.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// `COPILOT_CONNECTION_TOKEN` for the server; `None` starts it open to anyone.
    pub connection_token: Option<String>,
    /// More environment (the fake GitHub's URLs, `GH_TOKEN`, ...).
    pub env: Vec<(OsString, OsString)>,
}

/// A running headless CLI. Drop kills it (and its process group).
pub struct HeadlessServer {
    home: Arc<TestHome>,
    options: ServerOptions,
    port: u16,
    child: Option<Child>,
    /// Everything it printed, stdout and stderr, for failure messages.
    output: Arc<std::sync::Mutex<Vec<String>>>,
}

impl HeadlessServer {
    /// Start in a fresh home on a port the CLI picks.
    pub async fn start(options: ServerOptions) -> HeadlessServer {
        Self::start_in(Arc::new(TestHome::new()), options).await
    }

    /// Start in `home` on a port the CLI picks.
    pub async fn start_in(home: Arc<TestHome>, options: ServerOptions) -> HeadlessServer {
        let mut server = HeadlessServer { home, options, port: 0, child: None, output: Arc::default() };
        server.spawn().await;
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn home(&self) -> &TestHome {
        &self.home
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// What it printed so far.
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    /// Kill it (SIGKILL to its process group) and wait until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: a plain syscall on the process group this helper created.
                unsafe {
                    libc::killpg(pid as libc::pid_t, libc::SIGKILL);
                }
            }
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Start it again on the same port (after [`Self::kill`]). Returns how long until it listened.
    pub async fn restart(&mut self) -> Duration {
        self.kill().await;
        let began = Instant::now();
        self.spawn().await;
        began.elapsed()
    }

    async fn spawn(&mut self) {
        let mut command = Command::new(cli_path());
        command
            .args(["--headless", "--port", &self.port.to_string(), "--no-auto-update"])
            .current_dir(self.home.work_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut env = self.home.env();
        env.extend(self.options.env.iter().cloned());
        env.push(("COPILOT_AUTO_UPDATE".into(), "false".into()));
        if let Some(token) = &self.options.connection_token {
            env.push(("COPILOT_CONNECTION_TOKEN".into(), token.into()));
        }
        for name in SCRUBBED_ENV.iter().chain(&["COPILOT_CONNECTION_TOKEN"]) {
            if !env.iter().any(|(k, _)| k == name) {
                command.env_remove(name);
            }
        }
        command.envs(env);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", cli_path().display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel::<u16>();
        let output = self.output.clone();
        tokio::spawn(async move {
            let mut port_tx = Some(port_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) =
                    line.strip_prefix("CLI server listening on port ").and_then(|p| p.trim().parse().ok())
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
                output.lock().unwrap().push(line);
            }
        });
        let output = self.output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                output.lock().unwrap().push(line);
            }
        });
        self.child = Some(child);
        match tokio::time::timeout(START_GUARD, port_rx).await {
            Ok(Ok(port)) => {
                assert!(self.port == 0 || self.port == port, "asked for port {}, it listens on {port}", self.port);
                self.port = port;
                eprintln!("[server] headless CLI listening on 127.0.0.1:{port} (pid {:?})", self.pid());
            }
            _ => panic!("the headless CLI did not start listening; it said: {:#?}", self.output()),
        }
    }
}

impl Drop for HeadlessServer {
    fn drop(&mut self) {
        if let Some(pid) = self.child.as_ref().and_then(|c| c.id()) {
            // SAFETY: a plain syscall on the process group this helper created.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}
