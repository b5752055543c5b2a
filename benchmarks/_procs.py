"""Process helpers of the benchmark scripts: they live in ``tests/support/procs.py`` (the
fault tests and the deployment proof use them too); this module re-exports them for the
scripts, which run as ``python benchmarks/x.py``."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # scripts run as `python benchmarks/x.py`: make `tests` importable
    sys.path.insert(0, str(REPO))

from tests.support.procs import (  # noqa: F401  (re-exported for the scripts)
    HTTP_TIMEOUT_S,
    DashClient,
    LoadLoop,
    Servers,
    WaitTimeout,
    backtest_run_body,
    callback_request,
    collect_props,
    free_port,
    http,
    kill_leftovers_under,
    mixed_requests,
    outputs_field,
    servers,
    wait_for,
)
