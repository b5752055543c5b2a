"""Every time limit of the test suite, in one place, scaled for slow or busy machines.

A limit here is a bound on *waiting* (for a server to start, a job to finish, a process to
exit), never a timed assertion: on a fast machine the wait ends as soon as the thing
happens. The base values are what a quiet 2-core machine needs with a wide margin; the
factor ``SPL_TEST_TIME_FACTOR`` (default 2) multiplies all of them, so a slower machine
or ``make test-busy`` (both cores kept busy by stress-ng) only needs a larger factor,
never an edit to a test.
"""

from __future__ import annotations

import math
import os


def _factor() -> float:
    raw = os.environ.get("SPL_TEST_TIME_FACTOR", "").strip()
    try:
        value = float(raw) if raw else 2.0
    except ValueError:
        raise SystemExit(f"SPL_TEST_TIME_FACTOR must be a number; got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SystemExit(f"SPL_TEST_TIME_FACTOR must be positive; got {raw!r}")
    return value


FACTOR = _factor()


def limit(seconds: float) -> float:
    """``seconds`` (the quiet-machine bound) times ``SPL_TEST_TIME_FACTOR``."""
    return seconds * FACTOR


# Named bounds, quiet-machine values before scaling.
HTTP_S = limit(60.0)  # one HTTP request to a local server
STARTUP_S = limit(90.0)  # a server, a Ray node or a cluster to come up
RAY_HEAD_S = limit(60.0)  # the embedded head to start (engine default, before scaling)
JOB_S = limit(150.0)  # a background job (sweep, robustness) to answer
BROWSER_S = limit(60.0)  # a page element to appear in headless chromium (dash_duo waits)
SHUTDOWN_S = limit(30.0)  # a process group to stop
SUBPROCESS_S = limit(120.0)  # a short-lived helper process (CLI run, connect attempt)
