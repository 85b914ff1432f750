//! End to end: the agent's request to leave plan mode raises a desktop notification while the
//! window is in the background (the permission prompts' notification path), saying only that a
//! plan waits. Its own binary, so no other test's app is on the bus meanwhile.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first; run under Xvfb and
//! dbus-run-session (see README).

use copilot_desktop_tests::agent_scripts::exit_plan_mode;
use copilot_desktop_tests::app::Target;
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::fake_model::Match;
use copilot_desktop_tests::notification_bus::{Notification, NotificationBus};

#[tokio::test]
async fn a_plan_waiting_for_review_notifies_while_the_window_is_in_the_background() {
    let bus = NotificationBus::watch();
    let chat = Chat::start().await;
    chat.new_session().await;
    let app = &chat.app;
    app.choose(&Target::select("Mode"), "plan", HANG_GUARD).await;
    chat.github
        .when_once(Match::user_contains("plan it"), exit_plan_mode("- **Secret** plan /home/me/.ssh", "interactive"));

    app.minimize_and_wait_unfocused(HANG_GUARD).await;
    chat.send("Please plan it").await;
    bus.wait_for_any(HANG_GUARD).await;
    let expected = Notification {
        app_name: "copilot-desktop".into(),
        summary: "Copilot Desktop".into(),
        body: "Copilot has a plan for you to review.".into(),
    };
    assert_eq!(bus.notifications(), vec![expected], "one notification, naming no part of the plan");
    app.wait_for(&Target::dialog("Review the plan"), HANG_GUARD).await;
}
