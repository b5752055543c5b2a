#!/usr/bin/env bash
# Boot step (spl-env.service): turn this instance's EC2 user data into /etc/spl/spl.env,
# the EnvironmentFile of spl-ray.service and spl-app.service.
#
# User data is plain KEY=value lines (the keys of .env.example); comments and blank
# lines are ignored, unknown keys are dropped with a warning, and a missing required
# setting stops the boot step with one clear line (the units then do not start).
#
# Environment (tests use the first two): SPL_USER_DATA_FILE (read this file instead of
# the instance metadata service), SPL_ENV_FILE (default /etc/spl/spl.env), SPL_ENV_GROUP
# (group that may read the file, default spl).
set -euo pipefail

env_file="${SPL_ENV_FILE:-/etc/spl/spl.env}"
env_group="${SPL_ENV_GROUP:-spl}"
allowed_keys=" SPL_ROLE SPL_APP_ENABLED SPL_BIND WEB_CONCURRENCY GUNICORN_THREADS COMPUTE_PROCESSES COMPUTE_NICENESS
  GUNICORN_TIMEOUT GUNICORN_KEEPALIVE GUNICORN_LOG_LEVEL FORWARDED_ALLOW_IPS SECRET_KEY DATA_SOURCE SENTIMENT_PATH
  PRICES_PATH YAHOO_CACHE_DIR DATE_FORMAT DAYFIRST DECIMAL CACHE_TYPE CACHE_DIR CACHE_REDIS_URL CACHE_DEFAULT_TIMEOUT
  ENGINE_EXECUTOR MAX_UPLOAD_BYTES SPL_ALLOW_CACHE_CLEAR SPL_RUNTIME_DIR RAY_ADDRESS RAY_HEAD_ADDRESS RAY_PORT
  RAY_AUTH_MODE RAY_AUTH_TOKEN RAY_NUM_CPUS RAY_OBJECT_STORE_MEMORY RAY_NODE_IP_ADDRESS "

die() {
  echo "spl-env: $*" >&2
  exit 1
}

fetch_user_data() {
  if [[ -n "${SPL_USER_DATA_FILE:-}" ]]; then
    cat -- "$SPL_USER_DATA_FILE"
    return
  fi
  # IMDSv2: a session token first (instances should require it), then the user data.
  local imds=http://169.254.169.254/latest token
  token="$(curl -fsS --retry 12 --retry-delay 5 --retry-connrefused -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/api/token")" ||
    die "cannot reach the instance metadata service"
  curl -fsS --retry 5 --retry-delay 2 -H "X-aws-ec2-metadata-token: $token" "$imds/user-data" ||
    die "this instance has no user data: launch it with the settings of .env.example"
}

declare -A settings=()
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line%$'\r'}"
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || die "user data line is not KEY=value: ${line%%=*}..."
  key="${BASH_REMATCH[1]}"
  value="${BASH_REMATCH[2]}"
  if [[ "$allowed_keys" != *" $key "* ]]; then
    echo "spl-env: ignoring unknown setting $key" >&2
    continue
  fi
  settings[$key]="$value"
done < <(fetch_user_data)

role="${settings[SPL_ROLE]:-}"
[[ "$role" == head || "$role" == worker ]] || die "SPL_ROLE must be head or worker (got '${role}')"
[[ -n "${settings[RAY_AUTH_TOKEN]:-}" ]] || die "RAY_AUTH_TOKEN is required"
[[ "${settings[RAY_AUTH_TOKEN]}" != change-me* ]] || die "RAY_AUTH_TOKEN is still the .env.example placeholder"
settings[RAY_AUTH_MODE]=token
if [[ "$role" == head ]]; then
  # The app on the head instance (if enabled) drives the cluster through the local GCS.
  : "${settings[RAY_ADDRESS]:=127.0.0.1:${settings[RAY_PORT]:-6379}}"
else
  [[ -n "${settings[RAY_ADDRESS]:-}" ]] || die "a worker needs RAY_ADDRESS (the head's private IP:6379)"
fi
if [[ "${settings[SPL_APP_ENABLED]:-1}" == 1 ]]; then
  [[ -n "${settings[SECRET_KEY]:-}" ]] || die "SECRET_KEY is required where the app runs (same value on every app instance)"
fi

# Write atomically, readable by root and the service group only (the file holds secrets).
umask 077
mkdir -p "$(dirname "$env_file")"
tmp="$(mktemp "${env_file}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
{
  echo "# Written at boot by spl-env-from-user-data.sh from EC2 user data. Do not edit."
  for key in $(printf '%s\n' "${!settings[@]}" | sort); do
    printf '%s=%s\n' "$key" "${settings[$key]}"
  done
} >"$tmp"
if getent group "$env_group" >/dev/null; then
  chgrp "$env_group" "$tmp"
  chmod 0640 "$tmp"
fi
mv -f "$tmp" "$env_file"
trap - EXIT
echo "spl-env: wrote ${#settings[@]} settings for a ${role} node to ${env_file}" >&2
