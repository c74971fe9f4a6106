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
python3 - "$work" "$secs" "$reps" "${#server_cpu[@]}" "$results_dir/latest.json" "${SETUPS[@]}" <<'PY'
import datetime
import json
import os
import platform
import re
import subprocess
import sys

work, secs, reps, pinned = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] != "0"
out_path, setups = sys.argv[5], sys.argv[6:]
ROUTES = ["plain", "read", "incr", "big", "incr_new"]
ROUTE_TITLES = {"plain": "/plain", "read": "/read", "incr": "/incr", "big": "/big",
                "incr_new": "/incr new session"}
OURS = ["ours-memory", "ours-cookie", "ours-redis", "ours-postgres"]
ACTIX_MATCH = {"ours-cookie": "actix-cookie", "ours-redis": "actix-redis"}


def read(name):
    with open(os.path.join(work, name)) as f:
        return f.read()


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    p50 = re.search(r"^\s*50%\s+([\d.]+\w+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+([\d.]+\w+)", text, re.M)
    return {
        "rps": float(rps.group(1)) if rps else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, sock.groups())) if sock else 0,
        "latency_p50": p50.group(1) if p50 else None,
        "latency_p99": p99.group(1) if p99 else None,
    }


def ratio(a, b):
    return round(a / b, 3) if a and b else None


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_us_per_request(label, text):
    """The server's CPU time (user + system) per request over one run, in microseconds."""
    done = re.search(r"(\d+) requests in", text)
    ticks = read(f"{label}.ticks").strip()
    if not done or not ticks or int(done.group(1)) == 0:
        return None
    return round(int(ticks) / CLK_TCK * 1e6 / int(done.group(1)), 2)


def best_cell(setup, route):
    """The sample with the highest req/s, with every sample's req/s kept beside it, and the
    median of the server's CPU time per request over the runs."""
    labels = [f"{setup}.{route}.{rep}" for rep in range(1, reps + 1)]
    texts = [read(f"{label}.wrk") for label in labels]
    samples = [parse_wrk(text) for text in texts]
    cpu = [cpu_us_per_request(label, text) for label, text in zip(labels, texts)]
    measured = sorted((s for s in samples if s["rps"] is not None), key=lambda s: s["rps"])
    cell = dict(measured[-1]) if measured else parse_wrk("")
    cell["samples_rps"] = [s["rps"] for s in samples]
    known = sorted(c for c in cpu if c is not None)
    cell["cpu_us_per_request"] = known[len(known) // 2] if known else None
    cell["samples_cpu_us_per_request"] = cpu
    cell["non_2xx"] = sum(s["non_2xx"] for s in samples)
    cell["socket_errors"] = sum(s["socket_errors"] for s in samples)
    return cell


results = {}
for setup in setups:
    routes = {route: best_cell(setup, route) for route in ROUTES}
    results[setup] = {
        "routes": routes,
        "peak_rss_kib": int(read(f"{setup}.rss_kib").strip() or 0),
        "cookie_bytes": int(read(f"{setup}.cookie_len").strip() or 0),
        "big_cookie_bytes": int(read(f"{setup}.big_cookie_len").strip() or 0),
    }


def rps(setup, route):
    return results[setup]["routes"][route]["rps"]


ceilings = {}
for name, value in re.findall(r"^\s*(GET|SET): ([\d.]+) requests per second", read("redis-benchmark.txt").replace("\r", "\n"), re.M):
    ceilings[f"redis-benchmark {name}"] = float(value)
for flag in ["S", "N"]:
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", read(f"pgbench-{flag}.txt"))
    ceilings[f"pgbench -{flag}"] = float(m.group(1)) if m else None

ratios = {}
for setup in OURS:
    entry = {"vs_none": {r: ratio(rps(setup, r), rps("none", r)) for r in ROUTES}}
    if setup in ACTIX_MATCH:
        entry["vs_actix"] = {r: ratio(rps(setup, r), rps(ACTIX_MATCH[setup], r)) for r in ROUTES}
    ratios[setup] = entry
ratios["ours-redis"]["vs_ceiling"] = {
    "/read vs redis-benchmark GET": ratio(rps("ours-redis", "read"), ceilings.get("redis-benchmark GET")),
    "/incr vs redis-benchmark SET": ratio(rps("ours-redis", "incr"), ceilings.get("redis-benchmark SET")),
    "/incr new session vs redis-benchmark SET": ratio(rps("ours-redis", "incr_new"), ceilings.get("redis-benchmark SET")),
}
ratios["ours-postgres"]["vs_ceiling"] = {
    "/read vs pgbench -S": ratio(rps("ours-postgres", "read"), ceilings.get("pgbench -S")),
    "/incr vs pgbench -N": ratio(rps("ours-postgres", "incr"), ceilings.get("pgbench -N")),
    "/incr new session vs pgbench -N": ratio(rps("ours-postgres", "incr_new"), ceilings.get("pgbench -N")),
}

# The issue's targets: (route, column, setups compared, threshold).
TARGETS = [
    ("plain", "vs none", OURS, 0.97),
    ("plain", "redis vs actix-redis", ["ours-redis"], 2.0),
    ("plain", "cookie vs actix-cookie", ["ours-cookie"], 1.3),
    ("read", "vs none", ["ours-memory"], 0.90),
    ("read", "redis vs actix-redis", ["ours-redis"], 1.3),
    ("read", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
    ("incr", "vs none", ["ours-memory"], 0.85),
    ("incr", "redis vs actix-redis", ["ours-redis"], 1.6),
    ("incr", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
    ("incr_new", "redis vs actix-redis", ["ours-redis"], 1.2),
    ("incr_new", "cookie vs actix-cookie", ["ours-cookie"], 1.2),
]
targets = []
for route, column, compared, threshold in TARGETS:
    key = "vs_none" if column == "vs none" else "vs_actix"
    measured = {s: ratios[s][key][route] for s in compared}
    worst = min((v for v in measured.values() if v is not None), default=None)
    # A setup with middleware cannot beat the same server without it, so a ratio to
    # actix-session is bounded by none / actix-session on that route, in this run.
    bound = 1.0 if key == "vs_none" else ratio(rps("none", route), rps(ACTIX_MATCH[compared[0]], route))
    targets.append({
        "route": ROUTE_TITLES[route], "column": column, "threshold": threshold,
        "measured": measured, "pass": worst is not None and worst >= threshold,
        "bound": bound,
    })

git_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
git_dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip())
now = datetime.datetime.now(datetime.timezone.utc)
report = {
    "date": now.strftime("%Y-%m-%d %H:%M UTC"),
    "command": f"bench/run.sh {secs}",
    "git": git_rev + ("-dirty" if git_dirty else ""),
    "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                "loadavg_at_start": read("loadavg").strip()},
    "load": (f"wrk -t1 -c32 -d{secs}s, loopback, cookies from /seed (/big: /seed-big); server: 1 worker, release; "
             f"best of {reps} interleaved runs per cell"
             + ("; server pinned to CPU 0, wrk to CPU 1" if pinned else "")),
    "results": results,
    "ceilings": ceilings,
    "ratios": ratios,
    "targets": targets,
}
with open(out_path, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")


def fmt_rps(v):
    return f"{v:,.0f}" if v is not None else "n/a"


def fmt_ratio(v):
    return f"{v:.2f}" if v is not None else "n/a"


lines = []
lines.append(f"Run {report['date']}, `{report['command']}` at {report['git']}, "
             f"{os.cpu_count()} cores (load average at start {report['machine']['loadavg_at_start']}); "
             f"{report['load']}.")
lines.append("")
lines.append("| setup | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " | peak RSS |")
lines.append("|---|" + "---:|" * (len(ROUTES) + 1))
for setup in setups:
    cells = []
    for r in ROUTES:
        cell = results[setup]["routes"][r]
        note = " (errors!)" if cell["non_2xx"] or cell["socket_errors"] else ""
        cells.append(fmt_rps(cell["rps"]) + note)
    rss = results[setup]["peak_rss_kib"] / 1024
    lines.append(f"| {setup} | " + " | ".join(cells) + f" | {rss:.1f} MiB |")
lines.append("")
lines.append("Server CPU time per request, user + system, in µs (median of the runs; it varies far "
             "less than req/s with other load on the machine):")
lines.append("")
lines.append("| setup | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " |")
lines.append("|---|" + "---:|" * len(ROUTES))
for setup in setups:
    cells = [results[setup]["routes"][r]["cpu_us_per_request"] for r in ROUTES]
    lines.append(f"| {setup} | " + " | ".join(f"{c:.2f}" if c is not None else "n/a" for c in cells) + " |")
lines.append("")
lines.append("Ratios (req/s of ours ÷ req/s of the other):")
lines.append("")
lines.append("| ours | vs | " + " | ".join(ROUTE_TITLES[r] for r in ROUTES) + " |")
lines.append("|---|---|" + "---:|" * len(ROUTES))
for setup in OURS:
    lines.append(f"| {setup} | none | " + " | ".join(fmt_ratio(ratios[setup]["vs_none"][r]) for r in ROUTES) + " |")
    if setup in ACTIX_MATCH:
        lines.append(f"| {setup} | {ACTIX_MATCH[setup]} | " + " | ".join(fmt_ratio(ratios[setup]["vs_actix"][r]) for r in ROUTES) + " |")
lines.append("")
lines.append("Raw ceilings, same machine, same run (32 clients): " + ", ".join(
    f"{name} {fmt_rps(v)}/s" for name, v in ceilings.items()) + ".")
lines.append("")
lines.append("| ours vs ceiling | ratio |")
lines.append("|---|---:|")
for setup in ["ours-redis", "ours-postgres"]:
    for name, v in ratios[setup]["vs_ceiling"].items():
        lines.append(f"| {setup} {name} | {fmt_ratio(v)} |")
lines.append("")
lines.append("Targets (issue 7):")
lines.append("")
columns = ["vs none", "redis vs actix-redis", "cookie vs actix-cookie"]
lines.append("| route | ours vs no middleware | ours Redis vs actix-session Redis | ours cookie vs actix-session cookie |")
lines.append("|---|---|---|---|")
for route in ["plain", "read", "incr", "incr_new"]:
    cells = []
    for column in columns:
        t = next((t for t in targets if t["route"] == ROUTE_TITLES[route] and t["column"] == column), None)
        if t is None:
            cells.append("")
            continue
        measured = t["measured"]
        if len(measured) == 1:
            shown = fmt_ratio(next(iter(measured.values())))
        else:
            worst = min(measured, key=lambda s: measured[s] if measured[s] is not None else -1)
            shown = f"min {fmt_ratio(measured[worst])} ({worst})"
        bound = "" if t["column"] == "vs none" else f" (bound {fmt_ratio(t['bound'])})"
        cells.append(f"{shown} >= {t['threshold']:.2f}{bound} **{'PASS' if t['pass'] else 'MISS'}**")
    lines.append(f"| {ROUTE_TITLES[route]} | " + " | ".join(cells) + " |")
passed = sum(t["pass"] for t in targets)
lines.append("")
lines.append(f"{passed}/{len(targets)} targets met. A bound is none ÷ actix-session on that route: "
             "the most any middleware could reach against it in this run. JSON: bench/results/latest.json")
errors = [f"{s} {r}" for s in setups for r in ROUTES
          if results[s]["routes"][r]["non_2xx"] or results[s]["routes"][r]["socket_errors"]]
if errors:
    lines.append("")
    lines.append("WARNING: non-2xx responses or socket errors in: " + ", ".join(errors))
print("\n".join(lines))
PY
