#!/usr/bin/env bash
# Start one Ray node in the foreground (ray start --block), as a head or a worker.
#
# The same script runs in the ray-head/ray-worker containers (docker-compose.yml), in
# spl-ray.service on the EC2 instances (deploy/systemd/) and in the loopback topology
# test (tests/deploy/test_topology.py), so the three cannot drift apart.
#
# Environment (see .env.example):
#   SPL_ROLE                 head | worker                          (required)
#   RAY_AUTH_MODE            must be "token": every node and driver authenticates
#   RAY_AUTH_TOKEN           the cluster's shared token (never written to a file here)
#   RAY_HEAD_ADDRESS         host:port of the head's GCS (worker only; default RAY_ADDRESS)
#   RAY_PORT                 GCS port of the head                   (default 6379)
#   RAY_NUM_CPUS             CPUs this node offers (default: all)
#   RAY_OBJECT_STORE_MEMORY  object store bytes (default: Ray's 30% of RAM)
#   RAY_NODE_IP_ADDRESS      address other nodes reach this one on (default: auto)
#   RAY_TEMP_DIR             Ray's session/log root (default: Ray's /tmp/ray)
# Extra arguments are passed to `ray start` unchanged (the loopback test uses them to
# give two nodes on one host distinct ports).
set -euo pipefail

die() {
  echo "ray-node: $*" >&2
  exit 64
}

role="${SPL_ROLE:-}"
[[ "$role" == head || "$role" == worker ]] || die "SPL_ROLE must be 'head' or 'worker' (got '${role}')"
[[ "${RAY_AUTH_MODE:-}" == token ]] || die "RAY_AUTH_MODE must be 'token': an unauthenticated Ray port runs anyone's code"
[[ -n "${RAY_AUTH_TOKEN:-}" ]] || die "RAY_AUTH_TOKEN is empty: generate one with 'ray get-auth-token --generate' or 'openssl rand -hex 32'"
[[ "${RAY_AUTH_TOKEN}" != change-me* ]] || die "RAY_AUTH_TOKEN still holds the .env.example placeholder"

args=(start --block --disable-usage-stats)
if [[ "$role" == head ]]; then
  # No dashboard: it is an unauthenticated-by-default web UI we never expose anyway.
  args+=(--head "--port=${RAY_PORT:-6379}" --include-dashboard=false)
else
  head_address="${RAY_HEAD_ADDRESS:-${RAY_ADDRESS:-}}"
  [[ -n "$head_address" ]] || die "RAY_HEAD_ADDRESS or RAY_ADDRESS (host:port of the head) is required for a worker"
  # The head may still be booting (compose, an instance launched with its head): wait
  # for its port instead of burning systemd/compose restarts.
  "$(dirname "${BASH_SOURCE[0]}")/wait-for.sh" "$head_address" "${RAY_HEAD_WAIT_S:-120}"
  args+=("--address=${head_address}")
fi
[[ -z "${RAY_NUM_CPUS:-}" ]] || args+=("--num-cpus=${RAY_NUM_CPUS}")
[[ -z "${RAY_OBJECT_STORE_MEMORY:-}" ]] || args+=("--object-store-memory=${RAY_OBJECT_STORE_MEMORY}")
[[ -z "${RAY_NODE_IP_ADDRESS:-}" ]] || args+=("--node-ip-address=${RAY_NODE_IP_ADDRESS}")
[[ -z "${RAY_TEMP_DIR:-}" ]] || args+=("--temp-dir=${RAY_TEMP_DIR}")

ray_bin="${RAY_BIN:-ray}"
echo "ray-node: starting ${role}: ${ray_bin} ${args[*]} $*" >&2
exec "$ray_bin" "${args[@]}" "$@"
