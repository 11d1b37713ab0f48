#!/usr/bin/env bash
# Copies a bounded sample (default 40 per target, smallest first) of the
# inputs the local fuzzing cache found interesting into each package's
# testdata/fuzz/FuzzX/, so that they are committed and replayed as seeds by
# every plain `go test`. Run after ./scripts/fuzz.sh; review and commit.
#   scripts/fuzz-corpus.sh [PER_TARGET=40]
set -euo pipefail
cd "$(dirname "$0")/.."
per=${1:-40}
cache="$(go env GOCACHE)/fuzz"
module=$(go list -m)
mapfile -t pkgs < <(go list ./...)
for pkg in "${pkgs[@]}"; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  mapfile -t targets < <(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u)
  for t in "${targets[@]}"; do
    [ -n "$t" ] || continue
    src="$cache/$pkg/$t"
    [ -d "$src" ] || continue
    dst="$dir/testdata/fuzz/$t"
    mkdir -p "$dst"
    have=$(find "$dst" -type f | wc -l)
    added=0
    while read -r f; do
      [ "$have" -lt "$per" ] || break
      name=$(basename "$f")
      [ -e "$dst/$name" ] && continue
      cp "$f" "$dst/$name"
      have=$((have + 1)); added=$((added + 1))
    done < <(find "$src" -type f -size -16k -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
    printf '%-60s %-28s +%d (%d kept)\n' "${pkg#"$module"/}" "$t" "$added" "$have"
  done
done
