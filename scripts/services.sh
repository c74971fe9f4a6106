#!/usr/bin/env bash
# Makes sure the services the test suite talks to are running: PostgreSQL (127.0.0.1:5432,
# database `test`) and Redis (127.0.0.1:6379). Starts whichever is down and fails loudly if it
# cannot be reached afterwards, so no test ever skips for want of a service.
set -euo pipefail

wait_for() { # name, check command...
    local name=$1; shift
    for _ in $(seq 1 30); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "services.sh: $name is not reachable" >&2
    return 1
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "services.sh: starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    echo "services.sh: starting PostgreSQL" >&2
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432

# Each PostgreSQL test works in a schema of its own; drop those an earlier run left behind, each
# in a transaction of its own (one transaction dropping hundreds of schemas runs out of locks).
psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qAt \
    -c "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE;', nspname) FROM pg_namespace WHERE nspname LIKE 'session\_test\_%'" |
    psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -q -c 'SET client_min_messages TO warning' -f - >/dev/null

# The local 3-master Redis Cluster the cluster tests use.
"$(dirname "$0")/redis-cluster.sh"
