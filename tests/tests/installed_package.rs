//! The Linux packages as a user gets them: the .deb installed with apt-get, started from
//! /usr/bin through the real webview, chatting with the fake model and running an approved
//! command; then removed, leaving the user's sessions and keychain entries and nothing in /usr.
//! The .rpm is inspected for the same files and the same CLI bytes.
//!
//! It installs a package system-wide, so it needs root and runs only when asked:
//! `scripts/test.sh` builds the bundles (`tauri build --debug --bundles deb,rpm`) and runs
//! `COPILOT_DESKTOP_APP=/usr/bin/copilot-desktop cargo test -p copilot-desktop-tests --test installed_package -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use copilot_desktop::auth::keychain::APP_IDENTIFIER;
use copilot_desktop::auth::{Keychain, SecretKey};
use copilot_desktop::secret::Sensitive;
use copilot_desktop_tests::app::{self, Target, target_dir};
use copilot_desktop_tests::chat::{Chat, HANG_GUARD};
use copilot_desktop_tests::cli::vendored_cli_path;
use copilot_desktop_tests::fake_model::{Match, Reply};
use copilot_desktop_tests::webdriver::processes;

const PACKAGE: &str = "copilot-desktop";
const INSTALLED_APP: &str = "/usr/bin/copilot-desktop";
const INSTALLED_CLI: &str = "/usr/bin/copilot-desktop-cli";

/// The one bundle of `kind` ("deb", "rpm") that `tauri build --debug` left in target/debug/bundle.
fn bundle(kind: &str) -> PathBuf {
    let dir = target_dir().join("debug").join("bundle").join(kind);
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "no {kind} bundle in {}: {e}. Build it: TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri build --debug --bundles deb,rpm",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == kind)
                && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(PACKAGE))
        })
        .collect();
    assert_eq!(found.len(), 1, "expected one {PACKAGE} .{kind} in {}: {found:?}", dir.display());
    found.into_iter().next().unwrap()
}

/// Run a command; panic with its output unless it succeeds. Returns stdout.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn is_installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// The CLI in a bundle must be the pinned file, byte for byte: `strip` or an rpath rewrite
/// would break the Node single-executable.
fn assert_same_bytes(installed: &Path, what: &str) {
    let pinned = vendored_cli_path();
    let (a, b) = (std::fs::read(installed).unwrap(), std::fs::read(&pinned).unwrap());
    assert!(
        a == b,
        "{what} ({} bytes) differs from the pinned, verified CLI {} ({} bytes)",
        a.len(),
        pinned.display(),
        b.len()
    );
}

fn assert_no_foreign_copilot(files: &[String], what: &str) {
    assert!(files.iter().any(|f| f == INSTALLED_CLI), "{what} carries {INSTALLED_CLI}: {files:#?}");
    assert!(files.iter().any(|f| f == INSTALLED_APP), "{what} carries {INSTALLED_APP}: {files:#?}");
    assert!(
        !files.iter().any(|f| f == "/usr/bin/copilot"),
        "{what} must not take /usr/bin/copilot from a user's own CLI"
    );
    assert!(
        files.iter().any(|f| f == "/usr/share/applications/copilot-desktop.desktop"),
        "{what} has its desktop file: {files:#?}"
    );
    for size in ["32x32", "64x64", "128x128", "512x512"] {
        let icon = format!("/usr/share/icons/hicolor/{size}/apps/copilot-desktop.png");
        assert!(files.contains(&icon), "{what} has the {size} icon: {files:#?}");
    }
}

#[test]
#[ignore = "installs the .deb system-wide with apt-get (root): scripts/test.sh runs it after building the bundles"]
fn the_rpm_carries_the_same_files_and_the_pinned_cli() {
    let rpm = bundle("rpm");
    let rpm = rpm.to_str().unwrap();
    let files: Vec<String> = run("rpm", &["-qlp", rpm]).lines().map(str::to_owned).collect();
    assert_no_foreign_copilot(&files, "the .rpm");
    let requires = run("rpm", &["-qp", "--requires", rpm]);
    assert!(requires.contains("glibc >= 2.28"), "the .rpm names the glibc the CLI needs: {requires}");
    assert!(requires.contains("libstdc++"), "the .rpm names libstdc++: {requires}");

    let scratch = tempfile::tempdir().unwrap();
    let script = format!("rpm2cpio '{rpm}' | cpio -idm --quiet");
    let status =
        Command::new("sh").args(["-c", &script]).current_dir(scratch.path()).status().expect("rpm2cpio | cpio");
    assert!(status.success(), "unpacking the .rpm failed: {status}");
    assert_same_bytes(&scratch.path().join("usr/bin/copilot-desktop-cli"), "the CLI in the .rpm");
}

#[tokio::test]
#[ignore = "installs the .deb system-wide with apt-get (root): scripts/test.sh runs it after building the bundles"]
async fn the_installed_deb_chats_and_its_removal_keeps_the_users_data() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "installing a package needs root (scripts/test.sh runs this as root in CI)"
    );
    assert_eq!(app::app_binary(), Path::new(INSTALLED_APP), "run with COPILOT_DESKTOP_APP={INSTALLED_APP}");
    if is_installed() {
        eprintln!("[test] {PACKAGE} is installed from an earlier run; removing it first");
        run("apt-get", &["remove", "-y", "-qq", PACKAGE]);
    }
    assert!(!Path::new(INSTALLED_APP).exists(), "{INSTALLED_APP} exists without the package: remove it first");

    let deb = bundle("deb");
    eprintln!("[test] installing {} ({:.1} MiB)", deb.display(), deb.metadata().unwrap().len() as f64 / 1048576.0);
    run("apt-get", &["install", "-y", "-qq", "--no-install-recommends", deb.to_str().unwrap()]);
    let files: Vec<String> = run("dpkg", &["-L", PACKAGE]).lines().map(str::to_owned).collect();
    assert_no_foreign_copilot(&files, "the .deb");
    assert_same_bytes(Path::new(INSTALLED_CLI), "the installed CLI");
    let depends = run("dpkg-query", &["-W", "-f=${Depends}", PACKAGE]);
    assert!(
        depends.contains("libc6 (>= 2.28)") && depends.contains("libstdc++6"),
        "the .deb names what the CLI needs: {depends}"
    );
    let desktop = std::fs::read_to_string("/usr/share/applications/copilot-desktop.desktop").unwrap();
    for line in ["Name=Copilot Desktop", "Exec=copilot-desktop", "Icon=copilot-desktop", "Categories=Development;IDE;"]
    {
        assert!(desktop.lines().any(|l| l == line), "the desktop file has {line:?}:\n{desktop}");
    }
    assert!(
        desktop.lines().any(|l| l.starts_with("Comment=") && l.len() > 10),
        "the desktop file says what the app is:\n{desktop}"
    );
    let installed_size: u64 = run("dpkg-query", &["-W", "-f=${Installed-Size}", PACKAGE]).trim().parse().unwrap();
    eprintln!("[test] installed size {:.1} MiB", installed_size as f64 / 1024.0);

    // The installed app, started from /usr/bin, chats and runs an approved command.
    let chat = Chat::start().await;
    let app_process = chat.app.app_process();
    assert_eq!(app_process.exe.as_deref(), Some(Path::new(INSTALLED_APP)), "the app under test is the installed one");
    let cli =
        processes::children(app_process.pid).into_iter().find(|p| p.exe.as_deref() == Some(Path::new(INSTALLED_CLI)));
    assert!(cli.is_some(), "the installed app runs the installed CLI: {:#?}", processes::children(app_process.pid));
    chat.github
        .when(
            Match::user_contains("installed marker"),
            Reply::shell("echo from-the-package > installed.txt && echo printed-by-tool"),
        )
        .when(Match::tool_output_contains("printed-by-tool"), Reply::text("The installed app ran it."));
    chat.new_session().await;
    chat.send("Please write the installed marker").await;
    let dialog = Target::dialog("Run this command?");
    chat.app.wait_for(&dialog, HANG_GUARD).await;
    chat.app.click(&Target::button("Allow once"), HANG_GUARD).await;
    chat.wait_reply("The installed app ran it.").await;
    assert_eq!(std::fs::read_to_string(chat.marker("installed.txt")).unwrap().trim(), "from-the-package");

    // The user's data, as the app left it: sessions on disk and a keychain entry.
    let home = chat.app.shared_home();
    let sessions_dir = home.copilot_home().join("session-state");
    let sessions = list(&sessions_dir);
    assert!(!sessions.is_empty(), "the chat left a session in {}", sessions_dir.display());
    let keychain = Keychain::with_service(APP_IDENTIFIER);
    let key = SecretKey::github("installed-package-test.invalid");
    keychain.store(&key, Sensitive::new("gho_installedpackagetest0000000000000".into())).await.expect("keychain store");
    drop(chat);

    run("apt-get", &["remove", "-y", "-qq", PACKAGE]);
    assert!(!is_installed(), "the package is removed");
    let left: Vec<&String> = files.iter().filter(|f| Path::new(f).is_file()).collect();
    assert!(left.is_empty(), "files of the package left behind in /usr: {left:#?}");
    assert_eq!(list(&sessions_dir), sessions, "removing the app leaves the user's sessions");
    let kept = keychain.load(&key).await.expect("keychain load");
    assert!(kept.is_some(), "removing the app leaves its keychain entries");
    keychain.delete(&key).await.expect("keychain delete");
}

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

// ---------------------------------------------------------------- updates

/// What scripts/test.sh leaves for the update test: the key the installed package trusts, and a
/// newer .deb built with it (version 0.1.1).
fn update_test_dir() -> PathBuf {
    target_dir().join("update-test")
}

const NEXT_VERSION: &str = "0.1.1";

fn installed_version() -> String {
    run("dpkg-query", &["-W", "-f=${Version}", PACKAGE]).trim().to_owned()
}

/// The alert in the open dialog named `dialog`.
fn alert_in(dialog: &str) -> Target {
    Target::xpath(
        &format!("//dialog[@open][.//h2[normalize-space(.)='{dialog}']]//*[@role='alert']"),
        "alert in the dialog",
    )
}

fn update_indicator() -> Target {
    Target::xpath("//footer//button[starts-with(normalize-space(.), 'Update available')]", "update indicator")
}

/// From "Update available" to the refusal: Download, then the problem dialog's alert text.
async fn download_is_refused(chat: &Chat, why: &str) {
    let app = &chat.app;
    app.click(&Target::button("Download"), HANG_GUARD).await;
    let alert = app.wait_for_text(&alert_in("Update problem"), |t| !t.is_empty(), HANG_GUARD).await;
    assert!(alert.contains(why), "refused, saying {why:?}: {alert}");
    assert_eq!(installed_version(), "0.1.0", "nothing was installed");
    app.click(&Target::button("Close").within(&Target::dialog("Update problem")), HANG_GUARD).await;
    app.wait_gone(&Target::dialog("Update problem"), HANG_GUARD).await;
}

/// "Check now" on Settings → Updates, which opens the update dialog.
async fn check_now(chat: &Chat) {
    let app = &chat.app;
    app.click(&Target::button("Settings"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Settings"), HANG_GUARD).await;
    app.click(&Target::role("tab", "Updates"), HANG_GUARD).await;
    app.click(&Target::button("Check now"), HANG_GUARD).await;
    app.wait_for(&Target::dialog("Update available"), HANG_GUARD).await;
}

#[tokio::test]
#[ignore = "installs the .deb system-wide with apt-get (root): scripts/test.sh runs it after building the bundles"]
async fn the_installed_deb_updates_itself_only_to_a_package_signed_with_its_key() {
    use copilot_desktop_tests::fake_updates::{FakeUpdateServer, UpdateKey};

    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "installing a package needs root (scripts/test.sh runs this as root in CI)"
    );
    assert_eq!(app::app_binary(), Path::new(INSTALLED_APP), "run with COPILOT_DESKTOP_APP={INSTALLED_APP}");
    let next_path = update_test_dir().join(format!("copilot-desktop_{NEXT_VERSION}_amd64.deb"));
    let next = std::fs::read(&next_path).unwrap_or_else(|e| {
        panic!("{}: {e}. scripts/test.sh builds it (tauri build --config version {NEXT_VERSION})", next_path.display())
    });
    let key = UpdateKey::load_or_create(&update_test_dir());
    if is_installed() {
        run("apt-get", &["remove", "-y", "-qq", PACKAGE]);
    }
    run("apt-get", &["install", "-y", "-qq", "--no-install-recommends", bundle("deb").to_str().unwrap()]);
    assert_eq!(installed_version(), "0.1.0");

    let server = FakeUpdateServer::start().await;
    let notes = "## Copilot Desktop 0.1.1\n- Updates that check their signature";
    // 1. Signed with another key: found and shown, refused on download.
    server.offer(NEXT_VERSION, notes, &next, &UpdateKey::generate().sign(&next));
    let chat = Chat::start_with(|o| o.env("COPILOT_DESKTOP_UPDATE_URL", server.feed_url())).await;
    let old_app = chat.app.app_process();
    chat.github
        .when(Match::user_contains("before the update"), Reply::text("Reply from before the update."))
        .when(Match::user_contains("after a refusal"), Reply::text("Still chatting after a refusal."));
    chat.new_session().await;
    chat.send("A message from before the update").await;
    chat.wait_reply("Reply from before the update.").await;
    let button = chat.app.wait_for_text(&update_indicator(), |t| t.contains(NEXT_VERSION), HANG_GUARD).await;
    assert_eq!(button, format!("Update available: {NEXT_VERSION}"));
    chat.app.click(&update_indicator(), HANG_GUARD).await;
    chat.app.wait_for(&Target::dialog("Update available"), HANG_GUARD).await;
    download_is_refused(&chat, "not signed with Copilot Desktop's key").await;

    // 2. One flipped byte in the package, announced with the right key's signature of the real one.
    let mut flipped = next.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    server.offer(NEXT_VERSION, notes, &flipped, &key.sign(&next));
    check_now(&chat).await;
    download_is_refused(&chat, "refused").await;
    chat.send("Still there after a refusal?").await;
    chat.wait_reply("Still chatting after a refusal.").await;

    // 3. The real package: downloaded with progress, installed after "Restart to update", restarted.
    server.offer(NEXT_VERSION, notes, &next, &key.sign(&next));
    check_now(&chat).await;
    let dialog = Target::dialog("Update available");
    let text = chat.app.text(&dialog).await.unwrap_or_default();
    let size_mb = next.len() as f64 / 1e6;
    assert!(text.contains(&format!("Download size: {size_mb:.1} MB")), "the size before agreeing: {text}");
    let download_started = std::time::Instant::now();
    chat.app.click(&Target::button("Download"), HANG_GUARD).await;
    let progress = chat
        .app
        .wait_for_text(
            &Target::xpath("//dialog[@open]//label[contains(., 'Downloading')]", "download progress"),
            |t| t.contains("MB"),
            HANG_GUARD,
        )
        .await;
    eprintln!("[test] progress shown: {progress}");
    chat.app
        .wait_for(&Target::button("Restart to update").within(&Target::dialog("Ready to update")), HANG_GUARD)
        .await;
    let downloaded_in = download_started.elapsed();
    let sessions_dir = chat.app.home().copilot_home().join("session-state");
    let sessions: Vec<String> = list(&sessions_dir).into_iter().filter(|n| !n.starts_with('.')).collect();
    assert_eq!(sessions.len(), 1, "the chat's session: {sessions:?}");
    assert_eq!(installed_version(), "0.1.0", "downloaded, not installed: nothing installs before the click");

    let clicked = std::time::Instant::now();
    chat.app.click(&Target::button("Restart to update"), HANG_GUARD).await;
    // The old app goes; a new one runs the replaced /usr/bin/copilot-desktop and says its version.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let home = chat.app.shared_home();
    let new_app = loop {
        let started_new = processes::all().into_iter().find(|p| {
            p.exe.as_deref() == Some(Path::new(INSTALLED_APP)) && p.start_time > old_app.start_time && p.state != 'Z'
        });
        let log = app::app_log_text(&home);
        if let Some(process) = started_new
            && log.contains(&format!("Copilot Desktop starting version={NEXT_VERSION}"))
        {
            break process;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {NEXT_VERSION} started after Restart to update; installed {}; log:\n{}",
            installed_version(),
            log
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let applied_in = clicked.elapsed();
    assert!(
        processes::read(old_app.pid).is_none_or(|p| p.state == 'Z' || p.start_time != old_app.start_time),
        "the old app exited"
    );
    assert_eq!(installed_version(), NEXT_VERSION, "the package manager has the new version");
    let log = app::app_log_text(&home);
    assert!(log.contains("update installed; stopping the CLI and restarting"), "the CLI was stopped first:\n{log}");
    eprintln!(
        "[test] update: {:.1} MB downloaded and verified in {:.2?}; click to the new version running: {:.2?}",
        size_mb, downloaded_in, applied_in
    );
    // The new version's CLI connects to the same sessions.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app::app_log_text(&home).matches("Copilot CLI connected").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the new version's CLI never connected");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after: Vec<String> = list(&sessions_dir).into_iter().filter(|n| !n.starts_with('.')).collect();
    assert_eq!(after, sessions, "the update left the sessions as they were");

    // End the new app (it is not under WebDriver) and its CLI, then the package.
    let tree = processes::descendants(new_app.pid);
    unsafe {
        libc::kill(new_app.pid as libc::pid_t, libc::SIGKILL);
        for pid in tree {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    drop(chat);
    run("apt-get", &["remove", "-y", "-qq", PACKAGE]);
}
