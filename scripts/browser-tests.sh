#!/usr/bin/env bash
# End-to-end tests of the demo app in headless Chromium, against the memory and Redis backends.
# Installs Debian's chromium and the npm test dependency when missing, starts the demo once per
# backend on a free port, and runs browser-tests/ with node's test runner. Screenshots land in
# artifacts/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    echo "browser-tests.sh: installing Debian's chromium" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d browser-tests/node_modules/playwright-core ]; then
    (cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo build -q -p session-examples --example demo
demo=target/debug/examples/demo
mkdir -p artifacts

server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
trap cleanup EXIT

for backend in memory redis; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PORT=$port SESSION_BACKEND=$backend "$demo" >"artifacts/demo-$backend.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null && break
        if ! kill -0 "$server" 2>/dev/null; then
            cat "artifacts/demo-$backend.log" >&2
            echo "browser-tests.sh: the demo ($backend) exited" >&2
            exit 1
        fi
        sleep 0.1
    done
    (cd browser-tests && BASE_URL="http://127.0.0.1:$port" BACKEND=$backend ARTIFACTS_DIR=../artifacts \
        node --test --test-reporter=spec demo.test.mjs)
    cleanup
    server=""
done
