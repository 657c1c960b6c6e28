#!/usr/bin/env bash
# Builds wxmp and runs it in dev mode: embedded PostgreSQL (data under ./.wxmp/), embedded Redis, the WeChat and
# WeChat Pay sandbox, demo data. Prints the URLs and the demo credentials. Ctrl-C stops everything cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests package
WXMP_MODE=dev exec java --add-modules jdk.incubator.vector -jar server/target/wxmp.jar "$@"
