#!/usr/bin/env bash
# Start the dashboard: gunicorn with gunicorn.conf.py (bind, workers and threads from the
# environment). Used by the container (ENTRYPOINT), spl-app.service and the topology test.
#
# A Ray driver must run on a host that has a Ray node (a raylet) of the cluster. On EC2
# spl-ray.service provides it. In a container there is none, so with SPL_JOIN_RAY=1 this
# script first joins RAY_ADDRESS as a zero-CPU node: it runs no tasks, it only lets the
# gunicorn workers connect.
#
# Environment: SPL_APP_DIR (code directory, default: this script's ../..), PYTHON
# (default: python3), RAY_BIN (default: ray), SPL_JOIN_RAY (0/1), RAY_ADDRESS, RAY_AUTH_MODE, RAY_AUTH_TOKEN, and
# everything dashapp/config.py and gunicorn.conf.py read. Extra arguments go to gunicorn.
set -euo pipefail

die() {
  echo "app: $*" >&2
  exit 64
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app_dir="${SPL_APP_DIR:-$(cd "$here/../.." && pwd)}"
python="${PYTHON:-python3}"
cd "$app_dir"

[[ "${SECRET_KEY:-}" != change-me* ]] || die "SECRET_KEY still holds the .env.example placeholder"

if [[ -n "${RAY_ADDRESS:-}" ]]; then
  [[ "${RAY_AUTH_MODE:-}" == token ]] || die "RAY_ADDRESS is set but RAY_AUTH_MODE is not 'token'"
  [[ -n "${RAY_AUTH_TOKEN:-}" ]] || die "RAY_ADDRESS is set but RAY_AUTH_TOKEN is empty"
  [[ "${RAY_AUTH_TOKEN}" != change-me* ]] || die "RAY_AUTH_TOKEN still holds the .env.example placeholder"
  if [[ "${SPL_JOIN_RAY:-0}" == 1 ]]; then
    echo "app: joining the Ray cluster at ${RAY_ADDRESS} as a zero-CPU node" >&2
    "$here/wait-for.sh" "$RAY_ADDRESS" "${RAY_HEAD_WAIT_S:-120}"
    "${RAY_BIN:-ray}" start --address="${RAY_ADDRESS}" --num-cpus=0 --disable-usage-stats \
      ${RAY_OBJECT_STORE_MEMORY:+"--object-store-memory=${RAY_OBJECT_STORE_MEMORY}"} \
      ${RAY_TEMP_DIR:+"--temp-dir=${RAY_TEMP_DIR}"}
  fi
fi

exec "$python" -m gunicorn -c "$app_dir/gunicorn.conf.py" "$@"
