#!/usr/bin/env bash
# Side-by-side load test of the session middleware (issue 7).
#
#   [BENCH_REPS=n] bench/run.sh [seconds]      (default 5 seconds per run, 5 runs per cell)
#
# Builds the `session-bench` server in release and starts it once per setup (no middleware,
# actix-session with its cookie and Redis stores, this workspace with each of its stores), one
# worker each on a free port, with the cookie of a small session (the user and a counter) from
# /seed and that of a session of about 2 KB from /seed-big. Then, route by route, it loads each
# setup's /plain, /read, /incr (small session), /big (big session) and /incr without a cookie
# (a new session per request)
# with `wrk -t1 -c32 -d<seconds>s` from a separate process on loopback, BENCH_REPS times in
# turn, and reports each cell's best run; with two cores or more the server is pinned to CPU 0 and
# wrk to CPU 1. It reads each server's peak RSS at the end. It also measures the raw ceilings on the same machine in the same run:
# redis-benchmark GET/SET and pgbench -S/-N with 32 clients. Prints a markdown table of req/s,
# the ratios and the issue's targets with PASS/MISS, and writes the same figures to
# bench/results/latest.json.
#
# Needs root for `apt-get install wrk` when wrk is missing; starts Redis and PostgreSQL through
# scripts/services.sh. REDIS_URL and DATABASE_URL are passed on to the server; the ceilings and
# the cleanup always use the local services (127.0.0.1:6379, 127.0.0.1:5432, user postgres).
set -euo pipefail

secs=${1:-5}
reps=${BENCH_REPS:-5}
if ! [[ $secs =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: [BENCH_REPS=n] bench/run.sh [seconds]" >&2
    exit 2
fi
# With two cores or more, the server runs on CPU 0 and wrk on CPU 1, so neither steals the
# other's core; Redis and PostgreSQL are left to the scheduler.
server_cpu=() wrk_cpu=()
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null 2>&1; then
    server_cpu=(taskset -c 0)
    wrk_cpu=(taskset -c 1)
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results_dir=$root/bench/results
mkdir -p "$results_dir"
work=$(mktemp -d)
declare -A server_pid=() base_url=() cookies=() big_cookies=()

PG=(-h 127.0.0.1 -p 5432 -U postgres)
REDIS=(-h 127.0.0.1 -p 6379)
SETUPS=(none actix-cookie actix-redis ours-memory ours-cookie ours-redis ours-postgres)

stop_servers() {
    local setup
    for setup in "${!server_pid[@]}"; do
        kill "${server_pid[$setup]}" 2>/dev/null || true
        wait "${server_pid[$setup]}" 2>/dev/null || true
        unset "server_pid[$setup]"
    done
}

clean_redis() {
    redis-cli "${REDIS[@]}" --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli "${REDIS[@]}" del >/dev/null || true
    # The one key redis-benchmark's GET/SET use without -r.
    redis-cli "${REDIS[@]}" del 'key:__rand_int__' >/dev/null || true
}

cleanup() {
    stop_servers
    clean_redis 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- tools, build, services -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
for tool in curl python3 redis-benchmark redis-cli pgbench createdb psql; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing"; exit 1; }
done

log "building session-bench (release)"
cargo build --release -q -p session-bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target_dir/release/session-bench

scripts/services.sh

# Other work on the machine skews every cell: record the load the run started under.
cut -d' ' -f1-3 /proc/loadavg >"$work/loadavg"

# A fresh start: no sessions of an earlier run in Redis or PostgreSQL.
clean_redis
psql "${PG[@]}" -d test -qAt -v ON_ERROR_STOP=1 -c 'SET client_min_messages TO warning' \
    -c 'DROP SCHEMA IF EXISTS bench CASCADE' >/dev/null

# server_ticks <pid>: the CPU the process has used so far, user and system, in clock ticks.
server_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# wrk <label> <pid> <url> [cookie]: one time-bounded run against the server <pid>, its output
# and the server's CPU time over the run kept for the report.
run_wrk() {
    local label=$1 pid=$2 url=$3 cookie=${4:-} before
    local args=(-t1 -c32 "-d${secs}s" --timeout 5s --latency)
    if [[ -n $cookie ]]; then
        args+=(-H "Cookie: $cookie")
    fi
    before=$(server_ticks "$pid")
    timeout $((secs + 30)) "${wrk_cpu[@]}" wrk "${args[@]}" "$url" >"$work/$label.wrk" 2>&1 || {
        log "wrk failed for $label"; cat "$work/$label.wrk" >&2; return 1;
    }
    echo $(($(server_ticks "$pid") - before)) >"$work/$label.ticks"
    log "$(printf '%-30s %s' "$label" "$(grep -m1 'Requests/sec' "$work/$label.wrk" || echo '?')")"
}

# seed_cookie <base url> <seed path>: the session cookie(s) the seed route sets, as one Cookie
# header value.
seed_cookie() {
    curl -sf -D - -o /dev/null -X POST "$1$2" | tr -d '\r' |
        sed -n -E 's/^[Ss]et-[Cc]ookie: *([^;]*).*/\1/p' | paste -sd ';' | sed 's/;/; /g'
}

# Starts the server for <setup> on a free port, waits until it answers, and gets the cookies of
# its small session (/seed) and of its big one (/seed-big).
start_server() {
    local setup=$1 port base
    port=$(free_port)
    base=http://127.0.0.1:$port
    "${server_cpu[@]}" "$bin" "$setup" "$port" >"$work/$setup.log" 2>&1 &
    server_pid[$setup]=$!
    for _ in $(seq 1 100); do
        if curl -sf -o /dev/null "$base/plain"; then break; fi
        if ! kill -0 "${server_pid[$setup]}" 2>/dev/null; then
            log "server for $setup exited:"; cat "$work/$setup.log" >&2; return 1
        fi
        sleep 0.1
    done
    curl -sf -o /dev/null "$base/plain" || { log "server for $setup does not answer"; return 1; }
    base_url[$setup]=$base
    cookies[$setup]=$(seed_cookie "$base" /seed)
    big_cookies[$setup]=$(seed_cookie "$base" /seed-big)
    if [[ $setup != none && ( -z ${cookies[$setup]} || -z ${big_cookies[$setup]} ) ]]; then
        log "no session cookie from $setup /seed or /seed-big"; return 1
    fi
    printf '%s' "${#cookies[$setup]}" >"$work/$setup.cookie_len"
    printf '%s' "${#big_cookies[$setup]}" >"$work/$setup.big_cookie_len"
    # Warm-up, not reported.
    local warm=(-t1 -c32 -d1s)
    if [[ -n ${cookies[$setup]} ]]; then warm+=(-H "Cookie: ${cookies[$setup]}"); fi
    timeout 30 "${wrk_cpu[@]}" wrk "${warm[@]}" "$base/read" >/dev/null 2>&1 || true
}

# Every server runs (one worker each; the idle ones cost nothing) for the whole run, and the
# cells are taken route by route, setup after setup: whatever else loads the machine then skews
# the setups compared on one route alike, instead of whichever setup happened to run then.
for setup in "${SETUPS[@]}"; do
    log "starting $setup"
    start_server "$setup"
done
# Each cell is taken `reps` times, the setups of one route in turn each time, and reported as
# the best of them: on a shared 2-core machine other load only ever slows a run down (samples of
# one cell were seen to vary by half), so the fastest run is the least disturbed one. Every
# sample is kept in the JSON.
# The order of the setups turns by one each time, so none always runs just after the same other.
for route in plain read incr big incr_new; do
    for rep in $(seq 1 "$reps"); do
        for i in "${!SETUPS[@]}"; do
            setup=${SETUPS[$(((i + rep) % ${#SETUPS[@]}))]}
            case $route in
                incr_new) path=/incr session= ;;
                big) path=/big session=${big_cookies[$setup]} ;;
                *) path=/$route session=${cookies[$setup]} ;;
            esac
            run_wrk "$setup.$route.$rep" "${server_pid[$setup]}" "${base_url[$setup]}$path" "$session"
        done
    done
done
for setup in "${SETUPS[@]}"; do
    awk '/^VmHWM:/ {print $2}' "/proc/${server_pid[$setup]}/status" >"$work/$setup.rss_kib"
done
stop_servers
clean_redis

# --- raw ceilings ------------------------------------------------------------------------------
log "redis-benchmark GET/SET, 32 clients"
requests=$((40000 * secs))
timeout $((secs * 10 + 60)) redis-benchmark "${REDIS[@]}" -q -t get,set -c 32 -n "$requests" \
    >"$work/redis-benchmark.txt" 2>&1
redis-cli "${REDIS[@]}" del 'key:__rand_int__' >/dev/null

log "pgbench -S/-N, 32 clients"
if [[ -z $(psql "${PG[@]}" -d postgres -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'bench'") ]]; then
    createdb "${PG[@]}" bench
fi
pgbench "${PG[@]}" -i -q bench >"$work/pgbench-init.txt" 2>&1
timeout $((secs + 60)) pgbench "${PG[@]}" -S -c 32 -j 2 -T "$secs" bench >"$work/pgbench-S.txt" 2>&1
timeout $((secs + 60)) pgbench "${PG[@]}" -N -c 32 -j 2 -T "$secs" bench >"$work/pgbench-N.txt" 2>&1

# --- report ------------------------------------------------------------------------------------
python3 "$root/bench/report.py" "$work" "$secs" "$reps" "${#server_cpu[@]}" "$results_dir/latest.json" "${SETUPS[@]}"
