#!/usr/bin/env bash
# The whole test suite: services up, then every crate's unit, integration and doc tests with
# all features, the benchmark report's checks, and the demo's end-to-end tests in headless
# Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test --workspace --all-features --all-targets
# The benchmark report (bench/report.py) on canned output: the full benchmark is not run here.
python3 bench/test_report.py
scripts/browser-tests.sh
cargo test --workspace --all-features --doc
