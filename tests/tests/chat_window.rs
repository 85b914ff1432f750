//! End to end: chatting in the built app, in the real webview (WebKitGTK through tauri-driver),
//! with the real Copilot CLI signed in with a token against the fake GitHub + Copilot API (the
//! model's replies are scripted there). Controls are found by role and accessible name.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test chat_window`

use std::time::Duration;

use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{
    Chat, HANG_GUARD, copilot_messages, launch_options, message_box, session_rows, status_bar, user_messages,
};
use copilot_desktop_tests::fake_model::{Match, Reply};
use copilot_desktop_tests::webdriver::processes;
use serde_json::json;

#[tokio::test]
async fn a_message_gets_its_streamed_reply() {
    let chat = Chat::start().await;
    let reply = "Hello from the fake model. This reply streams in many small pieces, in order.";
    chat.github.when(Match::user_contains("greet me"), Reply::text_in_chunks(reply, 12));
    chat.new_session().await;

    chat.send("Please greet me").await;
    let text = chat.wait_reply(reply).await;
    assert_eq!(text.trim(), reply, "the whole reply, once, in order");
    let mine = chat.app.text(&user_messages().last()).await.unwrap_or_default();
    assert!(mine.contains("Please greet me"), "the user's message is shown: {mine}");
    assert_eq!(chat.app.text(&message_box()).await.as_deref(), Some(""), "the composer is cleared");
    chat.wait_idle().await;

    // Token usage: the turn's, under the reply, and the session's, beside Send, agree.
    let turn_usage = Target::xpath("//*[@role='log']//p[contains(@class, 'usage')]", "the turn's token usage");
    let turn = chat.app.wait_for_text(&turn_usage, |t| t.contains(" out"), HANG_GUARD).await;
    let figures = |text: &str| -> Vec<u64> {
        text.split(|c: char| !c.is_ascii_digit() && c != ',').filter_map(|n| n.replace(',', "").parse().ok()).collect()
    };
    let turn_figures = figures(&turn);
    assert!(
        turn_figures.len() >= 2 && turn_figures[0] > 0 && turn_figures[1] > 0,
        "the turn reports tokens in and out: {turn}"
    );
    let session = chat
        .app
        .eval("const p = document.querySelector('form .session-usage'); return p ? p.title : null;", vec![])
        .await;
    let session = session.as_str().unwrap_or_else(|| panic!("the session's token usage is shown beside Send"));
    assert_eq!(
        figures(session),
        turn_figures[..2],
        "one turn so far, so the session's total is the turn's: {session} / {turn}"
    );
    eprintln!("[test] saved {}", chat.app.screenshot("chat.png").await.display());
}

#[tokio::test]
async fn an_allowed_shell_command_runs_and_its_output_appears() {
    let chat = Chat::start().await;
    chat.github
        .when(
            Match::user_contains("make the marker"),
            Reply::shell("echo e2e-tool-ran > allowed.txt && echo printed-by-tool"),
        )
        .when(Match::tool_output_contains("printed-by-tool"), Reply::text("The command ran."));
    chat.new_session().await;

    chat.send("Please make the marker").await;
    let dialog = Target::dialog("Run this command?");
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    let shown = chat.app.text(&dialog).await.unwrap_or_default();
    assert!(
        shown.contains("echo e2e-tool-ran > allowed.txt && echo printed-by-tool"),
        "the full command is shown: {shown}"
    );
    assert_eq!(
        chat.app.focused_name().await,
        "Deny",
        "the dialog opens with focus on Deny, never on an approving button"
    );
    eprintln!("[test] saved {}", chat.app.screenshot("permission-shell.png").await.display());
    assert!(!chat.marker("allowed.txt").exists(), "nothing runs before the user answers");

    chat.app.click(&Target::button("Allow once"), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;
    let card =
        chat.app.wait_for_text(&Target::article("Tool: bash"), |t| t.contains("printed-by-tool"), HANG_GUARD).await;
    assert!(card.contains("allowed.txt"), "the tool card says what ran: {card}");
    chat.wait_reply("The command ran.").await;
    let written = std::fs::read_to_string(chat.marker("allowed.txt")).expect("the allowed command ran");
    assert_eq!(written.trim(), "e2e-tool-ran");
}

#[tokio::test]
async fn a_denied_command_does_not_run_and_the_agent_hears_why() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("delete things"), Reply::shell("echo should-not-run > denied.txt"))
        .when(Match::tool_output_contains("not today"), Reply::text("Understood, I will leave the files alone."));
    chat.new_session().await;

    chat.send("Please delete things").await;
    let dialog = Target::dialog("Run this command?");
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    chat.app.fill(&Target::textbox("Feedback to the agent (optional)"), "not today", HANG_GUARD).await;
    chat.app.click(&Target::button("Deny"), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;

    chat.wait_reply("Understood, I will leave the files alone.").await;
    assert!(!chat.marker("denied.txt").exists(), "the denied command did not run");
    let seen = chat.github.tool_results_seen();
    assert!(seen.iter().any(|r| r.contains("not today")), "the agent got the feedback: {seen:?}");
}

#[tokio::test]
async fn allow_for_this_session_is_not_asked_twice() {
    let chat = Chat::start().await;
    let first = chat.marker("first.txt");
    let second = chat.marker("second.txt");
    chat.github
        .when_once(
            Match::user_contains("write one"),
            Reply::tool_call("create", json!({ "path": first, "file_text": "one\n" })),
        )
        .when_once(
            Match::user_contains("write two"),
            Reply::tool_call("create", json!({ "path": second, "file_text": "two\n" })),
        )
        .when(Match::tool_result(), Reply::text("File written."));
    chat.new_session().await;

    chat.send("Please write one").await;
    let dialog = Target::dialog("Write to this file?");
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    let shown = chat.app.text(&dialog).await.unwrap_or_default();
    assert!(shown.contains("first.txt"), "the dialog names the file: {shown}");
    eprintln!("[test] saved {}", chat.app.screenshot("permission-write.png").await.display());
    chat.app.click(&Target::button("Allow for this session"), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;
    chat.wait_idle().await;
    assert_eq!(std::fs::read_to_string(&first).expect("first file written"), "one\n");

    // The same kind of write again: no dialog; the turn finishes on its own.
    chat.send("Please write two").await;
    chat.app
        .wait_for_text(
            &Target::article("Tool: create").last(),
            |t| t.contains("second.txt") && t.contains("Succeeded"),
            HANG_GUARD,
        )
        .await;
    chat.wait_idle().await;
    assert!(chat.app.find(&dialog).await.is_none(), "not asked a second time");
    assert_eq!(std::fs::read_to_string(&second).expect("second file written"), "two\n");
    assert_eq!(chat.app.count(&Target::article("Tool: create")).await, 2);
}

#[tokio::test]
async fn a_past_session_reopens_with_its_history_after_a_restart() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("first question"), Reply::text("First answer."))
        .when(Match::user_contains("second question"), Reply::text("Second answer."));
    chat.new_session().await;
    chat.send("My first question").await;
    chat.wait_reply("First answer.").await;
    chat.wait_idle().await;
    chat.send("My second question").await;
    chat.wait_reply("Second answer.").await;
    chat.wait_idle().await;

    let Chat { app, github } = chat;
    let app = app.relaunch(launch_options(&github)).await;
    let chat = Chat { app, github };
    chat.wait_connected().await;
    chat.app.click(&session_rows(), HANG_GUARD).await;

    chat.app.wait_for_text(&copilot_messages().last(), |t| t.contains("Second answer."), HANG_GUARD).await;
    let mut users = Vec::new();
    for i in 1..=chat.app.count(&user_messages()).await {
        users.push(chat.app.text(&user_messages().nth(i)).await.unwrap_or_default());
    }
    assert_eq!(users.len(), 2, "both user messages are back: {users:?}");
    assert!(users[0].contains("My first question") && users[1].contains("My second question"), "in order: {users:?}");
    let first = chat.app.text(&copilot_messages().nth(1)).await.unwrap_or_default();
    assert!(first.contains("First answer."), "the first answer is back: {first}");

    // The reopened session goes on.
    chat.github.when(Match::user_contains("third question"), Reply::text("Third answer."));
    chat.send("My third question").await;
    chat.wait_reply("Third answer.").await;
}

#[tokio::test]
async fn a_deleted_session_is_gone() {
    let chat = Chat::start().await;
    chat.github.when(Match::user_contains("remember"), Reply::text("Noted."));
    chat.new_session().await;
    chat.send("remember this").await;
    chat.wait_reply("Noted.").await;
    chat.wait_idle().await;
    assert_eq!(chat.app.count(&session_rows()).await, 1);

    chat.app.click(&Target::button("Delete session"), HANG_GUARD).await;
    let confirm = Target::dialog("Delete session?");
    chat.app.wait_for(&confirm, HANG_GUARD).await;
    assert_eq!(chat.app.focused_name().await, "Cancel", "the confirmation defaults to Cancel");
    chat.app.click(&Target::button("Delete").within(&confirm), HANG_GUARD).await;
    chat.app.wait_gone(&confirm, HANG_GUARD).await;
    chat.app.wait_gone(&session_rows(), HANG_GUARD).await;

    let state = chat.app.home().session_state_dir();
    // The CLI keeps its lock folder (".session-operation-locks"); sessions are the other entries.
    let left: Vec<_> = std::fs::read_dir(&state)
        .map(|d| d.flatten().map(|e| e.file_name()).filter(|n| !n.to_string_lossy().starts_with('.')).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "the CLI's stored session is deleted too: {left:?}");
}

#[tokio::test]
async fn search_finds_a_session_by_what_was_said_in_it() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("about fruit"), Reply::text_in_chunks("A pineapple is a tropical fruit.", 4))
        .when(Match::user_contains("about weather"), Reply::text("Expect drizzle all afternoon."));
    chat.new_session().await;
    chat.send("Tell me about fruit").await;
    chat.wait_reply("tropical fruit").await;
    chat.wait_idle().await;
    chat.new_session().await;
    chat.send("Tell me about weather").await;
    chat.wait_reply("drizzle").await;
    chat.wait_idle().await;
    chat.app.wait_for_count(&session_rows(), 2, HANG_GUARD).await;

    // "pineapple" is only in the first session's reply: not in a title, summary or folder.
    let search = Target::textbox("Search sessions");
    chat.app.fill(&search, "PINEAPPLE", HANG_GUARD).await;
    let hit = Target::xpath("//nav[@aria-label='Sessions']//li//mark", "a marked hit in the sidebar");
    let marked = chat.app.wait_for_text(&hit, |t| !t.is_empty(), HANG_GUARD).await;
    assert_eq!(marked, "pineapple", "the hit is marked as written in the message");
    chat.app.wait_for_count(&session_rows(), 1, HANG_GUARD).await;
    let row = chat.app.text(&session_rows()).await.unwrap_or_default();
    assert!(row.contains("A pineapple is a tropical fruit."), "the row shows the snippet: {row}");
    assert!(!row.contains("drizzle"), "{row}");
    eprintln!("[test] saved {}", chat.app.screenshot("search.png").await.display());

    // The weather session, still open, hears about fruit: once that turn ends it is found too, search unchanged.
    chat.send("Now tell me about fruit").await;
    chat.wait_idle().await;
    chat.app.wait_for_count(&session_rows(), 2, HANG_GUARD).await;
    assert_eq!(chat.app.count(&hit).await, 2, "both rows show a marked snippet");

    // The found row of the first session is the session with that reply.
    let fruit = Target::xpath(
        "//nav[@aria-label='Sessions']//li//button[contains(., 'Tell me about fruit')]",
        "the fruit session",
    );
    chat.app.click(&fruit, HANG_GUARD).await;
    chat.app
        .wait_for_text(&copilot_messages().last(), |t| t.contains("A pineapple is a tropical fruit."), HANG_GUARD)
        .await;

    // Emptied the way a person does (select all, delete), the box lists both sessions again.
    let field = chat.app.wait_for(&search, HANG_GUARD).await;
    field.send_keys("\u{E009}a\u{E000}\u{E003}").await.expect("empty the search box");
    chat.app.wait_for_count(&session_rows(), 2, HANG_GUARD).await;
    assert_eq!(chat.app.count(&hit).await, 0, "no snippet without a search");
}

#[tokio::test]
async fn stop_ends_a_long_stream() {
    let chat = Chat::start().await;
    chat.github.when(Match::user_contains("talk forever"), Reply::stall(["I will talk for a very long time "]));
    chat.new_session().await;

    chat.send("Please talk forever").await;
    chat.wait_reply("I will talk for a very long time").await;
    chat.app.click(&Target::button("Stop"), HANG_GUARD).await;
    chat.wait_idle().await;
    let kept = chat.app.text(&copilot_messages().last()).await.unwrap_or_default();
    assert!(kept.contains("I will talk for a very long time"), "the partial reply stays: {kept}");
    let (_, _, cancelled) = chat.github.stream_counts();
    assert!(cancelled >= 1, "the model's stream was cancelled");

    chat.github.when(Match::user_contains("after stop"), Reply::text("Still here."));
    chat.send("and after stop?").await;
    chat.wait_reply("Still here.").await;
}

#[tokio::test]
async fn the_ui_recovers_when_the_cli_is_killed_mid_turn() {
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("warm up"), Reply::text("Warmed up."))
        .when(
            Match::user_contains("long one"),
            Reply::text_in_chunks(&"slow words ".repeat(100), 100).with_delay(Duration::from_millis(100)),
        )
        .when(Match::user_contains("after the crash"), Reply::text("Back in business."));
    chat.new_session().await;
    // A session killed during its very first turn cannot be resumed by the CLI: finish one first.
    chat.send("warm up").await;
    chat.wait_reply("Warmed up.").await;
    chat.wait_idle().await;

    chat.send("a long one please").await;
    chat.wait_reply("slow words").await;
    let cli = cli_process(&chat.app);
    unsafe { libc::kill(cli as i32, libc::SIGKILL) };
    eprintln!("[test] killed the CLI (pid {cli})");

    chat.app.wait_for_text(&status_bar(), |t| t.starts_with("Restarting"), HANG_GUARD).await;
    chat.wait_connected().await;
    chat.wait_idle().await;
    chat.send("after the crash").await;
    chat.wait_reply("Back in business.").await;
    let first = chat.app.text(&copilot_messages().nth(1)).await.unwrap_or_default();
    assert!(first.contains("Warmed up."), "earlier history is intact: {first}");
    assert_ne!(cli_process(&chat.app), cli, "a new CLI runs");
}

/// Every message in the transcript, in order: who wrote it ("You" or "Copilot") and its text.
async fn messages_shown(app: &AppUnderTest) -> Vec<(String, String)> {
    let shown = app
        .eval(
            "return [...document.querySelectorAll(\"[role='log'] article[aria-label='You'], [role='log'] article[aria-label='Copilot']\")] \
               .map((a) => [a.getAttribute('aria-label'), a.innerText.trim()]);",
            vec![],
        )
        .await;
    serde_json::from_value(shown).expect("pairs of strings")
}

/// The session row in the sidebar whose text contains `text`.
fn session_row(text: &str) -> Target {
    Target::xpath(&format!("//nav[@aria-label='Sessions']//li//button[contains(., '{text}')]"), text)
}

/// Append `turns` turns to a stored session's journal, each a copy of its last turn with fresh ids and its own
/// question and answer ("Synthetic question n", "Synthetic answer n."): the CLI's own lines, as it wrote them.
fn grow_journal(journal: &std::path::Path, turns: usize) {
    let text = std::fs::read_to_string(journal).expect("the session's journal");
    let mut events: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    events.retain(|e| e["type"] != "session.shutdown");
    let start = events.iter().rposition(|e| e["type"] == "user.message").expect("a user message");
    let turn = events[start..].to_vec();
    for n in 1..=turns {
        for (i, template) in turn.iter().enumerate() {
            let mut e = template.clone();
            e["id"] = json!(format!("{n:08x}-0000-4000-8000-{i:012x}"));
            e["parentId"] = events.last().map(|p| p["id"].clone()).unwrap_or_default();
            match e["type"].as_str() {
                Some("user.message") => {
                    e["data"]["content"] = json!(format!("Synthetic question {n}"));
                    e["data"]["transformedContent"] = json!(format!("Synthetic question {n}"));
                }
                Some("assistant.message") => {
                    e["data"]["messageId"] = json!(format!("{n:08x}-0000-4000-9000-{i:012x}"));
                    e["data"]["content"] = json!(format!("Synthetic answer {n}."));
                }
                _ => {}
            }
            events.push(e);
        }
    }
    let lines: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(journal, lines).expect("write the journal");
}

/// The journal of the stored session whose messages include `text`.
fn journal_with(app: &AppUnderTest, text: &str) -> std::path::PathBuf {
    std::fs::read_dir(app.home().session_state_dir())
        .expect("session-state")
        .flatten()
        .map(|e| e.path().join("events.jsonl"))
        .find(|j| std::fs::read_to_string(j).is_ok_and(|t| t.contains(text)))
        .unwrap_or_else(|| panic!("no stored session says {text:?}"))
}

/// The messages on screen (the transcript keeps only the rows near the bottom in the page) are the end of
/// `expected`: each once, in order, none missing in between, the newest last.
async fn assert_shows_the_end_of(app: &AppUnderTest, expected: &[(String, String)], when: &str) {
    let shown = messages_shown(app).await;
    assert!(shown.len() >= 8, "{when}: a screen's worth of messages is shown: {shown:?}");
    assert!(shown.len() <= expected.len(), "{when}: more shown than there are: {shown:?}");
    assert_eq!(shown, expected[expected.len() - shown.len()..], "{when}");
}

#[tokio::test]
async fn a_reopened_session_shows_every_message_once_in_order_even_mid_reply() {
    let chat = Chat::start().await;
    for word in ["alpha", "bravo", "zulu"] {
        chat.github.when(Match::user_contains(format!("Question {word}")), Reply::text(format!("Answer {word}.")));
    }
    chat.new_session().await;
    for word in ["alpha", "bravo"] {
        chat.send(&format!("Question {word}")).await;
        chat.wait_reply(&format!("Answer {word}.")).await;
        chat.wait_idle().await;
    }
    chat.new_session().await;
    chat.send("Question zulu").await;
    chat.wait_reply("Answer zulu.").await;
    chat.wait_idle().await;
    let message = |who: &str, text: String| (who.to_owned(), text);
    let mut expected: Vec<(String, String)> = ["alpha", "bravo"]
        .iter()
        .flat_map(|w| [message("You", format!("Question {w}")), message("Copilot", format!("Answer {w}."))])
        .collect();

    // A session longer than its last screen, reopened after a restart: the end of its journal shows while the
    // CLI resumes it, then the history takes its place.
    const GROWN: usize = 40;
    let journal = journal_with(&chat.app, "Question alpha");
    let Chat { app, github } = chat;
    let app = app.relaunch_after(launch_options(&github), |_| grow_journal(&journal, GROWN)).await;
    let chat = Chat { app, github };
    chat.wait_connected().await;
    for n in 1..=GROWN {
        expected.push(message("You", format!("Synthetic question {n}")));
        expected.push(message("Copilot", format!("Synthetic answer {n}.")));
    }
    let whole = Target::xpath("//*[@role='log'][@aria-label='Transcript'][not(@aria-busy)]", "the whole transcript");
    chat.app.click(&session_row("Question alpha"), HANG_GUARD).await;
    chat.wait_reply(&format!("Synthetic answer {GROWN}.")).await;
    chat.app.wait_for(&whole, HANG_GUARD).await;
    assert_shows_the_end_of(&chat.app, &expected, "after a restart").await;
    // Longer than the CLI's newest page that confirms a journal: the history came from the journal, crossing to
    // the window while the CLI resumed, and only what follows it came with the answer.
    assert!(chat.app.log_text().contains("history read from the journal"), "{}", chat.app.log_text());

    // Reopened while a reply streams: the journal, the history and the live events each hold some of it.
    let slow = "echo ".repeat(40);
    chat.github.when(
        Match::user_contains("Question echo"),
        Reply::text_in_chunks(&slow, 40).with_delay(Duration::from_millis(60)),
    );
    chat.send("Question echo").await;
    chat.wait_reply("echo echo").await;
    chat.app.click(&session_row("Question zulu"), HANG_GUARD).await;
    chat.wait_reply("Answer zulu.").await;
    chat.app.click(&session_row("Question alpha"), HANG_GUARD).await;
    chat.wait_reply(slow.trim_end()).await;
    chat.app.wait_for(&whole, HANG_GUARD).await;
    chat.wait_idle().await;
    expected.push(message("You", "Question echo".into()));
    expected.push(message("Copilot", slow.trim_end().into()));
    assert_shows_the_end_of(&chat.app, &expected, "reopened mid-reply").await;

    // Reopened just after a reply finished, away from it: stored, and maybe on the live stream too.
    chat.github.when(Match::user_contains("Question foxtrot"), Reply::text("Answer foxtrot."));
    chat.send("Question foxtrot").await;
    chat.app.click(&session_row("Question zulu"), HANG_GUARD).await;
    chat.wait_reply("Answer zulu.").await;
    let stored = async {
        while !std::fs::read_to_string(&journal).is_ok_and(|t| t.contains("Answer foxtrot.")) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(HANG_GUARD, stored).await.expect("the reply is stored");
    chat.app.click(&session_row("Question alpha"), HANG_GUARD).await;
    chat.wait_reply("Answer foxtrot.").await;
    chat.app.wait_for(&whole, HANG_GUARD).await;
    expected.push(message("You", "Question foxtrot".into()));
    expected.push(message("Copilot", "Answer foxtrot.".into()));
    assert_shows_the_end_of(&chat.app, &expected, "reopened just after a reply").await;
}

/// The pid of the CLI the app runs (a child of the app named like the bundled binary).
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

/// Model output that tries every trick to run script in the page or call the app's commands.
/// Each payload would set `window.__pwned` and try to delete every session through the IPC. Blank
/// lines keep each payload its own block (an HTML block runs until a blank line).
const HOSTILE_REPLY: &str = r#"Here is some **bold** text and a [safe link](https://example.com/docs).

<script>window.__pwned = 'script'; window.__TAURI_INTERNALS__.invoke('list_sessions').then(s => s.forEach(x => window.__TAURI_INTERNALS__.invoke('delete_session', { sessionId: x.id })));</script>

<img src="x" onerror="window.__pwned = 'img'; window.__TAURI_INTERNALS__.invoke('list_sessions').then(s => s.forEach(x => window.__TAURI_INTERNALS__.invoke('delete_session', { sessionId: x.id })))">

[javascript link](javascript:window.__pwned='link')

[data link](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0nZGF0YSc8L3NjcmlwdD4=)

<a href="javascript:window.__pwned='anchor'">anchor</a>

<iframe src="javascript:parent.__pwned='iframe'"></iframe>

<iframe srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>

<svg onload="window.__pwned='svg'"><a xlink:href="javascript:window.__pwned='svg-link'"><text x="0" y="15">svg text</text></a></svg>

<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mathml'"></style></mglyph></table></mtext></math>

<form action="javascript:window.__pwned='form'"><button>submit</button></form>

<meta http-equiv="refresh" content="0;url=javascript:window.__pwned='meta'">

<details open ontoggle="window.__pwned='toggle'"><summary>toggle</summary>x</details>

<object data="javascript:window.__pwned='object'"></object>

<embed src="javascript:window.__pwned='embed'">

<base href="javascript:/">

<style>body { display: none; }</style>

<div style="background: url(javascript:window.__pwned='css')">styled text</div>

<a href="https://example.com" onclick="window.__pwned='onclick'">onclick link</a>

```html
<script>window.__pwned = 'code-block'</script>
```

END-OF-HOSTILE"#;

#[tokio::test]
async fn hostile_model_output_runs_no_script_and_calls_no_command() {
    let chat = Chat::start().await;
    chat.github.when(Match::user_contains("be hostile"), Reply::text_in_chunks(HOSTILE_REPLY, 40));
    chat.new_session().await;
    chat.send("Please be hostile").await;
    chat.wait_reply("END-OF-HOSTILE").await;
    chat.wait_idle().await;
    // Give any smuggled handler (image errors, toggles, loads) the chance to fire.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let transcript = "//*[@role='log'][@aria-label='Transcript']";
    let report = chat
        .app
        .eval(
            r#"const root = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
               if (!root) return { error: 'no transcript' };
               const all = [...root.querySelectorAll('*')];
               return {
                 pwned: window.__pwned === undefined ? null : String(window.__pwned),
                 dangerous: all.filter(e => /^(script|iframe|object|embed|svg|math|form|meta|base|style|link)$/i.test(e.localName)).map(e => e.localName),
                 handlers: all.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => e.localName + '@' + a.name)),
                 hrefs: all.filter(e => e.hasAttribute('href') || e.hasAttribute('xlink:href') || e.hasAttribute('src') || e.hasAttribute('action')).map(e => e.outerHTML.slice(0, 120)),
                 inlineStyles: all.filter(e => e.hasAttribute('style') && /url\(/i.test(e.getAttribute('style'))).length,
                 text: root.innerText,
                 bodyVisible: getComputedStyle(document.body).display !== 'none',
               };"#,
            vec![json!(transcript)],
        )
        .await;
    eprintln!("[test] hostile report: {report:#}");
    assert_eq!(report["pwned"], json!(null), "no smuggled script ran");
    assert_eq!(report["dangerous"], json!([]), "no dangerous element survived sanitizing");
    assert_eq!(report["handlers"], json!([]), "no event handler attribute survived");
    assert_eq!(report["hrefs"], json!([]), "no navigable href/src/action survived");
    assert_eq!(report["inlineStyles"], json!(0), "no inline style with a URL survived");
    assert_eq!(report["bodyVisible"], json!(true), "smuggled CSS did not hide the app");
    let text = report["text"].as_str().unwrap_or_default();
    for visible in
        ["bold", "safe link", "styled text", "onclick link", "<script>window.__pwned = 'code-block'</script>"]
    {
        assert!(text.contains(visible), "harmless content is still shown ({visible:?}): {text}");
    }

    // A javascript: link is inert; a web link asks before leaving the app.
    // (The innermost element with the text: the link itself, not a block around it.)
    let link = |text: &str| Target::xpath(&format!("{transcript}//*[normalize-space(.)='{text}']"), text).last();
    chat.app.click(&link("javascript link"), HANG_GUARD).await;
    chat.app.click(&link("safe link"), HANG_GUARD).await;
    let confirm = Target::dialog("Open link in your browser?");
    let asked = chat.app.wait_for_text(&confirm, |t| t.contains("https://example.com/docs"), HANG_GUARD).await;
    assert!(asked.contains("https://example.com/docs"), "the dialog shows the full URL: {asked}");
    eprintln!("[test] saved {}", chat.app.screenshot("hostile-output.png").await.display());
    chat.app.click(&Target::button("Cancel").within(&confirm), HANG_GUARD).await;
    chat.app.wait_gone(&confirm, HANG_GUARD).await;
    let pwned = chat.app.eval("return window.__pwned === undefined ? null : String(window.__pwned);", vec![]).await;
    assert_eq!(pwned, json!(null), "clicking links ran no script");
    let url = chat.app.eval("return location.href;", vec![]).await;
    assert!(!url.as_str().unwrap_or_default().contains("example.com"), "the webview did not navigate: {url}");

    // Had any payload reached the IPC, every session would be gone.
    assert_eq!(chat.app.count(&session_rows()).await, 1, "the session is still listed");
    let stored = std::fs::read_dir(chat.app.home().session_state_dir())
        .map(|d| d.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
        .unwrap_or(0);
    assert_eq!(stored, 1, "the CLI still stores the session");
}
