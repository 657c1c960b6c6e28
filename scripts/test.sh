#!/usr/bin/env bash
# Runs every test: unit and end-to-end (real PostgreSQL, Redis, the sandbox and the WeChat SDKs over HTTP),
# the CPU ranking engine, and the CUDA tests where a GPU is present (they skip with a reason elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Redis Cluster suite needs Debian's redis-server (apt-get install -y redis-server; .ci/run installs it).
cluster=()
if [[ ! -x /usr/bin/redis-server ]]; then
  echo "test.sh: /usr/bin/redis-server not found: skipping the Redis Cluster suite (apt-get install -y redis-server)" >&2
  cluster=(-Dwxmp.redisCluster.skip=true)
fi
exec mvn -B verify "${cluster[@]}" "$@"
