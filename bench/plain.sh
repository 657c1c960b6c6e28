#!/usr/bin/env bash
# The plain path under load: wrk against /health/live (the floor: routing, no I/O) and GET /api/v1/me with a user
# token (session lookup in Redis, one PostgreSQL read), on a dev-mode server (embedded PostgreSQL and Redis, the
# sandbox), warmed up first. Prints a markdown table.
#
#   bench/plain.sh                         # this checkout: builds server/target/wxmp-dev.jar, measures it
#   bench/plain.sh --base <commit>         # also builds <commit> in a temporary git worktree and measures it first,
#                                          # then this checkout, in the same run (the worktree is removed after)
#   JAR=path/to/wxmp-dev.jar bench/plain.sh  # measure a jar as it is (it runs in dev mode)
#   BASE_JAR=path/to/base.jar bench/plain.sh  # also measure a base jar built earlier, first, in the same run
#
# Options (environment): CONNECTIONS (32), THREADS (2), SECONDS_WARM (10), SECONDS_RUN (20), ROUNDS (3),
# LEDGER_ROWS (200: points ledger rows given to the measured user, as a user who played for a while has),
# SKIP_BUILD=1. Run it through /work/coord/slot on a shared machine; it uses both cores for about
# (ROUNDS x 2 x (SECONDS_WARM + SECONDS_RUN)) seconds per jar plus start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SECONDS_WARM=${SECONDS_WARM:-10}
SECONDS_RUN=${SECONDS_RUN:-20}
ROUNDS=${ROUNDS:-3}
LEDGER_ROWS=${LEDGER_ROWS:-200}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:--Xms1g -Xmx1g}
BASE=""
if [[ "${1:-}" == "--base" ]]; then
  BASE=$2
  shift 2
fi

for tool in wrk curl jq; do
  command -v $tool >/dev/null || { echo "plain.sh: $tool is missing (apt-get install -y $tool)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/wxmp-plain.XXXXXX)
PIDS=()
BASE_TREE=""
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$BASE_TREE" ]]; then
    git -C "$ROOT" worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

build() { # $1: tree
  (cd "$1" && mvn -q -B -DskipTests package -pl server -am >/dev/null)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# CPU ticks (1/100 s) of the server, its PostgreSQL (the postmaster and its backends) and its Redis, summed over
# their threads: "java pg redis"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_ticks() { # $1: server pid, $2: postmaster pid, $3: redis pid
  local pg=0 p
  for p in $2 $(pgrep -P "$2"); do pg=$((pg + $(ticks "$p"))); done
  echo "$(ticks "$1") $pg $(ticks "$3")"
}

# wrk's summary: requests/s, p50 ms, p99 ms
wrk_run() { # $1: seconds, $2: url, rest: headers
  local secs=$1
  local url=$2
  shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency "${args[@]}" "$url" | awk '
    function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
                     if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    /Non-2xx/ { bad = $NF } /Socket errors/ { err = $0 }
    /requests in/ { n = $1 }
    END { printf "%.0f %.2f %.2f %s %d\n", rps, p50, p99, (bad == "" ? 0 : bad), n }'
}

measure() { # $1: label, $2: jar
  local label=$1 jar=$2
  local dir="$WORK/$label"
  mkdir -p "$dir"
  local http sandbox redis
  http=$(free_port); sandbox=$(free_port); redis=$(free_port)
  WXMP_MODE=dev WXMP_MANAGEMENT_PORT=0 WXMP_HTTP_PORT=$http WXMP_SANDBOX_PORT=$sandbox WXMP_DEV_REDIS_PORT=$redis WXMP_DATA_DIR="$dir/data" \
    WXMP_FEED_TRAIN_INTERVAL_SEC=0 \
    $JAVA $JAVA_OPTS --add-modules jdk.incubator.vector -jar "$jar" >"$dir/server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 600); do
    grep -q 'wxmp is running' "$dir/server.log" && break
    kill -0 "$pid" 2>/dev/null || { echo "plain.sh: $label did not start:" >&2; tail -30 "$dir/server.log" >&2; exit 1; }
    sleep 1
  done
  grep -q 'wxmp is running' "$dir/server.log" || { echo "plain.sh: $label did not start in 600 s" >&2; exit 1; }
  local api="http://127.0.0.1:$http/api/v1" code token uid
  code=$(curl -sf -XPOST "http://127.0.0.1:$sandbox/sandbox/users" -H 'Content-Type: application/json' -d '{}' | jq -r .code)
  local login
  login=$(curl -sf -XPOST "$api/auth/login" -H 'Content-Type: application/json' -d "{\"code\":\"$code\"}")
  token=$(echo "$login" | jq -r .token)
  # the id from the login, not from GET /me: /me's answer is cached, and the ledger below is written behind its back
  uid=$(echo "$login" | jq -r .user.id)
  if [[ "$LEDGER_ROWS" -gt 0 ]]; then
    # a ledger of LEDGER_ROWS rows for this user, written straight into PostgreSQL (dev mode's embedded one)
    local pgport
    pgport=$(sed -n 4p "$dir/data/pg/postmaster.pid")
    $JAVA -cp "$jar" bench/PlainSql.java "$pgport" "INSERT INTO points_ledger (user_id, source_key, delta, reason)
      SELECT $uid, 'bench:' || g, 1, 'bench' FROM generate_series(1, $LEDGER_ROWS) g"
  fi
  local pgpid redispid
  pgpid=$(sed -n 1p "$dir/data/pg/postmaster.pid")
  redispid=$(pgrep -f "redis-server.*:$redis" | head -1)
  local points
  points=$(curl -sf "$api/me" -H "Authorization: Bearer $token" | jq -r .points)
  echo "  $label: server up on :$http, user $uid, $points points; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for round in $(seq 1 "$ROUNDS"); do
    wrk_run "$SECONDS_WARM" "http://127.0.0.1:$http/health/live" >/dev/null
    echo "$label|/health/live|$round|$(wrk_run "$SECONDS_RUN" "http://127.0.0.1:$http/health/live")" >>"$WORK/results"
    wrk_run "$SECONDS_WARM" "$api/me" "Authorization: Bearer $token" >/dev/null
    local before after me
    before=$(cpu_ticks "$pid" "$pgpid" "$redispid")
    me=$(wrk_run "$SECONDS_RUN" "$api/me" "Authorization: Bearer $token")
    after=$(cpu_ticks "$pid" "$pgpid" "$redispid")
    # server CPU per answered request, in microseconds: the JVM, PostgreSQL, Redis
    me="$me $(echo "$before $after ${me##* }" | awk '{ n = $7 > 0 ? $7 : 1
      printf "%.0f %.0f %.0f", ($4 - $1) * 1e4 / n, ($5 - $2) * 1e4 / n, ($6 - $3) * 1e4 / n }')"
    echo "$label|GET /api/v1/me|$round|$me" >>"$WORK/results"
    echo "  $label round $round done; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

: >"$WORK/results"
if [[ -n "$BASE" ]]; then
  BASE_TREE=/tmp/perf-base-$$
  git worktree add --detach "$BASE_TREE" "$BASE" >/dev/null 2>&1
  echo "building the base ($BASE) in $BASE_TREE" >&2
  build "$BASE_TREE"
  # dev mode is in wxmp-dev.jar since the production jar lost the dev stack; older commits have only wxmp.jar
  if [[ -f "$BASE_TREE/server/target/wxmp-dev.jar" ]]; then
    cp "$BASE_TREE/server/target/wxmp-dev.jar" "$WORK/base.jar"
  else
    cp "$BASE_TREE/server/target/wxmp.jar" "$WORK/base.jar"
  fi
  git worktree remove --force "$BASE_TREE"
  BASE_TREE=""
elif [[ -n "${BASE_JAR:-}" ]]; then
  cp "$BASE_JAR" "$WORK/base.jar"
  BASE=$BASE_JAR
fi
if [[ -z "${JAR:-}" ]]; then
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building this checkout ($(git rev-parse --short HEAD))" >&2
    build "$ROOT"
  fi
  JAR="$ROOT/server/target/wxmp-dev.jar"
fi
[[ -n "$BASE" ]] && measure base "$WORK/base.jar"
measure this "$JAR"

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_RUN}s --latency (after ${SECONDS_WARM}s warm-up), $ROUNDS rounds, $(nproc) cores, $($JAVA -version 2>&1 | head -1)"
echo
echo "| build | path | round | requests/s | p50 ms | p99 ms | non-2xx | CPU µs/request: JVM, PostgreSQL, Redis |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
awk -F'|' '{ split($4, r, " "); printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, r[1], r[2], r[3], r[4],
  (r[6] == "" ? "" : r[6] ", " r[7] ", " r[8]) }' "$WORK/results"
