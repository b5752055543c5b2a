"""gunicorn settings for the dashboard: ``gunicorn -c gunicorn.conf.py`` serves the app.

Every value can be tuned from the environment, so the laptop (``make run``), the
container (``Dockerfile``) and the EC2 unit (``deploy/systemd/spl-app.service``) share
this one file. See docs/deploy.md for the reasoning behind each number.
"""

from __future__ import annotations

import os
import secrets
from typing import Any


def _env_int(name: str, default: int, *, low: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    # The engine's rule for a whole number typed as text (digits 0-9 only: int() also takes
    # '1_0' and other scripts' digits), kept in the standard library: this file runs in the
    # master, which must not import the engine. Nine digits bound the echo and every count here.
    digits = raw[1:] if raw[:1] == "+" else raw
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 9):
        shown = raw if len(raw) <= 30 else f"{raw[:30]}... ({len(raw):,} characters)"
        raise SystemExit(
            f"gunicorn.conf.py: {name} must be a whole number of at most 9 digits; got {shown!r}"
        )
    value = int(digits)
    if value < low:
        raise SystemExit(f"gunicorn.conf.py: {name} must be >= {low}; got {value}")
    return value


# Every worker must share one SECRET_KEY: Dash signs background-callback handles with it,
# and a sweep started by one worker is polled through another. This file runs in the
# master before the fork, so a key generated here is inherited by all workers of this
# server. Several hosts behind a load balancer must set the same SECRET_KEY explicitly.
if not os.environ.get("SECRET_KEY"):
    os.environ["SECRET_KEY"] = secrets.token_hex(32)

# The stable WSGI path: `gunicorn -c gunicorn.conf.py` needs no positional argument.
wsgi_app = "dashapp.wsgi:application"

# Loopback on a laptop; the container and the EC2 unit set SPL_BIND=0.0.0.0:8050
# (there, only the load balancer / compose network can reach the port).
bind = [os.environ.get("SPL_BIND", "127.0.0.1:8050")]

# Threads for concurrency inside a worker: its threads only wait (on the cache, on Ray, on
# the compute pool below), so they are cheap, and there must be more of them than requests
# that compute at once, or /health queues behind the backtests (benchmarks/bench_responsive.py).
worker_class = "gthread"
workers = _env_int("WEB_CONCURRENCY", 2)
threads = _env_int("GUNICORN_THREADS", 16)

# The CPU work of a backtest (the engine plus its figures) runs in a small process pool per
# worker (dashapp/pool.py), not on the serving threads, whose GIL /health needs. Default:
# CPUs / workers, at least 2 (the children run at COMPUTE_NICENESS, so a little
# oversubscription costs the serving threads nothing; with 1 per worker on 2 shared cores
# the throughput halved, docs/performance.md). Each child holds the app and its data
# (~290 MiB with the demo data).
if not os.environ.get("COMPUTE_PROCESSES"):
    os.environ["COMPUTE_PROCESSES"] = str(max(2, (os.cpu_count() or 1) // workers))

# A full backtest on real data or a cold data load can take tens of seconds; sweeps run
# as background callbacks, so no single request should exceed two minutes.
timeout = _env_int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the ALB's 60 s idle timeout, so the balancer (not gunicorn) closes idle
# connections and never sends a request on a socket gunicorn has just closed (502s).
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)

# Ray must not be initialised before the fork (a forked Ray driver is broken), and the
# app factory reads per-process settings: each worker imports the app itself.
preload_app = False

# Retire workers now and then so a slow leak cannot grow without bound; the jitter
# keeps the two workers from restarting at the same moment. Rarely: a new worker spends
# ~2 s importing Dash and building the app, and at 2,000 requests the recycling alone put
# /health's p95 at 5.6 s under 50 connections (134 ms without it; benchmarks/bench_load.py).
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 50000, low=0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 5000, low=0)

# Behind the ALB / a reverse proxy: trust X-Forwarded-* only from the addresses listed
# (the default is loopback; the container and EC2 set the VPC or compose network range).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Bounded request lines and headers (uploads travel in the body, capped by MAX_UPLOAD_BYTES).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# Logs to stdout/stderr: docker logs and journald collect them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'
capture_output = False

# Scratch files of the worker heartbeat: /dev/shm avoids stalls on slow container disks.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

proc_name = "spl-app"
# gunicorn >= 25 opens an admin socket at a fixed $HOME path by default: two servers on one
# host would fight over it, and nothing here uses it.
control_socket_disable = True
reload = False  # never auto-reload in a served process


def post_fork(server: Any, worker: Any) -> None:
    """Tell the engine that this process serves web requests: it never becomes a Ray driver
    (``engine.RayConfig.web_worker_pid``). Ray jobs run in the Dash background-job processes
    it forks, which are the drivers, so a lost cluster can only end a job, never a worker."""
    os.environ["SPL_WEB_WORKER_PID"] = str(os.getpid())


def post_worker_init(worker: Any) -> None:
    """Start this worker's compute processes now (after the fork; they load the demo or
    configured data), so its first backtest does not wait for them."""
    try:
        from dashapp.state import state_of

        state_of(worker.wsgi).compute.start()
    except Exception as exc:  # the pool then starts with the first backtest
        worker.log.warning("could not start the compute processes: %s", exc)


def worker_exit(server: Any, worker: Any) -> None:
    """Stop this worker's compute processes with it (max_requests recycling, shutdown).
    A worker that failed to boot (its app refused the settings) has no app and started
    none: nothing to stop, and no warning after its refusal."""
    app = getattr(worker, "wsgi", None)
    if app is None:
        return
    try:
        from dashapp.state import state_of

        state_of(app).compute.shutdown(wait=False)
    except Exception as exc:
        server.log.warning("could not stop the compute processes: %s", exc)


# Where the engine records the embedded Ray head it started (engine.execution.cluster:
# ``$SPL_RUNTIME_DIR/cluster.json``, engine.execution.config.DEFAULT_RUNTIME_DIR by default;
# tests/deploy/test_static_files.py holds these two to the engine's).
_DEFAULT_RUNTIME_DIR = "/tmp/spl-ray"
_HEAD_FILE = "cluster.json"


def _embedded_head_recorded() -> bool:
    """Whether this host recorded an embedded Ray head, checked with the stdlib: the master
    never imported the engine (preload_app=False), and importing it (pandas, numba, scipy)
    took 10-20 s of every stop, Ray or not."""
    root = os.environ.get("SPL_RUNTIME_DIR") or _DEFAULT_RUNTIME_DIR
    return os.path.isfile(os.path.join(root, _HEAD_FILE))


def on_exit(server: Any) -> None:
    """Stop the embedded single-host Ray head, if this host started one (RAY_ADDRESS unset);
    the engine is imported only when a head is recorded."""
    if not _embedded_head_recorded():
        return
    try:
        from engine.execution.cluster import shutdown_embedded_cluster
    except ImportError:  # engine without Ray support: nothing was started
        return
    try:
        shutdown_embedded_cluster()
    except Exception as exc:
        server.log.warning("could not stop the embedded Ray cluster: %s", exc)
