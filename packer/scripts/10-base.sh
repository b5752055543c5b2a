#!/usr/bin/env bash
# Base system: updates, Python ${PYTHON_VERSION} with venv, and the `spl` service user.
set -euo pipefail

: "${PYTHON_VERSION:?PYTHON_VERSION is set by spl.pkr.hcl}"
export DEBIAN_FRONTEND=noninteractive

# cloud-init may still be writing apt sources on a fresh instance.
cloud-init status --wait >/dev/null 2>&1 || true

apt-get update -q
apt-get upgrade -y -q
apt-get install -y -q --no-install-recommends ca-certificates curl git software-properties-common

python="python${PYTHON_VERSION}"
if ! apt-cache show "${python}-venv" >/dev/null 2>&1; then
  # Not in this Ubuntu release's archive (noble ships 3.12): the deadsnakes PPA builds it.
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${python}" "${python}-venv" "${python}-dev" build-essential

# A system user with no login shell; its home holds Ray's state (/var/lib/spl).
if ! id spl >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/spl --create-home --shell /usr/sbin/nologin spl
fi
install -d -o root -g spl -m 0750 /etc/spl
install -d -o spl -g spl -m 0750 /var/lib/spl /var/cache/spl
