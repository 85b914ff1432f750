//! The UI's TypeScript bindings are generated from the Rust commands. This test fails when the
//! committed `ui/src/lib/bindings.ts` drifts from Rust, so a renamed command or field breaks CI,
//! not the user. Regenerate with `UPDATE_BINDINGS=1 cargo test -p copilot-desktop --test bindings`.

use std::path::PathBuf;

#[test]
fn committed_typescript_bindings_match_the_rust_commands() {
    let committed_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    let fresh_path = std::env::temp_dir().join(format!("copilot-desktop-bindings-{}.ts", std::process::id()));
    copilot_desktop::specta_builder()
        .export(
            specta_typescript::Typescript::default().header(
                "// Generated from the Rust commands by tauri-specta. Do not edit: see src-tauri/tests/bindings.rs.\n",
            ),
            &fresh_path,
        )
        .expect("export TypeScript bindings");
    let fresh = std::fs::read_to_string(&fresh_path).expect("read generated bindings");
    let _ = std::fs::remove_file(&fresh_path);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).expect("write ui/src/lib/bindings.ts");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is out of date with the Rust commands.\n\
         Run: UPDATE_BINDINGS=1 cargo test -p copilot-desktop --test bindings"
    );
}
