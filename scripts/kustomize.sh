#!/usr/bin/env bash
# Runs kustomize v5.8.2 (v5.8.3 needs Go 1.27), built once from the Go module
# proxy into a cache folder outside the repo. Usage: scripts/kustomize.sh build infra/overlays/prod
set -euo pipefail
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.2}
cache=${ELASTICPOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elasticpool}
dir="$cache/kustomize/$KUSTOMIZE_VERSION"
if [ ! -x "$dir/kustomize" ]; then
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -x "$dir/kustomize" ]; then
    echo "kustomize.sh: building kustomize $KUSTOMIZE_VERSION into $dir (once, ~1 min)" >&2
    GOBIN="$dir" CGO_ENABLED=0 go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  fi
  exec 9>&-
fi
exec "$dir/kustomize" "$@"
