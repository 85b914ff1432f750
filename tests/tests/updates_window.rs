//! Updates in the real window, against a local release server (tests/src/fake_updates.rs), with the
//! app as built (target/debug: it trusts the release key in tauri.conf.json, and the feed comes from
//! `COPILOT_DESKTOP_UPDATE_URL`):
//! * a server that is down, a malformed feed, and an offer that is not newer: no indicator, no
//!   dialog, a line in the log, and the app chats; "Check now" from Settings does say what happened;
//! * a newer version signed with another key: the quiet indicator, the dialog with its notes
//!   (sanitized) and size, and "Download" refuses it with a message that says so; the app chats on;
//! * "Check for updates automatically" off stays off after a restart, and no check is made.
//!
//! Installing a good update (and refusing a damaged one) needs the installed package, whose key the
//! test makes: tests/tests/installed_package.rs.

use std::time::{Duration, Instant};

use copilot_desktop_tests::app::{AppUnderTest, Target};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::fake_model::{Match, Reply};
use copilot_desktop_tests::fake_updates::{FakeUpdateServer, UpdateKey, unreachable_feed_url};

const UPDATE_URL_ENV: &str = "COPILOT_DESKTOP_UPDATE_URL";

/// Wait until the app's log has a line containing `needle`; returns that line.
async fn wait_for_log(app: &AppUnderTest, needle: &str) -> String {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(line) = app.log_text().lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        if Instant::now() > deadline {
            app.fail(&format!("the log never said {needle:?}:\n{}", app.log_text())).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn indicator() -> Target {
    Target::xpath(
        "//footer//button[starts-with(normalize-space(.), 'Update available') or starts-with(normalize-space(.), 'Restart to update') or starts-with(normalize-space(.), 'Downloading')]",
        "update indicator",
    )
}

/// The app still does its job: a message gets its reply.
async fn chats(chat: &Chat, word: &str) {
    chat.github.when(Match::user_contains(word), Reply::text(format!("Still here: {word}.")));
    chat.new_session().await;
    chat.send(&format!("Are you there, {word}?")).await;
    chat.wait_reply(&format!("Still here: {word}.")).await;
}

/// The alert inside the dialog named `dialog`.
fn alert_in(dialog: &str) -> Target {
    Target::xpath(
        &format!("//dialog[@open][.//h2[normalize-space(.)='{dialog}']]//*[@role='alert']"),
        "alert in the dialog",
    )
}

async fn open_updates_page(app: &AppUnderTest) {
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    app.click(&Target::role("tab", "Updates"), HANG_GUARD).await;
}

#[tokio::test]
async fn a_server_that_is_down_is_logged_quietly_and_check_now_says_so() {
    let feed = unreachable_feed_url().await;
    let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, &feed)).await;
    let app = &chat.app;
    let line = wait_for_log(app, "update check failed").await;
    assert!(line.contains("Could not reach the update server"), "the log says what happened: {line}");
    assert!(app.find(&indicator()).await.is_none(), "no indicator when the check failed");
    assert!(app.find(&Target::dialog("Update problem")).await.is_none(), "an automatic check never opens a dialog");
    chats(&chat, "down").await;

    // Asked for, the same failure is shown.
    open_updates_page(app).await;
    app.wait_for_text(
        &Target::xpath(
            "//*[@role='tabpanel' and not(@hidden)]//p[contains(., 'You have Copilot Desktop')]",
            "version line",
        ),
        |t| t.contains("0.1.0"),
        HANG_GUARD,
    )
    .await;
    app.click(&Target::button("Check now"), HANG_GUARD).await;
    let dialog = Target::dialog("Update problem");
    app.wait_for(&dialog, HANG_GUARD).await;
    let alert = app.wait_for_text(&alert_in("Update problem"), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(alert.contains("Could not reach the update server"), "{alert}");
    app.click(&Target::button("Close").within(&dialog), HANG_GUARD).await;
    app.wait_gone(&dialog, HANG_GUARD).await;
}

#[tokio::test]
async fn a_malformed_feed_and_an_offer_that_is_not_newer_change_nothing() {
    let server = FakeUpdateServer::start().await;
    server.set_feed("{\"version\": \"9.9.9\", \"platforms\": ");
    let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, server.feed_url())).await;
    let line = wait_for_log(&chat.app, "update check failed").await;
    assert!(line.contains("not a valid release description"), "{line}");
    assert_eq!(server.feed_requests(), 1, "one check at start");
    assert!(chat.app.find(&indicator()).await.is_none());
    chats(&chat, "malformed").await;
    drop(chat);

    // The same version as ours, then an older one: "newest version", nothing shown, nothing downloaded.
    for version in ["0.1.0", "0.0.9"] {
        let server = FakeUpdateServer::start().await;
        let key = UpdateKey::generate();
        server.offer(version, "Old news.", b"not a package", &key.sign(b"not a package"));
        let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, server.feed_url())).await;
        wait_for_log(&chat.app, "update check: this is the newest version").await;
        assert!(chat.app.find(&indicator()).await.is_none(), "{version} is not offered");
        assert!(
            !server.requests().iter().any(|r| r.contains("/download/")),
            "nothing downloaded for {version}: {:?}",
            server.requests()
        );
        chats(&chat, &format!("v{}", version.replace('.', ""))).await;
    }
}

#[tokio::test]
async fn an_update_signed_with_another_key_is_shown_then_refused() {
    let server = FakeUpdateServer::start().await;
    // Not the release key the app trusts.
    let stranger = UpdateKey::generate();
    let package = vec![7u8; 250_000];
    let notes = "## What's new\n- Faster start\n<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";
    server.offer("9.9.9", notes, &package, &stranger.sign(&package));
    let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, server.feed_url())).await;
    let app = &chat.app;

    let button = app.wait_for_text(&indicator(), |t| t.contains("9.9.9"), HANG_GUARD).await;
    assert_eq!(button, "Update available: 9.9.9");
    app.click(&indicator(), HANG_GUARD).await;
    let dialog = Target::dialog("Update available");
    app.wait_for(&dialog, HANG_GUARD).await;
    let text = app.text(&dialog).await.unwrap_or_default();
    assert!(text.contains("9.9.9") && text.contains("you have 0.1.0"), "{text}");
    assert!(text.contains("Download size: 250 kB"), "the size, before agreeing: {text}");
    let heading = app
        .wait_for_text(
            &Target::xpath("//section[@aria-label='Release notes']//h2", "notes heading"),
            |t| !t.is_empty(),
            HANG_GUARD,
        )
        .await;
    assert_eq!(heading, "What's new");
    let unsafe_parts = app
        .eval(
            "const n = document.querySelector('section[aria-label=\"Release notes\"]'); \
             return n.querySelectorAll('script, [onerror]').length + (document.title === 'pwned' ? 100 : 0);",
            vec![],
        )
        .await;
    assert_eq!(unsafe_parts, serde_json::json!(0), "the notes are sanitized");
    assert_eq!(app.focused_name().await, "Later", "focus starts on Later, never on Download");
    app.screenshot("update-available.png").await;

    app.click(&Target::button("Download").within(&dialog), HANG_GUARD).await;
    let problem = Target::dialog("Update problem");
    app.wait_for(&problem, HANG_GUARD).await;
    let alert = app.wait_for_text(&alert_in("Update problem"), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(alert.contains("not signed with Copilot Desktop's key") && alert.contains("refused"), "{alert}");
    assert!(
        server.requests().iter().any(|r| r.starts_with("GET /download/")),
        "it was downloaded: {:?}",
        server.requests()
    );
    let logged = wait_for_log(app, "update download refused").await;
    assert!(logged.contains("9.9.9"), "{logged}");
    app.click(&Target::button("Close").within(&problem), HANG_GUARD).await;
    app.wait_gone(&problem, HANG_GUARD).await;
    chats(&chat, "refused").await;
}

#[tokio::test]
async fn a_download_cut_short_installs_nothing_and_says_so() {
    let server = FakeUpdateServer::start().await;
    let package = vec![3u8; 400_000];
    server.offer("9.9.9", "Cut short.", &package, &UpdateKey::generate().sign(&package));
    server.cut_downloads_at(100_000);
    let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, server.feed_url())).await;
    let app = &chat.app;
    app.wait_for_text(&indicator(), |t| t.contains("9.9.9"), HANG_GUARD).await;
    app.click(&indicator(), HANG_GUARD).await;
    app.click(&Target::button("Download").within(&Target::dialog("Update available")), HANG_GUARD).await;
    let alert = app.wait_for_text(&alert_in("Update problem"), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(alert.contains("did not complete") && alert.contains("nothing was installed"), "{alert}");
    let logged = wait_for_log(app, "update download refused").await;
    assert!(logged.contains("9.9.9"), "{logged}");
    app.click(&Target::button("Close").within(&Target::dialog("Update problem")), HANG_GUARD).await;
    app.wait_gone(&Target::dialog("Update problem"), HANG_GUARD).await;
    chats(&chat, "cut").await;
}

#[tokio::test]
async fn checking_automatically_can_be_turned_off_and_stays_off() {
    let server = FakeUpdateServer::start().await;
    server.offer("0.0.1", "", b"x", &UpdateKey::generate().sign(b"x"));
    let chat = Chat::start_with(|o| o.env(UPDATE_URL_ENV, server.feed_url())).await;
    wait_for_log(&chat.app, "update check: this is the newest version").await;
    assert_eq!(server.feed_requests(), 1);
    open_updates_page(&chat.app).await;
    let checkbox = Target::xpath(
        "//label[contains(normalize-space(.), 'Check for updates automatically')]/input[@type='checkbox']",
        "Check for updates automatically",
    );
    assert!(is_checked(&chat.app).await, "on by default");
    chat.app.click(&checkbox, HANG_GUARD).await;
    wait_for_log(&chat.app, "automatic update checks on=false").await;

    // A day later (the last check moved back a day in its file), restarted: still off, no check.
    let Chat { app, github } = chat;
    let options = copilot_desktop_tests::chat::launch_options(&github).env(UPDATE_URL_ENV, server.feed_url());
    let app = app
        .relaunch_after(options, |home| {
            let file = home
                .home()
                .join(".local/share")
                .join(copilot_desktop::auth::keychain::APP_IDENTIFIER)
                .join("updates.json");
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["checkAutomatically"], serde_json::json!(false), "{text}");
            json["lastChecked"] = serde_json::json!(0);
            std::fs::write(&file, json.to_string()).unwrap();
        })
        .await;
    let chat = Chat { app, github };
    chat.wait_connected().await;
    open_updates_page(&chat.app).await;
    assert!(!is_checked(&chat.app).await, "still off after a restart");
    // The automatic check would run 3 s after start; give it well over that.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(server.feed_requests(), 1, "no check while turned off: {:?}", server.requests());
}

async fn is_checked(app: &AppUnderTest) -> bool {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let value = app
            .eval(
                "const b = [...document.querySelectorAll('label')].find(l => l.textContent.includes('Check for updates automatically')); \
                 const i = b && b.querySelector('input'); return i && !i.disabled ? i.checked : null;",
                vec![],
            )
            .await;
        if let Some(checked) = value.as_bool() {
            return checked;
        }
        if Instant::now() > deadline {
            app.fail("the automatic-check setting never showed").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
