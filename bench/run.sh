#!/usr/bin/env bash
# Side-by-side load test of the session middleware: CPU per request first (issue 21).
#
#   [BENCH_REPS=n] bench/run.sh [seconds]      (default 5 seconds per run, 5 runs per cell)
#
# Builds the `session-bench` server in release and starts it once per setup (no middleware,
# actix-session with its cookie and Redis stores, this workspace with each of its stores), one
# worker each on a free port, with the cookie of a small session (the user and a counter) from
# /seed and that of a session of about 2 KB from /seed-big. Then, route by route, it loads each
# setup's /plain, /read, /incr (small session), /big (big session) and /incr without a cookie
# (a new session per request) with `wrk -t1 -c32 -d<seconds>s --latency` on loopback, BENCH_REPS
# times in turn. Nothing is pinned to a CPU, as a deployment runs.
#
# Around each run it reads from /proc the CPU time, user + system, of the app server and of the
# store's server: redis-server for the Redis setups, every process of the PostgreSQL cluster
# (the postmaster with its children, the ones that exited included) for PostgreSQL. The report
# (bench/report.py) gives each cell's median over its runs: CPU per request, app + store, as the
# headline; req/s and wrk's p50 and p99 beside it; the overhead ratios against actix-session and
# no middleware with issue 21's targets, PASS or MISS. It writes bench/results/latest.json.
#
# Needs root for `apt-get install wrk` when wrk is missing; starts Redis and PostgreSQL through
# scripts/services.sh and measures those local services (127.0.0.1:6379, 127.0.0.1:5432).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/lib.sh
secs_and_reps "[BENCH_REPS=n] bench/run.sh [seconds]" 5 "$@"
results_dir=$root/bench/results
mkdir -p "$results_dir"
work=$(mktemp -d)
declare -A server_pid=() base_url=() cookies=() big_cookies=()
SETUPS=(none actix-cookie actix-redis ours-memory ours-cookie ours-redis ours-postgres)

stop_servers() {
    local setup
    for setup in "${!server_pid[@]}"; do
        kill "${server_pid[$setup]}" 2>/dev/null || true
        wait "${server_pid[$setup]}" 2>/dev/null || true
        unset "server_pid[$setup]"
    done
}
cleanup() {
    stop_servers
    clean_stores
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools, build, services -------------------------------------------------------------------
prepare_load
# Other work on the machine skews every cell: record the load the run started under.
cut -d' ' -f1-3 /proc/loadavg >"$work/loadavg"
# A fresh start: no sessions of an earlier run in Redis or PostgreSQL.
clean_stores

# Starts the server for <setup> on a free port, waits until it answers, and gets the cookies of
# its small session (/seed) and of its big one (/seed-big).
start_server() {
    local setup=$1 port base
    port=$(free_port)
    base=http://127.0.0.1:$port
    "$bin" "$setup" "$port" >"$work/$setup.log" 2>&1 &
    server_pid[$setup]=$!
    wait_for_server "${server_pid[$setup]}" "$base" || { cat "$work/$setup.log" >&2; return 1; }
    base_url[$setup]=$base
    cookies[$setup]=$(seed_cookie "$base" /seed)
    big_cookies[$setup]=$(seed_cookie "$base" /seed-big)
    if [[ $setup != none && ( -z ${cookies[$setup]} || -z ${big_cookies[$setup]} ) ]]; then
        log "no session cookie from $setup /seed or /seed-big"; return 1
    fi
    # Warm-up, not reported.
    local warm=(-t1 -c32 -d1s)
    if [[ -n ${cookies[$setup]} ]]; then warm+=(-H "Cookie: ${cookies[$setup]}"); fi
    timeout 30 wrk "${warm[@]}" "$base/read" >/dev/null 2>&1 || true
}

# Every server runs (one worker each; the idle ones cost nothing) for the whole run, and the
# cells are taken route by route, setup after setup: whatever else loads the machine then skews
# the setups compared on one route alike, instead of whichever setup happened to run then.
for setup in "${SETUPS[@]}"; do
    log "starting $setup"
    start_server "$setup"
done
# Each cell is taken `reps` times, the setups of one route in turn each time, and reported as
# the median of them (every run is kept in the JSON). The order of the setups turns by one each
# time, so none always runs just after the same other.
for route in plain read incr big incr_new; do
    for rep in $(seq 1 "$reps"); do
        for i in "${!SETUPS[@]}"; do
            setup=${SETUPS[$(((i + rep) % ${#SETUPS[@]}))]}
            case $route in
                incr_new) path=/incr session= ;;
                big) path=/big session=${big_cookies[$setup]} ;;
                *) path=/$route session=${cookies[$setup]} ;;
            esac
            measure "$setup.$route.$rep" "$setup" "${server_pid[$setup]}" "${base_url[$setup]}$path" "$secs" "$session"
        done
    done
done
for setup in "${SETUPS[@]}"; do
    awk '/^VmHWM:/ {print $2}' "/proc/${server_pid[$setup]}/status" >"$work/$setup.rss_kib"
done
stop_servers

# --- report ------------------------------------------------------------------------------------
python3 "$root/bench/report.py" "$work" "$secs" "$reps" "$results_dir/latest.json" "${SETUPS[@]}"
