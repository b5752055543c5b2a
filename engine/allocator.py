"""Process-wide C allocator settings for array work: ``tune_allocator()``.

Why: glibc serves a request above its mmap threshold (128 KiB at start, raised
dynamically) with freshly mapped pages and unmaps them on ``free``, so a large numpy
temporary pays one page fault per 4 KiB page the first time it is written, on every
call. On the 2-core VM we measure on, a fault costs about 3 microseconds, i.e. 0.75 ms
per MiB: more than the arithmetic on that MiB (``benchmarks/bench_peers.py`` W1: the
simulation kernel 3.2 ms before, 0.6 ms after; README "Measured performance").

``tune_allocator`` serves blocks up to 32 MiB (glibc's maximum for the threshold on
64-bit) from the heap and returns heap memory to the system only once more than 256 MiB
is free at its top, so pages stay mapped between calls. Peak resident memory is
unchanged; memory freed after a peak is kept for reuse instead of returned at once, and
free memory below a live block at the heap's top cannot be returned at all (measured in
docs/performance.md: repeated backtests plateau, they do not grow). Entry points call it once per process: the CLI, ``create_app`` (web
workers and their compute children) and every Ray task (``engine.execution``).

Imports nothing from the engine's layers.
"""

from __future__ import annotations

import ctypes
import functools
import sys

MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc rejects more than HEAP_MAX_SIZE / 2 = 32 MiB
TRIM_THRESHOLD_BYTES = 256 * 2**20
_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3


@functools.cache
def tune_allocator() -> bool:
    """Apply the settings above to this process (idempotent: the first call does it).

    Returns True when glibc accepted both settings; False elsewhere (another OS or C
    library: nothing is changed and nothing fails)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    accepted = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and accepted
