//! The desktop's notifications as the app sends them: `dbus-monitor` on the session bus, kept to
//! `org.freedesktop.Notifications.Notify` calls (the notification daemon belongs to the desktop,
//! outside the app). Run a test that uses it in its own binary, so no other app is on the bus.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A notification as the app sent it to the bus.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

/// `dbus-monitor --session` watching Notify calls; stops when dropped.
pub struct NotificationBus {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl NotificationBus {
    /// Start watching (returns once `dbus-monitor` listens). Needs a session bus.
    pub fn watch() -> NotificationBus {
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
        NotificationBus { child, lines }
    }

    /// Wait until at least one Notify call was seen (`hang_guard` stops a hung test).
    pub async fn wait_for_any(&self, hang_guard: Duration) {
        let deadline = Instant::now() + hang_guard;
        while self.notifications().is_empty() {
            assert!(Instant::now() < deadline, "no notification within {hang_guard:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every Notify call seen so far (its string arguments: app name, icon, summary, body).
    pub fn notifications(&self) -> Vec<Notification> {
        let lines = self.lines.lock().unwrap();
        let mut found = Vec::new();
        let mut strings: Option<Vec<String>> = None;
        let mut flush = |strings: &mut Option<Vec<String>>| {
            if let Some(s) = strings.take().filter(|s| s.len() >= 4) {
                found.push(Notification { app_name: s[0].clone(), summary: s[2].clone(), body: s[3].clone() });
            }
        };
        for line in lines.iter() {
            let header = ["method call", "signal", "method return", "error"].iter().any(|p| line.starts_with(p));
            if header {
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

impl Drop for NotificationBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
