//! End to end: a permission request raises a desktop notification while the window is in the
//! background, and none while the user is looking at it. The notification daemon belongs to the
//! desktop, outside the app: the test watches the session bus (`dbus-monitor`, from dbus-bin) for
//! the app's `org.freedesktop.Notifications.Notify` calls. Its own binary, so no other test's app
//! is on the bus meanwhile.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test notifications`

use copilot_desktop_tests::app::Target;
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::fake_model::{Match, Reply};
use copilot_desktop_tests::notification_bus::{Notification, NotificationBus};

#[tokio::test]
async fn a_permission_request_notifies_only_while_the_window_is_in_the_background() {
    let bus = NotificationBus::watch();
    let chat = Chat::start().await;
    chat.github
        .when(Match::user_contains("first marker"), Reply::shell("echo one > first.txt"))
        .when(Match::user_contains("second marker"), Reply::shell("echo two > second.txt"));
    chat.new_session().await;
    let dialog = Target::dialog("Run this command?");

    // In front: the dialog is enough, no notification.
    let front = chat.app.eval("return document.hasFocus();", vec![]).await;
    assert_eq!(front, serde_json::json!(true), "the window starts focused");
    chat.send("Please make the first marker").await;
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    chat.app.click(&Target::button("Deny"), HANG_GUARD).await;
    chat.app.wait_gone(&dialog, HANG_GUARD).await;
    chat.wait_idle().await;
    assert_eq!(bus.notifications(), vec![], "no notification while the user looks at the window");

    // Minimized: the request waits in the window, and the desktop is told.
    let took = chat.app.minimize_and_wait_unfocused(HANG_GUARD).await;
    eprintln!("[test] the window lost focus {took:.2?} after minimizing");
    chat.send("Please make the second marker").await;
    bus.wait_for_any(HANG_GUARD).await;
    let expected = Notification {
        app_name: "copilot-desktop".into(),
        summary: "Copilot Desktop".into(),
        body: "Copilot asks to run a shell command.".into(),
    };
    assert_eq!(bus.notifications(), vec![expected], "one notification that says what kind of request waits");
    let shown = chat.app.text(&dialog).await.unwrap_or_default();
    assert!(shown.contains("echo two > second.txt"), "the request waits in the window: {shown}");
    assert!(!chat.marker("second.txt").exists(), "nothing ran unanswered");
}
