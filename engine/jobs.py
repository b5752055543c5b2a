"""The executor interface: how the engine fans independent work out.

``fn(shared, item)`` is called once per item; ``shared`` is the large read-only payload
(price matrix, sentiment table) that a Ray executor puts in the object store once and
passes by reference. Items should already be chunks sized for tens of milliseconds of
work each. Results come back in the order of ``items``.

``parallelism`` says how many items run at once (a caller sizes its chunks with it), and
``for_work(serial_seconds)`` returns the executor to use for that much in-process work
(an executor may hand a job too small to repay its start-up to ``SerialExecutor``).

``SerialExecutor`` runs everything in-process; ``engine.execution.RayExecutor`` has the same
interface. Callers (the CLI, the dashboard, tests) choose one and pass it in: the layers
below ``engine.execution`` never choose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from engine.errors import Cancelled

T = TypeVar("T")
R = TypeVar("R")

ProgressFn = Callable[[int, int], None]  # (items done, items total)
CancelFn = Callable[[], bool]  # True -> stop as soon as possible


@runtime_checkable
class Executor(Protocol):
    name: str  # "serial" or "ray"

    @property
    def parallelism(self) -> int:
        """How many items run at once (>= 1)."""
        ...

    def for_work(self, serial_seconds: float) -> Executor:
        """The executor to use for a job of ``serial_seconds`` of in-process work."""
        ...

    def map(
        self,
        fn: Callable[[Any, T], R],
        items: Sequence[T],
        *,
        shared: Any = None,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> list[R]:
        """Apply ``fn(shared, item)`` to every item; raise ``Cancelled`` if cancelled."""
        ...


def stop_if_cancelled(should_cancel: CancelFn | None, done: int, total: int) -> None:
    """Raise ``Cancelled`` ("cancelled after <done> of <total> tasks") when ``should_cancel``
    is given and returns True; the check every executor makes between tasks."""
    if should_cancel is not None and should_cancel():
        raise Cancelled(f"cancelled after {done} of {total} tasks")


class SerialExecutor:
    """In-process executor with the Ray executor's interface (tests, tiny jobs)."""

    name = "serial"
    parallelism = 1

    def for_work(self, serial_seconds: float) -> Executor:
        return self

    def map(
        self,
        fn: Callable[[Any, T], R],
        items: Sequence[T],
        *,
        shared: Any = None,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> list[R]:
        results: list[R] = []
        total = len(items)
        for done, item in enumerate(items, start=1):
            stop_if_cancelled(should_cancel, done - 1, total)
            results.append(fn(shared, item))
            if on_progress is not None:
                on_progress(done, total)
        return results
