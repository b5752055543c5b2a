"""The compute pool (dashapp.pool): same results as in-process, clean shutdown, a crash is a message.

One pool of one spawned child serves the whole module (a child imports the app, ~5 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
import psutil
import pytest

import engine
from dashapp import create_app, services
from dashapp.pool import ComputePool, ComputeUnavailableError, in_pool_child
from dashapp.services import computations
from dashapp.state import get_state
from tests.support.timing import JOB_S, SHUTDOWN_S

REPO = Path(__file__).resolve().parents[2]
PARAMS = {"top_n": 4, "cost_bps": 7.5, "min_likes": 10}


def child_pid() -> int:
    return os.getpid()


def child_flag() -> bool:
    return in_pool_child()


def mark_then_sleep(marker: str, seconds: float) -> None:
    Path(marker).touch()
    time.sleep(seconds)


def crash(*_: Any) -> None:
    os._exit(3)  # as the OOM killer would end it: no exception, no clean-up


def view_of(result: dict[str, Any], source: dict[str, str]) -> dict[str, Any]:
    return {"sharpe": result["metrics"]["sharpe"], "n": len(result["returns"]["date"]), "source": source}


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("pool")
    app = create_app({"CACHE_DIR": str(root / "cache"), "ENGINE_EXECUTOR": "serial", "COMPUTE_PROCESSES": 1})
    try:
        yield app
    finally:
        app.server.extensions["spl"].compute.shutdown()


@pytest.fixture
def inline(tmp_path: Path) -> Iterator[Any]:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    with app.server.app_context():
        yield app


def test_compute_processes_defaults_to_inline(inline: Any) -> None:
    pool = get_state().compute
    assert pool.processes == 0
    assert pool.run(child_pid) == os.getpid() and not pool.started


def test_a_backtest_through_the_pool_equals_the_in_process_one(pooled: Any, tmp_path: Path) -> None:
    with pooled.server.app_context():
        pool = get_state().compute
        assert pool.run(child_pid) != os.getpid() and pool.run(child_flag) is True
        far = services.backtest(None, PARAMS)
        view = services.backtest_view(None, PARAMS, view_of, version="t")
    near_app = create_app({"CACHE_DIR": str(tmp_path / "near"), "ENGINE_EXECUTOR": "serial"})
    with near_app.server.app_context():
        near = services.backtest(None, PARAMS)
        assert view == view_of(near, services.resolve_source(None))
    # The same plain result, bit for bit: JSON writes every float exactly (NaN as NaN).
    assert json.dumps(far, sort_keys=True) == json.dumps(near, sort_keys=True)


def test_engine_errors_cross_the_pool_as_themselves(pooled: Any) -> None:
    with pooled.server.app_context(), pytest.raises(engine.EngineError, match="top_n"):
        get_state().compute.run(computations._backtest_plain, {"kind": "default"}, {"top_n": -1})


def test_a_crashed_child_is_one_clear_error_and_the_next_job_gets_a_fresh_pool(pooled: Any) -> None:
    with pooled.server.app_context():
        pool = get_state().compute
        before = pool.run(child_pid)
        with pytest.raises(ComputeUnavailableError) as caught:
            pool.run(crash)
        assert isinstance(caught.value, engine.EngineError)  # pages show it as a message
        assert str(caught.value).count(".") <= 1 and "Traceback" not in str(caught.value)
        after = pool.run(child_pid)
        assert after not in (before, os.getpid())


def test_a_crash_inside_the_backtest_callback_is_a_message_not_a_500(
    pooled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child runs whatever the parent sends: send `crash` in place of the render step.
    monkeypatch.setattr(computations, "_render_backtest", crash)
    from dashapp.pages import backtest as page
    from dashapp.ui import forms

    fields = {name: None for name in forms.FIELD_NAMES} | {"top_n": "6"}
    with pooled.server.test_request_context("/backtest"):
        out = page.run_backtest(n_clicks=1, autorun=False, fields=fields, store=None)  # no exception
    text = json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder)
    assert "the computation stopped unexpectedly" in text and "Traceback" not in text
    assert out["run_state"] is None


def test_shutdown_stops_the_children_and_a_later_job_starts_new_ones(tmp_path: Path) -> None:
    pool = ComputePool(1, {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    pid = pool.run(child_pid)
    assert psutil.pid_exists(pid) and pool.started
    pool.shutdown()
    assert not pool.started
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(pid).wait(timeout=30)  # already reaped by the executor: gone
    pool.shutdown()  # idempotent
    again = pool.run(child_pid)
    assert again != pid
    pool.shutdown()


def test_shutdown_without_waiting_ends_a_busy_child_at_once(tmp_path: Path) -> None:
    """A web worker exiting (gunicorn's worker_exit: ``shutdown(wait=False)``) ends its
    children now. Before, the interpreter's exit waited for the children's work: a worker
    stopped while a fresh child warmed up held the restart 17 s on a busy host; with a
    long job it waited for the job (here an hour)."""
    pool = ComputePool(1, {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    pid = pool.run(child_pid)
    marker = tmp_path / "busy"
    outcome: list[BaseException] = []

    def long_job() -> None:
        try:
            pool.run(mark_then_sleep, str(marker), 3600.0)
        except BaseException as exc:  # the job is abandoned: recorded, not raised in a thread
            outcome.append(exc)

    threading.Thread(target=long_job, daemon=True).start()
    deadline = time.monotonic() + JOB_S
    while not marker.exists():
        assert time.monotonic() < deadline, "the child never started the job"
        time.sleep(0.05)
    pool.shutdown(wait=False)
    with contextlib.suppress(psutil.NoSuchProcess):  # already reaped by the executor: gone
        psutil.Process(pid).wait(timeout=SHUTDOWN_S)  # TimeoutExpired while the child still sleeps
    assert not psutil.pid_exists(pid)


def test_a_child_whose_web_worker_is_gone_exits() -> None:
    # Its parent is not pid 1: as for a child whose worker was SIGKILLed and which init adopted.
    code = "from dashapp.pool import _exit_with_parent; _exit_with_parent(1); raise SystemExit(5)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0


def test_a_shutdown_during_the_warm_up_is_not_logged_as_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A web worker stopped in its first seconds (``start`` then ``shutdown(wait=False)``,
    as gunicorn's post_worker_init and worker_exit do) ends the children's warm-up; the
    log said "compute process warm-up failed" for each, a false alarm on every restart."""
    pool = ComputePool(1, {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    with caplog.at_level("INFO", logger="dashapp.pool"):
        pool.start()
        pool.shutdown(wait=False)
        deadline = time.monotonic() + SHUTDOWN_S
        while not any("warm-up" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the warm-up's end was never logged"
            time.sleep(0.05)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if "warm-up" in r.getMessage()]
    assert messages and all(level == "INFO" and "shut down" in text for level, text in messages), messages
