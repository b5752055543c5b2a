"""Loopback servers for the fault tests, the deployment proof and the benchmark scripts.

Free ports, a process-group runner (``Topology``), stopping a group, killing Ray leftovers
under a private temp dir, distinct Ray node ports; plus ``Servers``: a plain Redis,
gunicorn with the production ``gunicorn.conf.py`` on a free port, a token-authenticated
Ray head with its own temp dir (``deploy/bin/ray-node.sh``). The Dash client
(``DashClient``, ``http``) is ``tests/support/dash_http.py``. Time limits come from
``tests/support/timing.py``. ``benchmarks/_procs.py`` re-exports this module.

Every server binds 127.0.0.1 only; every loop is bounded; ``Servers`` stops everything it
started (process groups, then anything naming its temp dir) even when a step fails.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.execution.cluster import free_ports
from tests.support import timing
from tests.support.dash_http import (  # noqa: F401  (re-exported for the scripts and tests/faults)
    HTTP_TIMEOUT_S,
    DashClient,
    WaitTimeout,
    collect_props,
    http,
    outputs_field,
)

REPO = Path(__file__).resolve().parents[2]
RAY_NODE = REPO / "deploy" / "bin" / "ray-node.sh"

__all__ = [
    "REPO",
    "DashClient",
    "LoadLoop",
    "Servers",
    "Topology",
    "WaitTimeout",
    "backtest_run_body",
    "callback_request",
    "free_port",
    "free_ports",
    "http",
    "kill_leftovers_under",
    "ray_node_ports",
    "servers",
    "stop_group",
    "wait_for",
]


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class Started:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Topology:
    root: Path
    env: dict[str, str]
    gcs_address: str = ""
    redis_port: int = 0
    redis_password: str = ""
    base_url: str = ""
    started: dict[str, Started] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> Started:
        log = self.root / f"{name}.log"
        with open(log, "wb") as out:
            # Own session => own process group: stopping it stops every child it forked.
            proc = subprocess.Popen(
                argv,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=REPO,
            )
        self.started[name] = Started(name, proc, log)
        return self.started[name]

    def stop(self, name: str, grace_s: float = 15.0) -> None:
        item = self.started.pop(name, None)
        if item is not None:
            stop_group(item.proc, grace_s)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def alive(self, name: str) -> bool:
        item = self.started.get(name)
        return item is not None and item.proc.poll() is None


def stop_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``grace_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
    # `ray start --block` ignores SIGTERM once its children exited cleanly, and some
    # children may outlive their parent: always finish the whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timing.limit(10))


def kill_leftovers_under(root: Path) -> None:
    """SIGKILL any process whose command line names our private temp dir (Ray workers)."""
    marker = str(root)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def ray_node_ports() -> list[str]:
    """Two Ray nodes on one host need distinct ports (in compose each has its own IP)."""
    names = ("node-manager", "object-manager", "dashboard-agent-listen", "dashboard-agent-grpc",
             "runtime-env-agent", "metrics-export")  # fmt: skip
    return [f"--{name}-port={port}" for name, port in zip(names, free_ports(len(names)), strict=True)]


def wait_for(
    what: str,
    check: Callable[[], Any],
    limit_s: float = timing.STARTUP_S,
    every_s: float = 0.25,
    details: Callable[[], str] | None = None,
) -> Any:
    """Poll ``check()`` until truthy; raise ``WaitTimeout`` naming ``what`` after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise WaitTimeout(
        f"{what} did not happen within {limit_s:.0f} s (last: {last!r})\n{details() if details else ''}"
    )


# ----------------------------------------------------------------- HTTP


def healthy(base_url: str) -> bool:
    try:
        return http(base_url, "GET", "/health", timeout_s=timing.limit(5))[0] == 200
    except OSError:
        return False


def backtest_run_body(client: DashClient, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Backtest page's Run-button request (discovered from /_dash-dependencies)."""
    run = client.dependency("backtest-results.children")
    values = {"backtest-run.n_clicks": 1, **{f"{k}.value": v for k, v in (overrides or {}).items()}}
    return client.body(run, "backtest-run.n_clicks", values)


# ----------------------------------------------------------------- servers


def clean_env(root: Path) -> dict[str, str]:
    """This interpreter's environment minus Ray/cache/app/pytest settings, plus quiet Ray defaults."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RAY_", "CACHE_", "SPL_", "PYTEST_", "DATA_", "ENGINE_", "WEB_", "GUNICORN_"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHON=sys.executable,
        RAY_USAGE_STATS_ENABLED="0",
        RAY_DISABLE_IMPORT_WARNING="1",
    )
    return env


class Servers(Topology):
    """A private temp dir plus the loopback servers started in it (stopped by ``close``)."""

    def start_redis(self, port: int | None = None, name: str = "redis") -> int:
        """redis-server as a pure cache (no persistence) on 127.0.0.1; returns its port."""
        self.redis_port = port or self.redis_port or free_port()
        argv = [
            "redis-server",
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory",
            "64mb",
            "--maxmemory-policy",
            "allkeys-lru",
        ]
        self.start(name, argv, self.env)
        wait_for(
            "redis answering PING",
            self.redis_ping,
            limit_s=timing.limit(30),
            details=lambda: self.log_tail(name),
        )
        return self.redis_port

    def redis_ping(self) -> bool:
        import redis

        try:
            return bool(
                redis.Redis(
                    host="127.0.0.1", port=self.redis_port, socket_timeout=1, socket_connect_timeout=1
                ).ping()
            )
        except Exception:
            return False

    def start_gunicorn(
        self,
        app_env: Mapping[str, str],
        *,
        workers: int = 2,
        name: str = "app",
        limit_s: float = timing.STARTUP_S,
    ) -> str:
        """``python -m gunicorn -c gunicorn.conf.py`` (the production config) on a free port."""
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {
            **self.env,
            "SPL_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "SECRET_KEY": secrets.token_hex(32),  # shared by the workers: signed background handles
            "CACHE_DIR": str(self.root / "cache"),
            "SPL_RUNTIME_DIR": str(self.root / "run"),
            "GUNICORN_LOG_LEVEL": "warning",
            **app_env,
        }
        self.start(name, [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py")], env)

        def up() -> bool:
            if not self.alive(name):
                raise WaitTimeout(f"gunicorn exited during start-up:\n{self.log_tail(name)}")
            return healthy(self.base_url)

        wait_for("gunicorn answering /health", up, limit_s=limit_s, details=lambda: self.log_tail(name))
        return self.base_url

    def gunicorn_workers(self, name: str = "app") -> set[int]:
        import psutil

        master = psutil.Process(self.started[name].proc.pid)
        return {child.pid for child in master.children(recursive=False)}

    def start_ray_head(
        self, port: int | None = None, name: str = "ray-head", limit_s: float = timing.STARTUP_S
    ) -> str:
        """A one-CPU Ray head with token auth and our temp dir (deploy/bin/ray-node.sh); its GCS address."""
        port = port or free_port()
        self.gcs_address = f"127.0.0.1:{port}"
        env = {**self.env, "SPL_ROLE": "head", "RAY_PORT": str(port), "RAY_NUM_CPUS": "1"}
        self.start(name, [str(RAY_NODE), *ray_node_ports()], env)
        wait_for(
            "the Ray head answering health-check",
            lambda: (
                self.alive(name)
                and subprocess.run(
                    ["ray", "health-check", f"--address={self.gcs_address}"],
                    env=env,
                    capture_output=True,
                    timeout=timing.limit(60),
                    check=False,
                ).returncode
                == 0
            ),
            limit_s=limit_s,
            every_s=1.0,
            details=lambda: self.log_tail(name),
        )
        return self.gcs_address

    def start_ray_worker(self, name: str = "ray-worker", cpus: int = 1) -> None:
        env = {
            **self.env,
            "SPL_ROLE": "worker",
            "RAY_HEAD_ADDRESS": self.gcs_address,
            "RAY_NUM_CPUS": str(cpus),
        }
        self.start(name, [str(RAY_NODE), *ray_node_ports()], env)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group of ``name`` (it stays registered)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.started[name].proc.pid, sig)

    def close(self) -> None:
        for name in reversed(list(self.started)):
            self.stop(name, grace_s=10.0)
        kill_leftovers_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def ray_env(root: Path) -> dict[str, str]:
    """Token auth and a private Ray temp dir (short path: Ray's socket paths are limited)."""
    return {
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
        "RAY_TEMP_DIR": str(root / "ray"),
        "RAY_OBJECT_STORE_MEMORY": str(100 * 1024 * 1024),
    }


@contextlib.contextmanager
def servers(prefix: str = "spl-bench-", *, with_ray_env: bool = False) -> Iterator[Servers]:
    """A ``Servers`` in a fresh temp dir under /tmp, always closed."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    env = clean_env(root)
    if with_ray_env:
        env.update(ray_env(root))
    group = Servers(root=root, env=env)
    try:
        yield group
    finally:
        group.close()


# ----------------------------------------------------------------- bounded load from threads


class LoadLoop:
    """``threads`` client threads calling ``request()`` until stopped, ``max_requests`` or ``limit_s``.

    ``request()`` returns None on success or a short reason string on failure; an exception
    counts as a failure named by its type. ``in_flight`` is the number of requests started
    and not yet finished (read it at the moment a fault is injected).
    """

    def __init__(
        self,
        request: Callable[[], str | None],
        *,
        threads: int = 8,
        max_requests: int = 100_000,
        limit_s: float = 120.0,
    ) -> None:
        import threading

        self._request = request
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._max_requests = max_requests
        self._deadline = 0.0
        self._limit_s = limit_s
        self.in_flight = 0
        self.ok = 0
        self.failures: list[tuple[float, str]] = []
        self.started = 0

    def __enter__(self) -> LoadLoop:
        self._deadline = time.monotonic() + self._limit_s
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HTTP_TIMEOUT_S + 5)

    @property
    def done(self) -> int:
        with self._lock:
            return self.ok + len(self.failures)

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            with self._lock:
                if self.started >= self._max_requests:
                    return
                self.started += 1
                self.in_flight += 1
            try:
                reason = self._request()
            except Exception as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:120]}"
            with self._lock:
                self.in_flight -= 1
                if reason is None:
                    self.ok += 1
                else:
                    self.failures.append((time.monotonic(), reason))


def callback_request(
    base_url: str,
    body: Mapping[str, Any],
    *,
    result_key: str = "backtest-run-state",
    timeout_s: float = HTTP_TIMEOUT_S,
) -> Callable[[], str | None]:
    """A LoadLoop request: POST ``body``; success = HTTP 200 with a non-empty ``result_key`` output."""

    def request() -> str | None:
        status, answer = http(base_url, "POST", "/_dash-update-component", body, timeout_s=timeout_s)
        if status != 200:
            return f"HTTP {status}"
        data = (answer.get("response") or {}).get(result_key, {}) if isinstance(answer, dict) else {}
        if not data.get("data"):
            return "no result (an error message was shown)"
        return None

    return request


def mixed_requests(
    base_url: str, client: DashClient, bodies: list[dict[str, Any]], *, timeout_s: float
) -> Callable[[], str | None]:
    """A LoadLoop request that takes turns: the Run callbacks of ``bodies`` (repeated parameter
    sets: cache hits), a parameter set never seen before (a miss, computed and written to the
    cache) every 4th request, and ``/health`` every 4th; each waits at most ``timeout_s``."""
    callbacks = [callback_request(base_url, body, timeout_s=timeout_s) for body in bodies]
    turn, lock = itertools.count(), threading.Lock()

    def request() -> str | None:
        with lock:
            n = next(turn)
        if n % 4 == 3:
            status, _ = http(base_url, "GET", "/health", timeout_s=timeout_s)
            return None if status == 200 else f"/health HTTP {status}"
        if n % 4 == 2:  # never seen before: a miss, computed and written to the cache
            fresh = backtest_run_body(client, {"backtest-cost_bps": round(1 + n * 0.01, 2)})
            return callback_request(base_url, fresh, timeout_s=timeout_s)()
        return callbacks[n % len(callbacks)]()

    return request
