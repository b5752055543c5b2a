"""Execution layer: Ray. The only layer that imports ray (lazily, at the first Ray job).

- ``config``: ``RayConfig.from_env()``, the frozen settings passed to everything below;
- ``cluster``: the embedded single-host head (start once per host, find, stop) and the
  address helpers (TCP probe);
- ``connection``: joining a cluster as a driver, with token auth, within a time bound;
- ``executor``: ``RayExecutor`` and ``get_executor`` (serial / ray / auto);
- ``status``: ``probe_cluster`` (readiness) and ``cluster_status`` (Status page), which
  never make the calling process a driver.

May import: every lower layer, ``engine.jobs``, ``engine.errors``, ``engine.shapes``.
"""

from engine.execution.cluster import shutdown_embedded_cluster
from engine.execution.config import EXECUTOR_MODES, ExecutorMode, RayConfig
from engine.execution.executor import AUTO_SERIAL_BELOW, RayExecutor, get_executor
from engine.execution.status import ClusterStatus, cluster_status, probe_cluster

__all__ = [
    "AUTO_SERIAL_BELOW",
    "EXECUTOR_MODES",
    "ClusterStatus",
    "ExecutorMode",
    "RayConfig",
    "RayExecutor",
    "cluster_status",
    "get_executor",
    "probe_cluster",
    "shutdown_embedded_cluster",
]
