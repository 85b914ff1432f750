#!/usr/bin/env bash
# Set up everything and run every test: the vendor/ fetcher's tests, the UI's unit tests, and
# the Rust workspace (unit tests, the engine against the real Copilot CLI, and the app in its
# real webview) under Xvfb with a real Secret Service on a private D-Bus. A missing part fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "Release configuration: actionlint on the workflows, tauri.conf.json against the pinned schema"
node scripts/check-release-config.mjs

say "vendor/ tests"
node --test vendor/test/

say "UI: type check, build and unit tests"
(cd ui && npm run build --silent && npm test --silent)

say "Rust: formatting and lints (rustfmt.toml; clippy with warnings as errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The bench feature (the UI benchmark's floor command) is off in every other build: lint it here so it compiles.
cargo clippy -p copilot-desktop --features bench --quiet -- -D warnings

say "Rust: build the app the WebDriver tests drive"
cargo build -p copilot-desktop
cargo test --workspace --no-run --quiet

say "Rust: workspace tests (real CLI, real webview, real Secret Service)"
# The keyring lives in a throwaway HOME so no test touches the developer's own secrets; every
# test also gives the CLI and the app a HOME and COPILOT_HOME of their own.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export KEYRING_HOME="$keyring_home"
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- sh -c '
    printf "ci-keyring-password" | HOME="$KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec cargo test --workspace -- --test-threads=2
  '

say "Packages: build the .deb and .rpm (debug app, the pinned CLI inside)"
# The bundler's own step; the release workflow builds the same bundles from a release build.
# TAURI_FRONTEND_PATH: the CLI would otherwise take the first package.json it finds (tests/node-sdk/).
# These packages trust the update tests' signing key (made once in target/update-test), not the
# release key, so the installed-update test can sign a newer package; and a newer .deb (0.1.1) is
# built beside them for it to offer.
update_dir=target/update-test
mkdir -p "$update_dir"
update_pubkey=$(cargo run -q -p copilot-desktop-tests --bin update_test_key -- "$update_dir")
rm -f target/debug/bundle/deb/*.deb target/debug/bundle/rpm/*.rpm
TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri build --debug --bundles deb --ci \
  --config "{\"version\":\"0.1.1\",\"plugins\":{\"updater\":{\"pubkey\":\"$update_pubkey\"}}}"
mv target/debug/bundle/deb/copilot-desktop_0.1.1_amd64.deb "$update_dir/"
TAURI_FRONTEND_PATH=ui ui/node_modules/.bin/tauri build --debug --bundles deb,rpm --ci \
  --config "{\"plugins\":{\"updater\":{\"pubkey\":\"$update_pubkey\"}}}"

say "Packages: install the .deb, chat with the installed app, update it, remove it; inspect the .rpm"
# Installs system-wide, so only here and as root (CI runs as root; elsewhere sudo asks).
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -E"
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- sh -c '
    printf "ci-keyring-password" | HOME="$KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec '"$sudo"' env COPILOT_DESKTOP_APP=/usr/bin/copilot-desktop \
      cargo test -p copilot-desktop-tests --test installed_package -- --ignored --test-threads=1
  '
