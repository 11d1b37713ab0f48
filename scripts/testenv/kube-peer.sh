#!/usr/bin/env bash
# Installs the Kubernetes test peer: etcd from Debian (etcd-server) and a
# kube-apiserver built from the published Go module k8s.io/kubernetes at a
# pinned version (no release binary can be downloaded here). The build
# (cold: ~7.5 min, ~1.9 GB RSS) goes into a cache folder keyed by version,
# which later runs reuse as is.
#
# Prints the folder, which holds `kube-apiserver` and an `etcd` link; tests
# find it through TOURNIQUET_KUBE_PEER (collectors/kube/kubetest).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=v1.33.13                   # kube-apiserver; complete on the module proxy
staging=v0.${version#v1.}          # k8s.io/<staging module> versions: v0.33.13
dest="${TOURNIQUET_KUBE_PEER:-${HOME}/.cache/tourniquet/kube-peer-${version}}"

log() { printf 'kube peer: %s\n' "$*" >&2; }

# etcd: Debian's etcd-server (3.4). apt-get update only when the package is
# not known yet (a fresh machine's lists can be empty).
if ! command -v etcd >/dev/null 2>&1; then
  log "installing etcd-server (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends etcd-server >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends etcd-server >/dev/null; }
fi
etcd_bin=$(command -v etcd)

if [ -x "$dest/kube-apiserver" ] && "$dest/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes ${version}"; then
  log "kube-apiserver ${version} cached in $dest"
else
  log "building kube-apiserver ${version} from the Go module proxy (cold: several minutes)"
  start=$SECONDS
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The kubernetes module maps every k8s.io/<x> it publishes separately to
  # ./staging/src/...; a throw-away wrapper module maps each to its published
  # version instead. Never `go mod tidy` the wrapper.
  kmod=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$kmod" ] || { log "could not download k8s.io/kubernetes@${version}"; exit 1; }
  {
    echo "module tourniquet.local/kube-apiserver-build"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes ${version}"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._/-]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*$#\t\1 => \1 '"${staging}"'#p' "$kmod"
    echo ")"
  } >"$work/go.mod"
  (
    cd "$work"
    export GOFLAGS=-mod=mod CGO_ENABLED=0
    go list -deps k8s.io/kubernetes/cmd/kube-apiserver >/dev/null
    pkg=k8s.io/component-base/version
    go build -trimpath -o kube-apiserver \
      -ldflags "-s -w -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${staging#v0.} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mkdir -p "$dest"
  mv "$work/kube-apiserver" "$dest/kube-apiserver.tmp"
  mv "$dest/kube-apiserver.tmp" "$dest/kube-apiserver"
  log "built in $((SECONDS - start))s"
fi
ln -sfn "$etcd_bin" "$dest/etcd"
echo "$dest"
