#!/usr/bin/env bash
# End-to-end tests of the demo app in headless Chromium, against the memory and Redis backends.
# Installs Debian's chromium and the npm test dependency when missing, starts the demo once per
# backend on a free port, and runs browser-tests/ with node's test runner. Screenshots land in
# artifacts/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "browser-tests.sh: installing Debian's chromium and chromium-driver" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
node_major=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
if [ "$node_major" -lt 20 ]; then
    echo "browser-tests.sh: playwright-core needs Node.js 20 or later, found $(node --version)" >&2
    exit 1
fi
if [ ! -d browser-tests/node_modules/playwright-core ]; then
    (cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo build -q -p session-examples --example demo
demo="${CARGO_TARGET_DIR:-target}/debug/examples/demo"
mkdir -p artifacts

server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
trap cleanup EXIT

for backend in memory redis; do
    if [ "$backend" = redis ]; then
        # The tests count a user's sessions: start from none left by an earlier run.
        redis-cli -h 127.0.0.1 -p 6379 --scan --pattern 'demo:session:*' |
            xargs -r -n 500 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PORT=$port SESSION_BACKEND=$backend "$demo" >"artifacts/demo-$backend.log" 2>&1 &
    server=$!
    ready=""
    for _ in $(seq 1 150); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null; then ready=1; break; fi
        if ! kill -0 "$server" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ -z "$ready" ]; then
        cat "artifacts/demo-$backend.log" >&2
        echo "browser-tests.sh: the demo ($backend) did not start" >&2
        exit 1
    fi
    (cd browser-tests && BASE_URL="http://127.0.0.1:$port" BACKEND=$backend ARTIFACTS_DIR=../artifacts \
        node --test --test-reporter=spec demo.test.mjs)
    cleanup
    server=""
done
