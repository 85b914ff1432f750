//! Copilot Desktop: a desktop client for GitHub Copilot's coding agent.
//!
//! `engine` and `auth` are the UI-free core; `commands` is the thin Tauri layer over it; this
//! file wires them into an app: configuration, logging, settings, the account (which starts
//! the engine signed in from the keychain), managed state, and a clean shutdown.

pub mod auth;
pub mod commands;
pub mod engine;
pub mod identity_migration;
pub mod memory;
pub mod painting;
pub mod secret;
pub mod settings_store;
pub mod updates;

use std::path::PathBuf;

use tauri::{Manager, RunEvent};

use auth::account::PROVIDER_KEY_NAME;
use auth::{AccountOptions, AccountService, Keychain, SecretKey, TokenStore};
use engine::{BundledCli, CliAuth, CliTarget, Engine, ExternalServer};

/// The OAuth app's client id for GitHub's device flow (wins over the settings' `clientId`).
pub const CLIENT_ID_ENV: &str = "COPILOT_DESKTOP_GITHUB_CLIENT_ID";
/// The OAuth client id this build carries, from the build environment (release builds: the
/// project's OAuth App, set by the release workflow). The runtime variable and the settings win.
pub const BUILTIN_CLIENT_ID: Option<&str> = option_env!("COPILOT_DESKTOP_GITHUB_CLIENT_ID");
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
        commands::menu::watch_menu,
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
        commands::cli::save_cli_settings,
        commands::cli::test_cli_server,
        commands::cli::preview_session_cleanup,
        commands::cli::clean_up_sessions,
        commands::updates::watch_updates,
        commands::updates::check_for_updates,
        commands::updates::download_update,
        commands::updates::install_update,
        commands::updates::set_check_automatically,
        commands::composer::deliver_message,
        commands::composer::queued_messages,
        commands::composer::edit_queued_message,
        commands::composer::remove_queued_message,
        commands::composer::send_queued_now,
        commands::composer::pick_attachments,
        commands::composer::attach_image,
        commands::composer::watch_drops,
        commands::composer::paste_clipboard_image,
        commands::history::preview_rewind,
        commands::history::rewind_session,
        commands::history::fork_session,
        commands::history::export_session,
        commands::mcp::mcp_overview,
        commands::mcp::save_mcp_server,
        commands::mcp::remove_mcp_server,
        commands::mcp::set_mcp_server_enabled,
        commands::mcp::session_mcp_servers,
        commands::mcp::session_mcp_tools,
        commands::mcp::control_mcp_server,
        commands::rules::rules_overview,
        commands::rules::add_project_rule,
        commands::rules::remove_project_rule,
        commands::rules::add_url_rule,
        commands::rules::remove_url_rule,
        commands::rules::remove_trusted_folder,
        commands::rules::add_deny_rule,
        commands::rules::remove_deny_rule,
        commands::extensions::session_agents,
        commands::extensions::select_agent,
        commands::extensions::preview_agent,
        commands::extensions::save_agent,
        commands::extensions::read_agent,
        commands::extensions::session_skills,
        commands::extensions::set_skill_enabled,
        commands::extensions::open_skill_folder,
        commands::modes::session_mode,
        commands::modes::set_session_mode,
        commands::modes::session_plan,
        commands::modes::watch_plan_reviews,
        commands::modes::decide_plan,
        commands::modes::model_efforts,
        commands::modes::session_effort,
        commands::modes::set_session_effort,
        commands::modes::context_breakdown,
        commands::modes::compact_session,
    ])
}

/// The bundled CLI's file name (without `.exe`): `bundle.externalBin` in tauri.conf.json. Ours, not
/// `copilot`: Linux bundles install sidecars as `/usr/bin/<name>`, beside a user's own CLI.
pub const BUNDLED_CLI_NAME: &str = "copilot-desktop-cli";

/// The app's commands; with the `bench` feature also what the UI benchmark needs (never in a release bundle).
fn invoke_handler(
    app: impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static,
) -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    #[cfg(feature = "bench")]
    {
        let bench: fn(tauri::ipc::Invoke<tauri::Wry>) -> bool =
            tauri::generate_handler![commands::bench::bench_channel_floor];
        move |invoke: tauri::ipc::Invoke<tauri::Wry>| {
            if commands::bench::COMMANDS.contains(&invoke.message.command()) { bench(invoke) } else { app(invoke) }
        }
    }
    #[cfg(not(feature = "bench"))]
    app
}

/// Where the bundled CLI lives: next to our executable (Tauri's `externalBin` puts it there,
/// both in bundles and in `target/<profile>` during development).
pub fn bundled_cli_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    dir.join(format!("{BUNDLED_CLI_NAME}{}", std::env::consts::EXE_SUFFIX))
}

/// `host:port` of a CLI server to attach to; wins over the server chosen in Settings.
pub const SERVER_ENV: &str = "COPILOT_DESKTOP_SERVER";
/// With [`SERVER_ENV`]: the server's connection token (the variable the server itself reads).
pub const CONNECTION_TOKEN_ENV: &str = "COPILOT_CONNECTION_TOKEN";

/// The CLI to use, from the environment: `COPILOT_DESKTOP_SERVER=host:port` attaches to a
/// headless CLI (with `COPILOT_CONNECTION_TOKEN` as its token, if set), and wins over Settings;
/// otherwise the bundled one, with `COPILOT_HOME` honoured as the terminal CLI does, and
/// Settings may still choose a server. Credentials are the account's business
/// (`AccountService::start`).
fn cli_target_from_env() -> CliTarget {
    if let Ok(address) = std::env::var(SERVER_ENV) {
        if let Some((host, port)) = engine::server::parse_address(&address) {
            let token = std::env::var(CONNECTION_TOKEN_ENV)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(secret::Sensitive::new);
            return CliTarget::External(ExternalServer::new(host, port, token));
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

/// Who counts as "the same instance": one per app data folder and Copilot home, so a second launch
/// never starts a second CLI on the same sessions, while separate homes (another user's, or a
/// test's) stay independent. A D-Bus name element (Linux), hence the letter before the hash.
fn instance_scope() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dirs::config_dir().hash(&mut hasher);
    std::env::var_os("COPILOT_HOME").or_else(|| dirs::home_dir().map(|h| h.into_os_string())).hash(&mut hasher);
    format!("com.copilot-desktop.h{:016x}", hasher.finish())
}

/// The window-state plugin writes its file only when the app exits cleanly; write it shortly after
/// the window was moved or resized too, so a crash or a killed session keeps the user's layout.
fn save_window_state_when_it_changes(app: &tauri::AppHandle) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};

    let Some(window) = app.get_webview_window("main") else { return };
    let changes = Arc::new(AtomicU64::new(0));
    let app = app.clone();
    window.on_window_event(move |event| {
        if !matches!(event, tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)) {
            return;
        }
        let this_change = changes.fetch_add(1, Ordering::SeqCst) + 1;
        let (changes, app) = (changes.clone(), app.clone());
        tauri::async_runtime::spawn(async move {
            // Debounced: a drag sends many events; write once it has settled.
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            if changes.load(Ordering::SeqCst) == this_change
                && let Err(error) = app.save_window_state(StateFlags::all())
            {
                tracing::warn!(%error, "could not save the window's size and position");
            }
        });
    });
}

/// Bring the main window to the front (a second launch asked for it).
fn focus_main_window(app: &tauri::AppHandle) {
    tracing::info!("another launch asked for the window; focusing it");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn run() {
    let builder = specta_builder();
    let app = tauri::Builder::default()
        // First: a second launch hands over to the running app and exits before anything starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_scope())
                .callback(|app, _argv, _cwd| focus_main_window(app))
                .build(),
        )
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Rust-side only: capabilities/ grants the webview no store permission.
        .plugin(tauri_plugin_store::Builder::default().build())
        // Rust-side only too: updates/ checks, downloads and installs; the webview asks through commands.
        .plugin(updates::plugin())
        .invoke_handler(invoke_handler(builder.invoke_handler()))
        .manage(commands::menu::MenuListeners::default())
        .manage(commands::composer::DropListeners::default())
        .manage(engine::attachments::ChosenPaths::default())
        .menu(commands::menu::build)
        .on_menu_event(commands::menu::on_event)
        .setup(move |app| {
            // Before anything opens them: folders of builds that had the old identifier.
            let paths = app.path();
            let moved = identity_migration::move_folders(&[
                paths.app_config_dir()?,
                paths.app_data_dir()?,
                paths.app_local_data_dir()?,
                paths.app_log_dir()?,
            ]);
            let log_dir = paths.app_log_dir()?;
            let guard = engine::logging::init(&log_dir, cfg!(debug_assertions))?;
            app.manage(guard);
            // The version the bundle says (tauri.conf.json), the one the updater compares.
            let version = app.package_info().version.to_string();
            tracing::info!(%version, log_dir = %log_dir.display(), "Copilot Desktop starting");
            if painting::chose_cpu() {
                tracing::info!("no GPU to paint with: the webview paints on the CPU ({}=1)", painting::CPU_PAINTING);
            }
            for line in moved {
                tracing::info!("identifier migration: {line}");
            }
            builder.mount_events(app);
            save_window_state_when_it_changes(app.handle());
            commands::composer::follow_drops(app.handle());
            let (settings, sink) = settings_store::open(app.handle())?;
            let keys = [SecretKey::github(&settings.settings.github_host), SecretKey::provider(PROVIDER_KEY_NAME)];
            let (current, legacy) = (Keychain::new(), Keychain::with_service(auth::keychain::LEGACY_APP_IDENTIFIER));
            let moved = tauri::async_runtime::block_on(async {
                let moving = identity_migration::move_keychain_entries(&current, &legacy, &keys);
                tokio::time::timeout(std::time::Duration::from_secs(10), moving).await
            });
            match moved {
                Ok(lines) => lines.iter().for_each(|line| tracing::info!("identifier migration: {line}")),
                Err(_) => {
                    tracing::warn!("identifier migration: the keychain did not answer within 10 s; legacy entries stay")
                }
            }
            let mut options = AccountOptions::new(cli_target_from_env());
            options.client_id = std::env::var(CLIENT_ID_ENV).ok();
            options.builtin_client_id = BUILTIN_CLIENT_ID.map(str::to_owned);
            options.web_base_url = std::env::var(GITHUB_WEB_URL_ENV).ok();
            // Reads the keychain, then starts the engine (its tasks on Tauri's Tokio runtime).
            let account =
                tauri::async_runtime::block_on(AccountService::start(options, settings, sink, TokenStore::keychain()));
            let engine: Engine = account.engine().clone();
            // MCP servers with secrets: kept in the keychain, handed to every session (auth::mcp_secrets).
            let mcp =
                auth::mcp_secrets::McpSettings::new(engine.sessions.clone(), TokenStore::keychain(), instance_scope());
            let (refresh, supervisor) = (mcp.clone(), engine.supervisor.clone());
            tauri::async_runtime::spawn(async move {
                if supervisor.connected(std::time::Duration::from_secs(120)).await.is_ok()
                    && let Err(error) = refresh.refresh_sessions().await
                {
                    tracing::warn!(%error, "MCP servers kept by the app could not be read");
                }
            });
            app.manage(mcp);
            let deny_file = app.path().app_config_dir()?.join("deny-rules.json");
            app.manage(engine::StandingRules::new(
                &cli_target_from_env(),
                deny_file,
                engine.sessions.clone(),
                engine.supervisor.clone(),
            ));
            app.manage(engine::Extensions::new(
                &cli_target_from_env(),
                engine.sessions.clone(),
                engine.supervisor.clone(),
            ));
            app.manage(AppState { engine, watchers: Default::default() });
            app.manage(account);
            updates::manage(app.handle())?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        // A launch while another one is closing: the running instance went away before it took
        // over this launch. Say so in one line; the user starts it again.
        Err(tauri::Error::PluginInitialization(plugin, reason)) if plugin == "single-instance" => {
            eprintln!("copilot-desktop: another window of Copilot Desktop was closing ({reason}); start it again");
            std::process::exit(1);
        }
        Err(error) => panic!("error while building Copilot Desktop: {error}"),
    };

    app.run(|handle, event| {
        if let RunEvent::ExitRequested { .. } | RunEvent::Exit = event {
            // Closing: let a new launch start at once instead of handing itself over to us while
            // we stop the CLI (which can take seconds).
            tauri_plugin_single_instance::destroy(handle);
            // Tauri does not drop managed state: stop the CLI and its process tree ourselves.
            if let Some(state) = handle.try_state::<AppState>() {
                let engine = state.engine.clone();
                tauri::async_runtime::block_on(engine.shutdown());
            }
        }
    });
}
