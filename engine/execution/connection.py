"""Joining a Ray cluster as a driver, with token authentication, within a time bound.

``connect(config)`` joins the configured cluster once per process (lazily, at the first
Ray job) and returns the ``ray`` module. External clusters (``RAY_ADDRESS``) are first
probed over TCP (an unreachable address fails in about a second, not after Ray's retries);
the embedded head is started if needed. ``ray.init`` runs in a helper thread, so the wait
is bounded (``ClusterUnavailableError`` instead of a hang) and Ray installs no signal
handlers of its own. A process that was forked from one joined to Ray cannot join again.

Only processes that run jobs become drivers (the CLI, tests, the dashboard's
background-job processes); the web worker never does (``RayConfig.may_drive_here``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import threading
from types import ModuleType
from typing import Any

from engine.errors import ClusterUnavailableError
from engine.execution.cluster import ensure_embedded_cluster, head_alive, read_head, tcp_reachable
from engine.execution.config import RayConfig

PROBE_TIMEOUT_S = 3.0  # TCP reachability check of RAY_ADDRESS before ray.init


def import_ray() -> ModuleType:
    """Import ray on first use (never at engine import time)."""
    # Ray's C++ failure handler would print a stack dump on every SIGTERM the process gets.
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    return ray


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Connection:
    address: str
    pid: int


_lock = threading.Lock()
_connection: _Connection | None = None  # this process's driver connection (one per process, as Ray's)


class _DropThreadSigtermWarning(logging.Filter):
    """ray.init from a helper thread says it did not install its SIGTERM handler: intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


def _use_token(token_path: str | None) -> None:
    """Point this process's Ray at the embedded head's token (None: keep RAY_AUTH_* as set)."""
    if token_path is not None:
        os.environ.pop("RAY_AUTH_TOKEN", None)
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = token_path
    import_ray()
    # Ray caches its config and the token at first use: reload them from the environment.
    with contextlib.suppress(Exception):
        from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


def _connect_message(address: str, error: BaseException) -> str:
    """Ray reports a refused token only in its C++ log; the port answered, so say what to check."""
    text = str(error).split("\n")[0][:200]
    return (
        f"could not join the Ray cluster at {address} ({text}); the port answers, so check that "
        "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) hold the cluster's token "
        "and that the cluster runs the same Ray version"
    )


_pending_init: threading.Thread | None = None  # a timed-out ray.init may still be running


def _init_with_timeout(ray: Any, address: str, timeout_s: float) -> None:
    global _pending_init
    if _pending_init is not None and _pending_init.is_alive():
        raise ClusterUnavailableError(
            "an earlier attempt to join the Ray cluster has not finished; try again later"
        )
    logging.getLogger("ray._private.worker").addFilter(_DropThreadSigtermWarning())
    # Ray retries the GCS once a second for this many attempts (default 20).
    os.environ["RAY_gcs_server_port_wait_time_s"] = str(max(1, int(timeout_s) - 2))  # noqa: SIM112 (Ray's name)
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING, namespace="spl")
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="spl-ray-init", daemon=True)
    _pending_init = thread
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise ClusterUnavailableError(f"could not join the Ray cluster at {address} within {timeout_s:.0f} s")
    if "error" in outcome:
        raise ClusterUnavailableError(_connect_message(address, outcome["error"])) from None


def forked_from_a_driver() -> bool:
    """True in a process forked from one that had joined Ray: Ray cannot be initialised
    there (its driver state and sockets belong to the parent)."""
    ray = sys.modules.get("ray")
    joined = ray is not None and bool(ray.is_initialized())
    return joined and (_connection is None or _connection.pid != os.getpid())


def connected_here() -> bool:
    """This process is a live Ray driver (joining again costs nothing)."""
    return _connection is not None and _connection.pid == os.getpid()


def connect(config: RayConfig, *, start_embedded: bool = True) -> Any:
    """Join the configured cluster (once per process); returns the ray module.

    Raises ``ClusterUnavailableError`` (one sentence) when it is unreachable, refuses the
    token, does not answer within ``config.connect_timeout_s``, or this process must not
    be a driver (the web worker, a process forked from a driver)."""
    global _connection
    if not config.may_drive_here():
        raise ClusterUnavailableError(
            "the web worker never joins the Ray cluster; run Ray jobs in a background callback"
        )
    with _lock:
        if forked_from_a_driver():
            raise ClusterUnavailableError(
                "this process was forked from one already joined to Ray and cannot join it again"
            )
        ray = import_ray()
        if connected_here() and ray.is_initialized():
            assert _connection is not None
            if _still_wanted(config, _connection):
                return ray
            with contextlib.suppress(Exception):
                ray.shutdown()  # the target changed (RAY_ADDRESS edited, embedded head restarted)
            _connection = None
        if config.address is not None:
            reason = tcp_reachable(config.address, PROBE_TIMEOUT_S)
            if reason is not None:
                raise ClusterUnavailableError(
                    f"the Ray cluster at {config.address} (RAY_ADDRESS) is unreachable: {reason}"
                )
            address, token_path = config.address, None
        else:
            info = ensure_embedded_cluster(config) if start_embedded else read_head(config)
            if info is None:
                raise ClusterUnavailableError("the local Ray cluster is not running")
            address, token_path = info.address, info.token_path
        _use_token(token_path)
        _init_with_timeout(ray, address, config.connect_timeout_s)
        _connection = _Connection(address=address, pid=os.getpid())
    return ray


def _still_wanted(config: RayConfig, connection: _Connection) -> bool:
    """Is the live connection still the configured cluster (cheap: a file read, a TCP probe)?"""
    if config.address is not None:
        return connection.address == config.address
    info = read_head(config)
    return info is not None and info.address == connection.address and head_alive(info)


def disconnect() -> None:
    """Leave the cluster (this process only; the cluster keeps running)."""
    global _connection
    with _lock:
        if connected_here():
            with contextlib.suppress(Exception):
                import_ray().shutdown()
        _connection = None
