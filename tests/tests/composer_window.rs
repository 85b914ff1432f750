//! End to end: the composer's agent controls in the built app, in the real webview, with the real
//! Copilot CLI against the fake GitHub + Copilot API: queue and steer, attachments (the native file
//! dialog driven with xdotool, a screenshot pasted from the X clipboard with xclip), rewind and
//! fork, export. Controls are found by role and accessible name.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built), xdotool and xclip, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test composer_window`

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use copilot_desktop_tests::app::Target;
use copilot_desktop_tests::chat::{Chat, HANG_GUARD, copilot_messages, message_box, user_messages};
use copilot_desktop_tests::fake_model::{Match, Reply};

/// A slow reply: 300 words, 50 ms apart (15 s), so the test can act while the turn runs.
fn slow(text: &str) -> Reply {
    Reply::chunks((0..300).map(|i| format!("{text}{i} "))).with_delay(Duration::from_millis(50))
}

/// A message in the queue under the transcript (1-based).
fn queued_item(n: usize) -> Target {
    Target::xpath(&format!("//li[@aria-label='Queued message {n}']"), &format!("queued message {n}"))
}

fn alert() -> Target {
    Target::xpath("//*[@role='alert']", "an alert")
}

/// What the composer's message box holds.
async fn composer_text(chat: &Chat) -> String {
    let value = chat.app.eval("return document.querySelector('textarea[aria-label=\"Message\"]').value;", vec![]).await;
    value.as_str().unwrap_or_default().to_owned()
}

/// The texts of the user's messages in the transcript, in order.
async fn user_texts(chat: &Chat) -> Vec<String> {
    let value = chat
        .app
        .eval(
            "return [...document.querySelectorAll('article[aria-label=\"You\"] p.text')].map(p => p.textContent.trim());",
            vec![],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

/// Run `xdotool` with `args` (the X display is the test's, from `xvfb-run`).
fn xdotool(args: &[&str]) -> String {
    let out = Command::new("xdotool").args(args).output().expect("xdotool runs (scripts/setup.sh --test installs it)");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// One test at a time drives a native dialog: they share the X display, and keyboard focus with it.
static NATIVE_DIALOG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The id of the visible X window titled exactly `title`, once there is one.
async fn native_window(title: &str) -> String {
    let began = Instant::now();
    loop {
        let found = xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")]);
        if let Some(id) = found.lines().next().filter(|l| !l.is_empty()) {
            return id.to_owned();
        }
        assert!(began.elapsed() < HANG_GUARD, "the native dialog \"{title}\" never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Type `path` into the native GTK dialog titled `title` and press Enter, as a person would: in its location
/// field (`location_key`: Ctrl+L in an open dialog) or over the whole file name (Ctrl+A in a save dialog). Again
/// if the dialog is still there after a while (a busy machine can drop keys while the dialog maps).
async fn type_into_native_dialog(title: &str, location_key: &str, path: &std::path::Path) {
    let _one_at_a_time = NATIVE_DIALOG.lock().await;
    let window = native_window(title).await;
    for _attempt in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(&["key", "--window", &window, "--clearmodifiers", location_key]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if location_key == "ctrl+l" {
            xdotool(&["key", "--window", &window, "--clearmodifiers", "ctrl+a"]);
        }
        xdotool(&["type", "--window", &window, "--delay", "10", &path.display().to_string()]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&["key", "--window", &window, "Return"]);
        let began = Instant::now();
        while began.elapsed() < Duration::from_secs(3) {
            if xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")]).is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("the native dialog \"{title}\" did not take {}", path.display());
}

/// In the native GTK file dialog titled `title`, choose `path` through its location field.
async fn choose_in_file_dialog(title: &str, path: &std::path::Path) {
    type_into_native_dialog(title, "ctrl+l", path).await;
}

/// In the native GTK save dialog titled `title`, save as the full `path`.
async fn save_in_file_dialog(title: &str, path: &std::path::Path) {
    type_into_native_dialog(title, "ctrl+a", path).await;
}

/// Own the X clipboard with `png` as image/png until the returned child is killed.
fn clipboard_image(png: &std::path::Path) -> Child {
    Command::new("xclip")
        .args(["-quiet", "-selection", "clipboard", "-t", "image/png", "-i"])
        .arg(png)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip runs (scripts/setup.sh --test installs it)")
}

/// A 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
        .unwrap()
}

#[tokio::test]
async fn messages_typed_during_a_turn_queue_and_run_in_order() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("long task"), slow("busy"))
        .when(Match::user_contains("first queued"), Reply::text("answer one"))
        .when(Match::user_contains("second queued"), Reply::text("answer two"))
        .when(Match::user_contains("third queued"), Reply::text("should not run"));
    chat.new_session().await;

    chat.send("a long task please").await;
    chat.app.wait_for_text(&copilot_messages().last(), |t| t.contains("busy"), HANG_GUARD).await;
    for text in ["first queued", "second queued", "third queued"] {
        chat.send(text).await;
    }
    let queued = Target::xpath("//section[@aria-label='Queued messages']", "the queue");
    chat.app.wait_for(&queued_item(3), HANG_GUARD).await;
    assert_eq!(composer_text(&chat).await, "", "the composer is free again");
    // Removed before it runs.
    chat.app.click(&Target::button("Remove").within(&queued_item(3)), HANG_GUARD).await;
    chat.app.wait_gone(&queued_item(3), HANG_GUARD).await;
    eprintln!("[test] saved {}", chat.app.screenshot("composer-queue.png").await.display());
    assert!(chat.app.find(&queued_item(2)).await.is_some(), "still queued while the long turn runs");

    chat.wait_reply("answer two").await;
    chat.wait_idle().await;
    chat.app.wait_gone(&queued, HANG_GUARD).await;
    let users = user_texts(&chat).await;
    assert_eq!(users, ["a long task please", "first queued", "second queued"], "both ran, in order, after the turn");
    let prompts: Vec<String> = chat.github.agent_requests().iter().filter_map(|r| r.last_user_text()).collect();
    let first = prompts.iter().position(|p| p.contains("first queued")).expect("the model got the first");
    let second = prompts.iter().position(|p| p.contains("second queued")).expect("the model got the second");
    assert!(first < second, "in order: {prompts:?}");
    assert!(!prompts.iter().any(|p| p.contains("third queued")), "the removed one never ran");
}

#[tokio::test]
async fn send_now_steers_the_running_turn() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("build it"), Reply::shell("sleep 4; echo built-it"))
        .when(Match::tool_output_contains("built-it"), Reply::text("done building"));
    chat.new_session().await;

    chat.send("please build it").await;
    let dialog = Target::dialog("Run this command?");
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    chat.app.click(&Target::button("Allow once"), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;
    chat.app.wait_for(&Target::article("Tool: bash"), HANG_GUARD).await;

    chat.app.fill(&message_box(), "use the release profile", HANG_GUARD).await;
    chat.app.click(&Target::button("Send now"), HANG_GUARD).await;
    chat.wait_reply("done building").await;
    chat.wait_idle().await;

    let requests = chat.github.agent_requests();
    let steered = requests
        .iter()
        .find(|r| r.raw_body.contains("use the release profile"))
        .expect("the model received the steering message");
    assert!(steered.raw_body.contains("built-it"), "it arrived mid-turn, with the command's result");
    assert!(steered.last_is_tool_result() || steered.raw_body.contains("tool_call_id"), "inside the running turn");
}

#[tokio::test]
async fn a_picked_file_and_a_pasted_screenshot_reach_the_model() {
    let chat = Chat::start().await;
    chat.github.when(Match::user_contains("look at these"), Reply::text("I see a file and a picture."));
    chat.new_session().await;
    let notes = chat.marker("notes.txt");
    std::fs::write(&notes, "the secret word is pelican\n").unwrap();
    let binary = chat.marker("tool.bin");
    std::fs::write(&binary, b"\x7fELF\0\0\0\x01\x02").unwrap();
    let png = chat.marker("shot.png");
    std::fs::write(&png, tiny_png()).unwrap();

    chat.app.fill(&message_box(), "look at these", HANG_GUARD).await;
    // A file the model cannot read is refused in words, and the text stays.
    chat.app.click(&Target::button("Attach files"), HANG_GUARD).await;
    choose_in_file_dialog("Attach files", &binary).await;
    let alert = chat.app.wait_for_text(&alert(), |t| t.contains("binary"), HANG_GUARD).await;
    assert!(alert.contains("tool.bin"), "{alert}");
    assert_eq!(composer_text(&chat).await, "look at these", "what was typed stays");

    chat.app.click(&Target::button("Attach files"), HANG_GUARD).await;
    choose_in_file_dialog("Attach files", &notes).await;
    chat.app.wait_for(&Target::button("Remove notes.txt"), HANG_GUARD).await;

    let mut clipboard = clipboard_image(&png);
    chat.app.click(&message_box(), HANG_GUARD).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    chat.app.press_ctrl('v').await;
    let thumb = Target::xpath("//ul[@aria-label='Attachments']//img", "the pasted image's thumbnail");
    chat.app.wait_for(&thumb, HANG_GUARD).await;
    let _ = clipboard.kill();
    let _ = clipboard.wait();
    eprintln!("[test] saved {}", chat.app.screenshot("composer-attachments.png").await.display());

    chat.app.press_enter(&message_box(), HANG_GUARD).await;
    chat.wait_reply("I see a file and a picture.").await;
    let request = chat.github.agent_requests().pop().expect("the model was asked");
    assert!(request.raw_body.contains(&notes.display().to_string()), "the file reached the model");
    let images = request.images();
    assert_eq!(images.len(), 1, "one image reached the model");
    assert!(images[0].starts_with("data:image/png;base64,"));

    // The sent message keeps its chips: the file and the picture, as a thumbnail made by the app.
    let mine = user_messages().last();
    let chips = chat.app.wait_for_text(&mine, |t| t.contains("notes.txt"), HANG_GUARD).await;
    assert!(chips.contains("look at these"), "{chips}");
    let src = chat
        .app
        .eval("const i = [...document.querySelectorAll('article[aria-label=\"You\"] img')].pop(); return i ? i.src : null;", vec![])
        .await;
    assert!(src.as_str().is_some_and(|s| s.starts_with("data:image/png;base64,")), "a thumbnail: {src}");
    assert!(chat.app.find(&Target::button("Remove notes.txt")).await.is_none(), "the draft's chips went with it");
}

#[tokio::test]
async fn rewind_puts_the_file_back_and_fork_opens_the_history_before_a_message() {
    let chat = Chat::start().await;
    let poem = chat.marker("poem.txt");
    std::fs::write(&poem, "roses are red\n").unwrap();
    let path = poem.display().to_string();
    chat.github
        .when(Match::user_contains("keep this"), Reply::text("kept"))
        .when(
            Match::user_contains("change the poem"),
            Reply::tool_call("edit", serde_json::json!({ "path": path, "old_str": "red", "new_str": "blue" })),
        )
        .when(Match::tool_result(), Reply::text("edited"))
        .when(Match::user_contains("another turn"), Reply::text("another answer"));
    chat.new_session().await;
    chat.send("keep this turn").await;
    chat.wait_reply("kept").await;
    chat.wait_idle().await;
    chat.send("change the poem").await;
    let allow = Target::dialog("Write to this file?");
    chat.app.wait_for(&allow, HANG_GUARD).await;
    chat.app.click(&Target::button("Allow once"), HANG_GUARD).await;
    chat.wait_reply("edited").await;
    chat.wait_idle().await;
    assert_eq!(std::fs::read_to_string(&poem).unwrap(), "roses are blue\n");

    chat.app.click(&Target::button("Rewind to here").last(), HANG_GUARD).await;
    let dialog = Target::dialog("Rewind to here?");
    let shown = chat.app.wait_for_text(&dialog, |t| t.contains("poem.txt"), HANG_GUARD).await;
    assert!(shown.contains("change the poem"), "the message is quoted: {shown}");
    eprintln!("[test] saved {}", chat.app.screenshot("rewind.png").await.display());
    chat.app.click(&Target::button("Rewind").within(&dialog), HANG_GUARD).await;
    chat.app.wait_for(&Target::xpath("//ul[@aria-label='Restored files']", "the restored files"), HANG_GUARD).await;
    assert_eq!(std::fs::read_to_string(&poem).unwrap(), "roses are red\n", "the file is back");
    chat.app.click(&Target::button("Close").within(&dialog), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;
    let deadline = Instant::now() + HANG_GUARD;
    while user_texts(&chat).await != ["keep this turn"] {
        assert!(Instant::now() < deadline, "the transcript went back: {:?}", user_texts(&chat).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    chat.send("another turn").await;
    chat.wait_reply("another answer").await;
    chat.wait_idle().await;
    chat.app.click(&Target::button("Fork from here").last(), HANG_GUARD).await;
    chat.app.wait_for_count(&copilot_desktop_tests::chat::session_rows(), 2, HANG_GUARD).await;
    let deadline = Instant::now() + HANG_GUARD;
    while user_texts(&chat).await != ["keep this turn"] {
        assert!(Instant::now() < deadline, "the fork opened with the history before: {:?}", user_texts(&chat).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(chat.app.text(&copilot_messages().last()).await.unwrap_or_default().trim(), "kept");
}

#[tokio::test]
async fn export_saves_markdown_and_a_script_free_web_page_through_the_save_dialog() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("run it"), Reply::shell("echo exported-output"))
        .when(Match::tool_output_contains("exported-output"), Reply::text("Done <script>alert('x')</script> here."));
    chat.new_session().await;
    chat.send("run it please").await;
    let allow = Target::dialog("Run this command?");
    chat.app.wait_for(&allow, HANG_GUARD).await;
    chat.app.click(&Target::button("Allow once"), HANG_GUARD).await;
    chat.wait_reply("Done").await;
    chat.wait_idle().await;

    let dialog = Target::dialog("Export session");
    for (choice, file) in [("Markdown (.md)", "export.md"), ("Web page (.html)", "export.html")] {
        chat.app.click(&Target::button("Export…"), HANG_GUARD).await;
        chat.app.wait_for(&dialog, HANG_GUARD).await;
        chat.app.click(&Target::choice(choice), HANG_GUARD).await;
        chat.app.click(&Target::button("Export…").within(&dialog), HANG_GUARD).await;
        let target = chat.app.home().root().join(file);
        save_in_file_dialog("Export session", &target).await;
        chat.app
            .wait_for_text(
                &Target::xpath("//dialog[@open]//*[@role='status']", "saved"),
                |t| t.contains(file),
                HANG_GUARD,
            )
            .await;
        chat.app.click(&Target::button("Close").within(&dialog), HANG_GUARD).await;
        chat.app.wait_gone(&dialog, HANG_GUARD).await;
    }
    let md = std::fs::read_to_string(chat.app.home().root().join("export.md")).expect("the Markdown was written");
    for needle in ["## You", "run it please", "echo exported-output", "**approved**", "## Copilot"] {
        assert!(md.contains(needle), "{needle:?} in {md}");
    }
    let html = std::fs::read_to_string(chat.app.home().root().join("export.html")).expect("the page was written");
    assert!(!html.to_lowercase().contains("<script"), "no script in the page: {html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "the model's text is escaped");
    assert!(html.contains("echo exported-output") && html.contains("<strong>approved</strong>"), "{html}");
}
