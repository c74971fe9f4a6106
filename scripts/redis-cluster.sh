#!/usr/bin/env bash
# Starts a local 3-master Redis Cluster for the tests (ports 7000-7002 unless
# REDIS_CLUSTER_PORTS says otherwise) and waits until it reports cluster_state:ok.
# REDIS_CLUSTER_REPLICAS (default 0) gives each master replicas (the fault suite: 6 ports, 1),
# REDIS_CLUSTER_NODE_TIMEOUT (ms, default 5000) how soon a silent master fails over.
# Idempotent: a cluster already up on those ports is left as it is.
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-7000 7001 7002})
DIR=${REDIS_CLUSTER_DIR:-/tmp/session-redis-cluster}

cluster_ok() {
    redis-cli -h 127.0.0.1 -p "${PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

if cluster_ok; then
    exit 0
fi

mkdir -p "$DIR"
for port in "${PORTS[@]}"; do
    if ! redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
        rm -rf "${DIR:?}/$port"
        mkdir -p "$DIR/$port"
        redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
            --cluster-enabled yes --cluster-config-file "$DIR/$port/nodes.conf" \
            --cluster-node-timeout "${REDIS_CLUSTER_NODE_TIMEOUT:-5000}" --save "" --appendonly no \
            --dir "$DIR/$port" --logfile "$DIR/$port/redis.log"
    fi
done

for port in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
done

# A node that holds no slots yet is fresh: assign the slots across all nodes.
if ! cluster_ok; then
    nodes=()
    for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas "${REDIS_CLUSTER_REPLICAS:-0}" --cluster-yes >/dev/null
fi

for _ in $(seq 1 100); do
    if cluster_ok; then exit 0; fi
    sleep 0.2
done
echo "redis-cluster.sh: the cluster on ports ${PORTS[*]} did not reach cluster_state:ok" >&2
exit 1
