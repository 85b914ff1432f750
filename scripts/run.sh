#!/usr/bin/env bash
# Set up everything, build the UI and the app, and start Copilot Desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
(cd ui && npm run build --silent)
cargo build -p copilot-desktop
exec ./target/debug/copilot-desktop "$@"
