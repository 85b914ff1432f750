//! Declares the app's own commands (AppManifest), so only these are callable from the webview
//! and each gets an `allow-*` permission that capabilities/ grants explicitly.

const COMMANDS: &[&str] = &["get_connection", "watch_connection", "retry_connection"];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
