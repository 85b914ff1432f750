//! Prints the public half of the update tests' signing key (made in the folder given, once), in the
//! form tauri.conf.json's `plugins.updater.pubkey` takes. scripts/test.sh builds the package that the
//! installed-update test installs with it: `--config '{"plugins":{"updater":{"pubkey":"…"}}}'`.
//!
//!     cargo run -q -p copilot-desktop-tests --bin update_test_key -- target/update-test

fn main() {
    let dir = std::env::args_os().nth(1).expect("usage: update_test_key <folder for the key>");
    let key = copilot_desktop_tests::fake_updates::UpdateKey::load_or_create(std::path::Path::new(&dir));
    println!("{}", key.public_config());
}
