#!/usr/bin/env bash
# The whole test suite: services up, then every crate's unit, integration and doc tests with
# all features, and the demo's end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test --workspace --all-features --all-targets
scripts/browser-tests.sh
cargo test --workspace --all-features --doc
