"""The numba set-up every compiled kernel of the engine shares: ``compiled`` (``njit``
with a disk cache that can never fail a computation) and the argument normalisers that
give each kernel one compiled signature.

Compiled code is cached on disk (``NUMBA_CACHE_DIR``, else next to the module, else the
user's cache directory); where none is writable, each process compiles once. Kernels
compile without fast-math (no reordered sums, no fused products), and are never
recursive (numba's disk cache cannot load recursive functions). numba checks a cache
entry against its own source file only: after editing a kernel that others in other
files call (``nb_metrics.pairwise_block``), clear ``__pycache__`` or ``NUMBA_CACHE_DIR``
in a working copy (fresh clones and images compile afresh).

A shared low module: it imports no engine layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Literal

import numba
import numpy as np


def compiled(fn: Callable[..., Any]) -> Any:
    """``numba.njit`` with an on-disk cache when a cache directory is writable (numba
    raises at decoration time when none is: a read-only install without a writable HOME),
    and a cache that can never fail a backtest (``tolerate_cache_errors``)."""
    return _njit(fn, error_model="python")


def compiled_ieee(fn: Callable[..., Any]) -> Any:
    """``compiled`` with numpy's division rules: ``x / 0.0`` is an infinity or NaN, as
    the numpy code a kernel replaces gives, instead of numba's default ZeroDivisionError.
    For kernels that divide by data (a close, a portfolio value)."""
    return _njit(fn, error_model="numpy")


def _njit(fn: Callable[..., Any], *, error_model: Literal["python", "numpy"]) -> Any:
    try:
        dispatcher = numba.njit(cache=True, nogil=True, error_model=error_model)(fn)
    except RuntimeError:
        return numba.njit(cache=False, nogil=True, error_model=error_model)(fn)
    tolerate_cache_errors(getattr(dispatcher, "_cache", None))
    return dispatcher


def tolerate_cache_errors(cache: Any) -> None:
    """A cache entry that cannot be read (another user's 0600 files in a shared
    ``NUMBA_CACHE_DIR``, a file truncated by a full disk or garbled: OSError, pickle or
    value errors) is a miss, and one that cannot be written is skipped: the kernel is
    compiled in this process instead of the computation failing. (A garbled entry stays
    until the cache directory is cleared; each process compiles that kernel meanwhile.)"""
    if cache is None or not hasattr(cache, "load_overload") or not hasattr(cache, "save_overload"):
        return
    load, save = cache.load_overload, cache.save_overload

    def load_overload(sig: Any, target_context: Any) -> Any:
        try:
            return load(sig, target_context)
        except Exception:  # any unreadable entry: truncated, garbled, not ours
            return None  # numba's own "not cached": compile

    def save_overload(sig: Any, data: Any) -> None:
        # Saving reads the entry's index first: a garbled index must not fail it either.
        with contextlib.suppress(Exception):
            save(sig, data)

    cache.load_overload = load_overload
    cache.save_overload = save_overload


def floats(array: np.ndarray) -> np.ndarray:
    """The one argument type the kernels are compiled for: read-only, C order, float64."""
    return read_only(np.ascontiguousarray(array, dtype=np.float64))


def ints(array: np.ndarray) -> np.ndarray:
    """Read-only, C order, int64 (see ``floats``)."""
    return read_only(np.ascontiguousarray(array, dtype=np.int64))


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view: every caller passes the same numba type (read-only, C order),
    so each kernel has one compiled signature (the prepared data is read-only anyway)."""
    view = array.view()
    view.flags.writeable = False
    return view
