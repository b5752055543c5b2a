"""Memoization of results, per-worker statistics, clearing, and Redis outages as misses."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest

import engine
from dashapp import create_app, services
from dashapp.cache import SafeCache
from dashapp.state import state_of


@pytest.fixture
def app(tmp_path: Path) -> Iterator[dash.Dash]:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    with app.server.app_context():
        yield app


@pytest.fixture
def counted_backtests(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    real = engine.run_prepared

    def counting(prepared: Any, params: Any, **kwargs: Any) -> Any:
        calls.append(params)
        return real(prepared, params, **kwargs)

    monkeypatch.setattr(engine, "run_prepared", counting)
    return calls


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_second_identical_backtest_is_served_from_the_cache(
    app: dash.Dash, counted_backtests: list[Any]
) -> None:
    first = services.backtest(None, {"top_n": 5, "min_likes": 20})
    second = services.backtest(
        {"kind": "default"}, {"top_n": "5", "min_likes": "20.0"}
    )  # same params, other spelling
    assert len(counted_backtests) == 1
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)  # NaN-aware equality
    stats = services.cache_stats()
    assert (stats["hits"], stats["misses"], stats["keys"]) == (1, 1, 1)


def test_different_parameters_are_computed(app: dash.Dash, counted_backtests: list[Any]) -> None:
    services.backtest(None, {"top_n": 5})
    services.backtest(None, {"top_n": 6})
    assert len(counted_backtests) == 2


def test_clear_cache_forgets_results_but_keeps_uploads(tmp_path: Path, counted_backtests: list[Any]) -> None:
    # Clearing is off by default (tests/dashapp/test_page_status.py); this app's operator allowed it.
    app = create_app(
        {"CACHE_DIR": str(tmp_path / "c"), "ENGINE_EXECUTOR": "serial", "SPL_ALLOW_CACHE_CLEAR": True}
    )
    with app.server.app_context():
        services.backtest(None, {})
        state_of(app.server).uploads.set("f" * 32, {"sentiment": b"x"})
        services.clear_cache()
        assert services.cache_stats()["keys"] == 0
        assert state_of(app.server).uploads.get("f" * 32) == {"sentiment": b"x"}
        services.backtest(None, {})
    assert len(counted_backtests) == 2


def test_cache_entries_are_shared_between_apps_on_the_same_directory(
    tmp_path: Path, counted_backtests: list[Any]
) -> None:
    # Two gunicorn workers = two apps over one FileSystemCache directory.
    for _ in range(2):
        app = create_app({"CACHE_DIR": str(tmp_path / "shared")})
        with app.server.app_context():
            services.backtest(None, {"top_n": 3})
    assert len(counted_backtests) == 1


class FlakyBackend:
    def __init__(self) -> None:
        self.fail = True
        self.store: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        if self.fail:
            raise ConnectionError("down")
        return self.store.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.fail:
            raise ConnectionError("down")
        self.store[key] = value
        return True


def test_safe_cache_turns_errors_into_misses_and_backs_off(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = FlakyBackend()
    cache = SafeCache(backend, name="t", backend_name="Fake")
    assert cache.get("k") is None and cache.set("k", 1) is False
    assert cache.stats()["errors"] == 1  # the set was skipped: the backend is resting after the first error
    assert cache.stats()["available"] is False
    backend.fail = False
    monkeypatch.setattr("dashapp.cache.RETRY_AFTER_S", 0.0)
    cache._down_until = 0.0
    assert cache.set("k", 1) is True and cache.get("k") == 1
    assert cache.stats()["hits"] == 1


def test_redis_outage_degrades_to_misses(tmp_path: Path, counted_backtests: list[Any]) -> None:
    app = create_app(
        {
            "CACHE_DIR": str(tmp_path),
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
            "ENGINE_EXECUTOR": "serial",
        }
    )
    with app.server.app_context():
        first = services.backtest(None, {"top_n": 4})
        second = services.backtest(None, {"top_n": 4})
        stats = services.cache_stats()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert len(counted_backtests) == 2  # no cache, but no error either
    assert stats["backend"] == "RedisCache" and stats["errors"] >= 1 and stats["available"] is False
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503 and response.json["down"] == ["cache"]


def test_upload_during_a_redis_outage_still_works_in_this_worker(tmp_path: Path) -> None:
    from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv

    app = create_app(
        {
            "CACHE_DIR": str(tmp_path),
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        }
    )
    with app.server.app_context():
        saved = services.save_upload(GOOD_SENTIMENT.encode(), _prices_csv().encode(), {"sentiment": "s.csv"})
        assert services.backtest(saved["source"], {"top_n": 2})["metrics"]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = closed_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.slow
def test_real_redis_memoizes_counts_and_clears(
    tmp_path: Path, redis_url: str, counted_backtests: list[Any]
) -> None:
    app = create_app(
        {
            "CACHE_DIR": str(tmp_path),
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "SPL_ALLOW_CACHE_CLEAR": True,  # off by default
        }
    )
    with app.server.app_context():
        services.backtest(None, {"top_n": 2})
        services.backtest(None, {"top_n": 2})
        state_of(app.server).uploads.set("a" * 32, {"sentiment": b"x"})
        assert len(counted_backtests) == 1
        assert services.cache_stats()["keys"] == 1
        services.clear_cache()
        assert services.cache_stats()["keys"] == 0
        assert services.cache_stats()["uploads"]["keys"] == 1  # other namespace untouched
    assert app.server.test_client().get("/ready").json["checks"]["cache"]["status"] == "ok"


def test_each_data_set_is_prepared_once_per_worker(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two different backtests of one data set share one engine.prepare (the costly part)."""
    prepared: list[Any] = []
    real = engine.prepare
    monkeypatch.setattr(engine, "prepare", lambda data: prepared.append(data.fingerprint) or real(data))
    first = services.backtest(None, {"top_n": 3})
    second = services.backtest(None, {"top_n": 4})
    assert first["metrics"] != second["metrics"]
    assert len(prepared) == 1
    expected = engine.run_backtest(services.get_market_data(None), engine.StrategyParams(top_n=4))
    assert second["metrics"] == pytest.approx(dict(expected.metrics), nan_ok=True)
