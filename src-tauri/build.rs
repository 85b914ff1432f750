//! Declares the app's own commands (AppManifest), so only these are callable from the webview
//! and each gets an `allow-*` permission that capabilities/ grants explicitly.

const COMMANDS: &[&str] = &[
    "get_connection",
    "watch_connection",
    "retry_connection",
    "watch_menu",
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
    "save_cli_settings",
    "test_cli_server",
    "preview_session_cleanup",
    "clean_up_sessions",
    "watch_updates",
    "check_for_updates",
    "download_update",
    "install_update",
    "set_check_automatically",
    "deliver_message",
    "queued_messages",
    "edit_queued_message",
    "remove_queued_message",
    "send_queued_now",
    "pick_attachments",
    "attach_image",
    "watch_drops",
    "paste_clipboard_image",
    "preview_rewind",
    "rewind_session",
    "fork_session",
    "export_session",
    "mcp_overview",
    "save_mcp_server",
    "remove_mcp_server",
    "set_mcp_server_enabled",
    "session_mcp_servers",
    "session_mcp_tools",
    "control_mcp_server",
    "rules_overview",
    "add_project_rule",
    "remove_project_rule",
    "add_url_rule",
    "remove_url_rule",
    "remove_trusted_folder",
    "add_deny_rule",
    "remove_deny_rule",
    "session_agents",
    "select_agent",
    "preview_agent",
    "save_agent",
    "read_agent",
    "session_skills",
    "set_skill_enabled",
    "open_skill_folder",
    "session_mode",
    "set_session_mode",
    "session_plan",
    "watch_plan_reviews",
    "decide_plan",
    "model_efforts",
    "session_effort",
    "set_session_effort",
    "context_breakdown",
    "compact_session",
];

/// With the cargo feature `bench` only (src/commands/bench.rs), granted by capabilities/bench/ alone.
const BENCH_COMMANDS: &[&str] = &["bench_channel_floor"];

fn main() {
    let bench = std::env::var_os("CARGO_FEATURE_BENCH").is_some();
    let commands: Vec<&'static str> =
        COMMANDS.iter().chain(if bench { BENCH_COMMANDS } else { &[] }).copied().collect();
    // Without the feature, capabilities/bench/ is not read: its permission would name a command that is not there.
    println!("cargo:rerun-if-changed=capabilities");
    let capabilities = if bench { "./capabilities/**/*.json" } else { "./capabilities/*.json" };
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern(capabilities)
            .app_manifest(tauri_build::AppManifest::new().commands(commands.leak())),
    )
    .expect("failed to run tauri-build");
}
