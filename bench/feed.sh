#!/usr/bin/env bash
# GET /feed beside GET /me under load, then POST /events (batches of 20) with the fold-in, beside GET /me again
# (io.wxmp.bench.feed.FeedBench): 100k items, 100k users, d = 64, CPU ranking, a model trained first (its training time
# is printed). Builds with the reactor (nothing installed into ~/.m2; MVN_OFFLINE=-o for an offline build) and
# prints markdown tables. Options go to the JVM as system properties, e.g.
#   bench/feed.sh -Ditems=20000 -Dusers=20000 -Dseconds=10
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B ${MVN_OFFLINE:-} -pl bench -am verify -DskipTests -Pfeed-bench -Dbench.feedArgs="-Dfeed.bench=1 $*"
