//! End to end: standing permission rules in the built app, in the real webview, with the real
//! Copilot CLI against the fake GitHub + Copilot API. "Allow in this project" in the permission
//! dialog lets the next session in that folder run the same command without a dialog, while a
//! session in another folder still asks; removing the rule in Settings → Permissions brings the
//! question back; a deny rule added there stops a command without a dialog.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test rules_window`

use std::path::Path;

use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD, copilot_messages, message_box};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};

const COMMAND: &str = "echo rule-ran >> ran.txt";

async fn new_session_in(app: &AppUnderTest, folder: &Path) {
    app.click(&Target::button("New session"), HANG_GUARD).await;
    let dialog = Target::dialog("New session");
    app.wait_for(&dialog, HANG_GUARD).await;
    app.fill(&Target::textbox("Working directory"), &folder.display().to_string(), HANG_GUARD).await;
    app.choose(&Target::select("Model").within(&dialog), DEFAULT_MODEL, HANG_GUARD).await;
    app.click(&Target::button("Create"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
    app.wait_for(&message_box(), HANG_GUARD).await;
}

async fn send(app: &AppUnderTest, text: &str) {
    app.fill(&message_box(), text, HANG_GUARD).await;
    app.press_enter(&message_box(), HANG_GUARD).await;
}

/// The turn is over and the model's closing reply is shown.
async fn wait_turn_done(app: &AppUnderTest) {
    app.wait_for_text(&copilot_messages().last(), |t| t.contains("Turn done."), HANG_GUARD).await;
    app.wait_for(&Target::button("Send"), HANG_GUARD).await;
    app.wait_gone(&Target::button("Stop"), HANG_GUARD).await;
}

/// A denied turn ends without a closing reply (the CLI stops the turn).
async fn wait_idle(app: &AppUnderTest) {
    app.wait_for(&Target::button("Send"), HANG_GUARD).await;
    app.wait_gone(&Target::button("Stop"), HANG_GUARD).await;
}

async fn open_permissions(app: &AppUnderTest) {
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    app.click(&Target::role("tab", "Permissions"), HANG_GUARD).await;
    let chosen = "//*[@role='tab'][@aria-selected='true'][normalize-space(.)='Permissions']";
    app.wait_for(&Target::xpath(chosen, "the Permissions page"), HANG_GUARD).await;
}

async fn close_settings(app: &AppUnderTest) {
    app.click(&Target::button("Close").within(&Target::dialog("Settings")), HANG_GUARD).await;
    app.wait_gone(&Target::dialog("Settings"), HANG_GUARD).await;
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

#[tokio::test]
async fn allow_in_this_project_holds_there_until_removed_and_a_deny_rule_stops_without_asking() {
    let chat = Chat::start().await;
    let app = &chat.app;
    chat.github.when(Match::user_contains("run the tests"), Reply::shell(COMMAND));
    chat.github.when(Match::user_contains("clean up"), Reply::shell("rm -f keep.txt"));
    chat.github.when(Match::tool_result(), Reply::text("Turn done."));
    let project = app.home().work_dir();
    let elsewhere = app.home().root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let ran = project.join("ran.txt");
    let asking = Target::dialog("Run this command?");

    // 1. The first session in the project asks; the user allows it in this project.
    new_session_in(app, &project).await;
    send(app, "run the tests").await;
    app.wait_for(&asking, HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("rules-allow-in-project.png").await.display());
    app.click(&Target::button("Allow in this project"), HANG_GUARD).await;
    app.wait_gone(&asking, HANG_GUARD).await;
    wait_turn_done(app).await;
    assert_eq!(lines(&ran), 1, "the allowed command ran");

    // 2. A second session in the same folder runs it without a dialog.
    new_session_in(app, &project).await;
    send(app, "run the tests").await;
    wait_turn_done(app).await;
    assert!(app.find(&asking).await.is_none(), "no dialog in the same project");
    assert_eq!(lines(&ran), 2, "the command ran again without asking");

    // 3. A session in another folder still asks.
    new_session_in(app, &elsewhere).await;
    send(app, "run the tests").await;
    app.wait_for(&asking, HANG_GUARD).await;
    app.click(&Target::button("Deny"), HANG_GUARD).await;
    app.wait_gone(&asking, HANG_GUARD).await;
    wait_idle(app).await;
    assert!(!elsewhere.join("ran.txt").exists(), "denied elsewhere: nothing ran there");

    // 4. The page shows the rule where the CLI stored it; removing it brings the question back.
    open_permissions(app).await;
    let label = format!("shell({COMMAND})");
    let remove = Target::button(&format!("Remove {label} in {}", project.display()));
    app.wait_for(&remove, HANG_GUARD).await;
    let listed =
        app.text(&Target::xpath("//ul[@aria-label='Project rules']", "project rules")).await.unwrap_or_default();
    assert!(listed.contains(&label), "the rule as the CLI stored it: {listed}");
    let page = app.text(&Target::xpath("//*[@role='tabpanel' and not(@hidden)]", "the page")).await.unwrap_or_default();
    let stored_in = app.home().copilot_home().join("permissions-config.json");
    assert!(page.contains(&stored_in.display().to_string()), "the page says where it is stored: {page}");
    eprintln!("[test] saved {}", app.screenshot("settings-permissions.png").await.display());
    app.click(&remove, HANG_GUARD).await;
    app.wait_gone(&remove, HANG_GUARD).await;
    let file = std::fs::read_to_string(&stored_in).unwrap();
    assert!(!file.contains("rule-ran"), "removed from the CLI's file: {file}");
    close_settings(app).await;

    new_session_in(app, &project).await;
    send(app, "run the tests").await;
    app.wait_for(&asking, HANG_GUARD).await;
    app.click(&Target::button("Deny"), HANG_GUARD).await;
    app.wait_gone(&asking, HANG_GUARD).await;
    wait_idle(app).await;
    assert_eq!(lines(&ran), 2, "asked again after the rule was removed, and denied: nothing ran");

    // 5. A deny rule added on the page stops a command without a dialog.
    std::fs::write(project.join("keep.txt"), "keep").unwrap();
    open_permissions(app).await;
    app.fill(&Target::textbox("Command or pattern"), "rm", HANG_GUARD).await;
    app.click(&Target::button("Add deny rule"), HANG_GUARD).await;
    app.wait_for(&Target::button("Remove deny rule shell(rm)"), HANG_GUARD).await;
    close_settings(app).await;

    new_session_in(app, &project).await;
    send(app, "clean up").await;
    let card = app.wait_for_text(&Target::article("Tool: bash").last(), |t| t.contains("shell(rm)"), HANG_GUARD).await;
    assert!(card.contains("denied"), "the tool card says a rule denied it: {card}");
    wait_turn_done(app).await;
    assert!(app.find(&asking).await.is_none(), "a deny rule never asks");
    assert!(project.join("keep.txt").exists(), "the denied command did not run");
}
