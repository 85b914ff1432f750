//! End to end: custom agents and skills in the built app, in the real webview, with the real
//! Copilot CLI against the fake GitHub + Copilot API. An agent created in the "Agents & skills"
//! dialog is written to the user's agents folder, selected for the session, and the model
//! receives its prompt; a skill turned off there is no longer offered to the model.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test agents_window`

use copilot_desktop_tests::app::Target;
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::fake_model::{Match, Reply};

const PROMPT_MARK: &str = "You are E2E-REVIEWER-4242 and you review code.";
const SKILL_MARK: &str = "E2E-GREETER-SKILL-9090 greets people";

fn dialog() -> Target {
    Target::dialog("Agents & skills")
}

/// The dialog's status line: what the last action did.
fn dialog_status() -> Target {
    Target::xpath("//dialog[@open]//p[@role='status']", "the dialog's status line")
}

async fn open_dialog(chat: &Chat) {
    chat.app.click(&Target::button("Agents & skills"), HANG_GUARD).await;
    chat.app.wait_for(&dialog(), HANG_GUARD).await;
}

async fn close_dialog(chat: &Chat) {
    chat.app.click(&Target::button("Close").within(&dialog()), HANG_GUARD).await;
    chat.app.wait_gone(&dialog(), HANG_GUARD).await;
}

/// The agent requests of the turn `text` starts (cleared before it).
async fn turn(chat: &Chat, text: &str, reply: &str) -> Vec<String> {
    chat.github.clear_requests();
    chat.github.when_once(Match::user_contains(text), Reply::text(reply));
    chat.send(text).await;
    chat.wait_reply(reply).await;
    chat.wait_idle().await;
    chat.github.agent_requests().into_iter().map(|r| r.raw_body).collect()
}

#[tokio::test]
async fn an_agent_made_in_the_dialog_is_selected_and_the_model_receives_its_prompt() {
    let chat = Chat::start().await;
    let app = &chat.app;
    chat.new_session().await;

    open_dialog(&chat).await;
    app.click(&Target::button("New agent…"), HANG_GUARD).await;
    app.fill(&Target::textbox("Name"), "reviewer", HANG_GUARD).await;
    app.fill(&Target::textbox("Description"), "Reviews code carefully", HANG_GUARD).await;
    app.fill(&Target::textbox("Tools (comma-separated; empty for the defaults)"), "read, shell", HANG_GUARD).await;
    app.fill(&Target::textbox("Prompt"), PROMPT_MARK, HANG_GUARD).await;
    let path = app.home().copilot_home().join("agents/reviewer.agent.md");
    let preview = Target::xpath("//dialog[@open]//figure//pre", "the agent preview");
    let shown = app.wait_for_text(&preview, |t| t.contains(PROMPT_MARK), HANG_GUARD).await;
    assert!(shown.starts_with("---\nname: \"reviewer\""), "the preview is the file: {shown}");
    eprintln!("[test] saved {}", app.screenshot("agents-new.png").await.display());
    app.click(&Target::button("Save agent"), HANG_GUARD).await;
    let saved = format!("Saved {}.", path.display());
    app.wait_for_text(&dialog_status(), |t| t == saved, HANG_GUARD).await;
    let written = std::fs::read_to_string(&path).expect("the agent file was written");
    assert_eq!(written, shown, "the file is what the preview showed");

    // A name taken is refused with a reason, and nothing is lost.
    app.click(&Target::button("New agent…"), HANG_GUARD).await;
    app.fill(&Target::textbox("Name"), "reviewer", HANG_GUARD).await;
    app.fill(&Target::textbox("Description"), "Another", HANG_GUARD).await;
    app.fill(&Target::textbox("Prompt"), "Other prompt", HANG_GUARD).await;
    app.wait_for_text(&preview, |t| t.contains("Other prompt"), HANG_GUARD).await;
    app.click(&Target::button("Save agent"), HANG_GUARD).await;
    let alert = Target::xpath("//dialog[@open]//*[@role='alert']", "the dialog's alert");
    let refused = app.wait_for_text(&alert, |t| t.contains("already exists"), HANG_GUARD).await;
    assert!(refused.contains("edit it instead"), "{refused}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written, "the existing file is untouched");
    app.click(&Target::button("Cancel").within(&dialog()), HANG_GUARD).await;

    app.choose(&Target::select("Agent for this session"), "reviewer", HANG_GUARD).await;
    app.wait_for_text(&dialog_status(), |t| t.contains("reviewer answers"), HANG_GUARD).await;
    close_dialog(&chat).await;

    let requests = turn(&chat, "please review", "Reviewed.").await;
    assert!(requests.iter().any(|b| b.contains(PROMPT_MARK)), "the model receives the agent's prompt");

    open_dialog(&chat).await;
    app.choose(&Target::select("Agent for this session"), "", HANG_GUARD).await;
    app.wait_for_text(&dialog_status(), |t| t.contains("default agent"), HANG_GUARD).await;
    close_dialog(&chat).await;
    let requests = turn(&chat, "and now", "Default here.").await;
    assert!(requests.iter().all(|b| !b.contains(PROMPT_MARK)), "back to the default agent");
}

#[tokio::test]
async fn a_skill_turned_off_in_the_dialog_is_no_longer_offered() {
    let chat = Chat::start().await;
    let app = &chat.app;
    let folder = app.home().copilot_home().join("skills/greeter");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("SKILL.md"),
        format!("---\nname: greeter\ndescription: {SKILL_MARK}\n---\nSay hello.\n"),
    )
    .unwrap();
    chat.new_session().await;
    let requests = turn(&chat, "first", "First.").await;
    assert!(requests.iter().any(|b| b.contains(SKILL_MARK)), "the skill is offered while on");

    open_dialog(&chat).await;
    let skills = Target::xpath("//dialog[@open]//ul[@aria-label='Skills']", "the skills");
    let listed = app.wait_for_text(&skills, |t| t.contains("greeter"), HANG_GUARD).await;
    assert!(listed.contains("personal-copilot") && listed.contains(SKILL_MARK), "source and description: {listed}");
    app.wait_for(&Target::button("Open the folder of greeter"), HANG_GUARD).await;
    app.click(&Target::choice("greeter"), HANG_GUARD).await;
    app.wait_for_text(&dialog_status(), |t| t.contains("greeter is off"), HANG_GUARD).await;
    close_dialog(&chat).await;

    let requests = turn(&chat, "second", "Second.").await;
    assert!(!requests.is_empty() && requests.iter().all(|b| !b.contains(SKILL_MARK)), "off: no longer offered");
}
