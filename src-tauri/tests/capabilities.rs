//! Least privilege, checked: every command the UI's bindings can invoke is granted to the main
//! window one by one (`allow-<command>`), and the window holds no plugin permission at all (the
//! store, opener and dialog plugins are used from Rust only; a store permission would let the
//! webview read and write settings behind the app's back).

use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn granted() -> Vec<String> {
    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/main.json")).expect("capabilities/main.json is JSON");
    capability["permissions"]
        .as_array()
        .expect("a permissions array")
        .iter()
        .map(|p| p.as_str().expect("permissions are plain identifiers").to_owned())
        .collect()
}

#[test]
fn every_command_the_ui_can_invoke_is_granted_by_name() {
    let bindings = read("../ui/src/lib/bindings.ts");
    let invoked: Vec<&str> =
        bindings.split("__TAURI_INVOKE(\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(invoked.contains(&"start_sign_in"), "the scan finds the commands: {invoked:?}");
    let granted = granted();
    let missing: Vec<String> = invoked
        .iter()
        .map(|command| format!("allow-{}", command.replace('_', "-")))
        .filter(|permission| !granted.contains(permission))
        .collect();
    assert!(missing.is_empty(), "not granted in capabilities/main.json: {missing:?}");
    let build = read("build.rs");
    let undeclared: Vec<&&str> = invoked.iter().filter(|c| !build.contains(&format!("\"{c}\""))).collect();
    assert!(undeclared.is_empty(), "not declared in build.rs: {undeclared:?}");
}

#[test]
fn the_window_holds_no_plugin_permission() {
    let plugin: Vec<String> = granted().into_iter().filter(|p| p.contains(':')).collect();
    assert!(plugin.is_empty(), "plugin permissions granted to the webview: {plugin:?}");
}
