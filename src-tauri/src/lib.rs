//! Copilot Desktop: a desktop client for GitHub Copilot's coding agent.
//!
//! `engine` and `auth` are the UI-free core; `commands` is the thin Tauri layer over it; this
//! file wires them into an app: configuration, logging, settings, the account (which starts
//! the engine signed in from the keychain), managed state, and a clean shutdown.

pub mod auth;
pub mod commands;
pub mod engine;
pub mod secret;
pub mod settings_store;

use std::path::PathBuf;

use tauri::{Manager, RunEvent};

use auth::{AccountOptions, AccountService, TokenStore};
use engine::{BundledCli, CliAuth, CliTarget, Engine, ExternalServer};

/// The OAuth app's client id for GitHub's device flow (wins over the settings' `clientId`).
pub const CLIENT_ID_ENV: &str = "COPILOT_DESKTOP_GITHUB_CLIENT_ID";
/// Replaces `https://<host>` as the base of the device flow's endpoints (tests: a local fake).
pub const GITHUB_WEB_URL_ENV: &str = "COPILOT_DESKTOP_GITHUB_WEB_URL";

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
        commands::sessions::search_sessions,
        commands::sessions::create_session,
        commands::sessions::session_tail,
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
        commands::account::get_account,
        commands::account::watch_account,
        commands::account::start_sign_in,
        commands::account::cancel_sign_in,
        commands::account::open_verification_uri,
        commands::account::keep_token_in_memory,
        commands::account::sign_out,
        commands::account::get_settings,
        commands::account::save_provider_settings,
        commands::account::clear_provider,
    ])
}

/// Where the bundled CLI lives: next to our executable (Tauri's `externalBin` puts it there,
/// both in bundles and in `target/<profile>` during development).
pub fn bundled_cli_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    dir.join(format!("copilot{}", std::env::consts::EXE_SUFFIX))
}

/// The CLI to use, from the environment: `COPILOT_DESKTOP_SERVER=host:port` attaches to a
/// headless CLI; otherwise the bundled one, with `COPILOT_HOME` honoured as the terminal CLI
/// does. Its credentials are the account's business (`AccountService::start`).
fn cli_target_from_env() -> CliTarget {
    if let Ok(address) = std::env::var("COPILOT_DESKTOP_SERVER") {
        if let Some((host, port)) = address.rsplit_once(':')
            && let Ok(port) = port.parse()
        {
            return CliTarget::External(ExternalServer { host: host.to_owned(), port });
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
        // Rust-side only: capabilities/ grants the webview no store permission.
        .plugin(tauri_plugin_store::Builder::default().build())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            let log_dir = app.path().app_log_dir()?;
            let guard = engine::logging::init(&log_dir, cfg!(debug_assertions))?;
            app.manage(guard);
            tracing::info!(version = env!("CARGO_PKG_VERSION"), log_dir = %log_dir.display(), "Copilot Desktop starting");
            builder.mount_events(app);
            let (settings, sink) = settings_store::open(app.handle())?;
            let mut options = AccountOptions::new(cli_target_from_env());
            options.client_id = std::env::var(CLIENT_ID_ENV).ok();
            options.web_base_url = std::env::var(GITHUB_WEB_URL_ENV).ok();
            // Reads the keychain, then starts the engine (its tasks on Tauri's Tokio runtime).
            let account = tauri::async_runtime::block_on(AccountService::start(
                options,
                settings,
                sink,
                TokenStore::keychain(),
            ));
            let engine: Engine = account.engine().clone();
            app.manage(AppState { engine, watchers: Default::default() });
            app.manage(account);
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
