//! A chat in the built app, driven as a person would: [`Chat`] starts the app signed in (through
//! `GH_TOKEN`, the CLI's own precedence) against the fake GitHub + Copilot API, makes sessions
//! through the New session dialog, types into the composer and waits for replies. Shared by the
//! end-to-end tests and the UI benchmark.

use std::time::Duration;

use crate::app::{AppUnderTest, LaunchOptions, Target};
use crate::fake_github::FakeGitHub;
use crate::fake_model::DEFAULT_MODEL;

/// Stops a hung test; never a timing expectation.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The token the CLI finds in its environment (`GH_TOKEN`, the CLI's own precedence).
pub const TOKEN: &str = "gho_chatwindowtesttoken000000000000001";

pub struct Chat {
    pub app: AppUnderTest,
    pub github: FakeGitHub,
}

pub fn launch_options(github: &FakeGitHub) -> LaunchOptions {
    github.env().into_iter().fold(LaunchOptions::new(), |options, (k, v)| options.env(k, v)).env("GH_TOKEN", TOKEN)
}

pub fn status_bar() -> Target {
    Target::status("Copilot CLI connection")
}

pub fn message_box() -> Target {
    Target::textbox("Message")
}

pub fn copilot_messages() -> Target {
    Target::article("Copilot")
}

pub fn user_messages() -> Target {
    Target::article("You")
}

/// A session row in the sidebar.
pub fn session_rows() -> Target {
    Target::xpath(
        "//nav[@aria-label='Sessions']//li//button[not(@aria-label='Delete session') and not(@aria-label='Rename session')][1]",
        "session in the sidebar",
    )
}

impl Chat {
    /// The app, connected, with its CLI signed in to the fake GitHub.
    pub async fn start() -> Chat {
        Self::start_with(|options| options).await
    }

    /// [`Self::start`], with `more` added to how the app is launched (variables, arguments).
    pub async fn start_with(more: impl FnOnce(LaunchOptions) -> LaunchOptions) -> Chat {
        let github = FakeGitHub::start().await;
        github.add_token(TOKEN);
        let app = AppUnderTest::launch(more(launch_options(&github))).await;
        let chat = Chat { app, github };
        chat.wait_connected().await;
        chat
    }

    pub async fn wait_connected(&self) {
        let text = self
            .app
            .wait_for_text(&status_bar(), |t| t.starts_with("Connected") || t.starts_with("Failed:"), HANG_GUARD)
            .await;
        assert!(text.starts_with("Connected"), "the CLI connects: {text}");
    }

    /// Start a session in the test home's work directory through the New session dialog.
    pub async fn new_session(&self) {
        let app = &self.app;
        app.click(&Target::button("New session"), HANG_GUARD).await;
        let dialog = Target::dialog("New session");
        app.wait_for(&dialog, HANG_GUARD).await;
        let work_dir = app.home().work_dir().display().to_string();
        app.fill(&Target::textbox("Working directory"), &work_dir, HANG_GUARD).await;
        // The fake API serves one model; the CLI's "Auto" needs endpoints it does not fake. The list may still be
        // loading (just connected, a busy machine): wait for the option to be there.
        let option = Target::xpath(&format!("//dialog[@open]//select//option[@value='{DEFAULT_MODEL}']"), "the model");
        app.wait_for(&option, HANG_GUARD).await;
        app.choose(&Target::select("Model").within(&dialog), DEFAULT_MODEL, HANG_GUARD).await;
        app.click(&Target::button("Create"), HANG_GUARD).await;
        app.wait_gone(&dialog, HANG_GUARD).await;
        app.wait_for(&message_box(), HANG_GUARD).await;
    }

    /// Type `text` into the composer and press Enter.
    pub async fn send(&self, text: &str) {
        self.app.fill(&message_box(), text, HANG_GUARD).await;
        self.app.press_enter(&message_box(), HANG_GUARD).await;
    }

    /// Wait until the last assistant message reads (or contains) `needle`; returns its text.
    pub async fn wait_reply(&self, needle: &str) -> String {
        self.app.wait_for_text(&copilot_messages().last(), |t| t.contains(needle), HANG_GUARD).await
    }

    /// Wait until the turn is over: the composer offers Send again.
    pub async fn wait_idle(&self) {
        self.app.wait_for(&Target::button("Send"), HANG_GUARD).await;
        self.app.wait_gone(&Target::button("Stop"), HANG_GUARD).await;
    }

    pub fn marker(&self, name: &str) -> std::path::PathBuf {
        self.app.home().work_dir().join(name)
    }
}
