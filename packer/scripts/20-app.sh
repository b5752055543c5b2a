#!/usr/bin/env bash
# The application: the committed source tree under /opt/spl/app (read-only, owned by
# root) and its dependencies in a virtualenv at /opt/spl/venv.
set -euo pipefail

: "${PYTHON_VERSION:?PYTHON_VERSION is set by spl.pkr.hcl}"
: "${SPL_VERSION:?SPL_VERSION is set by spl.pkr.hcl}"

app=/opt/spl/app
venv=/opt/spl/venv
install -d -o root -g root -m 0755 /opt/spl "$app"
tar -xzf /tmp/spl-src.tar.gz -C "$app"
rm -f /tmp/spl-src.tar.gz
# The image never carries tests, benchmarks or local settings.
rm -rf "$app/tests" "$app/benchmarks" "$app/.ci" "$app/.env"

"python${PYTHON_VERSION}" -m venv "$venv"
"$venv/bin/pip" install --no-cache-dir --upgrade pip wheel
"$venv/bin/pip" install --no-cache-dir -r "$app/requirements.txt"
"$venv/bin/python" -m compileall -q "$app/engine" "$app/dashapp"

# Fail the build now, not at the first boot, if the app cannot be imported.
(cd "$app" && "$venv/bin/python" -c "import engine, ray; print('engine', engine.__version__, 'ray', ray.__version__)")

# Compile the engine's numba kernels into the directory the services use
# (NUMBA_CACHE_DIR in spl-app.service and spl-ray.service), as their user: the first
# backtest after boot then loads them instead of compiling (~1 s per process).
install -d -o spl -g spl -m 0750 /var/lib/spl/numba
(cd "$app" && runuser -u spl -- env HOME=/var/lib/spl NUMBA_CACHE_DIR=/var/lib/spl/numba \
  "$venv/bin/python" -c "import engine; engine.warm_up_kernels()")

echo "$SPL_VERSION" >"$app/VERSION"
chown -R root:root "$app" "$venv"
chmod -R go-w "$app" "$venv"
chmod 0755 "$app"/deploy/bin/*.sh
