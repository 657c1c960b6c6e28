#!/usr/bin/env bash
# GET /feed beside GET /me under load (io.wxmp.bench.feed.FeedBench): 100k items, 100k users, d = 64, CPU ranking,
# a model trained first (its training time is printed). Builds with the reactor (nothing installed into ~/.m2) and
# prints a markdown table. Options go to the JVM as system properties, e.g.
#   bench/feed.sh -Ditems=20000 -Dusers=20000 -Dseconds=10
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="${JAVA:-java}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -pl bench -am -DskipTests package dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
fi
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
exec "$JAVA" -Xms4g -Xmx4g --add-modules jdk.incubator.vector -Dlogback.configurationFile=bench/ranking-logback.xml \
  -Dwxmp.ranking.backend=cpu "$@" -cp "$CP" io.wxmp.bench.feed.FeedBench
