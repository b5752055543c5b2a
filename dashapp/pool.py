"""A bounded process pool for CPU-heavy callback work (a backtest and its figures).

Why: a gthread worker serves every request of its process on threads that share one GIL.
A backtest plus the rendering of its eight figures is ~0.4 s of pure Python on the demo
data; eight clients running uncached backtests kept the GIL (and every thread) busy, and
``/health`` waited behind them (p99 1.8 s, probes timed out). Work sent here runs in
other processes: the serving thread only waits on a future, which releases the GIL
(docs/performance.md "Web tier under compute").

- ``COMPUTE_PROCESSES`` (``AppConfig``) processes per web worker; 0 = compute in the
  serving thread (tests, ``python -m dashapp``).
- Created lazily, at the first job, in the process that uses it (never before gunicorn
  forks its workers; a forked background-job process makes its own).
- The children are *spawned* (not forked from a threaded web worker, whose locks another
  thread may hold at the fork): each builds its own app with ``create_app`` from the
  parent's ``AppConfig`` (same caches, same data source), once, and runs every job in that
  app's context; they run at a lower CPU priority (``COMPUTE_NICENESS``), so the web
  worker's own threads get the CPU first.
- A child ends when its web worker is gone (a watchdog thread checks the parent pid).
- A child that dies (OOM killer, segfault) breaks the pool: the job gets one
  ``ComputeUnavailableError`` sentence and the next job starts a fresh pool.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import multiprocessing.context
import multiprocessing.process
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import engine

log = logging.getLogger(__name__)

T = TypeVar("T")
JOB_TIMEOUT_S = 110.0  # below gunicorn's 120 s request timeout: one clear sentence, not a killed worker

_child_app: Any = None  # the app of a pool child (set by _init_child); None in every other process


class ComputeUnavailableError(engine.EngineError):
    """The compute process of this web worker failed or did not answer in time."""


def in_pool_child() -> bool:
    """True inside a pool child: nested jobs run inline there."""
    return _child_app is not None


def _exit_with_parent(parent_pid: int, every_s: float = 1.0) -> None:
    """End this child once its web worker is gone (SIGKILLed workers leave no orphans: the
    call queue's pipe never reports EOF, since every child holds its write end too)."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(every_s)


def _init_child(overrides: dict[str, Any], parent_pid: int) -> None:
    global _child_app
    # The parent's pid comes from the parent: a worker killed while this child was still
    # importing has already left it to init, and os.getppid() would no longer say so.
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    with contextlib.suppress(OSError):
        os.nice(int(overrides.get("COMPUTE_NICENESS", 0)))
    from dashapp import create_app

    _child_app = create_app(overrides)


def _run_in_child(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    with _child_app.server.app_context():
        return fn(*args)


def _warm_up() -> None:
    """Compile the engine's kernels and load the default data set in a fresh child, so
    the first user job waits for neither."""
    import engine
    from dashapp import services

    engine.warm_up_kernels()
    services.get_market_data(services.resolve_source(None))


class _TrackedSpawnContext(multiprocessing.context.SpawnContext):
    """The spawn context, keeping every process it makes for one pool: ``shutdown(wait=False)``
    ends them (``ProcessPoolExecutor`` keeps its processes private until Python 3.14's
    ``terminate_workers``). The executor makes its processes with ``mp_context.Process``."""

    def __init__(self) -> None:
        super().__init__()
        self.children: list[multiprocessing.process.BaseProcess] = []

    def Process(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        child = super().Process(*args, **kwargs)
        self.children.append(child)
        return child


class ComputePool:
    """``run(fn, *args)``: ``fn(*args)`` in one of ``processes`` child processes (inline if 0).

    ``fn`` and ``args`` must pickle (``fn`` a module-level function); ``fn`` runs inside the
    child's app context, so it may call ``dashapp.services``. Thread-safe.
    """

    def __init__(self, processes: int, app_overrides: dict[str, Any]) -> None:
        self.processes = processes
        # The child's app: the parent's configuration, computing inline (no pool of its own).
        self._overrides = {**app_overrides, "COMPUTE_PROCESSES": 0}
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._context = _TrackedSpawnContext()  # the current pool's: its children
        self._owner_pid = 0

    @classmethod
    def for_config(cls, config: Any) -> ComputePool:
        return cls(config.COMPUTE_PROCESSES, dataclasses.asdict(config))

    @property
    def started(self) -> bool:
        return self._executor is not None and self._owner_pid == os.getpid()

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None or self._owner_pid != os.getpid():
                # A forked process (a background job) must not use its parent's pool.
                self._context = _TrackedSpawnContext()
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=self._context,
                    initializer=_init_child,
                    initargs=(self._overrides, os.getpid()),
                )
                self._owner_pid = os.getpid()
            return self._executor

    def start(self) -> None:
        """Start the children now and let each load the default data (returns at once).

        gunicorn's ``post_worker_init`` calls it, after the fork, so a fresh worker's first
        backtest does not wait ~5 s for a child to import the app."""
        if self.processes <= 0 or in_pool_child():
            return
        pool = self._pool()
        for _ in range(self.processes):
            future = pool.submit(_run_in_child, _warm_up, ())
            future.add_done_callback(lambda done, pool=pool: self._warm_up_done(pool, done))

    def _warm_up_done(
        self, pool: concurrent.futures.ProcessPoolExecutor, future: concurrent.futures.Future[Any]
    ) -> None:
        """Log a warm-up that failed; one that a shutdown of its pool ended (a worker
        stopped during its first seconds) is a normal stop, not a failure."""
        if future.cancelled() or future.exception() is None:
            return
        if self._executor is not pool:  # shut down or discarded: its children were ended
            log.info("compute process warm-up stopped: the pool was shut down")
            return
        log.warning("compute process warm-up failed: %s", future.exception())

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.processes <= 0 or in_pool_child():
            return fn(*args)
        pool = self._pool()
        try:
            future = pool.submit(_run_in_child, fn, args)
            return future.result(timeout=JOB_TIMEOUT_S)
        except BrokenProcessPool:
            log.error("a compute process of this web worker died; starting a fresh pool on the next job")
            self._discard(pool)
            raise ComputeUnavailableError(
                "the computation stopped unexpectedly (its process ended); please run it again"
            ) from None
        except concurrent.futures.TimeoutError:
            raise ComputeUnavailableError(
                f"the computation took longer than {JOB_TIMEOUT_S:g} s and was abandoned"
            ) from None

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is pool:
                self._executor = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the children (idempotent; a later ``run`` starts a new pool).

        ``wait=False`` (a web worker exiting: gunicorn's ``worker_exit``) also ends the
        children at once. Their work in flight is abandoned with the worker anyway, while
        the interpreter's exit still waited for it: a worker stopped soon after its start
        held the restart for a fresh child's warm-up (17 s on a busy 2-core host)."""
        with self._lock:
            pool, self._executor = self._executor, None
            owned = self._owner_pid == os.getpid()
            started = list(self._context.children)
        if pool is None or not owned:
            return
        children = [] if wait else started
        pool.shutdown(wait=wait, cancel_futures=True)
        for child in children:
            with contextlib.suppress(OSError, ValueError):
                child.terminate()
