#!/usr/bin/env bash
# Follows the README's production section literally on this Debian host: extracts the block between
# <!-- prod-readme:begin --> and <!-- prod-readme:end -->, runs it as root in a scratch folder holding wxmp.jar and
# stand-in WeChat Pay key files (made with openssl, as the merchant platform's would be), waits for /health/ready,
# checks that the operator command printed a password, then stops the server and removes what the block made
# (/etc/wxmp, the wxmp database and role). It changes the host's PostgreSQL and Redis: CI only, or pass --yes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${1:-}" != "--yes" && -z "${CI:-}" ]]; then
  echo "prod-readme.sh installs and uses this host's PostgreSQL and Redis (database and role 'wxmp', /etc/wxmp):" >&2
  echo "  run it in CI, or pass --yes" >&2
  exit 2
fi
[[ $(id -u) == 0 ]] || { echo "prod-readme.sh: run as root, as the README's block is" >&2; exit 2; }
jar="$repo/server/target/wxmp.jar"
[[ -f "$jar" ]] || (cd "$repo" && mvn -B -q -DskipTests package)

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q openjdk-17-jre-headless postgresql redis-server openssl curl
# Debian starts both when it installs them; a container without an init does not (the README says so too).
pg_lsclusters -h | awk '$4 != "online" {print $1, $2}' | while read -r ver name; do pg_ctlcluster "$ver" "$name" start; done
redis-cli ping >/dev/null 2>&1 || service redis-server start

work=$(mktemp -d)
cleanup() {
  cd /
  [[ -n "${server:-}" ]] && kill -TERM -- "-$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS wxmp" -c "DROP ROLE IF EXISTS wxmp" >/dev/null || true
  rm -rf /etc/wxmp "$work"
}
trap cleanup EXIT
runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS wxmp" -c "DROP ROLE IF EXISTS wxmp" >/dev/null
rm -rf /etc/wxmp

cp "$jar" "$work/wxmp.jar"
cd "$work"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out apiclient_key.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out pub_key.pem
awk '/<!-- prod-readme:begin -->/{on=1; next} /<!-- prod-readme:end -->/{on=0} on && !/^```/' "$repo/README.md" > readme.sh
echo "== the README's block"; cat readme.sh

setsid bash -euo pipefail readme.sh > server.log 2>&1 &
server=$!
for _ in $(seq 1 180); do
  if curl -sf http://127.0.0.1:8080/health/ready > ready.json 2>/dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 1
done
if ! grep -q '"status":"up"' ready.json 2>/dev/null; then
  echo "prod-readme.sh: the server from the README did not become ready:" >&2
  tail -50 server.log >&2
  exit 1
fi
grep -q "Operator   alice  password: " server.log || { echo "prod-readme.sh: no operator password" >&2; tail -50 server.log >&2; exit 1; }
grep -q "wxmp is running (prod mode)" server.log
echo "prod-readme.sh: the README's production section works: $(cat ready.json)"
