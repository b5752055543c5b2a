"""What the Status page shows: the app's settings, cache statistics, the cluster's status.

Any visitor can open the page, so it shows what a user needs and no internals an operator
would not publish (docs/security.md): the cache's kind and whether it works, never its
directory or Redis URL; the cluster's mode, reachability and size, never its address.
Fields are allow-listed (``CACHE_KINDS``, ``CLUSTER_LABELS``) and free text (the cluster's
error) passes through ``redact_internals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashapp.config import AppConfig
from dashapp.security import redact_internals
from dashapp.ui import components

# The cache's kind in words, by CACHE_TYPE (dashapp.config.CACHE_TYPES).
CACHE_KINDS = {
    "FileSystemCache": "filesystem",
    "RedisCache": "redis",
    "SimpleCache": "simple (this worker's memory)",
    "NullCache": "none (nothing is kept)",
}

# The cluster fields shown, in this order, with friendly labels; nothing else is shown
# (the engine's status also carries the cluster's address, which stays on the server).
CLUSTER_LABELS = {
    "mode": "Mode",
    "reachable": "Reachable",
    "connected": "Connected",
    "available": "Available",
    "nodes": "Nodes",
    "alive_nodes": "Alive nodes",
    "cpus": "CPUs",
    "available_cpus": "CPUs free",
    "memory_bytes": "Memory",
    "memory": "Memory",
    "object_store_used_bytes": "Object store used",
    "object_store_total_bytes": "Object store size",
    "object_store_bytes": "Object store",
    "object_store_memory": "Object store",
    "ray_version": "Ray version",
    "detail": "Detail",
    "error": "Error",
}
# Free text: shown with internals (addresses, paths, URLs) redacted.
_FREE_TEXT = ("detail", "error")


def app_rows(config: AppConfig, version: str) -> list[tuple[str, Any]]:
    return [
        ("Version", version),
        ("Default data source", config.DATA_SOURCE),
        ("Executor", config.ENGINE_EXECUTOR),
        ("Upload limit", f"{config.MAX_UPLOAD_BYTES / 2**20:g} MiB"),
    ]


def cache_rows(stats: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``services.cache_stats()`` in words (this worker's hits and misses): the cache's kind
    and whether it works; never where it lives (a directory, a Redis URL)."""
    hit_rate = stats.get("hit_rate")
    backend = str(stats.get("backend") or "")
    return [
        ("Backend", f"{CACHE_KINDS.get(backend, 'other')} ({backend})" if backend else components.MISSING),
        ("Working", "yes" if stats.get("available") else "no (treated as misses)"),
        ("Cached results", _or_dash(stats.get("keys"))),
        (
            "Hits / misses (this worker)",
            f"{stats.get('hits', 0)} / {stats.get('misses', 0)}"
            + (f" ({hit_rate:.0%} hits)" if hit_rate is not None else ""),
        ),
        ("Errors (this worker)", stats.get("errors", 0)),
        ("Uploaded data sets", _or_dash((stats.get("uploads") or {}).get("keys"))),
        (
            "Loaded data sets (this worker)",
            f"{stats.get('market_data_entries', 0)} of {stats.get('market_data_capacity', 0)}",
        ),
    ]


def cluster_rows(status: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The fields of ``CLUSTER_LABELS`` present in ``status`` (the engine's ``ClusterStatus``
    as plain data, or the app's "not used" dict), with ``reachable`` derived from ``error``
    for a cluster that should answer. The address and unknown fields are left out; the
    error and detail text are redacted (``public_text``) with the address hidden by name."""
    shown = dict(status)
    if shown.get("mode") in ("embedded", "external") and "reachable" not in shown:
        shown["reachable"] = not shown.get("error")
    address = status.get("address")
    return [
        (
            CLUSTER_LABELS[key],
            public_text(str(shown[key]), address)
            if key in _FREE_TEXT
            else format_cluster_value(key, shown[key]),
        )
        for key in CLUSTER_LABELS
        if key in shown and shown[key] is not None and not isinstance(shown[key], (list, dict))
    ]


def public_text(text: str, *known: Any) -> str:
    """A message fit for any visitor: ``known`` strings (the cluster's address) and anything
    shaped like an address, URL or path replaced by ``[hidden]`` (``redact_internals``)."""
    return redact_internals(text, *(str(k) for k in known if k))


def format_cluster_value(key: str, value: Any) -> str:
    if value is None:
        return components.MISSING
    if key == "mode" and value == "not started":
        return "embedded, not started yet (it starts with the first sweep or robustness run)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and ("memory" in key or "store" in key or key.endswith("bytes")):
        return f"{value / 2**30:.1f} GiB"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _or_dash(value: Any) -> str:
    return components.MISSING if value is None else f"{value:,}" if isinstance(value, int) else str(value)
