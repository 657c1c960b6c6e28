#!/usr/bin/env bash
# Offline evaluation of the recommender (recsys/): iALS against popularity and EASE on the same splits, printed as a
# markdown table. Builds recsys with the reactor (nothing is installed into ~/.m2). Usage:
#   bench/recsys-eval.sh FILE [--protocol strong|temporal] [--min-rating 4] [--tune] [--seeds 5] ...
#   bench/recsys-eval.sh --help
# FILE is any user,item,rating[,timestamp] CSV (a header line is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA="${JAVA:-java}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -o -pl recsys -DskipTests compile 2>/dev/null || mvn -q -B -pl recsys -DskipTests compile
fi
exec "$JAVA" -Xms1g -Xmx4g -cp recsys/target/classes io.wxmp.recsys.eval.EvalMain "$@"
