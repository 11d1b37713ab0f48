#!/usr/bin/env bash
# Scan benchmark (issue 3): a generated tree of FILES files with ENVS Python
# environments; scan wall time against `find ROOT -xdev` over the same tree in
# the same run (ratio), and the scan's peak RSS. Each is run RUNS times after
# one warm-up each; the median is reported.
#   scripts/bench-scan.sh [FILES=500000] [ENVS=200] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-500000}
envs=${2:-200}
runs=${3:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/tq-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -trimpath -o "$work/tourniquet" ./cmd/tourniquet
go run ./internal/benchtree/cmd/benchtree "$work/root" "$files" "$envs" >/dev/null
echo "tree: $(find "$work/root" -xdev -type f | wc -l) files, $envs environments"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -n 1; }

find "$work/root" -xdev >/dev/null
"$work/tourniquet" scan --root "$work/root" --json --no-record >/dev/null || true
: >"$work/find"; : >"$work/scan"
for _ in $(seq "$runs"); do
  timeit find "$work/root" -xdev >>"$work/find"
  timeit "$work/tourniquet" scan --root "$work/root" --json --no-record >>"$work/scan" || true
done
ft=$(cut -d' ' -f1 "$work/find" | median)
st=$(cut -d' ' -f1 "$work/scan" | median)
rss=$(cut -d' ' -f2 "$work/scan" | sort -n | tail -n 1)
printf 'find -xdev: %ss   scan: %ss   ratio scan/find: %s   scan peak RSS: %d MB\n' \
  "$ft" "$st" "$(awk -v a="$st" -v b="$ft" 'BEGIN {printf "%.2f", a/b}')" $((rss / 1024))
