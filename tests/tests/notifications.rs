//! End to end: a permission request raises a desktop notification while the window is in the
//! background, and none while the user is looking at it. The notification daemon belongs to the
//! desktop, outside the app: the test watches the session bus (`dbus-monitor`, from dbus-bin) for
//! the app's `org.freedesktop.Notifications.Notify` calls. Its own binary, so no other test's app
//! is on the bus meanwhile.
//!
//! Needs `cargo build -p copilot-desktop` (with `ui/dist` built) first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test notifications`

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use copilot_desktop_tests::app::Target;
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::fake_model::{Match, Reply};

/// A notification as the app sent it to the bus.
#[derive(Clone, Debug, PartialEq)]
struct Notification {
    app_name: String,
    summary: String,
    body: String,
}

/// `dbus-monitor` on the session bus, kept to the Notify method.
struct BusWatch {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl BusWatch {
    fn start() -> BusWatch {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no session bus: run under dbus-run-session (scripts/test.sh does)"
        );
        let mut child = Command::new("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("dbus-monitor (Debian package dbus-bin) could not start: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("dbus-monitor's stdout");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        // It says so on the bus (NameAcquired) once it is listening.
        let deadline = Instant::now() + Duration::from_secs(10);
        while lines.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "dbus-monitor printed nothing in 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        BusWatch { child, lines }
    }

    /// Every Notify call seen so far: its string arguments are app name, icon, summary, body.
    fn notifications(&self) -> Vec<Notification> {
        let lines = self.lines.lock().unwrap();
        let mut found = Vec::new();
        let mut strings: Option<Vec<String>> = None;
        let mut flush = |strings: &mut Option<Vec<String>>| {
            if let Some(s) = strings.take().filter(|s| s.len() >= 4) {
                found.push(Notification { app_name: s[0].clone(), summary: s[2].clone(), body: s[3].clone() });
            }
        };
        for line in lines.iter() {
            if line.starts_with("method call")
                || line.starts_with("signal")
                || line.starts_with("method return")
                || line.starts_with("error")
            {
                flush(&mut strings);
                if line.starts_with("method call") && line.contains("member=Notify") {
                    strings = Some(Vec::new());
                }
            } else if let (Some(s), Some(value)) = (strings.as_mut(), line.trim().strip_prefix("string \"")) {
                s.push(value.strip_suffix('"').unwrap_or(value).to_owned());
            }
        }
        flush(&mut strings);
        found
    }
}

impl Drop for BusWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_permission_request_notifies_only_while_the_window_is_in_the_background() {
    let bus = BusWatch::start();
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
    let deadline = Instant::now() + HANG_GUARD;
    while bus.notifications().is_empty() {
        assert!(Instant::now() < deadline, "no notification within {HANG_GUARD:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
