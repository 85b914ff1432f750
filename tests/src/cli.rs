//! The real Copilot CLI for tests, and a throwaway home per test.
//!
//! A missing CLI fails the test run with instructions; it never skips.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use github_copilot_sdk::{CliProgram, ClientOptions};

/// Environment variable that overrides the CLI location.
pub const CLI_PATH_ENV: &str = "COPILOT_CLI_PATH";

/// Variables that could leak a developer's real credentials or settings into a test CLI.
pub const SCRUBBED_ENV: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "COPILOT_GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GH_HOST",
    "COPILOT_GH_HOST",
    "COPILOT_API_URL",
    "COPILOT_DEBUG_GITHUB_API_URL",
    "COPILOT_OFFLINE",
    "COPILOT_ALLOW_ALL",
    "COPILOT_MODEL",
    "COPILOT_PROVIDER_BASE_URL",
    "COPILOT_PROVIDER_API_KEY",
    "COPILOT_PROVIDER_TYPE",
    "COPILOT_HMAC_KEY",
    "CAPI_HMAC_KEY",
    "OPENAI_API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The Rust target triple of the host, as used in `src-tauri/binaries/copilot-desktop-cli-<triple>[.exe]`.
pub fn host_triple() -> &'static str {
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        "x86_64-unknown-linux-gnu"
    } else if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
        "aarch64-unknown-linux-gnu"
    } else if cfg!(all(target_os = "macos", target_arch = "x86_64")) {
        "x86_64-apple-darwin"
    } else if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        "aarch64-apple-darwin"
    } else if cfg!(all(target_os = "windows", target_arch = "x86_64")) {
        "x86_64-pc-windows-msvc"
    } else if cfg!(all(target_os = "windows", target_arch = "aarch64")) {
        "aarch64-pc-windows-msvc"
    } else {
        panic!("no Copilot CLI is published for this platform")
    }
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Where `vendor/` places the CLI for the host: `src-tauri/binaries/copilot-desktop-cli-<triple>[.exe]`.
pub fn vendored_cli_path() -> PathBuf {
    let exe = if cfg!(windows) { ".exe" } else { "" };
    let name = format!("{}-{}{exe}", copilot_desktop::BUNDLED_CLI_NAME, host_triple());
    workspace_root().join("src-tauri").join("binaries").join(name)
}

/// The CLI the tests run: `$COPILOT_CLI_PATH` if set, else the vendored binary.
///
/// # Panics
/// When the file is missing or not executable, with instructions to fetch it. Never skips.
pub fn cli_path() -> PathBuf {
    let (path, origin) = match std::env::var_os(CLI_PATH_ENV) {
        Some(p) if !p.is_empty() => (PathBuf::from(p), format!("${CLI_PATH_ENV}")),
        _ => (vendored_cli_path(), "the vendored CLI".to_owned()),
    };
    if let Err(problem) = check_executable(&path) {
        panic!(
            "\n\nThe Copilot CLI is required by these tests and is not usable.\n  \
             {origin}: {}\n  problem: {problem}\n\n\
             Fetch the pinned, checksum-verified CLI with:\n\n    \
             node vendor/fetch-cli.mjs\n\n\
             (run it from the workspace root, {}), or point {CLI_PATH_ENV} at a Copilot CLI binary.\n",
            path.display(),
            workspace_root().display(),
        );
    }
    path
}

fn check_executable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it ({e})"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() == 0 {
        return Err("empty file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err("not executable (chmod +x it, or fetch it again)".into());
        }
    }
    Ok(())
}

/// The CLI's package cache shared by all tests of this build: `<target>/<profile>/copilot-test-cache`.
///
/// On its first run the CLI unpacks its runtime (about 100 MB) into `$COPILOT_CACHE_HOME`;
/// with a fresh cache per test `Client::start` takes about 2 s on this machine, with a warm
/// shared one about 0.5 s. The first call warms it with `copilot --version` (once per process).
pub fn shared_cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Test binaries live in <target>/<profile>/deps/.
        let dir = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("copilot-test-cache")))
            .unwrap_or_else(|| std::env::temp_dir().join("copilot-desktop-test-cache"));
        std::fs::create_dir_all(&dir).expect("create the shared CLI cache dir");
        let scratch = tempfile::tempdir().expect("temp dir");
        let status = Command::new(cli_path())
            .arg("--version")
            .env("COPILOT_CACHE_HOME", &dir)
            .env("HOME", scratch.path())
            .env("XDG_CACHE_HOME", scratch.path())
            .env("COPILOT_HOME", scratch.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            panic!("`{} --version` failed ({status:?}): the CLI does not run here", cli_path().display());
        }
        dir
    })
    .clone()
}

/// A throwaway home for one test: `COPILOT_HOME`, `HOME`, XDG dirs and a working directory,
/// all inside one temporary directory that is deleted on drop.
///
/// Layout: `<root>/home` (HOME, XDG_*), `<root>/copilot` (COPILOT_HOME), `<root>/work` (cwd).
/// `COPILOT_CACHE_HOME` (the CLI's unpacked runtime, not user state) is [`shared_cache_dir`]
/// unless the home was made with [`TestHome::with_isolated_cache`].
pub struct TestHome {
    dir: tempfile::TempDir,
    cache: PathBuf,
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    /// Create the directories (the CLI cache is shared; see [`shared_cache_dir`]).
    pub fn new() -> Self {
        Self::create(Some(shared_cache_dir()))
    }

    /// Like [`Self::new`], but the CLI unpacks itself into this home too (slower start,
    /// nothing shared with other tests).
    pub fn with_isolated_cache() -> Self {
        Self::create(None)
    }

    fn create(cache: Option<PathBuf>) -> Self {
        let dir = tempfile::Builder::new().prefix("copilot-desktop-test-").tempdir().expect("create temp dir");
        let root = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().to_path_buf());
        let cache = cache.unwrap_or_else(|| root.join("home/.cache/copilot"));
        let home = TestHome { dir, cache };
        for d in [home.home(), home.copilot_home(), home.work_dir()] {
            std::fs::create_dir_all(d).expect("create test dirs");
        }
        home
    }

    /// `COPILOT_CACHE_HOME` for the CLI.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache.clone()
    }

    /// The temporary root (canonical path).
    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path()).unwrap_or_else(|_| self.dir.path().to_path_buf())
    }

    /// Used as `HOME` (and the XDG base directories under it).
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// Used as `COPILOT_HOME`: sessions persist under `session-state/` here.
    pub fn copilot_home(&self) -> PathBuf {
        self.root().join("copilot")
    }

    /// A scratch working directory for the CLI and the commands it runs.
    pub fn work_dir(&self) -> PathBuf {
        self.root().join("work")
    }

    /// `<copilot_home>/session-state`.
    pub fn session_state_dir(&self) -> PathBuf {
        self.copilot_home().join("session-state")
    }

    /// Environment that confines the CLI to this home.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let home = self.home();
        vec![
            ("HOME".into(), home.clone().into()),
            ("USERPROFILE".into(), home.clone().into()),
            ("COPILOT_HOME".into(), self.copilot_home().into()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").into()),
            ("XDG_STATE_HOME".into(), home.join(".local/state").into()),
            ("XDG_DATA_HOME".into(), home.join(".local/share").into()),
            ("XDG_CACHE_HOME".into(), home.join(".cache").into()),
            ("COPILOT_CACHE_HOME".into(), self.cache.clone().into()),
            ("GH_CONFIG_DIR".into(), home.join(".config/gh").into()),
            ("NO_PROXY".into(), "127.0.0.1,localhost,::1".into()),
            ("no_proxy".into(), "127.0.0.1,localhost,::1".into()),
        ]
    }

    /// SDK options for the real CLI in this home: explicit program path, `base_directory` =
    /// [`Self::copilot_home`], cwd = [`Self::work_dir`], this home's environment, credential
    /// variables ([`SCRUBBED_ENV`]) removed, no logged-in-user fallback, client telemetry off.
    ///
    /// For the token path use [`Self::client_options_with_env`]`(fake_github.env())` and then
    /// `.with_github_token(..)`. Do not call `ClientOptions::with_env` afterwards: it replaces
    /// the whole list (extend `options.env` instead).
    pub fn client_options(&self) -> ClientOptions {
        self.client_options_with_env(Vec::<(OsString, OsString)>::new())
    }

    /// [`Self::client_options`] plus `extra` variables (later entries win; a variable set here
    /// is not scrubbed).
    pub fn client_options_with_env<I, K, V>(&self, extra: I) -> ClientOptions
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut env = self.env();
        env.extend(extra.into_iter().map(|(k, v)| (k.into(), v.into())));
        // The SDK applies `env_remove` after `env`: never remove what we set.
        let remove: Vec<&str> =
            SCRUBBED_ENV.iter().copied().filter(|name| !env.iter().any(|(k, _)| k == name)).collect();
        ClientOptions::new()
            .with_program(CliProgram::Path(cli_path()))
            .with_base_directory(self.copilot_home())
            .with_cwd(self.work_dir())
            .with_env(env)
            .with_env_remove(remove)
            .with_use_logged_in_user(false)
            .with_disable_client_telemetry(true)
    }
}
