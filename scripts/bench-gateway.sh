#!/usr/bin/env bash
# Gateway benchmark (issue 8): the mock upstream directly, a bare
# httputil.ReverseProxy, and `tourniquet gateway serve` with a virtual key and
# the audit log on, in one run; non-streaming and SSE, closed loop (50
# connections) and open loop (2000 req/s). The proxy and the gateway are
# pinned to CPU 0; the upstream and the load generator run on the others.
#   scripts/bench-gateway.sh [DURATION=5s] [extra gwbench flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5s}
shift || true
work=$(mktemp -d "${TMPDIR:-/tmp}/tq-gwbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$work/tourniquet" ./cmd/tourniquet
CGO_ENABLED=0 go build -trimpath -o "$work/gwbench" ./scripts/gwbench
others=$(( $(nproc) > 1 ? 1 : 0 ))
if [ "$(nproc)" -gt 2 ]; then others="1-$(( $(nproc) - 1 ))"; fi
exec taskset -c "$others" "$work/gwbench" -tourniquet "$work/tourniquet" -duration "$duration" -cpu 0 "$@"
