"""Background-callback jobs whose Cancel reaches the engine's cancel path.

Dash's ``DiskcacheManager`` cancels a job by killing its process (``terminate_job``),
which stops the engine mid-loop without its own clean-up (cancelling the Ray tasks it
submitted). ``CooperativeDiskcacheManager`` asks first: it writes a cancel flag for the
job (a job is its process, so the key is the process id), waits up to ``CANCEL_GRACE_S``
for the job to finish on its own, and only then kills it as Dash does. Inside the job,
``cancel_requested()`` is the ``should_cancel`` callable the engine polls
(``engine.run_sweep(should_cancel=...)``), so the engine raises ``engine.Cancelled``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
from dash import DiskcacheManager

CANCEL_GRACE_S = 2.0
FLAG_TTL_S = 600
_POLL_S = 0.05


def cancel_key(pid: int) -> str:
    return f"spl-cancel:{pid}"


class CooperativeDiskcacheManager(DiskcacheManager):
    """A ``DiskcacheManager`` whose cancel lets the engine stop before the process is killed."""

    def terminate_job(self, job: Any) -> None:
        if job is None:
            return
        pid = int(job)
        if _running(pid):
            self.handle.set(cancel_key(pid), True, expire=FLAG_TTL_S)
            deadline = time.monotonic() + CANCEL_GRACE_S
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(_POLL_S)
        super().terminate_job(job)

    def cancel_requested(self, pid: int | None = None) -> bool:
        """True once Cancel was pressed for the job running in process ``pid`` (default: this one)."""
        return self.handle.get(cancel_key(os.getpid() if pid is None else pid)) is not None

    def forget_cancel(self, pid: int | None = None) -> None:
        """Drop a stale flag (a new job may reuse the process id of a cancelled one)."""
        self.handle.delete(cancel_key(os.getpid() if pid is None else pid))


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
