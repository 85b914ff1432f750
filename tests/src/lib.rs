//! Test support for Copilot Desktop: fakes for the outside world, and the real CLI.
//!
//! * [`fake_model`] — an OpenAI-compatible model provider (BYOK path) driven by scripted rules.
//! * [`fake_github`] — the GitHub / Copilot API for the token path (`/copilot_internal/user`,
//!   `/models`, `/chat/completions`), reusing the same rule engine.
//! * [`fake_github_web`] — GitHub's web endpoints for the OAuth device flow (`/login/device/code`,
//!   `/login/oauth/access_token`), answering from a per-test script.
//! * [`fake_updates`] — the app's release server (`/latest.json`, the package) and a signing key
//!   made by the test.
//! * [`cli`] — where the real, vendored Copilot CLI lives, and a throwaway home per test.
//! * [`cli_server`] — the real CLI as a headless server with a connection token, restartable.
//! * [`webdriver`], [`app`] — the built app in the real webview under tauri-driver.
//! * [`engine_setup`] — the engine on the real CLI in a test home, sessions on the fake model.
//! * [`chat`] — a chat in that app, driven through its controls.
//! * [`mcp`] — the real MCP server of the tests (`src/bin/mcp_test_server.rs`) and what the model is offered of it.
//! * [`agent_scripts`] — a model that writes a plan and asks to leave plan mode.
//!
//! Everything binds `127.0.0.1` on port 0. Nothing here mocks the CLI itself.

pub mod agent_scripts;
pub mod app;
pub mod chat;
pub mod cli;
pub mod cli_server;
pub mod engine_setup;
pub mod fake_github;
pub mod fake_github_web;
pub mod fake_model;
pub mod fake_updates;
pub mod mcp;
pub mod notification_bus;
mod recording;
pub mod webdriver;

pub use recording::{RecordedRequest, Recorder};
