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
    granted_by("capabilities/main.json")
}

fn granted_by(file: &str) -> Vec<String> {
    let capability: serde_json::Value =
        serde_json::from_str(&read(file)).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    capability["permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{file} has no permissions array"))
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

/// The commands the UI invokes by name outside the generated bindings (backend.ts: the UI benchmark's floor).
fn invoked_outside_bindings() -> Vec<String> {
    let backend = read("../ui/src/lib/backend.ts");
    backend.split("invoke(\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect()
}

#[test]
fn bench_commands_are_granted_only_by_the_bench_capability_and_declared_only_for_the_bench_feature() {
    let invoked = invoked_outside_bindings();
    assert_eq!(invoked, ["bench_channel_floor"], "backend.ts invokes by name only the floor's command");
    let bench = granted_by("capabilities/bench/floor.json");
    let main = granted();
    let build = read("build.rs");
    let bench_list = build.split("const BENCH_COMMANDS").nth(1).expect("build.rs has BENCH_COMMANDS");
    let bench_list = &bench_list[..bench_list.find(';').expect("the list ends")];
    for command in &invoked {
        let permission = format!("allow-{}", command.replace('_', "-"));
        assert!(bench.contains(&permission), "capabilities/bench/floor.json does not grant {permission}");
        assert!(!main.contains(&permission), "capabilities/main.json grants {permission}: it is for bench builds only");
        assert!(bench_list.contains(&format!("\"{command}\"")), "{command} is not in build.rs's BENCH_COMMANDS");
    }
    assert_eq!(bench.len(), invoked.len(), "the bench capability grants exactly the bench commands: {bench:?}");
    // Builds without the feature read only the top level of capabilities/ (build.rs), so the bench grant is absent.
    assert!(build.contains(r#"if bench { "./capabilities/**/*.json" } else { "./capabilities/*.json" }"#));
}
