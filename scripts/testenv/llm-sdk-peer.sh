#!/usr/bin/env bash
# Installs the official OpenAI and Anthropic Node SDKs (openai 7.57.0,
# @anthropic-ai/sdk 1.14.0) from the committed lockfile with
# `npm ci --ignore-scripts`, into a cache folder keyed by version. A warm
# cache is reused as is. Prints the folder; tests find it through
# TOURNIQUET_LLM_SDK_PEER.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="${TOURNIQUET_LLM_SDK_PEER:-${HOME}/.cache/tourniquet/llm-sdk-openai7.57.0-anthropic1.14.0}"
src=scripts/testenv/llm-sdk
if [ -f "$dest/node_modules/openai/package.json" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "llm sdk peer: cached in $dest" >&2
else
  command -v npm >/dev/null || { echo "llm sdk peer: npm is needed (Node 20)" >&2; exit 1; }
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  cp "$src/package.json" "$src/package-lock.json" "$dest.tmp/"
  (cd "$dest.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
fi
echo "$dest"
