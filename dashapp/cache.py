"""Shared caches (flask-caching) wrapped so that a cache outage is only ever a miss.

Two namespaces live in the configured backend:

- ``results``: computed, JSON-able results (backtests, stock analyses, ...), keyed by
  primitive keys (source key + data fingerprint + canonical parameters). "Clear cache"
  on the Status page empties only this one.
- ``uploads``: the validated bytes of data sets users uploaded, keyed by content hash,
  with a long timeout. They live in the shared backend (not in a worker's memory) so
  every gunicorn worker, and every host behind a shared Redis, can serve the session.

``SafeCache`` logs and swallows backend errors (a Redis restart must not break the
dashboard) and, after a failure, skips the backend for ``RETRY_AFTER_S`` seconds so
that a dead host does not add a socket timeout to every request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask_caching import Cache

from .config import AppConfig

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
REDIS_SOCKET_TIMEOUT_S = 0.5
KEY_PREFIX = "spl:"


class SafeCache:
    """get/set/delete/clear over a flask-caching backend; errors become misses (logged)."""

    def __init__(self, backend: Any, *, name: str, backend_name: str) -> None:
        self._backend = backend
        self.name = name
        self.backend_name = backend_name
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._errors = 0
        self._down_until = 0.0

    # ----- the operations services use -----

    def get(self, key: str) -> Any | None:
        """The cached value, or None on a miss or a backend error."""
        value = self._call("get", key)
        with self._lock:
            if value is None:
                self._misses += 1
            else:
                self._hits += 1
        return value

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return bool(self._call("set", key, value, timeout=timeout))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key))

    def clear(self) -> bool:
        return bool(self._call("clear"))

    def round_trip(self) -> None:
        """Set and read back a probe key; raises on any failure (used by /ready)."""
        probe = f"ready-probe-{os.getpid()}-{time.monotonic_ns()}"
        self._backend.set(probe, probe, timeout=10)
        if self._backend.get(probe) != probe:
            raise RuntimeError(f"{self.backend_name} did not return the value just stored")
        self._backend.delete(probe)

    # ----- statistics (this worker process only) -----

    def stats(self) -> dict[str, Any]:
        """Backend kind and counters; no location (the directory or Redis URL is not for
        the Status page's visitors: docs/security.md)."""
        with self._lock:
            hits, misses, errors = self._hits, self._misses, self._errors
        lookups = hits + misses
        return {
            "backend": self.backend_name,
            "hits": hits,
            "misses": misses,
            "errors": errors,
            "hit_rate": hits / lookups if lookups else None,
            "keys": self.key_count(),
            "available": time.monotonic() >= self._down_until,
        }

    def key_count(self) -> int | None:
        """Entries currently stored (None when the backend cannot tell cheaply or is down)."""
        try:
            list_dir = getattr(self._backend, "_list_dir", None)  # FileSystemCache, minus its count file
            if list_dir is not None:
                return sum(1 for _ in list_dir())
            client = getattr(self._backend, "_write_client", None)
            if client is not None:
                prefix = getattr(self._backend, "key_prefix", "") or ""
                return sum(1 for _ in client.scan_iter(match=f"{prefix}*", count=500))
            inner = getattr(self._backend, "_cache", None)  # SimpleCache
            return len(inner) if isinstance(inner, dict) else None
        except Exception as exc:
            log.warning("cache %s: cannot count keys: %s", self.name, exc)
            return None

    def reset_stats(self) -> None:
        with self._lock:
            self._hits = self._misses = self._errors = 0

    # ----- internals -----

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            return None
        try:
            return getattr(self._backend, method)(*args, **kwargs)
        except Exception as exc:
            with self._lock:
                self._errors += 1
            self._down_until = time.monotonic() + RETRY_AFTER_S
            log.warning(
                "cache %s (%s) %s failed, treated as a miss for %.0fs: %s",
                self.name,
                self.backend_name,
                method,
                RETRY_AFTER_S,
                exc,
            )
            return None


def make_cache(server: Flask, config: AppConfig, name: str, *, timeout: int, threshold: int) -> SafeCache:
    """The ``name`` namespace of the configured backend on ``server``: entries expire after
    ``timeout`` seconds; a file-system or in-memory cache keeps at most ``threshold``."""
    settings: dict[str, Any] = {
        "CACHE_TYPE": config.CACHE_TYPE,
        "CACHE_DEFAULT_TIMEOUT": timeout,
        "CACHE_THRESHOLD": threshold,
    }
    if config.CACHE_TYPE == "FileSystemCache":
        directory = Path(config.CACHE_DIR) / name
        directory.mkdir(parents=True, exist_ok=True)
        settings["CACHE_DIR"] = str(directory)
    elif config.CACHE_TYPE == "RedisCache":
        settings["CACHE_REDIS_URL"] = config.CACHE_REDIS_URL
        settings["CACHE_KEY_PREFIX"] = f"{KEY_PREFIX}{name}:"
        # Short socket timeouts: an unreachable Redis must cost well under a second.
        settings["CACHE_OPTIONS"] = {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
            "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
        }
    cache = Cache()
    cache.init_app(server, config=settings)
    backend = server.extensions["cache"][cache]
    return SafeCache(backend, name=name, backend_name=config.CACHE_TYPE)
