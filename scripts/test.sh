#!/usr/bin/env bash
# Runs every test: unit and end-to-end (real PostgreSQL, Redis, the sandbox and the WeChat SDKs over HTTP),
# the CPU ranking engine, and the CUDA tests where a GPU is present (they skip with a reason elsewhere); then the
# front ends' tests: the admin console's unit tests and its browser tests (Playwright driving Debian's Chromium
# against a dev server on free ports, using the jar Maven just built). The front ends need Node >= 20.19 and
# Chromium with fonts-noto-cjk (`.ci/run` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B verify "$@"

node_ok() { command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; }
if ! node_ok; then
  echo "scripts/test.sh: the front-end tests need Node >= 20.19 (found: $(node -v 2>/dev/null || echo none)); run .ci/run or install it" >&2
  exit 1
fi

echo "== admin-console: unit and browser tests"
(
  cd admin-console
  [ -d node_modules ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  npm test
)
