"""Process-wide BLAS threading, for numbers that do not depend on where they were
computed: ``single_blas_thread()``.

Why: OpenBLAS splits some operations among its threads (dot and matrix-vector products,
the LAPACK calls inside SciPy's SLSQP), so their last bits depend on the thread count.
Ray's workers run one BLAS thread (Ray sets ``OMP_NUM_THREADS=1``), while a driver or a
web worker ran the default (one per CPU): the ``min_variance`` and ``max_sharpe`` rows
of a sweep run serially differed in the last bits from the same rows on Ray and from the
same backtest run on its own (found by review; ``tests/engine/test_threads.py``
reproduces it). The engine parallelises with processes (Ray tasks, the web tier's
compute pool), so BLAS threads would only oversubscribe the CPUs anyway.

Entry points call it once per process, next to ``tune_allocator``: the CLI,
``create_app`` (web workers, their compute children and the job processes forked from
them) and every Ray task. A script that wants the CLI's numbers bit for bit calls it
after ``import engine`` (which loads both NumPy's and SciPy's OpenBLAS).

Imports nothing from the engine's layers.
"""

from __future__ import annotations

import functools


@functools.cache
def single_blas_thread() -> bool:
    """Limit every BLAS library loaded in this process to one thread (idempotent).
    Returns False when threadpoolctl is not installed (nothing is changed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return False
    threadpool_limits(limits=1, user_api="blas")
    return True
