"""Background-callback jobs whose Cancel reaches the engine's cancel path.

Dash's ``DiskcacheManager`` cancels a job by killing its process (``terminate_job``),
which stops the engine mid-loop without its own clean-up (cancelling the Ray tasks it
submitted). ``CooperativeDiskcacheManager`` asks first when the job is listening: inside
``with manager.cancellable() as should_cancel:`` a job passes ``should_cancel`` to the
engine (``engine.run_sweep(should_cancel=...)``), and Cancel then writes the job's flag
(a job is its process, so the keys hold the process id), waits up to ``CANCEL_GRACE_S``
for the engine to raise ``engine.Cancelled`` and the job to end, and only then kills it
as Dash does. A job that is not listening (it finished, or never asked) is killed at once.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
from dash import DiskcacheManager

CANCEL_GRACE_S = 2.0
FLAG_TTL_S = 24 * 3600  # a flag outlives any job; a new job with the same pid resets it
_POLL_S = 0.05


def cancel_key(pid: int) -> str:
    return f"spl-cancel:{pid}"


def listening_key(pid: int) -> str:
    return f"spl-listening:{pid}"


class CooperativeDiskcacheManager(DiskcacheManager):
    """A ``DiskcacheManager`` whose cancel lets the engine stop before the process is killed."""

    def terminate_job(self, job: Any) -> None:
        if job is None:
            return
        pid = int(job)
        if self.handle.get(listening_key(pid)) is not None and _running(pid):
            self.handle.set(cancel_key(pid), True, expire=FLAG_TTL_S)
            deadline = time.monotonic() + CANCEL_GRACE_S
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(_POLL_S)
        super().terminate_job(job)

    @contextlib.contextmanager
    def cancellable(self) -> Iterator[Callable[[], bool]]:
        """In a job process: ``should_cancel`` for the engine, listened to while the block runs."""
        pid = os.getpid()
        self.handle.delete(cancel_key(pid))  # left by an earlier job with the same process id
        self.handle.set(listening_key(pid), True, expire=FLAG_TTL_S)
        try:
            yield lambda: self.cancel_requested(pid)
        finally:
            self.handle.delete(listening_key(pid))

    def cancel_requested(self, pid: int) -> bool:
        """True once Cancel was pressed for the job running in process ``pid``."""
        return self.handle.get(cancel_key(pid)) is not None


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
