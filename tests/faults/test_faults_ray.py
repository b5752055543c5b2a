"""The whole Ray cluster gone, and back: the dashboard degrades to messages, then recovers.

A loopback Ray head (``deploy/bin/ray-node.sh``: token auth, its own temp dir, one CPU) is
the cluster of a gunicorn app (production config, one worker to keep the host free) with
``RAY_ADDRESS`` pointing at it and ``ENGINE_EXECUTOR=ray``. Through HTTP only:

1. healthy: /ready 200 with Ray ok, and a sweep (Dash background callback) completes;
2. the head stopped (its process group and every process under its temp dir): /health
   still 200, /ready 503 naming "ray", the Sweep page answers with an in-page error
   message (not a 500, not a hang) and the Status page's cluster panel shows an error;
3. a head started again at the same address: /ready 200 again and the next sweep works
   through Ray, with no gunicorn worker lost on the way (a gunicorn worker is never a Ray
   driver: each sweep's background-job process is, so a lost cluster can only end a job).

Sweeps go through the Sweep page's background callback, a fresh grid each time (results
are cached) and big enough that the engine does not run it in-process instead of on Ray.

A Ray *worker node* killed in the middle of a sweep is the Ray engineer's test
(tests/engine/), not repeated here. Every wait is bounded; everything is stopped.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import timing
from tests.support.procs import DashClient, Servers, free_port, http, kill_leftovers_under, servers, wait_for

pytestmark = [pytest.mark.slow]

ANSWER_LIMIT_S = timing.JOB_S  # a bound on waiting, not a timed assertion (durations are only printed)
# 400 configurations (the page's limit), the slow weightings first: with ENGINE_EXECUTOR=auto
# the engine would run a sweep under ~5 s of work in-process (RayExecutor.for_work); this app
# asks for ray by name, and the grid stays large so either way it goes through Ray.
GRID = {
    "sweep-grid-top_n.value": "3, 4, 5, 6, 7, 8, 9, 10, 12, 15",
    "sweep-grid-weighting.value": ["min_variance", "hrp", "max_sharpe", "inverse_volatility", "equal"],
    "sweep-grid-rebalance.value": ["weekly", "monthly"],
    "sweep-grid-lag_days.value": "0, 1, 2, 5",
}
N_CONFIGS = 400


@pytest.fixture(scope="module")
def cluster_app() -> Iterator[Servers]:
    with servers("spl-fault-ray-", with_ray_env=True) as group:
        group.ray_port = free_port()
        group.start_ray_head(group.ray_port)
        group.start_gunicorn(
            {
                "DATA_SOURCE": "demo",
                "ENGINE_EXECUTOR": "ray",
                "CACHE_TYPE": "FileSystemCache",
                "RAY_ADDRESS": group.gcs_address,
                "GUNICORN_THREADS": "4",
            },
            workers=1,
        )
        yield group


_distinct = itertools.count(1)


def _sweep(group: Servers) -> tuple[float, dict[str, Any]]:
    """A sweep never run before (distinct costs): results are cached, and a hit would need no Ray."""
    client = DashClient.over_http(group.base_url)
    client.open_page("/sweep")
    run = client.dependency("sweep-result.data")
    assert "sweep-cost_bps" in client.props, "the sweep form has no cost_bps field"
    values = {"sweep-run.n_clicks": 1, "sweep-cost_bps.value": next(_distinct), **GRID}
    started = time.monotonic()
    response = client.fire_background(run, "sweep-run.n_clicks", values, limit_s=ANSWER_LIMIT_S)
    return time.monotonic() - started, response


def _ready(group: Servers) -> tuple[int, dict[str, Any]]:
    return http(group.base_url, "GET", "/ready", timeout_s=timing.limit(30))


def test_healthy_cluster_runs_a_sweep(cluster_app: Servers) -> None:
    group = cluster_app
    # The sweep first: this gunicorn worker has not joined Ray yet (see the next test).
    seconds, response = _sweep(group)
    result = response["sweep-result"]["data"]
    assert result and result["n_runs"] == N_CONFIGS and result["n_failed"] == 0, response.get("sweep-message")
    assert result["executor"] == "ray"
    status, ready = _ready(group)
    assert status == 200, ready
    assert ready["checks"]["ray"]["status"] == "ok"
    print(f"\nsweep on the healthy cluster answered in {seconds:.1f} s")


def test_sweep_after_the_worker_joined_ray_still_works(cluster_app: Servers) -> None:
    group = cluster_app
    assert _ready(group)[0] == 200  # /ready probes the head: the gunicorn worker stays no Ray driver
    _, response = _sweep(group)
    result = response["sweep-result"]["data"]
    assert result, str(response.get("sweep-message"))[-400:]
    assert result["executor"] == "ray" and result["n_failed"] == 0


def test_cluster_gone_gives_messages_not_failures(cluster_app: Servers) -> None:
    group = cluster_app
    group.stop("ray-head")
    kill_leftovers_under(group.root / "ray")
    assert http(group.base_url, "GET", "/health") == (200, {"status": "ok"})
    status, ready = _ready(group)
    assert status == 503, ready
    assert "ray" in ready["down"], ready
    assert ready["checks"]["ray"]["detail"], "the readiness check does not say what is wrong with Ray"

    seconds, response = _sweep(group)
    assert not response["sweep-result"]["data"]
    message = str(response["sweep-message"]["children"])
    assert "Ray" in message or "cluster" in message, message[:500]
    assert "twice" not in message, message[:500]
    print(
        f"\nsweep with the cluster gone answered with an in-page message in {seconds:.1f} s: {message[:200]}"
    )

    client = DashClient.over_http(group.base_url)
    client.open_page("/status")
    panel = client.fire(
        client.dependency("status-cluster.children"),
        "status-refresh.n_clicks",
        {"status-refresh.n_clicks": 1},
    )
    assert "unavailable" in str(panel).lower() or "error" in str(panel).lower(), str(panel)[:500]
    assert http(group.base_url, "GET", "/health") == (200, {"status": "ok"})


def _ready_or_none(group: Servers) -> tuple[int, dict[str, Any]] | None:
    try:
        answer = _ready(group)
    except OSError:  # a worker restarting (the test below fails then)
        return None
    return answer if answer[0] == 200 else None


def test_cluster_back_at_the_same_address_recovers(cluster_app: Servers) -> None:
    group = cluster_app
    workers_before = group.gunicorn_workers()
    group.workers_before_recovery = workers_before
    group.start_ray_head(group.ray_port)
    _status, ready = wait_for(
        "/ready 200 after the head came back",
        lambda: _ready_or_none(group),
        limit_s=timing.STARTUP_S,
        every_s=2.0,
    )
    assert ready["checks"]["ray"]["status"] == "ok"
    assert group.alive("app")
    seconds, response = _sweep(group)
    print(
        f"\nsweep after the head came back answered in {seconds:.1f} s; gunicorn workers "
        f"{sorted(workers_before)} -> {sorted(group.gunicorn_workers())}"
    )
    result = response["sweep-result"]["data"]
    assert result, str(response.get("sweep-message"))[-400:]
    assert result["n_runs"] == N_CONFIGS and result["n_failed"] == 0
    assert result["executor"] == "ray"
    assert group.alive("app")


def test_no_gunicorn_worker_died_when_the_head_came_back(cluster_app: Servers) -> None:
    group = cluster_app
    before = getattr(group, "workers_before_recovery", None)
    if before is None:
        pytest.skip("runs after test_cluster_back_at_the_same_address_recovers")
    assert group.gunicorn_workers() == before, "a gunicorn worker died when the head came back"
