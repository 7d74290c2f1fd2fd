#!/usr/bin/env bash
# Makes Debian's Chromium available at /usr/bin/chromium for the browser tests
# (browser builds cannot be downloaded here, so playwright-core drives this one).
# Idempotent; prints nothing when Chromium is already installed.
set -euo pipefail

bin=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$bin" ] && exit 0

say() { echo "chromium: $*" >&2; }
command -v apt-get >/dev/null || { say "no $bin and no apt-get: install Chromium yourself (or set CHROMIUM_PATH)"; exit 1; }
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
say "installing Debian's chromium with apt-get"
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null \
  || { say "apt-get install chromium failed"; exit 1; }
[ -x "$bin" ] || { say "installed, but $bin is missing"; exit 1; }
