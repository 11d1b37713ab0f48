#!/usr/bin/env bash
# Installs the GitHub test peer (Stoplight Prism 5.16.0 and GitHub's OpenAPI
# description, @octokit/openapi 23.0.2) from the committed lockfile with
# `npm ci --ignore-scripts`, into a cache folder keyed by version, and writes
# the trimmed description Prism serves. A warm cache is reused as is.
# Prints the folder; tests find it through TOURNIQUET_GITHUB_PEER.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="${TOURNIQUET_GITHUB_PEER:-${HOME}/.cache/tourniquet/github-peer-prism5.16.0-octokit23.0.2}"
src=scripts/testenv/github-peer
if [ -x "$dest/node_modules/.bin/prism" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "github peer: cached in $dest" >&2
else
  command -v npm >/dev/null || { echo "github peer: npm is needed (Node 20)" >&2; exit 1; }
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  cp "$src/package.json" "$src/package-lock.json" "$dest.tmp/"
  (cd "$dest.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
TOURNIQUET_GITHUB_PEER="$dest" go run ./scripts/github-spec >&2
echo "$dest"
