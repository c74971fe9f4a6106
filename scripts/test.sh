#!/usr/bin/env bash
# The whole test suite: services up, then every crate's unit, integration and doc tests with
# all features.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test --workspace --all-features --all-targets
cargo test --workspace --all-features --doc
