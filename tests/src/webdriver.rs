//! WebDriver against the real webview: `tauri-driver` in front of the platform's native driver
//! (WebKitWebDriver on Linux), and a [`fantoccini`] session whose "browser" is the app binary.
//!
//! How the app gets its environment: tauri-driver turns `tauri:options {application, args}` into
//! WebKitWebDriver's `webkitgtk:browserOptions {binary, args}`, and neither has a field for
//! environment variables. WebKitWebDriver starts the app with its own environment, which it
//! inherited from tauri-driver. So each [`Driver`] is started with exactly the environment its
//! app should see (HOME, COPILOT_HOME, XDG_* in a temp dir, ...): one driver per app.
//!
//! Cleanup: tauri-driver leads a process group of its own, which WebKitWebDriver, the app and
//! the WebKit helpers join. Dropping a [`Driver`] (also while a test panics) kills that group and
//! every descendant found in `/proc`, which includes the CLI (it leads a group of its own).
//!
//! Missing tools or display panic with what to install. Nothing here ever skips.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long tauri-driver (and the native driver behind it) may take to answer `/status`.
const DRIVER_START_GUARD: Duration = Duration::from_secs(30);
/// How long creating a session (the app starting and its webview loading) may take.
const SESSION_START_GUARD: Duration = Duration::from_secs(60);

const SETUP_HINT: &str = "`./scripts/setup.sh --test` installs the test tools";

/// The native WebDriver tauri-driver forwards to.
#[cfg(target_os = "linux")]
const NATIVE_DRIVER: &str = "WebKitWebDriver";
#[cfg(windows)]
const NATIVE_DRIVER: &str = "msedgedriver.exe";
#[cfg(not(any(target_os = "linux", windows)))]
const NATIVE_DRIVER: &str = "(none: tauri-driver supports Linux and Windows only)";

/// The programs a WebDriver test needs, found or panicked over.
#[derive(Debug, Clone)]
pub struct Tools {
    pub tauri_driver: PathBuf,
    pub native_driver: PathBuf,
}

/// Find tauri-driver, the native driver and a display.
///
/// # Panics
/// When any of them is missing, naming what to install. Never skips.
pub fn require_tools() -> Tools {
    if cfg!(not(any(target_os = "linux", windows))) {
        panic!("WebDriver tests run on Linux (and Windows); tauri-driver does not support this platform");
    }
    let exe = std::env::consts::EXE_SUFFIX;
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|dir| dir.join("bin"));
    let tauri_driver = find_program(&format!("tauri-driver{exe}"), cargo_bin.as_deref()).unwrap_or_else(|| {
        panic!(
            "tauri-driver is not installed (looked in PATH and $CARGO_HOME/bin). {SETUP_HINT} \
             (here: `cargo install tauri-driver --version =2.1.0 --locked`)"
        )
    });
    let native_driver = find_program(NATIVE_DRIVER, None).unwrap_or_else(|| {
        panic!(
            "{NATIVE_DRIVER} is not on PATH. {SETUP_HINT} (here: the Debian/Ubuntu package \
             `webkit2gtk-driver`)"
        )
    });
    if cfg!(target_os = "linux") && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        panic!(
            "DISPLAY is not set: WebDriver tests need an X display. Run them under Xvfb: \
             `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test app_window`. \
             {SETUP_HINT} (here: xvfb and dbus)"
        );
    }
    Tools { tauri_driver, native_driver }
}

fn find_program(name: &str, extra_dir: Option<&Path>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dir.map(Path::to_path_buf))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// What a [`Driver`] (and so the app it starts) runs with.
#[derive(Debug, Clone, Default)]
pub struct DriverConfig {
    /// Variables set on top of the test process's environment.
    pub env: Vec<(OsString, OsString)>,
    /// Variables removed from the inherited environment (unless also in `env`).
    pub env_remove: Vec<OsString>,
    /// Working directory of tauri-driver, WebKitWebDriver and the app.
    pub working_dir: Option<PathBuf>,
    /// Where tauri-driver's, WebKitWebDriver's and the app's stdout and stderr go.
    pub log_file: PathBuf,
}

/// A running tauri-driver on 127.0.0.1 and everything it starts. Drop kills them all.
pub struct Driver {
    child: Child,
    port: u16,
    log_file: PathBuf,
    started_in: Duration,
}

impl Driver {
    /// Start tauri-driver on two free ports (its own and WebKitWebDriver's `--native-port`) and
    /// wait until both are ready. Retries with new ports if one was taken in the meantime.
    pub fn start(tools: &Tools, config: &DriverConfig) -> Driver {
        let began = Instant::now();
        let mut last_failure = String::new();
        for _ in 0..3 {
            let [port, native_port] = free_ports();
            let mut child = spawn(tools, config, port, native_port);
            match wait_until_ready(&mut child, port, native_port) {
                Ok(()) => {
                    return Driver { child, port, log_file: config.log_file.clone(), started_in: began.elapsed() };
                }
                Err(problem) => {
                    kill_tree(&mut child);
                    last_failure = format!("{problem}\n--- driver log ---\n{}", log_tail(&config.log_file, 40));
                }
            }
        }
        panic!("tauri-driver did not start: {last_failure}");
    }

    /// The WebDriver endpoint, e.g. `http://127.0.0.1:43123`.
    ///
    /// Use 127.0.0.1, not `localhost`: tauri-driver forwards to the host named in the request.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// tauri-driver's process id (it leads the process group of everything it starts).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How long it took until the driver answered.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The combined output of tauri-driver, WebKitWebDriver and the app.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// A WebDriver session on `application`: the driver starts the app and attaches to its
    /// webview. `args` become the app's command-line arguments.
    ///
    /// # Panics
    /// When the session cannot be created within the hang guard, with the driver log.
    pub async fn new_session(&self, application: &Path, args: &[String]) -> fantoccini::Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("tauri:options".into(), serde_json::json!({ "application": application, "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = fantoccini::ClientBuilder::new(connector);
        builder.capabilities(capabilities);
        match tokio::time::timeout(SESSION_START_GUARD, builder.connect(&self.url())).await {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => panic!(
                "could not create a WebDriver session for {}: {error}\n--- driver log ---\n{}",
                application.display(),
                log_tail(&self.log_file, 60)
            ),
            Err(_) => panic!(
                "no WebDriver session for {} within {SESSION_START_GUARD:?}\n--- driver log ---\n{}",
                application.display(),
                log_tail(&self.log_file, 60)
            ),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        kill_tree(&mut self.child);
    }
}

/// Two distinct free TCP ports on 127.0.0.1 (held together while picking, then released).
fn free_ports() -> [u16; 2] {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    [a.local_addr().unwrap().port(), b.local_addr().unwrap().port()]
}

fn spawn(tools: &Tools, config: &DriverConfig, port: u16, native_port: u16) -> Child {
    let log = File::options()
        .create(true)
        .append(true)
        .open(&config.log_file)
        .unwrap_or_else(|e| panic!("cannot open the driver log {}: {e}", config.log_file.display()));
    let mut command = Command::new(&tools.tauri_driver);
    command
        .arg("--port")
        .arg(port.to_string())
        .arg("--native-port")
        .arg(native_port.to_string())
        .arg("--native-host")
        .arg("127.0.0.1")
        .arg("--native-driver")
        .arg(&tools.native_driver)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log);
    for name in &config.env_remove {
        command.env_remove(name);
    }
    command.envs(config.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &config.working_dir {
        command.current_dir(dir);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.tauri_driver.display()))
}

/// Wait until WebKitWebDriver answers `GET /status` on its own port and tauri-driver accepts
/// connections on its port.
///
/// The probe must not go *through* tauri-driver: its HTTP client pools the connection to
/// WebKitWebDriver, WebKitWebDriver closes it after answering, and the next request (our
/// `POST /session`) can be sent on that dead connection. tauri-driver does not retry, so the
/// session then fails at once with "connection reset" and no app is started: about 1 launch in
/// 15 when four tests start together, never once with this probe.
fn wait_until_ready(child: &mut Child, port: u16, native_port: u16) -> Result<(), String> {
    let deadline = Instant::now() + DRIVER_START_GUARD;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("tauri-driver exited early ({status})"));
        }
        if status_ok(native_port) && TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "tauri-driver (port {port}, native port {native_port}) was not ready within {DRIVER_START_GUARD:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.1 200")
}

/// Kill the driver's process group and every descendant (snapshot taken first), then reap.
fn kill_tree(child: &mut Child) {
    #[cfg(unix)]
    {
        let descendants = processes::descendants(child.id());
        // SAFETY: plain kill(2) calls; the group is the one tauri-driver leads (process_group(0)).
        unsafe {
            libc::killpg(child.id() as libc::pid_t, libc::SIGKILL);
            for &pid in &descendants {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        // kill(2) only asks: wait until each is gone (or a zombie, whose sockets are closed), so a
        // relaunch never meets the old app still holding its single-instance name on D-Bus.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline
            && descendants.iter().any(|&pid| processes::read(pid).is_some_and(|p| p.state != 'Z'))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The last `lines` lines of a log file (for panic messages).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Processes as `/proc` shows them (Linux; elsewhere the lists are empty).
pub mod processes {
    use std::path::PathBuf;

    /// One process: enough to follow parentage and to tell it from a later one with its pid.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Process {
        pub pid: u32,
        pub ppid: u32,
        /// The running executable (`/proc/<pid>/exe`, already canonical), if readable; without
        /// the " (deleted)" the kernel appends once the file was replaced (say, by a rebuild).
        pub exe: Option<PathBuf>,
        /// `R`, `S`, `Z` (zombie), ... from `/proc/<pid>/stat`.
        pub state: char,
        /// Start time in clock ticks since boot: (pid, start_time) names one process for good.
        pub start_time: u64,
    }

    impl Process {
        /// Still running: present, not a zombie, and not a newer process with a reused pid.
        pub fn is_alive(&self) -> bool {
            matches!(read(self.pid), Some(now) if now.start_time == self.start_time && !matches!(now.state, 'Z' | 'X'))
        }
    }

    /// One process, or `None` if it is gone.
    pub fn read(pid: u32) -> Option<Process> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Process {
            pid,
            ppid: fields.get(1)?.parse().ok()?,
            exe: std::fs::read_link(format!("/proc/{pid}/exe")).ok().map(|exe| {
                let text = exe.to_string_lossy();
                text.strip_suffix(" (deleted)").map(PathBuf::from).unwrap_or(exe)
            }),
            state: fields.first()?.chars().next()?,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }

    /// Every process visible now.
    pub fn all() -> Vec<Process> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).filter_map(read).collect()
    }

    /// The children of `pid`.
    pub fn children(pid: u32) -> Vec<Process> {
        all().into_iter().filter(|p| p.ppid == pid).collect()
    }

    /// Children, grandchildren, ... of `root` (pids).
    pub fn descendants(root: u32) -> Vec<u32> {
        let all = all();
        let mut found = vec![root];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
            i += 1;
        }
        found.remove(0);
        found
    }
}
