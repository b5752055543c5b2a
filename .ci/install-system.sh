#!/usr/bin/env bash
# Debian packages the test suite needs: a browser for dash_duo, redis for the cache
# tests, shellcheck and packer for the static deployment checks, wrk for load scripts,
# stress-ng for `make test-busy` (both cores kept busy while the suite runs).
set -euo pipefail
packages=(chromium chromium-driver redis-server shellcheck packer wrk stress-ng)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
