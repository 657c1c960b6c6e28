#!/usr/bin/env bash
# GET /feed through one process with in-process ranking against two API nodes and one ranking node on the clustered
# event bus (io.wxmp.bench.feed.ClusterBench): every node a separate JVM on loopback, 20k items x 20k users, d = 64, CPU
# ranking. Builds with the reactor (MVN_OFFLINE=-o for an offline build). Options as system properties, e.g.
#   bench/cluster.sh -Dseconds=20 -Dconcurrency=64
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B ${MVN_OFFLINE:-} -pl bench -am verify -DskipTests -Pcluster-bench -Dbench.clusterArgs="-Dcluster.bench=1 $*"
