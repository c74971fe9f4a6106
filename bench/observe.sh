#!/usr/bin/env bash
# What observability costs per request (issue 20), counted in instructions.
#
#   bench/observe.sh [requests]      (default 2000 requests per cell)
#
# Builds the `session-bench` server twice in release, without session-actix's `tracing` and
# `metrics` features and with them, and runs each of this workspace's setups (memory, cookie,
# Redis, PostgreSQL) three ways under `valgrind --tool=callgrind`: features off; features on
# with no subscriber, recorder or listener (as an app that has not set them up runs); features
# on with a `tracing` subscriber at `info` writing nowhere (`BENCH_TRACING=info`). For each
# route of bench/run.sh it sends `requests` requests over one keep-alive connection after a
# warm-up, and reads the server's instructions for them (all threads) from a callgrind dump:
# instructions per request, which unlike CPU seconds do not move with other load on the machine.
# The kernel's share of a request (the socket calls) is the same in the three builds, so the
# ratios over user-space instructions are an upper bound of the ratios over CPU time.
#
# Prints a markdown table with each cell's ratio to the build without the features and the
# target (features on, nothing installed: at most 1.02), and writes bench/results/observe.json.
# Starts Redis and PostgreSQL through scripts/services.sh; cleans up its keys and schema.
set -euo pipefail

requests=${1:-2000}
if ! [[ $requests =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/observe.sh [requests]" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/lib.sh
work=$(mktemp -d)
SETUPS=(ours-memory ours-cookie ours-redis ours-postgres)
ROUTES=(plain read incr big incr_new)
VARIANTS=(off on info)

clean_up_on_exit

for tool in valgrind callgrind_control curl python3 redis-cli psql; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing"; exit 1; }
done

log "building session-bench without and with the observability features (release)"
cp "$(build_bench --no-default-features)" "$work/session-bench-off"
cp "$(build_bench)" "$work/session-bench-on"
scripts/services.sh
clean_stores

# drive <url> <requests> [cookie]: GETs <url> over one keep-alive connection; fails on a status
# other than 200.
drive() {
    python3 - "$@" <<'EOF'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
headers = {"Cookie": sys.argv[3]} if len(sys.argv) > 3 and sys.argv[3] else {}
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
for _ in range(int(sys.argv[2])):
    conn.request("GET", url.path, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{url.path}: status {response.status}")
EOF
}

# The instructions of the last callgrind dump of process <pid>.
dumped_instructions() {
    local file
    file=$(ls -t "$work/cg.$1".* | head -1)
    awk '/^(summary|totals):/ {print $2; exit}' "$file"
}

for setup in "${SETUPS[@]}"; do
    for variant in "${VARIANTS[@]}"; do
        port=$(free_port)
        base=http://127.0.0.1:$port
        bin=$work/session-bench-on
        tracing=()
        case $variant in
            off) bin=$work/session-bench-off ;;
            info) tracing=(env BENCH_TRACING=info) ;;
        esac
        "${tracing[@]}" valgrind --tool=callgrind --dump-instr=no --collect-systime=no \
            --callgrind-out-file="$work/cg.%p" "$bin" "$setup" "$port" >"$work/server.log" 2>&1 &
        server=$!
        wait_for_server "$server" "$base" 600 || { cat "$work/server.log" >&2; exit 1; }
        small=$(seed_cookie "$base" /seed)
        big=$(seed_cookie "$base" /seed-big)
        [[ -n $small && -n $big ]] || { log "no session cookie from $setup"; exit 1; }
        for route in "${ROUTES[@]}"; do
            case $route in
                incr_new) path=/incr cookie= ;;
                big) path=/big cookie=$big ;;
                *) path=/$route cookie=$small ;;
            esac
            drive "$base$path" $((requests / 10)) "$cookie"
            callgrind_control -z "$server" >/dev/null 2>&1
            drive "$base$path" "$requests" "$cookie"
            callgrind_control -d "$setup.$variant.$route" "$server" >/dev/null 2>&1
            echo "$setup $variant $route $(dumped_instructions "$server")" >>"$work/counts"
            log "$(tail -1 "$work/counts")"
        done
        stop_server
    done
done

mkdir -p bench/results
python3 - "$work/counts" "$requests" "$(git rev-parse --short HEAD)" bench/results/observe.json <<'EOF'
import json, sys, time
counts_file, requests, commit, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
per = {}
for line in open(counts_file):
    setup, variant, route, count = line.split()
    per[(setup, route, variant)] = int(count) / requests
setups = list(dict.fromkeys(key[0] for key in per))
routes = list(dict.fromkeys(key[1] for key in per))
names = {"incr_new": "/incr new session"}
target = 1.02
cells, worst = [], 0.0
print(f"Instructions per request (callgrind, {requests} requests per cell), features off / on with "
      f"nothing installed / on with a subscriber at info; ratios to off:\n")
print("| setup | route | off | on | on ÷ off | info | info ÷ off |")
print("|---|---|---:|---:|---:|---:|---:|")
for setup in setups:
    for route in routes:
        off, on, info = (per[(setup, route, v)] for v in ("off", "on", "info"))
        worst = max(worst, on / off)
        cells.append({"setup": setup, "route": route, "off": round(off), "on": round(on),
                      "info": round(info), "on_ratio": round(on / off, 4),
                      "info_ratio": round(info / off, 4)})
        print(f"| {setup} | {names.get(route, '/' + route)} | {off:,.0f} | {on:,.0f} | "
              f"{on / off:.3f} | {info:,.0f} | {info / off:.3f} |")
verdict = "PASS" if worst <= target else "MISS"
print(f"\nFeatures on, nothing installed: worst cell {worst:.3f} of off, target <= {target} **{verdict}**")
json.dump({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
           "requests_per_cell": requests, "unit": "instructions per request (callgrind)",
           "target_on_ratio": target, "worst_on_ratio": round(worst, 4), "verdict": verdict,
           "cells": cells}, open(out, "w"), indent=1)
EOF
