#!/usr/bin/env bash
# Runs every test of the project: formatting, vet, module verification, unit,
# CLI (testscript) and fuzz-seed tests. This is the README's test command and
# .ci/run calls it. Extra arguments go to `go test` (e.g. -run TestScripts).
set -euo pipefail
cd "$(dirname "$0")/.."

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

# step names a stage and reports how long the previous one took.
step_name="" step_start=$SECONDS
step() {
  [ -z "$step_name" ] || printf '    (%s: %ds)\n' "$step_name" $((SECONDS - step_start)) >&2
  step_name=$* step_start=$SECONDS
  [ -z "$step_name" ] || printf '==> %s\n' "$step_name" >&2
}

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go mod verify"
go mod verify

step "go vet ./..."
go vet ./...

# Static (CGO_ENABLED=0). Not -trimpath here: that would compile every
# dependency a second time, which a cold CI run pays for in minutes.
step "go build (static)"
go build -o /dev/null ./cmd/tourniquet

step "go test ./..."
go test -count=1 "$@" ./...

# The engine, the store and the gateway are concurrent by design: run them
# under the race detector too (it needs cgo).
step "go test -race (playbooks, store, gateway)"
CGO_ENABLED=1 go test -race -count=1 "$@" ./playbooks/... ./store/... ./gateway/...
step ""
