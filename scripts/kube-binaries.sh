#!/usr/bin/env bash
# Builds, once, the etcd and kube-apiserver binaries that shared/kubetest starts
# for tests, and prints where they are:
#   kube-apiserver=/abs/path
#   etcd=/abs/path
# Both come from the Go module proxy (no Docker, no other downloads). They are
# cached outside the repo in folders keyed by version and rebuilt only when
# absent, so the ~10 min cold kube-apiserver build happens once per machine.
# A lock makes concurrent callers (parallel test packages) wait for one build.
# Progress goes to stderr; stdout carries only the two lines above.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
cache=${ELASTICPOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elasticpool}
kube_dir="$cache/kube/$KUBE_VERSION"
etcd_dir="$cache/etcd/$ETCD_VERSION"
apiserver="$kube_dir/kube-apiserver"
etcd="$etcd_dir/etcd"

say() { echo "kube-binaries: $*" >&2; }

# Staging modules that k8s.io/kubernetes replaces with ./staging/... must be
# replaced with their published v0.X.Y twins when it is used as a dependency.
build_apiserver() {
  local src="$kube_dir/src" minor staging
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  mkdir -p "$src"
  local gomod
  gomod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  [ -s "$gomod" ] || { say "cannot download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
  staging=$(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=> \.\/staging\//{print $1}' "$gomod")
  {
    echo "module elasticpool.local/kube-apiserver"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m v0.${minor}.${KUBE_VERSION##*.}"; done
    echo ")"
  } >"$src/go.mod"
  cat >"$src/tools.go" <<'GO'
//go:build tools

// Package tools names the command this module builds, so go mod tidy keeps its dependencies.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  say "building kube-apiserver $KUBE_VERSION in $src (cold: ~10 min on 2 cores, ~2.5 GB RAM; cached afterwards)"
  local start=$SECONDS pkg=k8s.io/component-base/version
  (cd "$src" && go mod tidy >&2 &&
    CGO_ENABLED=0 go build -o "$apiserver.tmp" \
      -ldflags "-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$apiserver.tmp" "$apiserver"
  say "kube-apiserver built in $((SECONDS - start)) s"
}

build_etcd() {
  local src="$etcd_dir/src"
  mkdir -p "$src"
  cat >"$src/go.mod" <<GOMOD
module elasticpool.local/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat >"$src/main.go" <<'GO'
// Command etcd is upstream etcd's server main, built from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  say "building etcd $ETCD_VERSION in $src (cold: 1-7 min depending on load; cached afterwards)"
  local start=$SECONDS
  (cd "$src" && go mod tidy >&2 && CGO_ENABLED=0 go build -o "$etcd.tmp" -ldflags "-s -w" .)
  mv "$etcd.tmp" "$etcd"
  say "etcd built in $((SECONDS - start)) s"
}

if [ ! -x "$apiserver" ] || [ ! -x "$etcd" ]; then
  mkdir -p "$cache"
  exec 9>"$cache/.kube-binaries.lock"
  if ! flock -n 9; then
    say "another process is building the binaries; waiting for it"
    flock 9
  fi
  # Re-check under the lock: the other process may have built them.
  [ -x "$etcd" ] || build_etcd
  [ -x "$apiserver" ] || build_apiserver
fi

echo "kube-apiserver=$apiserver"
echo "etcd=$etcd"
