#!/usr/bin/env bash
# Cost per request from a thousand to a million live sessions (issue 21).
#
#   [BENCH_REPS=n] [BENCH_SIZES="1000 100000 1000000"] bench/scale.sh [seconds]
#
# (default 5 seconds per run, 3 runs per cell; BENCH_SIZES for a quick try with fewer sessions)
#
# For the memory store, Redis and PostgreSQL in turn, and for 1 thousand, 100 thousand and 1
# million sessions, it starts the `session-bench` server with `BENCH_PRELOAD` (bench/src/preload.rs:
# sessions of about 200 bytes of data, a tenth bound to users, written through the store's own
# API, 64 at a time, before the server binds; Redis and PostgreSQL keep them from one size to
# the next, the memory store is preloaded afresh), seeds one more session and loads its /read
# and /incr with `wrk -t1 -c32 --latency` as bench/run.sh does, reading the CPU time of the app
# server and of the store server from /proc. It reads the memory per session at each size: the
# memory-store server's RSS over that of one with nothing preloaded, Redis's `used_memory` over
# that of the empty database, PostgreSQL's table with its indexes (`pg_total_relation_size`).
# actix-session's Redis store gets the same at 1 million.
#
# Then PostgreSQL's cleanup: a million expired sessions more, /read's p99 in 2-second runs
# without cleanup, then in 2-second runs while `spawn_cleanup` deletes them (until none is
# left). Prints the tables with issue 21's targets and writes bench/results/scale.json; removes
# every session it wrote. A full run took about 13 minutes here (20 on a busier day).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/lib.sh
secs_and_reps "[BENCH_REPS=n] [BENCH_SIZES=...] bench/scale.sh [seconds]" 3 "$@"
work=$(mktemp -d)
base=
read -r -a SIZES <<<"${BENCH_SIZES:-1000 100000 1000000}"
SLICE=2

clean_up_on_exit

# start <setup> [VAR=value...]: the server for <setup>, with that environment, once it answers
# (after its preload: up to 20 minutes).
start() { start_server 12000 "$@"; }

# record <key> <value>: one figure for the report.
record() { echo "$1 $2" >>"$work/figures"; }

prepare_load
clean_stores
redis_empty=$(redis_used_memory)

# The memory-store server's RSS with nothing preloaded.
start ours-memory
record memory_base_rss_kib "$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status")"
stop_server

# session_bytes <setup> <sessions>: the bytes per session the store holds now.
session_bytes() {
    local total
    case $1 in
        ours-memory) total=$(( ($(awk '/^VmRSS:/ {print $2}' "/proc/$server/status") - $(awk '$1 == "memory_base_rss_kib" {print $2}' "$work/figures")) * 1024 )) ;;
        *-redis) total=$(( $(redis_used_memory) - redis_empty )) ;;
        ours-postgres) total=$(psql_value "SELECT pg_total_relation_size('bench.sessions')") ;;
    esac
    echo $((total / $2))
}

# load_at <setup> <sessions> <preload> [VAR=value...]: starts the server preloading <preload>
# sessions, then measures /read and /incr on a new session among them.
load_at() {
    local setup=$1 size=$2 preload=$3 started cookie route rep
    shift 3
    log "$setup: $size sessions (preloading $preload)"
    started=$(date +%s)
    start "$setup" BENCH_PRELOAD="$preload" "$@"
    record "$setup.$size.preload_secs" $(($(date +%s) - started))
    record "$setup.$size.bytes_per_session" "$(session_bytes "$setup" "$size")"
    cookie=$(seed_cookie "$base" /seed)
    [[ -n $cookie ]] || { log "no session cookie from $setup"; return 1; }
    timeout 30 wrk -t1 -c32 -d1s -H "Cookie: $cookie" "$base/read" >/dev/null 2>&1 || true
    for rep in $(seq 1 "$reps"); do
        for route in read incr; do
            measure "$setup.$size.$route.$rep" "$setup" "$server" "$base/$route" "$secs" "$cookie"
        done
    done
    stop_server
}

largest=${SIZES[-1]}
for setup in ours-memory ours-redis ours-postgres; do
    loaded=0
    for size in "${SIZES[@]}"; do
        if [[ $setup == ours-memory ]]; then
            load_at "$setup" "$size" "$size"
        else
            load_at "$setup" "$size" $((size - loaded))
        fi
        loaded=$size
    done
done
# actix-session's Redis store beside ours at the largest size (ours' keys stay: the figures are
# deltas).
redis_empty=$(redis_used_memory)
load_at actix-redis "$largest" "$largest"

# PostgreSQL's cleanup: as many expired sessions more, then /read while they are deleted.
log "ours-postgres: $largest expired sessions more"
start ours-postgres BENCH_PRELOAD="$largest" BENCH_PRELOAD_EXPIRED=1
cookie=$(seed_cookie "$base" /seed)
stop_server
expired_left() { psql_value "SELECT count(*) FROM bench.sessions WHERE expires_at < now()"; }
record cleanup.expired_before "$(expired_left)"
start ours-postgres
for slice in $(seq 1 "$reps"); do
    measure "cleanup.without.$slice" ours-postgres "$server" "$base/read" "$SLICE" "$cookie"
done
stop_server
started=$(date +%s)
start ours-postgres BENCH_CLEANUP=1
slice=0
while [[ $(expired_left) -gt 0 && $slice -lt 300 ]]; do
    slice=$((slice + 1))
    measure "cleanup.during.$slice" ours-postgres "$server" "$base/read" "$SLICE" "$cookie"
done
record cleanup.secs $(($(date +%s) - started))
record cleanup.expired_after "$(expired_left)"
stop_server

mkdir -p bench/results
python3 - "$work" "$secs" "$reps" "$(git rev-parse --short HEAD)" bench/results/scale.json "${SIZES[@]}" <<'EOF'
import json, os, re, sys, time
from statistics import median

work, secs, reps, commit, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
sizes = [int(size) for size in sys.argv[6:]]
CLK_TCK = os.sysconf("SC_CLK_TCK")
figures = dict(line.split() for line in open(os.path.join(work, "figures")))


def run(label):
    text = open(os.path.join(work, f"{label}.wrk")).read()
    done = int(re.search(r"(\d+) requests in", text).group(1))
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)$", text, re.M)
    ticks = sum(int(open(os.path.join(work, f"{label}.{name}")).read()) for name in ["ticks", "store_ticks"])
    errors = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    return {"cpu_us": ticks / CLK_TCK * 1e6 / done,
            "p99_us": float(p99.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[p99.group(2)],
            "rps": float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1)),
            "errors": int(errors.group(1)) if errors else 0}


def cell(setup, size, route):
    runs = [run(f"{setup}.{size}.{route}.{rep}") for rep in range(1, reps + 1)]
    return {key: round(median(r[key] for r in runs), 2) for key in ["cpu_us", "p99_us", "rps"]} | {
        "errors": sum(r["errors"] for r in runs)}


stores = ["ours-memory", "ours-redis", "ours-postgres"]
results = {s: {size: {route: cell(s, size, route) for route in ["read", "incr"]}
               | {"bytes_per_session": int(figures[f"{s}.{size}.bytes_per_session"]),
                  "preload_secs": int(figures[f"{s}.{size}.preload_secs"])}
               for size in sizes} for s in stores}
actix = {route: cell("actix-redis", sizes[-1], route) for route in ["read", "incr"]} | {
    "bytes_per_session": int(figures[f"actix-redis.{sizes[-1]}.bytes_per_session"])}
slices = lambda name: [run(f"cleanup.{name}.{i}")["p99_us"] for i in range(1, 1000)
                       if os.path.exists(os.path.join(work, f"cleanup.{name}.{i}.wrk"))]
without, during = slices("without"), slices("during")
cleanup = {"expired_before": int(figures["cleanup.expired_before"]),
           "expired_after": int(figures["cleanup.expired_after"]),
           "secs": int(figures["cleanup.secs"]),
           "p99_us_without": without, "p99_us_during": during}

targets = []
small, large = sizes[0], sizes[-1]
for s in stores:
    for route in ["read", "incr"]:
        r = results[s][large][route]["cpu_us"] / results[s][small][route]["cpu_us"]
        targets.append((f"{s} /{route}: CPU at {large:,} ÷ at {small:,}", r, 1.15))
targets.append(("Redis bytes per session: ours ÷ actix-session",
                results["ours-redis"][large]["bytes_per_session"] / actix["bytes_per_session"], 1.2))
if during and without:
    targets.append(("PostgreSQL /read p99 during cleanup ÷ without (medians of 2 s runs)",
                    median(during) / median(without), 2.0))

lines = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `bench/scale.sh {secs}` "
         f"(BENCH_REPS={reps}) at {commit}, {os.cpu_count()} cores, nothing pinned; medians of the runs.", "",
         "| store | sessions | /read CPU µs | /read p99 µs | /incr CPU µs | /incr p99 µs | bytes per session | preload s |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
for s in stores:
    for size in sizes:
        c = results[s][size]
        lines.append(f"| {s} | {size:,} | {c['read']['cpu_us']:.2f} | {c['read']['p99_us']:,.0f} | "
                     f"{c['incr']['cpu_us']:.2f} | {c['incr']['p99_us']:,.0f} | {c['bytes_per_session']:,} | {c['preload_secs']} |")
lines.append(f"| actix-redis | {large:,} | {actix['read']['cpu_us']:.2f} | {actix['read']['p99_us']:,.0f} | "
             f"{actix['incr']['cpu_us']:.2f} | {actix['incr']['p99_us']:,.0f} | {actix['bytes_per_session']:,} | |")
lines += ["", f"PostgreSQL cleanup: {cleanup['expired_before']:,} expired rows, {cleanup['expired_after']:,} left "
          f"after {cleanup['secs']} s; /read p99 in µs per {len(without)} runs of 2 s without cleanup: "
          + ", ".join(f"{p:,.0f}" for p in without) + f"; per {len(during)} runs of 2 s during it: "
          + ", ".join(f"{p:,.0f}" for p in during) + ".", "",
          "| target | measured | bound | |", "|---|---:|---:|---|"]
for name, value, bound in targets:
    lines.append(f"| {name} | {value:.2f} | ≤ {bound:.2f} | **{'PASS' if value <= bound else 'MISS'}** |")
errors = [f"{s} {size} {route}" for s in stores for size in sizes for route in ["read", "incr"]
          if results[s][size][route]["errors"]]
if errors:
    lines += ["", "WARNING: non-2xx responses in: " + ", ".join(errors)]
print("\n".join(lines))
json.dump({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
           "command": f"BENCH_REPS={reps} bench/scale.sh {secs}", "sizes": sizes, "unit": "µs of CPU (app + store server) per request",
           "results": results, "actix_redis_at_largest": actix, "cleanup": cleanup,
           "targets": [{"name": n, "measured": round(v, 3), "bound": b, "pass": v <= b} for n, v, b in targets]},
          open(out, "w"), indent=1)
EOF
