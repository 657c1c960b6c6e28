#!/usr/bin/env bash
# What the ranking verticle's IVF pre-selection (WXMP_RANKING_NPROBE) costs in quality on MovieLens latest-small
# (fetched and checked by bench/movielens-eval.sh; never committed): NDCG@10 and R@20 of pages ranked from the IVF
# top-300 against the exact top-300, by score and by MMR λ 0.7, and the recall of the exact top-300. Builds gpu and
# bench with the reactor (nothing installed into ~/.m2). Usage:
#   bench/ivf-eval.sh [--seeds 5] [--nprobes 3,5,10,16,32] [--threads 2] [CSV]
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="${JAVA:-java}"
CSV="${MOVIELENS_DIR:-bench/.data/movielens}/ratings_small.csv"
if [[ ! -f "$CSV" ]]; then
  bench/movielens-eval.sh --help >/dev/null 2>&1 || true # fetches and checks the data set
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B ${MVN_OFFLINE:-} -pl gpu,bench -am -DskipTests package dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
fi
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
exec "$JAVA" -Xms2g -Xmx4g --add-modules jdk.incubator.vector -Dlogback.configurationFile=bench/ranking-logback.xml \
  -cp "$CP" io.wxmp.bench.ranking.IvfEval "$CSV" "$@"
