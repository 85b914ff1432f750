//! Declares the app's own commands (AppManifest), so only these are callable from the webview
//! and each gets an `allow-*` permission that capabilities/ grants explicitly.

const COMMANDS: &[&str] = &[
    "get_connection",
    "watch_connection",
    "retry_connection",
    "list_sessions",
    "search_sessions",
    "create_session",
    "session_tail",
    "open_session",
    "close_session",
    "send_message",
    "abort_turn",
    "rename_session",
    "delete_session",
    "session_model",
    "set_session_model",
    "list_models",
    "auth_status",
    "watch_prompts",
    "decide_permission",
    "answer_question",
    "open_link",
    "pick_folder",
    "default_working_directory",
    "get_account",
    "watch_account",
    "start_sign_in",
    "cancel_sign_in",
    "open_verification_uri",
    "keep_token_in_memory",
    "sign_out",
    "get_settings",
    "save_provider_settings",
    "clear_provider",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
