//! End to end: the agent controls in the built app, in the real webview, with the real Copilot
//! CLI signed in against the fake GitHub + Copilot API: modes (and Shift+Tab), the plan review
//! dialog and the plan panel, the reasoning effort picker, the context meter and compaction, and
//! a reply the CLI's crash cut short. Controls are found by role and accessible name.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first; run under Xvfb with a
//! keyring (see README).

use std::time::Duration;

use copilot_desktop_tests::agent_scripts::{exit_plan_mode, write_file};
use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD, TOKEN, copilot_messages, launch_options, message_box, status_bar};
use copilot_desktop_tests::fake_github::{FakeGitHub, REASONING_MODEL};
use copilot_desktop_tests::fake_model::{DEFAULT_MODEL, Match, Reply};
use copilot_desktop_tests::webdriver::processes;

fn mode_select() -> Target {
    Target::select("Mode")
}

async fn select_value(app: &AppUnderTest, target: &Target) -> String {
    let element = app.wait_for(target, HANG_GUARD).await;
    element.prop("value").await.ok().flatten().unwrap_or_default()
}

async fn wait_select_value(app: &AppUnderTest, target: &Target, want: &str) {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    loop {
        let value = select_value(app, target).await;
        if value == want {
            return;
        }
        if std::time::Instant::now() > deadline {
            app.fail(&format!("{} is {value:?}, not {want:?}", target.as_xpath())).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Shift+Tab with focus in the message box.
async fn press_shift_tab(app: &AppUnderTest) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::key::Key;
    app.click(&message_box(), HANG_GUARD).await;
    let (shift, tab) = (char::from(Key::Shift), char::from(Key::Tab));
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: tab })
        .then(KeyAction::Up { value: tab })
        .then(KeyAction::Up { value: shift });
    app.client().perform_actions(keys).await.expect("Shift+Tab");
}

/// The one session folder under the test home's session state (the CLI names it by session id).
fn only_session_dir(chat: &Chat) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(chat.app.home().session_state_dir())
        .expect("session state")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    assert_eq!(dirs.len(), 1, "one session: {dirs:?}");
    dirs.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_plan_is_reviewed_in_a_dialog_and_once_approved_the_agent_goes_on() {
    let chat = Chat::start().await;
    chat.new_session().await;
    let app = &chat.app;
    wait_select_value(app, &mode_select(), "interactive").await;
    app.choose(&mode_select(), "plan", HANG_GUARD).await;
    wait_select_value(app, &mode_select(), "plan").await;

    let plan_path = only_session_dir(&chat).join("plan.md");
    let plan = "# Greeting plan\n\n1. Add a `greet` function\n2. Cover it with a test\n";
    let summary =
        "- **Add** `greet`\n- Test it\n\n<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>";
    chat.github
        .when_once(Match::user_contains("plan the greeting"), write_file(&plan_path.display().to_string(), plan))
        .when_once(Match::tool_result(), exit_plan_mode(summary, "interactive"))
        // After an approval the CLI tells the model, as a user message, that plan mode is over.
        .when_once(Match::user_contains("Plan mode is no longer active"), Reply::text("Implementing the plan now."));
    chat.send("Please plan the greeting").await;

    let dialog = Target::dialog("Review the plan");
    app.wait_for(&dialog, HANG_GUARD).await;
    assert_eq!(app.focused_name().await, "Keep planning", "focus never starts on approving");
    app.press_escape().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.find(&dialog).await.is_some(), "Escape decides nothing");
    // The summary is markdown, sanitized: bold renders, the script and the handler do not run.
    let bold = Target::xpath("//dialog[@open]//strong[normalize-space(.)='Add']", "the summary's bold text");
    app.wait_for(&bold, HANG_GUARD).await;
    let plan_region = Target::role("region", "Plan").within(&dialog);
    app.wait_for_text(&plan_region, |t| t.contains("Cover it with a test"), HANG_GUARD).await;
    let recommended = Target::choice("Start, asking before each action (interactive) (recommended)");
    let checked = app.wait_for(&recommended, HANG_GUARD).await.prop("checked").await.ok().flatten();
    assert_eq!(checked.as_deref(), Some("true"), "the recommended way to go on is chosen");
    let pwned = app.eval("return window.__pwned ?? null;", vec![]).await;
    assert_eq!(pwned, serde_json::Value::Null, "model output ran no script");
    eprintln!("[test] saved {}", app.screenshot("plan-review.png").await.display());

    app.click(&Target::button("Approve plan"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
    chat.wait_reply("Implementing the plan now.").await;
    chat.wait_idle().await;
    wait_select_value(app, &mode_select(), "interactive").await;
    let results = chat.github.tool_results_seen();
    assert!(results.iter().any(|r| r.contains("Plan approved")), "the approval went back to the agent: {results:?}");

    // The plan opens in a side panel.
    app.click(&Target::button("View plan"), HANG_GUARD).await;
    let panel = Target::xpath("//aside[@aria-label='Plan']", "the plan panel");
    app.wait_for_text(&panel, |t| t.contains("Greeting plan") && t.contains("Cover it with a test"), HANG_GUARD).await;
    // It stays current: the agent rewrites the plan, the panel follows.
    chat.github.when_once(
        Match::user_contains("revise"),
        Reply::tool_call("edit", serde_json::json!({"path": plan_path.display().to_string(), "old_str": "Cover it with a test", "new_str": "Cover it with two tests"})),
    );
    app.choose(&mode_select(), "plan", HANG_GUARD).await;
    wait_select_value(app, &mode_select(), "plan").await;
    chat.send("revise the plan").await;
    app.wait_for_text(&panel, |t| t.contains("Cover it with two tests"), HANG_GUARD).await;
    chat.wait_idle().await;
    eprintln!("[test] saved {}", app.screenshot("plan-panel.png").await.display());
}

#[tokio::test]
async fn modes_cycle_with_shift_tab_autopilot_is_marked_and_the_mode_survives_reopening() {
    let chat = Chat::start().await;
    chat.new_session().await;
    let app = &chat.app;
    wait_select_value(app, &mode_select(), "interactive").await;
    let badge = Target::status("Autopilot: acts without asking");
    assert!(app.find(&badge).await.is_none(), "no autopilot badge in interactive mode");

    press_shift_tab(app).await;
    wait_select_value(app, &mode_select(), "plan").await;
    press_shift_tab(app).await;
    wait_select_value(app, &mode_select(), "autopilot").await;
    app.wait_for(&badge, HANG_GUARD).await;
    chat.send("hello on autopilot").await;
    chat.wait_reply("Hello from the fake model.").await;
    chat.wait_idle().await;
    // Autopilot went on by itself (the fake never says the task is complete) until its cap, and says so;
    // its own empty continuation messages show no bubble.
    let note = Target::xpath("//*[@role='log']//*[@role='note'][contains(., 'Autopilot paused')]", "autopilot's note");
    app.wait_for(&note, HANG_GUARD).await;
    assert_eq!(app.count(&copilot_desktop_tests::chat::user_messages()).await, 1, "only what the user wrote");
    eprintln!("[test] saved {}", app.screenshot("autopilot.png").await.display());

    // Another session, then back: the first one is still on autopilot (read back from the CLI).
    chat.new_session().await;
    wait_select_value(app, &mode_select(), "interactive").await;
    assert!(app.find(&badge).await.is_none());
    let first = Target::xpath(
        "(//nav[@aria-label='Sessions']//li//button[contains(normalize-space(.), 'hello on autopilot')])[1]",
        "the first session in the sidebar",
    );
    app.click(&first, HANG_GUARD).await;
    wait_select_value(app, &mode_select(), "autopilot").await;
    app.wait_for(&badge, HANG_GUARD).await;
}

#[tokio::test]
async fn the_effort_picker_changes_what_the_model_is_asked() {
    let github = FakeGitHub::start().await;
    github.add_token(TOKEN);
    github.set_models([DEFAULT_MODEL, REASONING_MODEL]);
    let app = AppUnderTest::launch(launch_options(&github)).await;
    let chat = Chat { app, github };
    chat.wait_connected().await;
    let app = &chat.app;

    app.click(&Target::button("New session"), HANG_GUARD).await;
    let dialog = Target::dialog("New session");
    app.fill(&Target::textbox("Working directory"), &app.home().work_dir().display().to_string(), HANG_GUARD).await;
    app.choose(&Target::select("Model").within(&dialog), REASONING_MODEL, HANG_GUARD).await;
    app.click(&Target::button("Create"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;

    let effort = Target::select("Reasoning effort");
    app.wait_for(&effort, HANG_GUARD).await;
    chat.send("first question").await;
    chat.wait_reply("Hello from the fake model.").await;
    chat.wait_idle().await;
    let before = chat.github.agent_requests().pop().expect("a request").body.unwrap()["reasoning_effort"].clone();
    assert_ne!(before, "high", "not high before it is chosen");

    app.choose(&effort, "high", HANG_GUARD).await;
    wait_select_value(app, &effort, "high").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    chat.github.clear_requests();
    chat.github.when(Match::user_contains("second question"), Reply::text("Thought hard."));
    chat.send("second question").await;
    chat.wait_reply("Thought hard.").await;
    chat.wait_idle().await;
    let after = chat.github.agent_requests().pop().expect("a request").body.unwrap();
    assert_eq!(after["reasoning_effort"], "high", "the chosen effort reaches the model: {after}");
    eprintln!("[test] saved {}", app.screenshot("effort.png").await.display());

    // A model that reports no efforts offers no picker.
    app.choose(&Target::select("Model"), DEFAULT_MODEL, HANG_GUARD).await;
    app.wait_gone(&effort, HANG_GUARD).await;
}

#[tokio::test]
async fn compact_now_says_nothing_to_compact_then_shows_what_it_removed() {
    let chat = Chat::start().await;
    chat.new_session().await;
    let app = &chat.app;
    let meter = Target::button("Context window");
    let dialog = Target::dialog("Context window");
    let outcome = Target::xpath("//dialog[@open]//*[@role='status']", "the compaction outcome");

    app.click(&meter, HANG_GUARD).await;
    app.wait_for(&dialog, HANG_GUARD).await;
    app.click(&Target::button("Compact now"), HANG_GUARD).await;
    app.wait_for_text(&outcome, |t| t.trim() == "Nothing to compact.", HANG_GUARD).await;
    assert!(app.find(&Target::xpath("//dialog[@open]//*[@role='alert']", "an error")).await.is_none());
    app.click(&Target::button("Close"), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;

    for i in 0..3 {
        chat.send(&format!("message number {i}")).await;
        chat.wait_idle().await;
    }
    // The meter shows how full the context is, and the breakdown is in its dialog.
    let percent = app.wait_for_text(&meter, |t| t.trim().ends_with('%'), HANG_GUARD).await;
    assert!(percent.trim().trim_end_matches('%').parse::<u32>().is_ok(), "{percent}");
    // The session's usage beside the meter may still be growing with the last turn's report.
    app.click_when_still(&meter, HANG_GUARD).await;
    app.wait_for_text(&dialog, |t| t.contains("System prompt") && t.contains("Conversation"), HANG_GUARD).await;
    app.fill(&Target::textbox("What to keep in focus when compacting (optional)"), "the numbers", HANG_GUARD).await;
    app.click(&Target::button("Compact now"), HANG_GUARD).await;
    let said = app.wait_for_text(&outcome, |t| t.contains("Compacted:"), HANG_GUARD).await;
    assert!(said.contains("removed"), "{said}");
    eprintln!("[test] saved {}", app.screenshot("compact.png").await.display());
    app.click(&Target::button("Close"), HANG_GUARD).await;
    let divider = Target::role("note", "Compaction");
    app.wait_for_text(&divider, |t| t.contains("Conversation compacted"), HANG_GUARD).await;
    assert!(chat.github.chat_requests().iter().any(|r| r.raw_body.contains("the numbers")));
}

fn cli_process(app: &AppUnderTest) -> u32 {
    let app_pid = app.app_process().pid;
    processes::children(app_pid)
        .into_iter()
        .find(|p| {
            p.exe.as_ref().and_then(|e| e.file_name()).is_some_and(|n| n.to_string_lossy().starts_with("copilot"))
        })
        .map(|p| p.pid)
        .unwrap_or_else(|| panic!("the app (pid {app_pid}) runs no CLI"))
}

#[tokio::test]
async fn a_reply_the_cli_crash_cut_short_stays_marked_and_the_notice_has_no_code() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("warm up"), Reply::text("Warmed up."))
        .when(Match::user_contains("long one"), Reply::stall(["The first words of a long answer "]));
    chat.new_session().await;
    chat.send("warm up").await;
    chat.wait_reply("Warmed up.").await;
    chat.wait_idle().await;

    chat.send("a long one please").await;
    chat.wait_reply("The first words of a long answer").await;
    let cli = cli_process(&chat.app);
    unsafe { libc::kill(cli as i32, libc::SIGKILL) };
    chat.app.wait_for_text(&status_bar(), |t| t.starts_with("Restarting"), HANG_GUARD).await;
    // The notice says what happened in words, without the code the UI branches on.
    let notice = Target::xpath("//*[@role='log']//*[@role='alert']", "the transcript's notice");
    let said = chat.app.wait_for_text(&notice, |t| t.contains("stopped unexpectedly"), HANG_GUARD).await;
    assert!(!said.contains("cli_restarted"), "words, not codes: {said}");
    chat.wait_connected().await;
    chat.wait_idle().await;

    let cut = chat.app.wait_for_text(&copilot_messages().last(), |t| t.contains("Cut short"), HANG_GUARD).await;
    assert!(cut.contains("The first words of a long answer"), "what arrived stays, after the reload too: {cut}");
}
