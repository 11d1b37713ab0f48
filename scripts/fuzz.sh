#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a bounded time each (default 20s).
# Crashers land in the package's testdata/fuzz and fail the run: commit them as
# regression inputs once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-20s}
export CGO_ENABLED=0
failed=()

mapfile -t pkgs < <(go list ./...)
for pkg in "${pkgs[@]}"; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  mapfile -t targets < <(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u)
  for t in "${targets[@]}"; do
    [ -n "$t" ] || continue
    printf -- '--- fuzz %s %s (%s)\n' "$pkg" "$t" "$fuzztime"
    out=$(go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" "$pkg" 2>&1) && ok=1 || ok=0
    if [ $ok = 0 ] && ! grep -q 'Failing input written' <<<"$out" && grep -q 'context deadline exceeded' <<<"$out"; then
      # The time ran out before the workers were up (a loaded machine, a
      # cold cache: the baseline coverage run counts against -fuzztime);
      # no input failed. Once more, with time to start.
      printf '(the fuzzing time ran out while starting; once more with 30s)\n'
      out=$(go test -run '^$' -fuzz "^${t}\$" -fuzztime 30s "$pkg" 2>&1) && ok=1 || ok=0
    fi
    if [ $ok = 1 ]; then
      printf '%s\n' "$out" | tail -n 3
    else
      # The whole failure: the failing input and the file it was written to.
      printf '%s\n' "$out" | grep -v '^fuzz: elapsed' | tail -n 40
      failed+=("$pkg $t")
    fi
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz targets that failed: %s\n' "${failed[@]}"
  exit 1
fi
