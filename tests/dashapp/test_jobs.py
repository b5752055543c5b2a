"""Cancel of a background-callback job reaches the engine: the job sees the flag and stops itself.

``CooperativeDiskcacheManager.terminate_job`` (what Dash calls when Cancel is pressed)
writes the cancel flag of a job that listens (``cancellable()``), waits for the job to end
on its own, and kills it only after ``CANCEL_GRACE_S``; a job that does not listen is
killed at once, as Dash does. The jobs here are real processes, synchronised by events, so no
test depends on timing: a job that obeys is given a minute it never needs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import diskcache
import psutil
import pytest

import engine
from dashapp import create_app, jobs, services
from dashapp.jobs import CooperativeDiskcacheManager, cancel_key, listening_key
from dashapp.state import state_of

SPAWN = multiprocessing.get_context("spawn")


def _obedient_job(cache_dir: str, marker: str, ready: Any) -> None:
    manager = CooperativeDiskcacheManager(diskcache.Cache(cache_dir))
    with manager.cancellable() as should_cancel:
        ready.set()
        while not should_cancel():
            time.sleep(0.01)
    Path(marker).write_text("stopped by itself")


def _stubborn_job(cache_dir: str, ready: Any) -> None:
    manager = CooperativeDiskcacheManager(diskcache.Cache(cache_dir))
    with manager.cancellable():
        ready.set()
        while True:
            time.sleep(0.05)


def _deaf_job(ready: Any) -> None:
    ready.set()
    while True:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_lets_the_job_stop_by_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 60.0)
    manager = CooperativeDiskcacheManager(diskcache.Cache(str(tmp_path / "bg")))
    ready = SPAWN.Event()
    marker = tmp_path / "marker"
    job = SPAWN.Process(target=_obedient_job, args=(str(tmp_path / "bg"), str(marker), ready))
    job.start()
    assert ready.wait(120)
    manager.terminate_job(job.pid)  # returns once the job has ended (and reaps it, as Dash does)
    assert marker.read_text() == "stopped by itself"
    assert not _alive(job.pid)


def test_a_job_that_ignores_cancel_is_killed_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 0.1)
    manager = CooperativeDiskcacheManager(diskcache.Cache(str(tmp_path / "bg")))
    ready = SPAWN.Event()
    job = SPAWN.Process(target=_stubborn_job, args=(str(tmp_path / "bg"), ready))
    job.start()
    assert ready.wait(120)
    manager.terminate_job(job.pid)
    assert not _alive(job.pid)  # killed, as Dash does
    assert manager.cancel_requested(job.pid)


def test_a_job_that_does_not_listen_is_killed_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 600.0)  # would hang the test if it were waited for
    manager = CooperativeDiskcacheManager(diskcache.Cache(str(tmp_path / "bg")))
    ready = SPAWN.Event()
    job = SPAWN.Process(target=_deaf_job, args=(ready,))
    job.start()
    assert ready.wait(120)
    manager.terminate_job(job.pid)
    assert not _alive(job.pid) and not manager.cancel_requested(job.pid)
    manager.terminate_job(None)


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    with app.server.app_context():
        yield app


def test_cancellable_reads_this_jobs_flag_and_drops_a_stale_one(app: Any) -> None:
    background = state_of(app.server).background
    assert isinstance(background, CooperativeDiskcacheManager) and app._background_manager is background
    background.handle.set(cancel_key(os.getpid()), True)  # left by an earlier job with this pid
    with services.cancellable() as should_cancel:
        assert should_cancel() is False
        assert background.handle.get(listening_key(os.getpid())) is not None
        background.handle.set(cancel_key(os.getpid()), True)  # Cancel pressed for this job
        assert should_cancel() is True
    assert background.handle.get(listening_key(os.getpid())) is None


def test_a_cancelled_sweep_stops_in_the_engine_and_caches_nothing(app: Any) -> None:
    polls: list[int] = []

    def should_cancel() -> bool:
        polls.append(1)
        return True

    with pytest.raises(engine.Cancelled):
        services.sweep(None, {}, {"top_n": [2, 3, 4]}, None, should_cancel)
    assert polls  # the engine asked
    out = services.sweep(None, {}, {"top_n": [2, 3, 4]}, None, lambda: False)
    assert out["n_runs"] == 3 and out["n_failed"] == 0


def _wait_for(check: Any, what: str, limit_s: float = 120.0) -> Any:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {limit_s:.0f} s")


def _dependency(client: Any, output: str) -> Any:
    """The callback writing ``output`` (listed once per app this test process built: all the same)."""
    matches = [d for d in client.dependencies if output in d["output"]]
    assert matches and all(d["output"] == matches[0]["output"] for d in matches), output
    return matches[0]


def test_cancel_button_over_http_stops_the_sweep_in_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path as the browser drives it: Run starts the background job (a forked
    process), Cancel's request (``cancelJob``) reaches ``terminate_job``, the engine's
    ``should_cancel`` turns True, and the job ends with the page's "cancelled" message
    instead of being killed. The engine's sweep is replaced (in the forked job too) by
    one that waits for the cancel, so nothing depends on how fast a sweep runs."""
    import urllib.parse

    from werkzeug.serving import make_server

    from tests.support.dash_http import DashClient

    def sweep_until_cancelled(data: Any, grid: Any, *, should_cancel: Any, **_: Any) -> Any:
        while not should_cancel():
            time.sleep(0.01)
        raise engine.Cancelled("cancelled after 0 of 2 configurations")

    monkeypatch.setattr(engine, "run_sweep", sweep_until_cancelled)
    monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 120.0)  # a killed job would give no answer below
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    background = state_of(app.server).background
    job_pid: int | None = None
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = DashClient.over_http(f"http://127.0.0.1:{server.server_port}")
        client.open_page("/sweep")
        run = _dependency(client, "sweep-result.data")
        body = client.body(
            run, "sweep-run.n_clicks", {"sweep-run.n_clicks": 1, "sweep-grid-top_n.value": "3,5"}
        )
        end = f"?endId={urllib.parse.quote(client.end_id)}"
        status, started = client.post(body, end)
        assert status in (200, 202) and "job" in started, started
        job = started["job"]
        job_pid = int(job.split("~")[0])
        _wait_for(
            lambda: any(str(k).startswith("spl-listening:") for k in background.handle.iterkeys()),
            "the job listening for Cancel",
        )
        cancel = _dependency(client, "sweep-cancel.id")
        cancel_body = client.body(cancel, "sweep-cancel.n_clicks", {"sweep-cancel.n_clicks": 1})
        status, _ = client.post(cancel_body, f"{end}&cancelJob={urllib.parse.quote(job)}")
        assert status in (200, 204)
        handles = f"{end}&cacheKey={urllib.parse.quote(started['cacheKey'])}&job={urllib.parse.quote(job)}"

        def answer() -> Any:
            status, polled = client.post(body, handles)
            return polled["response"] if status == 200 and "response" in polled else None

        response = _wait_for(answer, "the cancelled job's answer")
        assert "Sweep cancelled" in json.dumps(response["sweep-message"])
        assert response["sweep-result"]["data"] is None
    finally:
        if job_pid is not None and _alive(job_pid):  # never leave a job behind, whatever failed
            monkeypatch.setattr(jobs, "CANCEL_GRACE_S", 0.0)
            background.terminate_job(job_pid)
        server.shutdown()
        thread.join(30)
