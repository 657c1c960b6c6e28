#!/usr/bin/env bash
# Spark MLlib ALS (implicit) beside our iALS under the same offline protocol: runs spark/'s SparkEval (Spark local
# mode) on a user,item,rating CSV with the strong-generalisation splits of bench/recsys-eval.sh. Usage:
#   bench/spark-eval.sh FILE [--min-rating 4] [--seeds 5] [--dim 64] [--epochs 16] [--reg R] [--alpha A] [--tune]
#   [--master local[2]]
# MovieLens latest-small: bench/movielens-eval.sh fetches it to bench/.data/movielens/ratings_small.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="${JAVA:-java}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -o -pl spark -am -DskipTests compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
    2>/dev/null || mvn -q -B -pl spark -am -DskipTests compile dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt
fi
OPENS=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
  java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
exec "$JAVA" -Xmx3g "${OPENS[@]}" -Djdk.reflect.useDirectMethodHandle=false \
  -cp "spark/target/classes:$(cat spark/target/classpath.txt)" io.wxmp.spark.SparkEval "$@"
