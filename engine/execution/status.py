"""What the cluster looks like, without becoming a Ray driver.

- ``probe_cluster(config)``: the readiness check. Which cluster is configured, and does its
  head accept TCP connections on the GCS port? No ray import, no driver, nothing started;
  answers within ``PROBE_TIMEOUT_S`` (1 s) from the first call of a fresh process.
- ``cluster_status(config)``: the Status page. The probe, then nodes, CPUs, memory and
  object-store use read from the head's GCS by a short-lived process (Ray's ``GcsClient``,
  the client ``ray status`` uses: it reads the cluster tables and registers no job), bounded
  by ``timeout_s``. A separate process because the web worker must stay free of Ray's
  threads and sockets: it forks the background-job processes that are Ray's drivers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Literal

from engine.execution.cluster import ENGINE_PARENT, head_alive, read_head, tcp_reachable
from engine.execution.config import PROBE_TIMEOUT_S, STATUS_TIMEOUT_S, RayConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterStatus:
    """What the Status page shows; ``error`` says why the numbers are missing.

    ``memory_bytes`` and the object-store figures are bytes summed over alive nodes."""

    mode: Literal["embedded", "external", "not started"]
    address: str | None = None
    nodes: int = 0
    cpus: float = 0.0
    memory_bytes: float = 0.0
    object_store_used_bytes: float = 0.0
    object_store_total_bytes: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _target(config: RayConfig) -> tuple[ClusterStatus, str | None]:
    """(status without figures, token file of the embedded head or None)."""
    if config.address is not None:
        return ClusterStatus(mode="external", address=config.address), None
    info = read_head(config)
    if info is None or not head_alive(info, PROBE_TIMEOUT_S):
        return ClusterStatus(mode="not started"), None  # the embedded head starts with the first job
    return ClusterStatus(mode="embedded", address=info.address), info.token_path


def probe_cluster(config: RayConfig | None = None) -> ClusterStatus:
    """Readiness: the configured cluster and whether its head answers (``error`` if not).

    Never starts or joins a cluster; returns within ~``PROBE_TIMEOUT_S``."""
    config = config or RayConfig.from_env()
    status, _token = _target(config)
    if status.mode == "external":
        assert status.address is not None
        reason = tcp_reachable(status.address, PROBE_TIMEOUT_S)
        if reason is not None:
            return dataclasses.replace(
                status, error=f"the Ray cluster at {status.address} (RAY_ADDRESS) is unreachable: {reason}"
            )
    return status


# Runs in a fresh interpreter: imports only Ray's GCS client (no engine, no driver).
_QUERY = textwrap.dedent(
    """
    import json, sys
    from ray._raylet import GcsClient
    address, timeout = sys.argv[1], float(sys.argv[2])
    try:
        gcs = GcsClient(address=address)
        nodes = [n for n in gcs.get_all_node_info(timeout=timeout).values() if n.state == 0]  # ALIVE
        usage = gcs.get_all_resource_usage(timeout=timeout).resource_usage_data.batch
        total = lambda key: sum(float(n.resources_total.get(key, 0.0)) for n in nodes)
        free = sum(float(u.resources_available.get("object_store_memory", 0.0)) for u in usage)
        store = total("object_store_memory")
        print(json.dumps({"nodes": len(nodes), "cpus": total("CPU"), "memory_bytes": total("memory"),
                          "object_store_total_bytes": store,
                          "object_store_used_bytes": max(0.0, store - free) if usage else 0.0}))
    except Exception as exc:
        print(json.dumps({"error": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}))
    """
)


def cluster_status(timeout_s: float = STATUS_TIMEOUT_S, *, config: RayConfig | None = None) -> ClusterStatus:
    """Cluster size and object-store use (``ClusterStatus``); ``error`` set when the cluster
    does not answer. Never starts or joins a cluster; returns within ~``timeout_s``."""
    config = config or RayConfig.from_env()
    status = probe_cluster(config)
    if status.error is not None or status.address is None:
        return status
    _, token_path = _target(config)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": ENGINE_PARENT}
    if token_path is not None:  # the embedded head's own token
        env.pop("RAY_AUTH_TOKEN", None)
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=token_path)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _QUERY, status.address, str(max(1.0, timeout_s / 2))],
            env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return dataclasses.replace(status, error=f"no answer from the Ray cluster within {timeout_s:g} s")
    except (ValueError, IndexError):
        return dataclasses.replace(status, error="the Ray cluster query failed: no answer")
    if "error" in answer:
        return dataclasses.replace(
            status, error=f"the Ray cluster at {status.address} refused the query: {answer['error']}"
        )
    return dataclasses.replace(status, **answer)
