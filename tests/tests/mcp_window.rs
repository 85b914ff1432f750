//! MCP servers end to end, in the built app under the real webview: the real CLI, the tests' real MCP server
//! (rmcp over stdio, `src/bin/mcp_test_server.rs`), the fake GitHub + Copilot API as the model, and the real
//! Secret Service for secrets.
//!
//! * Settings → Tools & MCP: adding the server through its form (with a clear message for a missing command,
//!   invalid JSON and a duplicate name), a secret environment value that lands in no file of the test home;
//!   the session's MCP panel shows it running with its tools; the model calls one of them (by the name the CLI
//!   offered it under), the permission dialog names server, tool and arguments, and after Allow the result
//!   reaches the model and its reply appears.
//! * A server whose command does not exist shows as failed with the CLI's error, and the chat still works.

use std::path::{Path, PathBuf};

use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD, TOKEN, launch_options};
use copilot_desktop_tests::fake_github::FakeGitHub;
use copilot_desktop_tests::fake_model::{Match, Reply};
use copilot_desktop_tests::mcp::offered_name;
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_mcp_test_server");
const SECRET_VALUE: &str = "mcp-e2e-secret-4d7e1c9a";

async fn open_tools_page(app: &AppUnderTest) {
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    app.click(&Target::role("tab", "Tools & MCP"), HANG_GUARD).await;
    let chosen = "//*[@role='tab'][@aria-selected='true'][normalize-space(.)='Tools & MCP']";
    app.wait_for(&Target::xpath(chosen, "the chosen page \"Tools & MCP\""), HANG_GUARD).await;
    // Loaded: the list of what the CLI knows is there (the dialog grows and moves when it arrives).
    let loaded = "//table[@aria-label='MCP servers the CLI knows'] | //p[starts-with(normalize-space(.), 'The CLI knows no MCP server')]";
    app.wait_for(&Target::xpath(loaded, "the servers the CLI knows"), HANG_GUARD).await;
}

async fn close_settings(app: &AppUnderTest) {
    app.click(&Target::button("Close").within(&Target::dialog("Settings")), HANG_GUARD).await;
    app.wait_gone(&Target::dialog("Settings"), HANG_GUARD).await;
}

/// The app signed in to the fake GitHub, whose account allows MCP servers (`is_mcp_enabled`; with it off the
/// CLI starts none, as for a user whose organization turned MCP off).
async fn start_chat() -> Chat {
    let github = FakeGitHub::start().await;
    github.add_token(TOKEN);
    github.set_mcp_enabled(true);
    let app = AppUnderTest::launch(launch_options(&github)).await;
    let chat = Chat { app, github };
    chat.wait_connected().await;
    chat
}

fn form() -> Target {
    Target::dialog("Add MCP server")
}

fn form_alert() -> Target {
    Target::xpath(&format!("({})//*[@role='alert']", form().as_xpath()), "the server form's alert")
}

/// Press Save server and wait for the form's alert to say `expected`; the form stays open.
async fn save_expecting(app: &AppUnderTest, expected: &str) {
    app.click(&Target::button("Save server"), HANG_GUARD).await;
    let text = app.wait_for_text(&form_alert(), |t| t.contains(expected), HANG_GUARD).await;
    assert!(text.contains(expected), "{text}");
    app.wait_for(&form(), HANG_GUARD).await;
}

/// Add a local server through the form (command, and a secret environment as JSON when given).
async fn add_local_server(app: &AppUnderTest, name: &str, command: &str, secret_env: Option<&str>) {
    app.click(&Target::button("Add server…"), HANG_GUARD).await;
    app.wait_for(&form(), HANG_GUARD).await;
    app.fill(&Target::textbox("Name"), name, HANG_GUARD).await;
    app.fill(&Target::textbox("Command"), command, HANG_GUARD).await;
    if let Some(secret) = secret_env {
        app.fill(&Target::textbox("Secret environment (JSON)"), secret, HANG_GUARD).await;
    }
    app.click(&Target::button("Save server"), HANG_GUARD).await;
    app.wait_gone(&form(), HANG_GUARD).await;
}

fn server_row(name: &str) -> Target {
    Target::xpath(
        &format!("//ul[@aria-label='Your MCP servers']/li[@aria-label='{name}']"),
        &format!("server row {name}"),
    )
}

async fn open_mcp_panel(app: &AppUnderTest) -> Target {
    app.click(&Target::button("MCP servers"), HANG_GUARD).await;
    let panel = Target::dialog("MCP servers in this session");
    app.wait_for(&panel, HANG_GUARD).await;
    panel
}

async fn close_mcp_panel(app: &AppUnderTest, panel: &Target) {
    app.click(&Target::button("Close").within(panel), HANG_GUARD).await;
    app.wait_gone(panel, HANG_GUARD).await;
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// Every file under the test home (the app's settings and logs, the CLI's home and logs, the sessions) that
/// holds `needle`; and how many files were searched.
fn files_holding(root: &Path, needle: &str) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    files_under(root, &mut files);
    let searched = files.len();
    let holding = files
        .into_iter()
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .collect();
    (holding, searched)
}

#[tokio::test]
async fn an_added_server_runs_and_the_model_uses_its_tool_after_the_user_allows_it() {
    let chat = start_chat().await;
    let app = &chat.app;
    open_tools_page(app).await;

    // The form says what is wrong and keeps what was typed.
    app.click(&Target::button("Add server…"), HANG_GUARD).await;
    app.wait_for(&form(), HANG_GUARD).await;
    app.fill(&Target::textbox("Name"), "tester", HANG_GUARD).await;
    save_expecting(app, "Enter the command that starts the server.").await;
    app.fill(&Target::textbox("Command"), SERVER, HANG_GUARD).await;
    app.fill(&Target::textbox("Environment (JSON)"), "{\"PLAIN\": oops}", HANG_GUARD).await;
    save_expecting(app, "Environment is not valid JSON").await;
    app.fill(&Target::textbox("Environment (JSON)"), "{\"PLAIN_SETTING\": \"visible\"}", HANG_GUARD).await;
    app.fill(
        &Target::textbox("Secret environment (JSON)"),
        &format!("{{\"MCP_TEST_TOKEN\": \"{SECRET_VALUE}\"}}"),
        HANG_GUARD,
    )
    .await;
    let where_secret = app
        .text(&Target::xpath("//p[contains(normalize-space(.), 'Stored in the OS keychain only')]", "secret note"))
        .await;
    assert!(where_secret.is_some(), "the form says where a secret lives");
    app.click(&Target::button("Save server"), HANG_GUARD).await;
    app.wait_gone(&form(), HANG_GUARD).await;
    let row = app.wait_for_text(&server_row("tester"), |t| t.contains("keychain"), HANG_GUARD).await;
    assert!(row.contains(SERVER) && row.contains("enabled"), "{row}");

    // A second server of the same name is refused with a clear message.
    app.click(&Target::button("Add server…"), HANG_GUARD).await;
    app.wait_for(&form(), HANG_GUARD).await;
    app.fill(&Target::textbox("Name"), "tester", HANG_GUARD).await;
    app.fill(&Target::textbox("Command"), SERVER, HANG_GUARD).await;
    save_expecting(app, "A server named \"tester\" already exists").await;
    app.click(&Target::button("Cancel").within(&form()), HANG_GUARD).await;
    app.wait_gone(&form(), HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("settings-mcp.png").await.display());

    // The secret is in no file under the test home: not the CLI's config, not the app's settings, not a log.
    let (holding, searched) = files_holding(&app.home().root(), SECRET_VALUE);
    assert!(searched > 3, "the search saw the home's files ({searched})");
    assert!(holding.is_empty(), "the secret was written to {holding:?}");
    let cli_config = std::fs::read_to_string(app.home().copilot_home().join("mcp-config.json")).unwrap_or_default();
    assert!(!cli_config.contains("MCP_TEST_TOKEN"), "the CLI's file does not hold the secret server: {cli_config}");
    close_settings(app).await;

    // In a session the server runs, with its tools.
    chat.new_session().await;
    let panel = open_mcp_panel(app).await;
    app.wait_for(&Target::xpath("//*[@aria-label='tester: Running']", "tester running"), HANG_GUARD).await;
    let tools = app
        .wait_for_text(
            &Target::xpath("//ul[@aria-label='Tools of tester']", "tools of tester"),
            |t| t.contains("env_present"),
            HANG_GUARD,
        )
        .await;
    assert!(tools.contains("desktop_marker"), "{tools}");
    eprintln!("[test] saved {}", app.screenshot("mcp-panel.png").await.display());
    close_mcp_panel(app, &panel).await;

    // The CLI offers the server's tools to the model; learn the name it uses, then have the model call it.
    chat.github.when(Match::user_contains("say hello"), Reply::text("Hello from the model."));
    chat.send("say hello").await;
    chat.wait_reply("Hello from the model.").await;
    chat.wait_idle().await;
    let tool =
        offered_name(&chat.github.chat_requests(), "tester", "env_present").expect("the CLI offers the MCP tool");
    chat.github
        .when(Match::user_contains("check the token"), Reply::tool_call(&tool, json!({"name": "MCP_TEST_TOKEN"})))
        .when(Match::tool_output_contains("MCP_TEST_TOKEN is set"), Reply::text("The server has its token."));
    chat.send("please check the token").await;
    let dialog = Target::dialog("Use this MCP tool?");
    app.wait_for(&dialog, HANG_GUARD).await;
    let shown = app.text(&dialog).await.unwrap_or_default();
    assert!(shown.contains("tester") && shown.contains("env_present"), "server and tool are named: {shown}");
    assert!(shown.contains("MCP_TEST_TOKEN"), "the arguments are shown: {shown}");
    eprintln!("[test] saved {}", app.screenshot("permission-mcp.png").await.display());
    app.click(&Target::button("Allow once"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
    chat.wait_reply("The server has its token.").await;
    let expected = format!("MCP_TEST_TOKEN is set ({} characters)", SECRET_VALUE.len());
    assert!(
        chat.github.tool_results_seen().iter().any(|r| r.contains(&expected)),
        "{:?}",
        chat.github.tool_results_seen()
    );
    chat.wait_idle().await;

    let (holding, _) = files_holding(&app.home().root(), SECRET_VALUE);
    assert!(holding.is_empty(), "after a session ran, the secret was written to {holding:?}");
}

#[tokio::test]
async fn a_server_that_cannot_start_shows_failed_and_the_chat_still_works() {
    let chat = start_chat().await;
    let app = &chat.app;
    open_tools_page(app).await;
    add_local_server(app, "broken", "/nonexistent/mcp-server-xyz", None).await;
    let row = app.wait_for_text(&server_row("broken"), |t| t.contains("mcp-config.json"), HANG_GUARD).await;
    assert!(row.contains("/nonexistent/mcp-server-xyz"), "{row}");
    let listed = app
        .wait_for_text(
            &Target::xpath("//table[@aria-label='MCP servers the CLI knows']", "discovered servers"),
            |t| t.contains("broken"),
            HANG_GUARD,
        )
        .await;
    assert!(listed.contains("Your settings"), "where it comes from: {listed}");
    close_settings(app).await;

    chat.new_session().await;
    let panel = open_mcp_panel(app).await;
    app.wait_for(&Target::xpath("//*[@aria-label='broken: Failed']", "broken failed"), HANG_GUARD).await;
    let error =
        app.text(&Target::xpath("//*[@aria-label='Error of broken']", "error of broken")).await.unwrap_or_default();
    assert!(error.contains("No such file"), "the CLI's error is shown: {error}");
    app.wait_for(&Target::button("Start broken"), HANG_GUARD).await;
    close_mcp_panel(app, &panel).await;

    chat.github.when(Match::user_contains("still there"), Reply::text("Yes, still here."));
    chat.send("are you still there?").await;
    chat.wait_reply("Yes, still here.").await;
    chat.wait_idle().await;

    // Fix it in Settings (Edit), see it run in a new session; then disable and remove it.
    open_tools_page(app).await;
    app.click(&Target::button("Edit broken"), HANG_GUARD).await;
    let edit = Target::dialog("Edit broken");
    app.wait_for(&edit, HANG_GUARD).await;
    app.fill(&Target::textbox("Command"), SERVER, HANG_GUARD).await;
    app.click(&Target::button("Save server").within(&edit), HANG_GUARD).await;
    app.wait_gone(&edit, HANG_GUARD).await;
    app.wait_for_text(&server_row("broken"), |t| t.contains(SERVER), HANG_GUARD).await;
    close_settings(app).await;
    chat.new_session().await;
    let panel = open_mcp_panel(app).await;
    app.wait_for(&Target::xpath("//*[@aria-label='broken: Running']", "broken running"), HANG_GUARD).await;
    close_mcp_panel(app, &panel).await;

    open_tools_page(app).await;
    app.click(&Target::button("Disable broken"), HANG_GUARD).await;
    app.wait_for_text(&server_row("broken"), |t| t.contains("disabled"), HANG_GUARD).await;
    app.wait_for(&Target::button("Enable broken"), HANG_GUARD).await;
    app.click(&Target::button("Remove broken"), HANG_GUARD).await;
    let confirm = Target::dialog("Remove MCP server?");
    app.wait_for(&confirm, HANG_GUARD).await;
    app.click(&Target::button("Remove").within(&confirm), HANG_GUARD).await;
    app.wait_gone(&server_row("broken"), HANG_GUARD).await;
    let cli_config = std::fs::read_to_string(app.home().copilot_home().join("mcp-config.json")).unwrap_or_default();
    assert!(!cli_config.contains("broken"), "removed from the CLI's file: {cli_config}");
}
