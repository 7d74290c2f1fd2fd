#!/usr/bin/env bash
# Builds the container image of every function (functions/*/cmd with a Go
# main) and of the admin command (cmd/elasticpool, run by the migration Job)
# with ko v0.19.1, without a Docker daemon and without pushing: the images go
# into one tarball (default bin/images.tar; `docker load` or `crane push` it
# later). This is `make images`.
#
# Base image: ko's default base lives in a remote registry. Unless
# KO_DEFAULTBASEIMAGE is set, this script assembles an equivalent minimal
# base from this machine's Debian files (CA certificates, tzdata, a nonroot
# user 65532) as an OCI layout in ko's on-disk cache (KOCACHE) and names it
# by digest, so ko finds it there and never goes to the network.
#
# Environment: KO_DOCKER_REPO (default registry.local/elasticpool; only used
# to name the images, nothing is pushed), KO_DEFAULTBASEIMAGE, KO_TARBALL,
# KO_FLAGS (extra flags for ko build, e.g. --platform=linux/arm64).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
KO_VERSION=${KO_VERSION:-v0.19.1}
cache=${ELASTICPOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elasticpool}
export KOCACHE=${KOCACHE:-$cache/ko}
# Not ko.local: that name makes ko publish to a Docker daemon.
export KO_DOCKER_REPO=${KO_DOCKER_REPO:-registry.local/elasticpool}
tarball=${KO_TARBALL:-$root/bin/images.tar}

say() { echo "ko-build: $*" >&2; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# local_base writes the base image into $KOCACHE/img (an OCI layout) and
# prints its reference by digest.
local_base() {
  local layout="$KOCACHE/img" work arch
  arch=$(go env GOARCH)
  for f in /etc/ssl/certs/ca-certificates.crt /usr/share/zoneinfo/UTC; do
    [ -e "$f" ] || { say "missing $f: apt-get install ca-certificates tzdata (or set KO_DEFAULTBASEIMAGE)"; exit 1; }
  done
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  local rootfs="$work/rootfs"
  mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/share" "$rootfs/home/nonroot" "$rootfs/tmp"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  cp -a /usr/share/zoneinfo "$rootfs/usr/share/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  # Reproducible layer: sorted names, fixed owners and times, no gzip name/time.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
  local diffid; diffid=$(sha "$work/layer.tar")
  gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
  local layer; layer=$(sha "$work/layer.tar.gz")
  printf '{"architecture":"%s","os":"linux","config":{"User":"65532","Env":["PATH=/usr/local/bin:/usr/bin:/bin","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/ko-build.sh: CA certificates, tzdata, nonroot user"}]}' \
    "$arch" "$diffid" >"$work/config.json"
  local config; config=$(sha "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "$config" "$(size "$work/config.json")" "$layer" "$(size "$work/layer.tar.gz")" >"$work/manifest.json"
  local manifest; manifest=$(sha "$work/manifest.json")
  mkdir -p "$layout/blobs/sha256"
  cp "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"
  cp "$work/config.json" "$layout/blobs/sha256/$config"
  cp "$work/manifest.json" "$layout/blobs/sha256/$manifest"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  # The layout is only ko's cache: listing just our base loses nothing that
  # ko cannot fetch again.
  if ! grep -q "sha256:$manifest" "$layout/index.json" 2>/dev/null; then
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d}]}' \
      "$manifest" "$(size "$work/manifest.json")" >"$layout/index.json"
  fi
  echo "registry.local/elasticpool/base@sha256:$manifest"
}

cd "$root"
pkgs=()
for d in functions/*/cmd; do
  compgen -G "$d/*.go" >/dev/null && pkgs+=("./$d")
done
pkgs+=(./cmd/elasticpool)

# ko copies a main package's kodata/ into the image at KO_DATA_PATH
# (/var/run/ko), where orders serves the UI from (UI_STATIC_DIR). ko packs
# no symlink that leaves kodata/, so the built UI is copied in (the folder is
# git-ignored). `scripts/ko-build.sh --stage-ui` does only this, before a
# `ko resolve` (docs/deploy.md).
stage_ui() {
  local kodata=functions/orders/cmd/kodata
  [ -d functions/orders/cmd ] || return 0
  rm -rf "$kodata"
  if [ -f web/dist/index.html ]; then
    cp -r web/dist "$kodata"
    say "staged the UI (web/dist) into $kodata"
  else
    say "web/dist is not built: the orders image will serve no UI (run make web first)"
  fi
}
stage_ui
[ "${1:-}" = "--stage-ui" ] && exit 0

if [ -z "${KO_DEFAULTBASEIMAGE:-}" ]; then
  KO_DEFAULTBASEIMAGE=$(local_base)
  export KO_DEFAULTBASEIMAGE
  say "base image $KO_DEFAULTBASEIMAGE (built locally, in $KOCACHE)"
fi

mkdir -p "$(dirname "$tarball")"
say "building ${pkgs[*]} into $tarball (KO_DOCKER_REPO=$KO_DOCKER_REPO, not pushed)"
start=$SECONDS
# shellcheck disable=SC2086 # KO_FLAGS is a list of flags
go run "github.com/google/ko@$KO_VERSION" build --push=false --tarball "$tarball" \
  --preserve-import-paths --sbom=none ${KO_FLAGS:-} "${pkgs[@]}"
say "built ${#pkgs[@]} images in $((SECONDS - start)) s: $tarball ($(du -h "$tarball" | cut -f1))"
