#!/usr/bin/env bash
# The fault suite (issue 22): store faults injected while a mixed load runs, with a ledger of
# every write the server acknowledged.
#
#   scripts/faults.sh [--short] [scenario...]
#
# Scenarios: redis-restart, cluster-failover, postgres-restart, postgres-lock, redis-slow,
# postgres-slow (default: all). --short runs each for a few seconds (the test command runs
# `--short redis-restart postgres-lock`).
#
# Each scenario starts its own store servers, so the machine's Redis and PostgreSQL are
# untouched: a Redis with `appendonly yes, appendfsync always` (an acknowledged write is on
# disk), a 3-master, 3-replica Redis Cluster with a 2 s node timeout, a PostgreSQL cluster of
# its own on port 5441 (pg_createcluster). It starts the `session-bench` server (release) on
# that store, runs `session-bench drive` (bench/src/drive.rs: 32 clients reading and
# incrementing counters, starting sessions, signing in, signing out, signing their user out
# everywhere) against it, injects the fault a while in, ends it, and lets the load run on.
# Then the driver checks its ledger through the server, and the scenario fails on a lost
# acknowledged write (not for the cluster failover, where asynchronous replication may lose
# the last writes: it reports them), a session ended with a 2xx that came back, a status other
# than 2xx, 404 or 503, a panic, no 2xx within 2 s of the fault's end, a request longer than
# the app's store deadline (`store_deadline`: the store's own timeout, 2 s for Redis, 5 s for
# PostgreSQL) plus 1 s, or a server that stopped answering.
#
# Prints one table; writes it to bench/results/faults.md (full runs only). Exits 1 if a
# scenario failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/lib.sh

short=0
if [[ ${1:-} == --short ]]; then
    short=1
    shift
fi
SCENARIOS=("$@")
if [[ ${#SCENARIOS[@]} -eq 0 ]]; then
    SCENARIOS=(redis-restart cluster-failover postgres-restart postgres-lock redis-slow postgres-slow)
fi
if [[ $short == 1 ]]; then
    before=3 fault=3 after=4 clients=16
else
    before=5 fault=5 after=10 clients=32
fi

work=$(mktemp -d)
PG_VERSION=$(ls /etc/postgresql | sort -n | tail -1)
PG_PORT=5441
REDIS_PORT=6391
PROXY_PORT=6392
CLUSTER_PORTS=(7101 7102 7103 7104 7105 7106)
proxy=
failed=0

stop_redis() {
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for port in "${CLUSTER_PORTS[@]}"; do
        redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    done
}
stop_proxy() {
    if [[ -n $proxy ]]; then
        kill "$proxy" 2>/dev/null || true
        wait "$proxy" 2>/dev/null || true
        proxy=
    fi
}
drop_pg() {
    if pg_lsclusters -h 2>/dev/null | awk '{print $2}' | grep -qx faults; then
        pg_dropcluster --stop "$PG_VERSION" faults >/dev/null 2>&1 || true
    fi
}
cleanup() {
    stop_server
    stop_proxy
    stop_redis
    drop_pg
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

log "building session-bench (release)"
bin=$(build_bench)

# --- the stores ------------------------------------------------------------------------------
start_redis() {
    mkdir -p "$work/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --appendonly yes \
        --appendfsync always --save "" --dir "$work/redis" --pidfile "$work/redis/pid" \
        --logfile "$work/redis/log"
    for _ in $(seq 1 50); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "the Redis on port $REDIS_PORT did not start"; return 1
}
start_cluster() {
    REDIS_CLUSTER_PORTS="${CLUSTER_PORTS[*]}" REDIS_CLUSTER_REPLICAS=1 \
        REDIS_CLUSTER_NODE_TIMEOUT=2000 REDIS_CLUSTER_DIR="$work/cluster" scripts/redis-cluster.sh
    # A replica may take over however long its master has been gone (a test cluster: the
    # default refuses a replica that lost its master long ago, counted from before its sync).
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        redis-cli -p "$port" config set cluster-replica-validity-factor 0 >/dev/null
    done
    # Until every master has a replica in sync.
    for _ in $(seq 1 150); do
        local synced=0
        for port in "${CLUSTER_PORTS[@]}"; do
            redis-cli -p "$port" info replication | grep -q '^master_link_status:up' && synced=$((synced + 1))
        done
        [[ $synced -eq 3 ]] && return 0
        sleep 0.2
    done
    log "the cluster's replicas did not sync"; return 1
}
start_pg() {
    drop_pg
    pg_createcluster "$PG_VERSION" faults -p "$PG_PORT" -- --auth=trust >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" faults start
    for _ in $(seq 1 50); do
        pg_isready -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    log "the PostgreSQL cluster on port $PG_PORT did not start"; return 1
}
start_proxy() {
    echo pass >"$work/mode"
    python3 scripts/slow_proxy.py "$PROXY_PORT" "$1" "$work/mode" >"$work/proxy.log" 2>&1 &
    proxy=$!
    for _ in $(seq 1 50); do
        grep -q ready "$work/proxy.log" 2>/dev/null && return 0
        sleep 0.1
    done
    log "the proxy did not start"; return 1
}

# start_app <setup> [VAR=value...]: the session-bench server on a free port.
start_app() { start_server 300 "$@"; }

# --- the faults --------------------------------------------------------------------------------
redis_pid() { cat "$work/redis/pid"; }
fault_redis-restart() {
    kill -9 "$(redis_pid)"
    sleep "$fault"
    start_redis
}
fault_cluster-failover() {
    local master
    master=$(redis-cli -p "${CLUSTER_PORTS[0]}" cluster nodes | awk '/master/ && !/fail/ {split($2, a, "[:@]"); print a[2]; exit}')
    kill -9 "$(redis-cli -p "$master" info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')"
    echo "$master" >"$work/killed"
    # The fault ends when a replica has taken over: the cluster is whole again.
    for _ in $(seq 1 150); do
        for port in "${CLUSTER_PORTS[@]}"; do
            [[ $port == "$master" ]] && continue
            if redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
                return 0
            fi
        done
        sleep 0.1
    done
}
fault_postgres-restart() {
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" faults stop -m immediate
    sleep "$fault"
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" faults start
}
fault_postgres-lock() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
        -c "BEGIN; LOCK TABLE bench.sessions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($fault); COMMIT;" >/dev/null
}
slow() {
    echo 200 >"$work/mode"
    sleep "$fault"
    echo hold >"$work/mode"
    sleep "$fault"
    echo pass >"$work/mode"
}
fault_redis-slow() { slow; }
fault_postgres-slow() { slow; }

# The store deadline the app is configured with (ms, `store_deadline`): the store's own
# timeout, 2 s for Redis, 5 s for PostgreSQL's statements. No request may take more than 1 s
# longer.
deadline_ms() {
    case $1 in
        redis-* | cluster-*) echo 2000 ;;
        *) echo 5000 ;;
    esac
}

# --- a scenario ----------------------------------------------------------------------------
run_scenario() {
    local name=$1 setup env=()
    case $name in
        redis-restart) start_redis; setup=ours-redis env=(REDIS_URL="redis://127.0.0.1:$REDIS_PORT") ;;
        cluster-failover)
            start_cluster
            setup=ours-redis-cluster
            env=(REDIS_CLUSTER_URLS="$(printf 'redis://127.0.0.1:%s,' "${CLUSTER_PORTS[@]}")") ;;
        postgres-*) start_pg; setup=ours-postgres env=(DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres") ;;
        redis-slow)
            start_redis; start_proxy "$REDIS_PORT"
            setup=ours-redis env=(REDIS_URL="redis://127.0.0.1:$PROXY_PORT") ;;
    esac
    if [[ $name == postgres-slow ]]; then
        start_proxy "$PG_PORT"
        env=(DATABASE_URL="postgres://postgres@127.0.0.1:$PROXY_PORT/postgres")
    fi
    start_app "$setup" "${env[@]}" BENCH_STORE_DEADLINE_MS="$(deadline_ms "$name")"
    log "$name: load for $((before + fault + after)) s, the fault after $before s"
    local duration=$((before + fault + after))
    # The slow scenarios' fault has two phases (slow, then held).
    [[ $name == *-slow ]] && duration=$((duration + fault))
    "$bin" drive "$base" "$duration" "$clients" "$work/fault_end" \
        >"$work/$name.json" 2>"$work/$name.drive.log" &
    local driver=$!
    sleep "$before"
    "fault_$name"
    now_ms >"$work/fault_end"
    local status=0
    wait "$driver" || status=$?
    local alive=yes
    curl -sf -o /dev/null --max-time 5 "$base/plain" || alive=no
    local panics
    panics=$(grep -c 'panicked' "$work/server.log" || true)
    stop_server
    stop_proxy
    stop_redis
    drop_pg
    if [[ $status != 0 ]]; then
        log "$name: the driver failed:"; cat "$work/$name.drive.log" >&2
        echo "{}" >"$work/$name.json"
    fi
    python3 - "$name" "$work/$name.json" "$alive" "$panics" $(($(deadline_ms "$name") + 1000)) >>"$work/table" <<'EOF'
import json, sys
name, path, alive, panics, limit = sys.argv[1], sys.argv[2], sys.argv[3] == "yes", int(sys.argv[4]), int(sys.argv[5])
r = json.load(open(path))
if not r:
    print(f"| {name} | the driver failed | | | | | | | | | | **FAIL** |")
    sys.exit(0)
others = {k: v for k, v in r["other"].items() if k != "404"}
problems = []
if r["lost_writes"] and name != "cluster-failover":
    problems.append("lost writes")
if r["resurrected"]:
    problems.append("resurrected")
if others:
    problems.append("statuses " + ", ".join(f"{k}: {v}" for k, v in others.items()))
if panics:
    problems.append("panics")
if not alive:
    problems.append("server down")
first = r.get("first_ok_after_fault_ms")
if first is None or first > 2000:
    problems.append("no 2xx within 2 s")
if r["longest_ms"] > limit:
    problems.append(f"request over {limit} ms")
print(f"| {name} | {r['requests']:,} | {r['ok']:,} | {r['unavailable']:,} | "
      f"{sum(r['other'].values()):,} | {r['longest_ms']:,} | {first if first is not None else 'none'} | "
      f"{r['lost_writes']} ({r['lost_sessions']} sessions) | {r['resurrected']} | {r['without_cookie']} | "
      f"{panics} | {'**PASS**' if not problems else '**FAIL**: ' + '; '.join(problems)} |")
EOF
    tail -1 "$work/table" | grep -q 'PASS' || failed=1
}

{
    echo "| scenario | requests | 2xx | 503 | other | longest ms | first 2xx after the fault, ms | acknowledged writes lost | resurrected | sessions without a cookie | panics | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$work/table"
for name in "${SCENARIOS[@]}"; do
    if ! declare -F "fault_$name" >/dev/null; then
        log "unknown scenario $name"; exit 2
    fi
    run_scenario "$name"
done
cat "$work/table"
if [[ $short == 0 ]]; then
    mkdir -p bench/results
    { echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`scripts/faults.sh\` at $(git rev-parse --short HEAD)"; echo; cat "$work/table"; } >bench/results/faults.md
fi
exit "$failed"
