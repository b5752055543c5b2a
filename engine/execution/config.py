"""``RayConfig``: where and how the engine runs Ray work, read once from the environment.

The server builds one ``RayConfig.from_env()`` (gunicorn.conf.py says it serves web
requests by setting ``SPL_WEB_WORKER_PID`` in each worker) and passes it to
``get_executor`` / ``cluster_status`` / ``shutdown_embedded_cluster``; when no config is
passed those read the environment at call time. Secrets (the cluster token) are not part
of the config: Ray reads ``RAY_AUTH_TOKEN`` / ``RAY_AUTH_TOKEN_PATH`` itself.

Environment variables (all optional):

- ``RAY_ADDRESS``: ``host:port`` of an external cluster's head (GCS); unset = embedded.
- ``ENGINE_EXECUTOR``: ``auto`` (default) | ``ray`` | ``serial``.
- ``SPL_RUNTIME_DIR``: the embedded cluster's files (default ``/tmp/spl-ray``).
- ``SPL_RAY_CONNECT_TIMEOUT_S``: bound on joining the cluster (default 10 s).
- ``SPL_RAY_NUM_CPUS``, ``SPL_RAY_OBJECT_STORE_BYTES``, ``SPL_RAY_WORKER_NICENESS``: the
  embedded head's CPUs (default: all), object store (512 MiB) and task-worker niceness.
- ``SPL_WEB_WORKER_PID``: the process that serves web requests; it never becomes a Ray
  driver (its background-job processes do), set by gunicorn.conf.py's ``post_fork``.

An unset or empty variable takes its default. A set one that is not what it must be (a
whole number written with the digits 0-9, in its range; a positive number of seconds) is
refused with one sentence naming it (``ParameterError``): an operator's typo
(``SPL_RAY_OBJECT_STORE_BYTES=512MB``) must not run silently on the default.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

from engine.errors import ParameterError, number_text, short_repr, whole_number_text

ExecutorMode = Literal["auto", "ray", "serial"]
EXECUTOR_MODES: tuple[str, ...] = ("auto", "ray", "serial")

DEFAULT_RUNTIME_DIR = "/tmp/spl-ray"
CONNECT_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 1.0  # the readiness probe: one TCP connect to the head's GCS port
STATUS_TIMEOUT_S = 10.0  # the Status page's query of the cluster's nodes (a short-lived process)
DEFAULT_OBJECT_STORE_BYTES = 512 * 1024**2  # plenty for a price matrix, polite on a shared host
MIN_OBJECT_STORE_BYTES = (
    75 * 1024**2
)  # Ray refuses a smaller object store (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES)
MAX_BYTES = 2**63 - 1  # a byte count Ray (C++ int64) can hold
MAX_CPUS = 65_536  # no host has more; keeps a typo of extra digits from reaching Ray


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive, finite number of seconds from ``env[name]``; ``default`` when unset or empty."""
    text = env.get(name, "").strip()
    if not text:
        return default
    value = number_text(text, name)
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive number of seconds, got {short_repr(text)}")
    return value


def _whole(env: Mapping[str, str], name: str, low: int, high: int | None = None) -> int | None:
    """A whole number in ``low..high`` from ``env[name]`` (``engine``'s one reader of a whole
    number typed as text); None when unset or empty."""
    text = env.get(name, "").strip()
    if not text:
        return None
    value = whole_number_text(text, name)
    if value < low or (high is not None and value > high):
        bound = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
        raise ParameterError(f"{name} must be a whole number {bound}, got {short_repr(value)}")
    return value


def check_mode(mode: str) -> ExecutorMode:
    chosen = mode.strip().lower()
    if chosen not in EXECUTOR_MODES:
        raise ParameterError(f"executor must be one of {', '.join(EXECUTOR_MODES)}; got {short_repr(mode)}")
    return cast(ExecutorMode, chosen)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RayConfig:
    """Where Ray work runs. ``address`` None means the embedded single-host cluster."""

    address: str | None = None
    executor: ExecutorMode = "auto"
    runtime_dir: Path = Path(DEFAULT_RUNTIME_DIR)
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    num_cpus: int | None = None
    object_store_bytes: int = DEFAULT_OBJECT_STORE_BYTES
    worker_niceness: int | None = None
    web_worker_pid: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RayConfig:
        """The configuration the environment describes (``os.environ`` by default).

        Raises ``ParameterError`` for an unknown ``ENGINE_EXECUTOR`` and for a set variable
        that is not a number in its range (module docstring)."""
        env = os.environ if environ is None else environ
        return cls(
            address=env.get("RAY_ADDRESS", "").strip() or None,
            executor=check_mode(env.get("ENGINE_EXECUTOR") or "auto"),
            runtime_dir=Path(env.get("SPL_RUNTIME_DIR") or DEFAULT_RUNTIME_DIR),
            connect_timeout_s=_seconds(env, "SPL_RAY_CONNECT_TIMEOUT_S", CONNECT_TIMEOUT_S),
            num_cpus=_whole(env, "SPL_RAY_NUM_CPUS", 1, MAX_CPUS),
            object_store_bytes=_whole(env, "SPL_RAY_OBJECT_STORE_BYTES", MIN_OBJECT_STORE_BYTES, MAX_BYTES)
            or DEFAULT_OBJECT_STORE_BYTES,
            worker_niceness=_whole(env, "SPL_RAY_WORKER_NICENESS", 0, 19),
            web_worker_pid=_whole(env, "SPL_WEB_WORKER_PID", 1),
        )

    @property
    def mode(self) -> Literal["embedded", "external"]:
        return "external" if self.address else "embedded"

    def may_drive_here(self) -> bool:
        """False in the web worker itself: it never joins Ray (a driver dies with its cluster)."""
        return self.web_worker_pid != os.getpid()
