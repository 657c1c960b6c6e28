#!/usr/bin/env bash
# Runs every test: unit and end-to-end (real PostgreSQL, Redis, the sandbox and the WeChat SDKs over HTTP),
# the CPU ranking engine, and the CUDA tests where a GPU is present (they skip with a reason elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B verify "$@"
