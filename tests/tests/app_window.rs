//! End to end: the built app in the real webview (WebKitGTK through tauri-driver) with the real
//! Copilot CLI, checked from the window as a person sees it.
//!
//! Needs `cargo build -p copilot-desktop` first, then:
//! `xvfb-run -a dbus-run-session -- cargo test -p copilot-desktop-tests --test app_window`

use std::io::Write;
use std::time::{Duration, Instant};

use copilot_desktop_tests::app::{self, AppUnderTest, LaunchOptions, Target};
use copilot_desktop_tests::webdriver::processes;

/// Hang guard for the status bar to settle (the CLI starts in a few seconds; this only stops a
/// hung test).
const HANG_GUARD: Duration = Duration::from_secs(60);

fn status_bar() -> Target {
    Target::status("Copilot CLI connection")
}

#[tokio::test]
async fn window_opens_and_connects_to_the_bundled_cli() {
    let expected = format!("Connected · Copilot CLI {} (bundled)", app::pinned_cli_version());
    let app = AppUnderTest::launch(LaunchOptions::new()).await;

    let text = app.wait_for_text(&status_bar(), |t| t == expected || t.starts_with("Failed:"), HANG_GUARD).await;
    assert_eq!(text, expected);
    eprintln!("[test] connected {:.2?} after launch began", app.elapsed());
    assert!(app.find(&Target::button("Retry")).await.is_none(), "no Retry button while connected");
    eprintln!("[test] saved {}", app.screenshot("connected.png").await.display());
}

#[tokio::test]
async fn missing_cli_fails_naming_it_and_offers_retry() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("no-such-copilot");
    let app = AppUnderTest::launch(LaunchOptions::new().cli_program(&missing)).await;

    let text = app.wait_for_text(&status_bar(), |t| t.starts_with("Failed:"), HANG_GUARD).await;
    assert!(text.contains(&missing.display().to_string()), "the failure names the missing CLI: {text}");
    assert!(text.contains("not found"), "the failure says the CLI is missing: {text}");
    app.wait_for(&Target::button("Retry"), HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("cli-missing.png").await.display());
}

#[tokio::test]
async fn corrupt_cli_is_reported_as_unstartable() {
    let scratch = tempfile::tempdir().unwrap();
    let corrupt = scratch.path().join("copilot");
    write_random_executable(&corrupt);
    let app = AppUnderTest::launch(LaunchOptions::new().cli_program(&corrupt)).await;

    // The supervisor retries with backoff before it gives up; wait for the final word.
    let text = app.wait_for_text(&status_bar(), |t| t.starts_with("Failed:"), HANG_GUARD).await;
    assert!(text.contains("could not be started"), "the failure says the CLI could not start: {text}");
    assert!(text.contains(&corrupt.display().to_string()), "the failure names the CLI: {text}");
    app.wait_for(&Target::button("Retry"), HANG_GUARD).await;
    eprintln!("[test] saved {}", app.screenshot("cli-corrupt.png").await.display());
}

#[tokio::test]
async fn killing_the_app_takes_its_cli_down() {
    let expected = format!("Connected · Copilot CLI {} (bundled)", app::pinned_cli_version());
    let app = AppUnderTest::launch(LaunchOptions::new()).await;
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;

    let app_process = app.app_process();
    let cli_exe = std::fs::canonicalize(app::bundled_cli()).expect("the bundled CLI exists");
    let children = processes::children(app_process.pid);
    let cli = children.iter().find(|p| p.exe.as_ref() == Some(&cli_exe)).unwrap_or_else(|| {
        panic!("no child of the app (pid {}) runs {}: {children:#?}", app_process.pid, cli_exe.display())
    });
    // Not asserted (the CLI's own helpers are not the app's to reap), only reported.
    let cli_helpers: Vec<_> = processes::descendants(cli.pid).into_iter().filter_map(processes::read).collect();
    eprintln!("[test] app pid {}, CLI pid {}, CLI helpers {}", app_process.pid, cli.pid, cli_helpers.len());

    assert!(cli.is_alive() && app_process.is_alive(), "both run before the kill");
    // SAFETY: kill(2) on the app's pid, checked just above to be the app.
    assert_eq!(unsafe { libc::kill(app_process.pid as libc::pid_t, libc::SIGKILL) }, 0, "kill -9 the app");
    let killed = Instant::now();
    wait_until_gone(cli, "the CLI").await;
    eprintln!("[test] CLI gone {:.2?} after kill -9 of the app", killed.elapsed());
    wait_until_gone(&app_process, "the app").await;
    let survivors: Vec<u32> = cli_helpers.iter().filter(|p| p.is_alive()).map(|p| p.pid).collect();
    eprintln!("[test] CLI helpers still running after the CLI died: {survivors:?}");
}

/// Poll until `process` has exited (a zombie counts as gone). Hang guard: 10 s.
async fn wait_until_gone(process: &processes::Process, what: &str) {
    let began = Instant::now();
    while process.is_alive() {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "{what} (pid {}) still runs 10 s after kill -9 of the app",
            process.pid
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 4 KiB of pseudo-random bytes (fixed seed), executable, with neither ELF magic nor `#!`.
///
/// The kernel refuses such a file (ENOEXEC), and glibc's `execvp` (which Rust's `Command`
/// uses) then hands it to `/bin/sh` as a script: the shell fails on the garbage and exits. A
/// fixed seed keeps what the shell makes of it the same on every run.
fn write_random_executable(path: &std::path::Path) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes: Vec<u8> = (0..4096)
        .map(|_| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect();
    bytes[0] = 0; // neither "#!" nor "\x7fELF"
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(&bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The bundled CLIs running now for `home` (by their COPILOT_HOME), however they were started.
fn clis_of(home: &copilot_desktop_tests::cli::TestHome) -> Vec<u32> {
    let cli_exe = std::fs::canonicalize(app::bundled_cli()).expect("the bundled CLI exists");
    let wanted = format!("COPILOT_HOME={}", home.copilot_home().display());
    processes::all()
        .into_iter()
        .filter(|p| p.is_alive() && p.exe.as_ref() == Some(&cli_exe))
        .filter(|p| {
            std::fs::read(format!("/proc/{}/environ", p.pid))
                .map(|environ| environ.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| p.pid)
        .collect()
}

#[tokio::test]
async fn a_second_launch_focuses_the_first_window_and_starts_no_second_cli() {
    let expected = format!("Connected · Copilot CLI {} (bundled)", app::pinned_cli_version());
    let app = AppUnderTest::launch(LaunchOptions::new()).await;
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;
    let first_clis = clis_of(app.home());
    assert_eq!(first_clis.len(), 1, "one CLI for the first window: {first_clis:?}");

    app.minimize_and_wait_unfocused(HANG_GUARD).await;

    let second = app.launch_again_directly();
    let began = Instant::now();
    let output = tokio::task::spawn_blocking(move || second.wait_with_output()).await.unwrap().expect("wait");
    eprintln!("[test] the second launch exited in {:.2?} with {}", began.elapsed(), output.status);
    assert!(
        output.status.success(),
        "the second launch hands over and exits cleanly: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let deadline = Instant::now() + HANG_GUARD;
    while app.eval("return document.hasFocus();", vec![]).await != serde_json::json!(true) {
        assert!(Instant::now() < deadline, "the first window never came back to the front");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(clis_of(app.home()), first_clis, "still the first window's CLI, and no other");
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;
}

#[tokio::test]
async fn the_shortcuts_open_a_new_session_the_search_and_settings() {
    let expected = format!("Connected · Copilot CLI {} (bundled)", app::pinned_cli_version());
    let app = AppUnderTest::launch(LaunchOptions::new()).await;
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;

    app.press_ctrl('n').await;
    let new_session = Target::dialog("New session");
    app.wait_for(&new_session, HANG_GUARD).await;
    app.press_ctrl(',').await;
    assert!(app.find(&Target::dialog("Settings")).await.is_none(), "no shortcut acts over an open dialog");
    app.press_escape().await;
    app.wait_gone(&new_session, HANG_GUARD).await;

    app.press_ctrl('k').await;
    let deadline = Instant::now() + HANG_GUARD;
    while app.focused_name().await != "Search sessions" {
        assert!(
            Instant::now() < deadline,
            "Ctrl+K never reached the session search (focus: {})",
            app.focused_name().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    app.press_ctrl(',').await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    let tip = app.eval("return document.querySelector('nav button.new').title;", vec![]).await;
    assert_eq!(tip, serde_json::json!("New session (Ctrl+N)"), "the tooltip names the shortcut");
}

#[tokio::test]
async fn the_saved_window_geometry_comes_back_at_start() {
    let expected = format!("Connected · Copilot CLI {} (bundled)", app::pinned_cli_version());
    let app = AppUnderTest::launch(LaunchOptions::new()).await;
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;
    let (_, _, width, height) = app.client().get_window_rect().await.expect("window rect");

    // What the window-state plugin keeps in the app's config folder after a resize, written while
    // the app is not running: a restart must come back at that size.
    let (saved_width, saved_height) = (width - 150, height - 100);
    let app = app
        .relaunch_after(LaunchOptions::new(), |home| {
            let dir = home.home().join(".config").join(copilot_desktop::auth::keychain::APP_IDENTIFIER);
            let state = serde_json::json!({ "main": {
                "width": saved_width, "height": saved_height, "x": 40, "y": 30, "prev_x": 40, "prev_y": 30,
                "maximized": false, "visible": true, "decorated": true, "fullscreen": false
            }});
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(".window-state.json"), state.to_string()).unwrap();
        })
        .await;
    app.wait_for_text(&status_bar(), |t| t == expected, HANG_GUARD).await;
    let (_, _, w, h) = app.client().get_window_rect().await.expect("window rect");
    assert!(
        w.abs_diff(saved_width) <= 1 && h.abs_diff(saved_height) <= 1,
        "the window opened at {w}x{h}, not the saved {saved_width}x{saved_height} (default {width}x{height})"
    );
}
