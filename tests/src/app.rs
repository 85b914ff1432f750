//! The built app as a person meets it: [`AppUnderTest`] starts `target/debug/copilot-desktop`
//! under WebDriver in a throwaway home ([`TestHome`]), finds controls by role and accessible
//! name ([`Target`]), waits for what should appear, and saves screenshots to `target/screenshots/`.
//!
//! Nothing is built here: `cargo build -p copilot-desktop` (with `ui/dist` built) comes first.
//! Every wait takes a hang guard, never a timing expectation.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::Element;

use crate::cli::{SCRUBBED_ENV, TestHome};
use crate::webdriver::{self, Driver, DriverConfig, processes};

/// Overrides the app binary under test (default: `<target>/debug/copilot-desktop`).
pub const APP_PATH_ENV: &str = "COPILOT_DESKTOP_APP";

/// Variables that choose the app's CLI: never inherited from the developer's shell.
const APP_ENV_REMOVED: &[&str] = &["COPILOT_DESKTOP_CLI", "COPILOT_DESKTOP_SERVER", "COPILOT_CLI_PATH"];

const POLL: Duration = Duration::from_millis(100);

/// The workspace root: the parent of this crate, symlinks resolved. The run-time
/// `CARGO_MANIFEST_DIR` (set by `cargo test`) wins over the compile-time one, because builds
/// sharing one target dir may have compiled this file through another checkout's path.
fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let manifest_dir = canonical(&manifest_dir);
    manifest_dir.parent().expect("tests/ has a parent").to_path_buf()
}

/// The profile directory the tests were built into (`<target>/debug` for `cargo test`): test binaries live in
/// `<target>/<profile>/deps/`, binaries such as the benchmarks in `<target>/<profile>/`. The app is expected there.
fn profile_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let dir = exe.parent()?;
            Some(if dir.file_name().is_some_and(|name| name == "deps") { dir.parent()? } else { dir }.to_path_buf())
        })
        .unwrap_or_else(|| workspace_root().join("target").join("debug"))
}

/// Cargo's target directory (the parent of [`profile_dir`]).
pub fn target_dir() -> PathBuf {
    profile_dir().parent().map(Path::to_path_buf).unwrap_or_else(|| workspace_root().join("target"))
}

/// The app binary under test: `$COPILOT_DESKTOP_APP` (a relative path is taken from the current
/// directory: the driver starts the app from elsewhere), else `copilot-desktop` in the profile
/// directory the tests were built into (`target/debug/copilot-desktop` for `cargo test`).
pub fn app_binary() -> PathBuf {
    match std::env::var_os(APP_PATH_ENV) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if path.is_absolute() { path } else { std::env::current_dir().unwrap_or_default().join(path) }
        }
        _ => profile_dir().join(format!("copilot-desktop{}", std::env::consts::EXE_SUFFIX)),
    }
}

/// The CLI the build placed next to the app (what the app runs unless told otherwise).
pub fn bundled_cli() -> PathBuf {
    app_binary().with_file_name(format!("{}{}", copilot_desktop::BUNDLED_CLI_NAME, std::env::consts::EXE_SUFFIX))
}

/// Where [`AppUnderTest::screenshot`] saves: `<target>/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

/// The CLI version pinned in `vendor/cli.json`.
pub fn pinned_cli_version() -> String {
    let path = workspace_root().join("vendor").join("cli.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("vendor/cli.json is JSON");
    manifest["version"].as_str().expect("vendor/cli.json has a string `version`").to_owned()
}

/// Something on screen, found the way a person would: by role and accessible name.
#[derive(Debug, Clone)]
pub struct Target {
    xpath: String,
    description: String,
}

impl Target {
    /// An element with `role="<role>"` whose accessible name (its `aria-label`, else its
    /// whitespace-normalised text) is exactly `name`.
    pub fn role(role: &str, name: &str) -> Self {
        Target {
            xpath: format!("//*[@role={}][{}]", xpath_literal(role), name_matches(name)),
            description: format!("{role} \"{name}\""),
        }
    }

    /// A live region such as the status bar: `role="status"` named `name`.
    pub fn status(name: &str) -> Self {
        Self::role("status", name)
    }

    /// A button (`<button>` or `role="button"`) named `name` (its label or its text).
    pub fn button(name: &str) -> Self {
        let matches = name_matches(name);
        Target {
            xpath: format!("//button[{matches}] | //*[@role='button'][{matches}]"),
            description: format!("button \"{name}\""),
        }
    }

    /// An open modal or dialog (`<dialog open>` or `role="dialog"`/`"alertdialog"`) named by its
    /// `aria-label` or by a heading inside it (what `aria-labelledby` points at).
    pub fn dialog(name: &str) -> Self {
        let literal = xpath_literal(name);
        let named =
            format!("@aria-label={literal} or .//*[self::h1 or self::h2 or self::h3][normalize-space(.)={literal}]");
        Target {
            xpath: format!("//dialog[@open][{named}] | //*[@role='dialog' or @role='alertdialog'][{named}]"),
            description: format!("dialog \"{name}\""),
        }
    }

    /// A text field (`<textarea>`, `<input>`) named by its `aria-label` or its `<label>`.
    pub fn textbox(name: &str) -> Self {
        let literal = xpath_literal(name);
        Target {
            xpath: format!(
                "//textarea[@aria-label={literal}] | //input[@aria-label={literal}] | \
                 //label[normalize-space(.)={literal}]//*[self::input or self::textarea] | \
                 //*[self::input or self::textarea][@id=//label[normalize-space(.)={literal}]/@for]"
            ),
            description: format!("textbox \"{name}\""),
        }
    }

    /// A `<select>` named by its `aria-label` or its `<label>`.
    pub fn select(name: &str) -> Self {
        let literal = xpath_literal(name);
        Target {
            xpath: format!(
                "//select[@aria-label={literal}] | //label[normalize-space(.)={literal}]//select | \
                 //select[@id=//label[normalize-space(.)={literal}]/@for]"
            ),
            description: format!("select \"{name}\""),
        }
    }

    /// A radio button or checkbox named by the `<label>` around it (or pointing at it).
    pub fn choice(name: &str) -> Self {
        let literal = xpath_literal(name);
        Target {
            xpath: format!(
                "//label[normalize-space(.)={literal}]//input[@type='radio' or @type='checkbox'] | \
                 //input[@type='radio' or @type='checkbox'][@id=//label[normalize-space(.)={literal}]/@for]"
            ),
            description: format!("choice \"{name}\""),
        }
    }

    /// Only the matches of `self` inside an element matching `outer`.
    pub fn within(&self, outer: &Target) -> Self {
        Target {
            xpath: format!("({})[ancestor::*[count(. | {}) = count({})]]", self.xpath, outer.xpath, outer.xpath),
            description: format!("{} in {}", self.description, outer.description),
        }
    }

    /// An `<article>` named `name` (a chat message: "You", "Copilot"; a tool card: "Tool: bash").
    pub fn article(name: &str) -> Self {
        Target {
            xpath: format!("//article[@aria-label={}]", xpath_literal(name)),
            description: format!("article \"{name}\""),
        }
    }

    /// The `index`-th (1-based) match of `self`, in document order.
    pub fn nth(&self, index: usize) -> Self {
        Target { xpath: format!("({})[{index}]", self.xpath), description: format!("{} #{index}", self.description) }
    }

    /// The last match of `self`, in document order.
    pub fn last(&self) -> Self {
        Target { xpath: format!("({})[last()]", self.xpath), description: format!("last {}", self.description) }
    }

    /// Any XPath, for what roles cannot express. `description` is for messages.
    pub fn xpath(xpath: &str, description: &str) -> Self {
        Target { xpath: xpath.to_owned(), description: description.to_owned() }
    }

    pub fn as_xpath(&self) -> &str {
        &self.xpath
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

fn name_matches(name: &str) -> String {
    let name = xpath_literal(name);
    format!("@aria-label={name} or (not(@aria-label) and normalize-space(.)={name})")
}

/// `s` as an XPath 1.0 string literal (which has no escapes: quotes need `concat`).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// The app's log files in `home` (`$XDG_DATA_HOME/<identifier>/logs`), concatenated oldest first.
pub fn app_log_text(home: &TestHome) -> String {
    let dir = home.home().join(".local/share").join(copilot_desktop::auth::keychain::APP_IDENTIFIER).join("logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect::<Vec<_>>().join("")
}

/// What the app under test starts with, besides its throwaway home.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    env: Vec<(OsString, OsString)>,
    args: Vec<String>,
}

impl LaunchOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a variable for the app (and, through it, the CLI). Later values win.
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Run this CLI instead of the bundled one (`COPILOT_DESKTOP_CLI`).
    pub fn cli_program(self, path: impl AsRef<Path>) -> Self {
        self.env("COPILOT_DESKTOP_CLI", path.as_ref())
    }

    /// A command-line argument for the app.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// How long starting took.
#[derive(Debug, Clone, Copy)]
pub struct LaunchTimings {
    /// Until tauri-driver and WebKitWebDriver answered.
    pub driver_start: Duration,
    /// Until the session existed: the app started and its webview loaded.
    pub session_start: Duration,
}

/// The running app, its WebDriver session and its home. Drop ends all of it.
pub struct AppUnderTest {
    // Fields drop in this order: session, then processes, then the home they used.
    client: fantoccini::Client,
    driver: Driver,
    home: Arc<TestHome>,
    /// The environment the app was started with (on top of the test's, less `env_remove`).
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    timings: LaunchTimings,
    started: Instant,
}

impl AppUnderTest {
    /// Start the built app under WebDriver in a fresh [`TestHome`] (HOME, COPILOT_HOME, XDG_*
    /// inside one temp dir; the CLI's unpacked runtime cache shared between tests).
    ///
    /// # Panics
    /// When the app is not built, or tauri-driver, WebKitWebDriver or a display is missing.
    pub async fn launch(options: LaunchOptions) -> AppUnderTest {
        Self::launch_in(Arc::new(TestHome::new()), options).await
    }

    /// Quit the app (its WebDriver session ends, the app and its CLI exit) and start it again in
    /// the same home with `options`: what a user sees after restarting the app.
    pub async fn relaunch(self, options: LaunchOptions) -> AppUnderTest {
        self.relaunch_after(options, |_| {}).await
    }

    /// Like [`Self::relaunch`], running `between` on the home while the app is not running.
    pub async fn relaunch_after(self, options: LaunchOptions, between: impl FnOnce(&TestHome)) -> AppUnderTest {
        let home = self.home.clone();
        drop(self);
        between(&home);
        Self::launch_in(home, options).await
    }

    async fn launch_in(home: Arc<TestHome>, options: LaunchOptions) -> AppUnderTest {
        let app = app_binary();
        if !app.is_file() {
            panic!(
                "the app is not built: {} is missing. Run `cd ui && npm run build` (once) and \
                 `cargo build -p copilot-desktop` first (or set ${APP_PATH_ENV}).",
                app.display()
            );
        }
        let tools = webdriver::require_tools();
        let started = Instant::now();
        let runtime_dir = home.root().join("run");
        create_private_dir(&runtime_dir);

        let mut env = home.env();
        env.push(("XDG_RUNTIME_DIR".into(), runtime_dir.into()));
        env.extend(options.env);
        let env_remove: Vec<OsString> = SCRUBBED_ENV
            .iter()
            .chain(APP_ENV_REMOVED)
            .map(OsString::from)
            .filter(|name| !env.iter().any(|(k, _)| k == name))
            .collect();
        let config = DriverConfig {
            env: env.clone(),
            env_remove: env_remove.clone(),
            working_dir: Some(home.work_dir()),
            log_file: home.root().join("driver.log"),
        };

        let driver = Driver::start(&tools, &config);
        let session_began = Instant::now();
        let client = driver.new_session(&app, &options.args).await;
        let timings = LaunchTimings { driver_start: driver.started_in(), session_start: session_began.elapsed() };
        eprintln!(
            "[app] launched {} (driver {:.2?}, session {:.2?})",
            app.display(),
            timings.driver_start,
            timings.session_start
        );
        AppUnderTest { client, driver, home, env, env_remove, timings, started }
    }

    /// Start the app binary again, as a person would from the launcher: the same home and
    /// environment, no WebDriver. Returns the running process; the caller waits for it.
    pub fn launch_again_directly(&self) -> std::process::Child {
        let mut command = std::process::Command::new(app_binary());
        for name in &self.env_remove {
            command.env_remove(name);
        }
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.home.work_dir())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", app_binary().display()))
    }

    /// The WebDriver session, for anything the helpers here do not cover.
    pub fn client(&self) -> &fantoccini::Client {
        &self.client
    }

    /// The home, kept alive past the app (a test that looks at what the app left behind).
    pub fn shared_home(&self) -> Arc<TestHome> {
        self.home.clone()
    }

    pub fn home(&self) -> &TestHome {
        &self.home
    }

    pub fn timings(&self) -> LaunchTimings {
        self.timings
    }

    /// Time since [`Self::launch`] began.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The app's process (a descendant of tauri-driver running the app binary).
    pub fn app_process(&self) -> processes::Process {
        let app = canonical(&app_binary());
        processes::descendants(self.driver.pid())
            .into_iter()
            .filter_map(processes::read)
            .find(|p| p.exe.as_deref() == Some(app.as_path()))
            .unwrap_or_else(|| panic!("no process runs {} under tauri-driver", app.display()))
    }

    /// Minimize the window and wait until the webview knows it lost focus (WebKitGTK hears of it
    /// tens of milliseconds after the window manager acts); returns how long that took.
    pub async fn minimize_and_wait_unfocused(&self, hang_guard: Duration) -> Duration {
        self.client.minimize_window().await.expect("minimize the window");
        let minimized = Instant::now();
        while self.eval("return document.hasFocus();", vec![]).await != serde_json::json!(false) {
            if minimized.elapsed() > hang_guard {
                self.fail(&format!("the minimized window still has focus after {hang_guard:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        minimized.elapsed()
    }

    /// Everything the app has logged so far (its log folder under the test home; the app logs at
    /// info level by default), oldest file first.
    pub fn log_text(&self) -> String {
        app_log_text(self.home())
    }

    /// The first element matching `target`, if any is there now.
    pub async fn find(&self, target: &Target) -> Option<Element> {
        self.client.find_all(Locator::XPath(target.as_xpath())).await.ok()?.into_iter().next()
    }

    /// Wait until `target` is there.
    pub async fn wait_for(&self, target: &Target, hang_guard: Duration) -> Element {
        let deadline = Instant::now() + hang_guard;
        loop {
            if let Some(element) = self.find(target).await {
                return element;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{target} did not appear within {hang_guard:?}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of `target` as rendered now (`None` if it is not there).
    ///
    /// This is the element's `innerText`, not WebDriver's Get Element Text: WebKitWebDriver's
    /// visibility atom calls an element with `overflow: hidden` (the status bar's ellipsis line)
    /// "not displayed" and returns "" for it, although it is plainly on screen.
    pub async fn text(&self, target: &Target) -> Option<String> {
        self.find(target).await?.prop("innerText").await.ok().flatten()
    }

    /// Poll the text of `target` until `predicate` accepts it; returns that text. Each new text
    /// seen is logged with the time since launch, and listed if the hang guard runs out.
    pub async fn wait_for_text(
        &self,
        target: &Target,
        predicate: impl Fn(&str) -> bool,
        hang_guard: Duration,
    ) -> String {
        let deadline = Instant::now() + hang_guard;
        let mut seen: Vec<String> = Vec::new();
        loop {
            if let Some(text) = self.text(target).await {
                if seen.last() != Some(&text) {
                    eprintln!("[app] {target} at {:.2?}: {text:?}", self.elapsed());
                    seen.push(text.clone());
                }
                if predicate(&text) {
                    return text;
                }
            }
            if Instant::now() > deadline {
                self.fail(&format!("{target} did not show the expected text within {hang_guard:?}; seen: {seen:#?}"))
                    .await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until `target` is gone (a dialog closed, a row deleted).
    pub async fn wait_gone(&self, target: &Target, hang_guard: Duration) {
        let deadline = Instant::now() + hang_guard;
        while self.find(target).await.is_some() {
            if Instant::now() > deadline {
                self.fail(&format!("{target} was still there after {hang_guard:?}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// How many elements match `target` now.
    pub async fn count(&self, target: &Target) -> usize {
        self.client.find_all(Locator::XPath(target.as_xpath())).await.map(|all| all.len()).unwrap_or(0)
    }

    /// Wait until exactly `expected` elements match `target` (a list filtered, rows added).
    pub async fn wait_for_count(&self, target: &Target, expected: usize, hang_guard: Duration) {
        let deadline = Instant::now() + hang_guard;
        loop {
            let count = self.count(target).await;
            if count == expected {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{target}: {count} on screen after {hang_guard:?}, expected {expected}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Click `target` once it is there.
    pub async fn click(&self, target: &Target, hang_guard: Duration) {
        let element = self.wait_for(target, hang_guard).await;
        if let Err(e) = element.click().await {
            self.fail(&format!("could not click {target}: {e}")).await;
        }
    }

    /// Click `target` once it has stopped moving: its box the same over 200 ms. For a control in a
    /// row whose neighbours still grow (a usage figure arriving after a turn): a click aimed at where
    /// it was a moment ago would land beside it.
    pub async fn click_when_still(&self, target: &Target, hang_guard: Duration) {
        self.wait_for(target, hang_guard).await;
        let script = "const e = document.evaluate(arguments[0], document, null, \
                      XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; \
                      if (!e) return null; const r = e.getBoundingClientRect(); \
                      return [r.x, r.y, r.width, r.height].join(',');";
        let deadline = Instant::now() + hang_guard;
        let mut last = self.eval(script, vec![target.as_xpath().into()]).await;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = self.eval(script, vec![target.as_xpath().into()]).await;
            if now == last && !now.is_null() {
                break;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{target} kept moving for {hang_guard:?}")).await;
            }
            last = now;
        }
        self.click(target, hang_guard).await;
    }

    /// Replace the text of the field `target` with `text`, typed as keystrokes (empty: just clear it).
    pub async fn fill(&self, target: &Target, text: &str, hang_guard: Duration) {
        let element = self.wait_for(target, hang_guard).await;
        if let Err(e) = element.clear().await {
            self.fail(&format!("could not clear {target}: {e}")).await;
        }
        // WebDriver refuses to type nothing; an empty text only clears the field.
        if !text.is_empty()
            && let Err(e) = element.send_keys(text).await
        {
            self.fail(&format!("could not type into {target}: {e}")).await;
        }
    }

    /// Choose the option whose value is `value` in the `<select>` `target`, as picking it would.
    pub async fn choose(&self, target: &Target, value: &str, hang_guard: Duration) {
        let element = self.wait_for(target, hang_guard).await;
        let element = serde_json::to_value(&element).expect("a WebDriver element reference");
        let chosen = self
            .eval(
                "const [select, value] = arguments; \
                 if (![...select.options].some(o => o.value === value)) return [...select.options].map(o => o.value); \
                 select.value = value; \
                 select.dispatchEvent(new Event('input', { bubbles: true })); \
                 select.dispatchEvent(new Event('change', { bubbles: true })); \
                 return true;",
                vec![element, serde_json::json!(value)],
            )
            .await;
        if chosen != serde_json::json!(true) {
            self.fail(&format!("{target} has no option {value:?}; it offers {chosen}")).await;
        }
    }

    /// Press Ctrl with `key` (a shortcut) wherever focus is, as a keyboard would.
    pub async fn press_ctrl(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let control = char::from(Key::Control);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: control })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: control });
        if let Err(e) = self.client.perform_actions(keys).await {
            self.fail(&format!("could not press Ctrl+{key}: {e}")).await;
        }
    }

    /// Press Escape wherever focus is.
    pub async fn press_escape(&self) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let escape = char::from(Key::Escape);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: escape })
            .then(KeyAction::Up { value: escape });
        if let Err(e) = self.client.perform_actions(keys).await {
            self.fail(&format!("could not press Escape: {e}")).await;
        }
    }

    /// Press Enter in `target`.
    pub async fn press_enter(&self, target: &Target, hang_guard: Duration) {
        let element = self.wait_for(target, hang_guard).await;
        if let Err(e) = element.send_keys("\u{E007}").await {
            self.fail(&format!("could not press Enter in {target}: {e}")).await;
        }
    }

    /// Run `script` (a function body; `arguments` are `args`) in the page and return its value.
    pub async fn eval(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(e) => self.fail(&format!("script failed: {e}\n{script}")).await,
        }
    }

    /// The accessible name (aria-label, else trimmed text) of the focused element.
    pub async fn focused_name(&self) -> String {
        let value = self
            .eval(
                "const e = document.activeElement; \
                 return e ? (e.getAttribute('aria-label') || e.innerText || e.value || '').trim() : '';",
                vec![],
            )
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Save a PNG of the window as `<target>/screenshots/<name>` and return its path.
    ///
    /// Wait for what the picture should show first. The capture can lag the DOM by about a
    /// second under Xvfb, so this lets two frames pass and then captures until the picture has
    /// stayed the same for a second (at most a few seconds; an animation just ends that wait).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        let began = Instant::now();
        let mut png = self.capture().await;
        let (mut captures, mut changes) = (1, 0);
        let mut stable_since = Instant::now();
        while stable_since.elapsed() < Duration::from_secs(1) && began.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let next = self.capture().await;
            captures += 1;
            if next != png {
                png = next;
                changes += 1;
                stable_since = Instant::now();
            }
        }
        let path = save_png(name, &png);
        eprintln!(
            "[app] screenshot {} ({captures} captures, {changes} changed, {:.2?})",
            path.display(),
            began.elapsed()
        );
        path
    }

    async fn capture(&self) -> Vec<u8> {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot failed: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the screenshot is not a PNG");
        png
    }

    /// Panic with `message`, after saving what the window showed and the driver log's tail.
    pub async fn fail(&self, message: &str) -> ! {
        let shot = match self.client.screenshot().await {
            Ok(png) => format!("screenshot: {}", save_png("failure.png", &png).display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        panic!("{message}\n{shot}\n--- driver log (tail) ---\n{}", webdriver::log_tail(self.driver.log_file(), 40));
    }
}

impl Drop for AppUnderTest {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- driver and app log (tail of {}) ---\n{}",
                self.driver.log_file().display(),
                webdriver::log_tail(self.driver.log_file(), 80)
            );
        }
    }
}

fn save_png(name: &str, png: &[u8]) -> PathBuf {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let file = if name.ends_with(".png") { name.to_owned() } else { format!("{name}.png") };
    let path = dir.join(file);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn create_private_dir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_literals_survive_quotes() {
        assert_eq!(xpath_literal("Retry"), "'Retry'");
        assert_eq!(xpath_literal("it's"), "\"it's\"");
        assert_eq!(xpath_literal(r#"a'b"c"#), r#"concat('a', "'", 'b"c')"#);
    }
}
