"""A bounded, thread-safe, per-process LRU (loaded data sets, prepared arrays, rendered views)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BoundedLRU(Generic[T]):
    """At most ``size`` values by text key; the least recently used one is dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def get_or_load(self, key: str, load: Callable[[], T]) -> T:
        """The cached value, or ``load()`` run once even when several threads ask at once."""
        data = self.get(key)
        if data is not None:
            return data
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # a slow load (Yahoo) is not repeated by the worker's other threads
            data = self.get(key)
            if data is None:
                data = load()
                self.put(key, data)
        with self._lock:
            self._loading.pop(key, None)
        return data

    def put(self, key: str, data: T) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
