"""``RayExecutor``: the ``engine.jobs.Executor`` interface on a Ray cluster, and
``get_executor``, which chooses between it and ``SerialExecutor``.

``shared`` is put in the object store once per object and Ray connection (``_SharedRefs``:
a data set's sweeps reuse its reference while the caller keeps the object), one task per
item, at most ``IN_FLIGHT_PER_CPU`` per CPU in flight; results in item order, fetched as
the tasks finish; progress and cancel are checked at each finish and at least every
``WAIT_SLICE_S`` (a cancel leaves the tasks in flight to finish, unread). The process calling ``map`` is the Ray
driver (it joins at the first job; see ``engine.execution.connection``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from engine.allocator import tune_allocator
from engine.collector import freeze_startup_objects
from engine.errors import ClusterUnavailableError
from engine.execution.config import ExecutorMode, RayConfig, check_mode
from engine.execution.connection import connect, connected_here
from engine.jobs import CancelFn, Executor, ProgressFn, SerialExecutor, stop_if_cancelled
from engine.threads import single_blas_thread

T = TypeVar("T")
R = TypeVar("R")

# ``auto`` runs jobs of fewer items than this in-process: a configuration costs ~2 ms,
# while joining Ray costs ~1 s once and each task round trip ~1-5 ms.
AUTO_SERIAL_BELOW = 20
# ``auto``: work that would take less than this in-process is not worth joining Ray for
# (a fresh driver process pays ray.init and its task workers' start-up first).
JOIN_BREAK_EVEN_S = 5.0
WAIT_SLICE_S = 0.2  # progress/cancel granularity of the gather loop
TASK_MAX_RETRIES = 3  # re-runs of a task whose worker process died (tasks are pure)
# Tasks submitted ahead per CPU: one running and one queued keeps every CPU busy (the next
# task is already at the worker when one ends), and bounds what a cancel leaves running.
IN_FLIGHT_PER_CPU = 2
# How long a connection's CPU count is reused: ``cluster_resources`` is a round trip to the
# GCS (~0.5 ms), asked twice per sweep (its chunk size, then ``map``'s window); a cluster
# that grows or shrinks is seen within this time (the count only sizes chunks and windows).
CPU_COUNT_TTL_S = 10.0


def _call(fn: Callable[[Any, T], R], shared: Any, item: T) -> R:
    """Body of every task; ``shared`` arrives resolved from the object store (zero copy)."""
    tune_allocator()  # once per Ray worker process (cached)
    single_blas_thread()  # Ray sets OMP_NUM_THREADS=1 already; explicit for any cluster
    freeze_startup_objects()  # the worker's imports: full collections skip them (cached)
    return fn(shared, item)


_remote_call: Any = None


def _remote(ray: Any) -> Any:
    global _remote_call
    if _remote_call is None:
        # retry_exceptions=False: a bug or bad input fails the same way twice; max_retries
        # only re-runs tasks whose worker process died (OOM kill, node loss).
        _remote_call = ray.remote(max_retries=TASK_MAX_RETRIES, retry_exceptions=False)(_call)
    return _remote_call


class _SharedRefs:
    """The object-store reference of each ``shared`` payload put so far, reused by every
    ``map`` given the same object while it lives and the Ray connection is the same.

    Why: the dashboard runs many sweeps and robustness reports on one ``PreparedData``
    per data set (``PreparedData.for_tasks`` returns the same object while the touched
    rows are unchanged); putting its ~39 MB again cost ~16 ms of a ~250 ms sweep. The
    object store keeps the payload while the caller keeps the object, and frees it when
    the caller drops it (a weakref callback drops the reference). Keyed by ``id`` (checked
    against the weakref, as ids are reused) and by the connection (job and node ids: a
    reconnect or a new cluster invalidates every reference). Only instances of frozen
    dataclasses are kept (``PreparedData``, the downloader's settings: their fields
    cannot be reassigned and the engine's arrays in them are read-only); anything else
    (a numpy array, a plain object, None, tuples, lists, dicts, numbers) is put on every
    call, since its caller may change it in place between two maps and ``SerialExecutor``
    would then see the change: a kept reference would silently give the old value."""

    def __init__(self) -> None:
        self._connection: tuple[str, str] | None = None
        self._refs: dict[int, tuple[weakref.ref[Any], Any]] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def ref(self, ray: Any, shared: Any) -> Any:
        """The ObjectRef of ``shared`` in the object store of ``ray``'s connection."""
        context = ray.get_runtime_context()
        connection = (context.get_job_id(), context.get_node_id())
        if connection != self._connection:
            self._refs = {}  # the old connection's references are invalid
            self._connection = connection
        key = id(shared)
        hit = self._refs.get(key)
        if hit is not None and hit[0]() is shared:
            return hit[1]
        if not _frozen(shared):
            return ray.put(shared)
        try:
            alive = weakref.ref(shared, lambda dead: self._drop(key, dead))
        except TypeError:  # a frozen dataclass with __slots__ and no __weakref__
            return ray.put(shared)
        object_ref = ray.put(shared)
        self._refs[key] = (alive, object_ref)
        return object_ref

    def _drop(self, key: int, dead: weakref.ref[Any]) -> None:
        hit = self._refs.get(key)
        if hit is not None and hit[0] is dead:  # not a newer object given the same id
            self._refs.pop(key, None)  # a reconnect may have emptied the dict meanwhile


class _ClusterCpus:
    """The CPU count of the connected cluster, asked of Ray once per ``CPU_COUNT_TTL_S``
    and connection (job and node ids: a reconnect asks again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._asked_at = -math.inf
        self._cpus = 1

    def count(self, ray: Any) -> int:
        context = ray.get_runtime_context()
        key = (context.get_job_id(), context.get_node_id())
        now = time.monotonic()
        with self._lock:
            if key == self._key and now - self._asked_at < CPU_COUNT_TTL_S:
                return self._cpus
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        with self._lock:
            self._key, self._asked_at, self._cpus = key, now, cpus
        return cpus


_cluster_cpus = _ClusterCpus()


def _frozen(shared: Any) -> bool:
    """True for an instance of a frozen dataclass (its fields cannot be reassigned)."""
    params = getattr(type(shared), "__dataclass_params__", None)
    return params is not None and bool(params.frozen) and not isinstance(shared, type)


_shared_refs = _SharedRefs()


class RayExecutor:
    """``Executor`` on the Ray cluster of ``config`` (default: ``RayConfig.from_env()``)."""

    name = "ray"

    def __init__(
        self,
        *,
        config: RayConfig | None = None,
        connect_timeout_s: float | None = None,
        may_run_inline: bool = False,
    ) -> None:
        config = config or RayConfig.from_env()
        if connect_timeout_s is not None:
            config = dataclasses.replace(config, connect_timeout_s=connect_timeout_s)
        self.config = config
        # Chosen by ``auto``: a job too small to repay joining Ray may run in-process
        # (``for_work``). Asked for by name (``ray``), it always runs on Ray.
        self.may_run_inline = may_run_inline

    @property
    def parallelism(self) -> int:
        """CPUs of the cluster (joins it): how many tasks can run at once. Reused for
        ``CPU_COUNT_TTL_S`` per connection (``_ClusterCpus``)."""
        return _cluster_cpus.count(connect(self.config))

    def for_work(self, serial_seconds: float) -> Executor:
        """``self``, or ``SerialExecutor()`` when chosen by ``auto`` and ``serial_seconds`` of
        work in-process cost less than joining Ray from this process first."""
        if not self.may_run_inline or connected_here() or serial_seconds > JOIN_BREAK_EVEN_S:
            return self
        return SerialExecutor()

    def map(
        self,
        fn: Callable[[Any, T], R],
        items: Sequence[T],
        *,
        shared: Any = None,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> list[R]:
        """Apply ``fn(shared, item)`` on the cluster; ``Cancelled`` if cancelled,
        ``ClusterUnavailableError`` if the cluster cannot be joined or a task was lost,
        and the task's own exception when ``fn`` raised. A ``shared`` frozen dataclass is
        put once while it lives (``_SharedRefs``): arrays in it must not be changed in
        place between two maps; any other ``shared`` is put on every call."""
        items = list(items)
        if not items:
            return []
        ray = connect(self.config)
        shared_ref = _shared_refs.ref(ray, shared)  # every task gets the reference, not a copy
        remote = _remote(ray)
        window = IN_FLIGHT_PER_CPU * _cluster_cpus.count(ray)
        position: dict[Any, int] = {}
        results: list[Any] = [None] * len(items)
        pending: list[Any] = []
        done = 0

        def submit_up_to_window() -> None:
            while len(position) < len(items) and len(pending) < window:
                ref = remote.remote(fn, shared_ref, items[len(position)])
                position[ref] = len(position)
                pending.append(ref)

        # On cancel or error the tasks in flight (at most ``window``) are left to finish and
        # their results dropped: ``ray.cancel`` of a task whose reply is arriving crashes the
        # driver in Ray 2.60 (a CHECK in TaskManager::CompletePendingTask, "Tried to complete
        # task that was not pending": ray-project/ray#54846, #54798), killing the process
        # that asked for the cancel. Submitting a window at a time bounds that leftover work.
        submit_up_to_window()
        while pending:
            stop_if_cancelled(should_cancel, done, len(items))
            ready, pending[:] = _ready(ray, pending)
            for ref in ready:
                results[position[ref]] = _get(ray, ref)
            done += len(ready)
            submit_up_to_window()
            if ready and on_progress is not None:
                on_progress(done, len(items))
        return results


def _ready(ray: Any, pending: list[Any]) -> tuple[list[Any], list[Any]]:
    """(finished, still pending): as soon as one task finishes (at most ``WAIT_SLICE_S``),
    with every other one finished by then. Results are fetched while the rest run, so
    only the last one's transfer is left after the last task ends (waiting for all of
    them, or for the time slice, left every result to fetch at the end)."""
    ready, pending = ray.wait(pending, num_returns=1, timeout=WAIT_SLICE_S)
    if ready and pending:
        more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
        ready += more
    return ready, pending


def _get(ray: Any, ref: Any) -> Any:
    """The task's value; its own exception (not Ray's wrapper) when user code raised."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise
    except ray.exceptions.RayError as exc:
        raise ClusterUnavailableError(f"a Ray task was lost: {str(exc).splitlines()[0][:200]}") from None


def get_executor(
    mode: ExecutorMode | None = None, *, n_items: int | None = None, config: RayConfig | None = None
) -> Executor:
    """The executor for a job of ``n_items`` (configurations, draws; None: unknown).

    ``mode``: ``serial`` (in-process), ``ray`` (the configured cluster) or ``auto``;
    None means ``config.executor`` (``ENGINE_EXECUTOR``, default ``auto``). ``auto`` runs
    jobs of fewer than ``AUTO_SERIAL_BELOW`` items in-process and everything else on Ray,
    unless the job turns out cheaper than joining Ray (``RayExecutor.for_work``).
    Nothing connects here. Raises ``ParameterError`` for an unknown mode."""
    config = config or RayConfig.from_env()
    chosen = check_mode(mode) if mode is not None else config.executor
    if chosen == "serial" or (chosen == "auto" and n_items is not None and n_items < AUTO_SERIAL_BELOW):
        return SerialExecutor()
    return RayExecutor(config=config, may_run_inline=chosen == "auto")
