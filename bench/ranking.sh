#!/usr/bin/env bash
# Builds gpu + bench with the reactor (nothing is installed into ~/.m2) and runs the ranking benchmark.
# Prints markdown tables. Usage:
#   bench/ranking.sh                     # CPU, N=100k,1M x dim 64,128 x batch 1,32,256, plus the verticle path
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/ranking.sh
#   bench/ranking.sh --backend cuda --export /tmp/ranking-data   # on a GPU host, then:
#   python3 bench/ranking_torch.py /tmp/ranking-data
# Extra arguments go to io.wxmp.bench.ranking.RankingBench (--n, --dims, --batches, --k, --seconds, --fp16, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="${JAVA:-java}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -pl gpu,bench -am -DskipTests package dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
fi
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
ARGS=("$@")
if [[ ${#ARGS[@]} -eq 0 ]]; then
  ARGS=(--n 100000,1000000 --dims 64,128 --k 50 --batches 1,32,256 --seconds 2 --verticle)
fi
exec "$JAVA" -Xms3g -Xmx3g --add-modules jdk.incubator.vector -Dlogback.configurationFile=bench/ranking-logback.xml \
  -cp "$CP" io.wxmp.bench.ranking.RankingBench "${ARGS[@]}"
