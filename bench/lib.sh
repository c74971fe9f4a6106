# Shell helpers of the benchmark scripts (run.sh, scale.sh, observe.sh); sourced, not run.
# They use the local services: Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (user
# postgres, database test), where the bench server keeps its sessions under `bench:` and in
# schema `bench`.

PG=(-h 127.0.0.1 -p 5432 -U postgres)
REDIS=(-h 127.0.0.1 -p 6379)

log() { echo "${0##*/}: $*" >&2; }

# secs_and_reps <usage> <default runs per cell> [seconds]: sets `secs` (default 5) and `reps`
# (BENCH_REPS), or exits showing <usage>.
secs_and_reps() {
    local usage=$1
    secs=${3:-5}
    reps=${BENCH_REPS:-$2}
    if ! [[ $secs =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: $usage" >&2
        exit 2
    fi
}

# The one server a script runs at a time (scale.sh, observe.sh), if any.
server=
stop_server() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=
    fi
}

# On exit, however it comes: the server stopped, the bench's sessions and $work removed.
clean_up_on_exit() {
    trap 'stop_server; clean_stores; rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The bench server's sessions, in Redis and in PostgreSQL, gone.
clean_stores() {
    redis-cli "${REDIS[@]}" --scan --pattern 'bench:*' | xargs -r -n 500 redis-cli "${REDIS[@]}" del >/dev/null || true
    psql "${PG[@]}" -d test -qAt -c 'SET client_min_messages TO warning' \
        -c 'DROP SCHEMA IF EXISTS bench CASCADE' >/dev/null || true
}

# psql_value <sql>: one value from the test database.
psql_value() {
    psql "${PG[@]}" -d test -qAt -v ON_ERROR_STOP=1 -c "$1"
}

# redis_used_memory: Redis's `used_memory`, in bytes.
redis_used_memory() {
    redis-cli "${REDIS[@]}" info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}'
}

# build_bench [cargo args...]: builds session-bench in release and prints the binary's path.
build_bench() {
    cargo build --release -q -p session-bench "$@"
    echo "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/session-bench"
}

# wait_for_server <pid> <base url> [tries of 0.1 s]: until the server answers /plain; fails,
# showing its log (<base url>'s port in $work), if it exits first or never answers.
wait_for_server() {
    local pid=$1 base=$2 tries=${3:-100}
    for _ in $(seq 1 "$tries"); do
        if curl -sf -o /dev/null "$base/plain"; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the server $pid exited"; return 1
        fi
        sleep 0.1
    done
    log "the server $pid does not answer at $base"; return 1
}

# seed_cookie <base url> <seed path>: the session cookie(s) the seed route sets, as one Cookie
# header value.
seed_cookie() {
    curl -sf -D - -o /dev/null -X POST "$1$2" | tr -d '\r' |
        sed -n -E 's/^[Ss]et-[Cc]ookie: *([^;]*).*/\1/p' | paste -sd ';' | sed 's/;/; /g'
}

# server_ticks <pid>: the CPU the process has used so far, user and system, in clock ticks.
server_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# tree_ticks <pid>: what process <pid>, its children that exited (reaped: cutime + cstime) and
# its live children have used so far, in clock ticks. For the postmaster: every backend.
tree_ticks() {
    local child total
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat")
    for child in $(pgrep -P "$1"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

# find_store_servers: sets redis_pid and postmaster_pid, the store servers whose CPU is measured.
find_store_servers() {
    local data
    redis_pid=$(redis-cli "${REDIS[@]}" info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')
    data=$(psql_value 'SHOW data_directory')
    postmaster_pid=$(head -1 "$data/postmaster.pid")
    if [[ -z $redis_pid || -z $postmaster_pid ]]; then
        log "cannot find the Redis or PostgreSQL server"
        return 1
    fi
}

# store_ticks <setup>: the CPU the setup's store server has used so far (0 without one).
store_ticks() {
    case $1 in
        *-redis) tree_ticks "$redis_pid" ;;
        *-postgres) tree_ticks "$postmaster_pid" ;;
        *) echo 0 ;;
    esac
}

# measure <label> <setup> <pid> <url> <seconds> [cookie]: one `wrk -t1 -c32 --latency` run
# against the server <pid> of <setup>; keeps wrk's output and the app and store servers' CPU
# ticks over the run in $work/<label>.{wrk,ticks,store_ticks}.
measure() {
    local label=$1 setup=$2 pid=$3 url=$4 secs=$5 cookie=${6:-} before store_before
    local args=(-t1 -c32 "-d${secs}s" --timeout 5s --latency)
    if [[ -n $cookie ]]; then
        args+=(-H "Cookie: $cookie")
    fi
    before=$(server_ticks "$pid")
    store_before=$(store_ticks "$setup")
    timeout $((secs + 30)) wrk "${args[@]}" "$url" >"$work/$label.wrk" 2>&1 || {
        log "wrk failed for $label"; cat "$work/$label.wrk" >&2; return 1;
    }
    echo $(($(server_ticks "$pid") - before)) >"$work/$label.ticks"
    echo $(($(store_ticks "$setup") - store_before)) >"$work/$label.store_ticks"
    log "$(printf '%-34s %s' "$label" "$(grep -m1 'Requests/sec' "$work/$label.wrk" || echo '?')")"
}

# start_server <tries of 0.1 s> <setup> [VAR=value...]: the session-bench server ($bin) for
# <setup>, with that environment, on a free port; sets `server` and `base` once it answers.
start_server() {
    local tries=$1 setup=$2 port
    shift 2
    port=$(free_port)
    base=http://127.0.0.1:$port
    env "$@" "$bin" "$setup" "$port" >"$work/server.log" 2>&1 &
    server=$!
    wait_for_server "$server" "$base" "$tries" || { cat "$work/server.log" >&2; return 1; }
}

# prepare_load: wrk and the tools the load scripts use, the server built (`bin`), the services
# up and their processes found.
prepare_load() {
    need_wrk
    local tool
    for tool in curl python3 redis-cli psql; do
        command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing"; exit 1; }
    done
    log "building session-bench (release)"
    bin=$(build_bench)
    scripts/services.sh
    find_store_servers
}

# need_wrk: installs wrk from Debian when it is missing (needs root).
need_wrk() {
    if ! command -v wrk >/dev/null 2>&1; then
        log "installing wrk"
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    fi
}
