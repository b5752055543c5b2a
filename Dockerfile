# syntax=docker/dockerfile:1
# One image for every process of the cluster: the dashboard (gunicorn), the Ray head and
# the Ray workers. Same image => same Python, same Ray, same engine code everywhere,
# which Ray requires of every node and driver.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    SPL_BIND=0.0.0.0:8050 \
    CACHE_DIR=/var/cache/spl \
    SPL_RUNTIME_DIR=/var/run/spl \
    NUMBA_CACHE_DIR=/var/cache/spl/numba

# Dependencies first, in their own layer: editing the code does not reinstall Ray.
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A fixed non-root user; the writable places are the cache and runtime directories only.
RUN groupadd --system --gid 10001 spl \
 && useradd --system --uid 10001 --gid spl --home-dir /home/spl --create-home --shell /usr/sbin/nologin spl \
 && mkdir -p /var/cache/spl/numba /var/run/spl /tmp/ray \
 && chown -R spl:spl /var/cache/spl /var/run/spl /tmp/ray

COPY --chown=root:root engine/ ./engine/
COPY --chown=root:root dashapp/ ./dashapp/
COPY --chown=root:root assets/ ./assets/
COPY --chown=root:root gunicorn.conf.py ./
COPY --chown=root:root deploy/bin/ ./deploy/bin/

# Compile the engine's numba kernels into NUMBA_CACHE_DIR now and hand them to the user
# that runs them: a fresh container (app or Ray) loads them instead of compiling.
RUN python -c "import engine; engine.warm_up_kernels()" \
 && chown -R spl:spl /var/cache/spl

USER spl
EXPOSE 8050

# Liveness through the app's own /health (no curl in a slim image). Ray containers
# override this with `ray health-check` in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8050/health', timeout=4).status == 200 else 1)"]

# app.sh joins the Ray cluster as a zero-CPU node when RAY_ADDRESS is set (a Ray
# driver needs a local raylet), then execs gunicorn with gunicorn.conf.py.
ENTRYPOINT ["/app/deploy/bin/app.sh"]
CMD []
