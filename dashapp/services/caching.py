"""The key and the memoization every service shares: results live in the shared ``results``
cache under ``v<version>:<kind>:<sha256(source key | data fingerprint | canonical payload)>``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..state import get_state
from .sources import source_key


def cache_key(version: str, kind: str, source: Mapping[str, str], fingerprint: str, payload: Any) -> str:
    """``v<version>:<kind>:<sha256 hex>`` of the source's key, the data's fingerprint and the
    payload as canonical JSON (sorted keys, no spaces, ``str`` for what JSON cannot hold)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{source_key(source)}|{fingerprint}|{canonical}".encode()).hexdigest()
    return f"v{version}:{kind}:{digest}"


def memoized(key: str, compute: Callable[[], Any]) -> Any:
    """The ``results`` cache's value at ``key``; else ``compute()``, stored there and returned."""
    cache = get_state().results
    cached = cache.get(key)
    if cached is not None:
        return cached
    value = compute()
    cache.set(key, value)
    return value
