#!/usr/bin/env bash
# The whole test suite: services up, then every crate's unit, integration and doc tests with
# all features, the benchmark report's checks, the short fault suite (a Redis restart and a
# PostgreSQL lock stall under load, a few seconds each), and the demo's end-to-end tests in
# headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test --workspace --all-features --all-targets
# The benchmark report (bench/report.py) on canned output: the full benchmark is not run here.
python3 bench/test_report.py
scripts/faults.sh --short redis-restart postgres-lock
scripts/browser-tests.sh
cargo test --workspace --all-features --doc
