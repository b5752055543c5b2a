#!/usr/bin/env bash
# Health check of this host's Ray node (compose healthcheck of ray-head / ray-worker):
# a raylet process runs here, and the head's GCS answers with this cluster's token and
# the same Ray version. Exit 0 = healthy. Same environment as ray-node.sh.
set -euo pipefail

if [[ "${SPL_ROLE:-}" == head ]]; then
  address="127.0.0.1:${RAY_PORT:-6379}"
else
  address="${RAY_HEAD_ADDRESS:-${RAY_ADDRESS:-}}"
fi
[[ -n "$address" ]] || { echo "ray-health: no head address (RAY_HEAD_ADDRESS/RAY_ADDRESS)" >&2; exit 1; }

raylet_running() {
  local comm
  for comm in /proc/[0-9]*/comm; do
    [[ "$(cat "$comm" 2>/dev/null)" == raylet ]] && return 0
  done
  return 1
}

raylet_running || { echo "ray-health: no raylet process on this host" >&2; exit 1; }
exec "${RAY_BIN:-ray}" health-check --address="$address"
