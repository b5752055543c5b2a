"""What the Status page shows: the app's settings, cache statistics, the cluster's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashapp.config import AppConfig
from dashapp.ui import components

# Cluster fields shown first, with friendly labels; anything else the engine reports follows.
CLUSTER_LABELS = {
    "mode": "Mode",
    "address": "Address",
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
    "message": "Message",
}


def app_rows(config: AppConfig, version: str) -> list[tuple[str, Any]]:
    return [
        ("Version", version),
        ("Default data source", config.DATA_SOURCE),
        ("Executor", config.ENGINE_EXECUTOR),
        ("Upload limit", f"{config.MAX_UPLOAD_BYTES / 2**20:g} MiB"),
    ]


def cache_rows(stats: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``services.cache_stats()`` in words (this worker's hits and misses)."""
    hit_rate = stats.get("hit_rate")
    return [
        ("Backend", stats.get("backend")),
        ("Location", stats.get("location")),
        ("Reachable", "yes" if stats.get("available") else "no (treated as misses)"),
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
    """The known fields first (``CLUSTER_LABELS``), then the rest; lists and dicts left out."""
    ordered = [k for k in CLUSTER_LABELS if k in status] + [k for k in status if k not in CLUSTER_LABELS]
    return [
        (CLUSTER_LABELS.get(k, k.replace("_", " ").capitalize()), format_cluster_value(k, status[k]))
        for k in ordered
        if not isinstance(status[k], (list, dict))
    ]


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
