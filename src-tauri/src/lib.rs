//! Copilot Desktop: a desktop client for GitHub Copilot's coding agent.
//!
//! `engine` is the UI-free core; `commands` is the thin Tauri layer over it; this file wires
//! the two into an app: configuration, logging, managed state, and a clean shutdown.

pub mod auth;
pub mod commands;
pub mod engine;
pub mod secret;

use std::path::PathBuf;

use tauri::{Manager, RunEvent};

use engine::{BundledCli, CliAuth, CliTarget, Engine, EngineConfig, ExternalServer, RestartPolicy, SessionOptions};

/// State every command can reach.
pub struct AppState {
    pub engine: Engine,
    /// The task forwarding each open session's events to the webview, by session id.
    pub watchers: std::sync::Mutex<std::collections::HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
}

/// The typed command surface; `bindings_export` writes its TypeScript for the UI.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    // One TypeScript type per Rust type: the UI never sees serde's serialize/deserialize variants.
    tauri_specta::Builder::<tauri::Wry>::new().disable_serde_phases().commands(tauri_specta::collect_commands![
        commands::connection::get_connection,
        commands::connection::watch_connection,
        commands::connection::retry_connection,
        commands::sessions::list_sessions,
        commands::sessions::create_session,
        commands::sessions::open_session,
        commands::sessions::close_session,
        commands::sessions::send_message,
        commands::sessions::abort_turn,
        commands::sessions::rename_session,
        commands::sessions::delete_session,
        commands::sessions::session_model,
        commands::sessions::set_session_model,
        commands::sessions::list_models,
        commands::sessions::auth_status,
        commands::prompts::watch_prompts,
        commands::prompts::decide_permission,
        commands::prompts::answer_question,
        commands::system::open_link,
        commands::system::pick_folder,
        commands::system::default_working_directory,
    ])
}

/// Where the bundled CLI lives: next to our executable (Tauri's `externalBin` puts it there,
/// both in bundles and in `target/<profile>` during development).
pub fn bundled_cli_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    dir.join(format!("copilot{}", std::env::consts::EXE_SUFFIX))
}

/// The CLI to use, from the environment for now (settings arrive with the sign-in work):
/// `COPILOT_DESKTOP_SERVER=host:port` attaches to a headless CLI; otherwise the bundled one,
/// with `COPILOT_HOME` honoured as the terminal CLI does.
fn cli_target_from_env() -> CliTarget {
    if let Ok(address) = std::env::var("COPILOT_DESKTOP_SERVER") {
        if let Some((host, port)) = address.rsplit_once(':') {
            if let Ok(port) = port.parse() {
                return CliTarget::External(ExternalServer { host: host.to_owned(), port });
            }
        }
        tracing::warn!(%address, "COPILOT_DESKTOP_SERVER is not host:port; using the bundled CLI");
    }
    let program = std::env::var_os("COPILOT_DESKTOP_CLI").map(PathBuf::from).unwrap_or_else(bundled_cli_path);
    CliTarget::Bundled(BundledCli {
        program,
        copilot_home: std::env::var_os("COPILOT_HOME").map(PathBuf::from),
        working_directory: dirs::home_dir().unwrap_or_else(std::env::temp_dir),
        auth: CliAuth::CliDefault,
        env: Vec::new(),
    })
}

pub fn run() {
    let builder = specta_builder();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            let log_dir = app.path().app_log_dir()?;
            let guard = engine::logging::init(&log_dir, cfg!(debug_assertions))?;
            app.manage(guard);
            tracing::info!(version = env!("CARGO_PKG_VERSION"), log_dir = %log_dir.display(), "Copilot Desktop starting");
            builder.mount_events(app);
            let config = EngineConfig {
                target: cli_target_from_env(),
                restart: RestartPolicy::default(),
                sessions: SessionOptions::default(),
            };
            // The engine spawns its tasks on Tauri's Tokio runtime.
            let engine = tauri::async_runtime::block_on(async { Engine::start(config) });
            app.manage(AppState { engine, watchers: Default::default() });
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while building Copilot Desktop");

    app.run(|handle, event| {
        if let RunEvent::ExitRequested { .. } | RunEvent::Exit = event {
            // Tauri does not drop managed state: stop the CLI and its process tree ourselves.
            if let Some(state) = handle.try_state::<AppState>() {
                let engine = state.engine.clone();
                tauri::async_runtime::block_on(engine.shutdown());
            }
        }
    });
}
